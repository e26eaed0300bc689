"""Actor positions: who says what on a topic, which named stance it is, and when it shifts.

`extract` finds the sentences that speak for an actor, `assign` names their position,
`shifts` compares a new statement with the actor's history, `evaluate` scores all three on
labeled articles. Every number they use is in `THRESHOLDS` below.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Thresholds:
    """The positions stage's numbers, in one place.

    Every value was chosen on examples/eval/positions-dev.jsonl (never on the test file) by
    sweeping it with the others fixed and taking the most precise value of the best plateau
    (`evaluate_positions` with a `thresholds=` argument reproduces each sweep).
    """

    # Cosine between a sentence's stance clause and the topic's closest anchor (description,
    # examples, position labels and examples) below which it is not about the topic.
    # F1 is flat from 0.25 to 0.45 on dev; 0.40 is the most precise end of it.
    relevance_min: float = 0.40
    # Abstain when the clause is this much closer to another topic of the watchlist than to
    # this one ("he also criticised new sanctions" in an arms article). 0.05 costs recall,
    # 0.1-0.2 is flat; 0.15 sits in the middle.
    other_topic_margin: float = 0.15
    # Score lead the best position must have over the runner-up. 0.04 costs recall; 0 and
    # 0.02 tie, 0.02 is the more cautious.
    margin_min: float = 0.02
    # Added to positions whose declared polarity (for/against) agrees with the clause's cue
    # words, taken away from those that disagree. 0 gives F1 0.78, 0.1 and 0.2 give 0.88;
    # 0.1 keeps the embedding in charge between positions of the same polarity.
    polarity_weight: float = 0.10
    # A net cue score below this (in absolute value) is no cue: one background word is noise.
    polarity_min: float = 0.5
    # How many words a negator ("not", "never") or a verb with a "to" complement reaches to
    # flip a cue: "did not rule out" (2 words) yes, a cue in the next clause no.
    negator_scope: int = 3
    # A negator that flips nothing ("no foreign soldiers", "will send no more weapons")
    # outweighs one consent cue; set so that every labeled example in the shipped watchlist
    # gets the sign of its declared polarity.
    unused_negator: float = 1.5
    # Softmax temperature turning position scores into a confidence: a 0.1 lead gives ~0.88.
    temperature: float = 0.05
    # Baseline only: nearest-example cosine under this abstains (a low floor, not tuned).
    baseline_floor: float = 0.2
    # Shifts: a statement counts towards an actor's current position from this confidence.
    # Anything from 0 to 0.7 gives the same result on dev; 0.5 is a plain "more likely than not".
    statement_min: float = 0.5
    # Shifts: a change is reported only from this confidence (article-level, so two agreeing
    # sentences count). Dev: 0 gives precision 0.80, 0.95-0.98 gives 1.00 at the same recall,
    # 0.99 loses recall. A weaker change still becomes the current position, silently.
    shift_min: float = 0.95


THRESHOLDS = Thresholds()
