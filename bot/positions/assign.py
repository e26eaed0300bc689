"""Assign actor sentences to a topic's named positions, or abstain when unsure.

Sentence embeddings place "agreed to X" and "rejected X" close together, so nearest-example
cosine alone confuses opposite stances (58% F1 on the dev file). What is added, each kept
because it measured better on dev (see `bot.positions.Thresholds`):
- only the actor's own clause is embedded ("Russia had agreed …", without "Witkoff said");
- a position's score averages its nearest example and its prototype (the mean of its label
  and examples, built at start-up from the watchlist itself: one matrix product per topic).
  It beat a logistic regression trained on the same few examples;
- generic English polarity cues (refuses, rules out, halts, no longer, never …) are checked
  against each position's declared `polarity` (for/against);
- a clause that uses words only one position's texts use ("veto", "phased") leans to it:
  the model barely separates positions of one polarity (`bot.positions.wording`);
- abstention when the clause is not about the topic (or is about another topic), when the
  best position does not clearly beat the runner-up, or when the cue words contradict it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from bot.matching.embedder import Embedder
from bot.models import Topic
from bot.positions import THRESHOLDS, Thresholds
from bot.positions.extract import ActorSentence
from bot.positions.polarity import content_words, cue_sign, states_no_stance, topic_polarities
from bot.positions.wording import distinctive_stems, shared_wording

if TYPE_CHECKING:
    from numpy.typing import NDArray


class Assignment(NamedTuple):
    """One actor sentence, the position it states (None: abstain), and how sure that is.

    The four flags say how good a piece of evidence the sentence is; an actor's combined
    assignment has each flag when any of its sentences has it. Only a `clear` one may report
    a change of position: cue words and margins are tuned on few examples, and a false
    "position shifted" costs more trust than a missed one.
    """

    sentence: ActorSentence
    position_id: str | None
    confidence: float
    in_body: bool = True  # not the headline, which compresses and often names both sides
    alone: bool = True  # gives no other actor a stance too ("EU and China opened talks")
    focused: bool = True  # at least `shift_relevance_min` close to the topic
    # The actor's own words or acts, not hearsay ("according to people familiar with …",
    # "is said to", analysts' reading): a rumour may be the current position, never news.
    on_record: bool = True

    @property
    def clear(self) -> bool:
        """True when the evidence is good enough to announce a change of position."""
        return not self.doubt

    @property
    def doubt(self) -> str:
        """Why the evidence is not good enough to announce a change; "" when it is."""
        if not self.in_body:
            return "only the headline says it"
        if not self.on_record:
            return "it is hearsay (unnamed sources, a report, an analyst)"
        if not self.alone:
            return "its sentence gives another actor a stance too"
        if not self.focused:
            return "its sentence is only loosely about the topic"
        return ""


@dataclass(frozen=True)
class _TopicModel:
    """What is computed once per topic: anchors, examples, prototypes, polarities."""

    position_ids: tuple[str, ...]
    polarities: NDArray[np.float32]  # +1 for, -1 against, 0 unknown, one per position
    anchors: NDArray[np.float32]  # rows: description, examples, position labels and examples
    examples: NDArray[np.float32]  # rows: position labels and examples
    example_owner: NDArray[np.int64]  # position index of each example row
    prototypes: NDArray[np.float32]  # one unit row per position
    distinctive: tuple[frozenset[str], ...]  # per position, words no other position uses


class PositionAssigner:
    """Turns actor sentences into (position id or None, confidence) for one topic at a time."""

    def __init__(
        self, topics: Sequence[Topic], embedder: Embedder, thresholds: Thresholds = THRESHOLDS
    ) -> None:
        self.topics = tuple(topics)
        self.embedder = embedder
        self.thresholds = thresholds
        self._models: dict[str, _TopicModel] = {}

    def _model(self, topic: Topic) -> _TopicModel:
        """Embed a topic's labels and examples once, on first use."""
        model = self._models.get(topic.id)
        if model is not None:
            return model
        texts: list[str] = []
        owner: list[int] = []
        for index, position in enumerate(topic.positions):
            for text in (position.label, *position.examples):
                texts.append(text)
                owner.append(index)
        # One call embeds everything: the topic's own words, then the positions' examples.
        described = [topic.description, *topic.examples]
        vectors = self.embedder.encode([*described, *texts])
        examples = vectors[len(described) :]
        owners = np.asarray(owner, dtype=np.int64)
        prototypes = np.zeros((len(topic.positions), vectors.shape[1]), np.float32)
        for index in range(len(topic.positions)):
            prototypes[index] = _unit(examples[owners == index].mean(axis=0))
        model = _TopicModel(
            position_ids=tuple(p.id for p in topic.positions),
            polarities=np.asarray(topic_polarities(topic), np.float32),
            anchors=vectors,
            examples=examples,
            example_owner=owners,
            prototypes=prototypes,
            distinctive=distinctive_stems(topic),
        )
        self._models[topic.id] = model
        return model

    def _relevance(self, topic: Topic, vectors: NDArray[np.float32]) -> NDArray[np.float32]:
        """Closest-anchor cosine of each sentence to this topic."""
        return np.asarray((vectors @ self._model(topic).anchors.T).max(axis=1), np.float32)

    def _best_other(self, topic: Topic, vectors: NDArray[np.float32]) -> NDArray[np.float32]:
        """Closest-anchor cosine of each sentence to any other topic of the watchlist."""
        others = [self._relevance(t, vectors) for t in self.topics if t.id != topic.id]
        if not others:
            return np.full(len(vectors), -1.0, np.float32)
        return np.asarray(np.max(np.vstack(others), axis=0), np.float32)

    def position_scores(self, topic: Topic, vectors: NDArray[np.float32]) -> NDArray[np.float32]:
        """Similarity of each sentence (row) to each position (column), before cues."""
        model = self._model(topic)
        by_example = vectors @ model.examples.T
        nearest = np.full((len(vectors), len(model.position_ids)), -1.0, np.float32)
        for index in range(len(model.position_ids)):
            columns = by_example[:, model.example_owner == index]
            if columns.shape[1]:
                nearest[:, index] = columns.max(axis=1)
        prototype = vectors @ model.prototypes.T
        return np.asarray((nearest + prototype) / 2.0, np.float32)

    def assign(self, topic: Topic, sentences: Sequence[ActorSentence]) -> list[Assignment]:
        """Each sentence with the position it states (None: abstain) and a confidence in [0, 1]."""
        if not topic.positions or not sentences:
            return [Assignment(s, None, 0.0) for s in sentences]
        th = self.thresholds
        model = self._model(topic)
        vectors = self.embedder.encode([s.text for s in sentences])
        scores = self.position_scores(topic, vectors)
        wording = shared_wording([s.text for s in sentences], model.distinctive, th.wording_enough)
        scores = scores + th.wording_weight * wording
        relevance = self._relevance(topic, vectors)
        other = self._best_other(topic, vectors)
        out: list[Assignment] = []
        content = content_words(topic)
        for row, sentence in enumerate(sentences):
            leaning = cue_sign(sentence.text, content, th.polarity_min)
            final = scores[row] + th.polarity_weight * leaning * model.polarities
            order = np.argsort(-final)
            best = int(order[0])
            margin = float(final[best] - final[order[1]]) if len(order) > 1 else 1.0
            confidence = _confidence(final, best, th.temperature)
            off_topic = (
                relevance[row] < th.relevance_min
                or other[row] - relevance[row] > th.other_topic_margin
            )
            # A cue that contradicts the winner's declared polarity means the embedding and
            # the words disagree: safer to say nothing.
            contradicted = leaning * float(model.polarities[best]) < 0
            hedged = states_no_stance(sentence.text)
            if off_topic or contradicted or hedged or margin < th.margin_min:
                out.append(Assignment(sentence, None, confidence))
                continue
            out.append(
                Assignment(
                    sentence,
                    model.position_ids[best],
                    confidence,
                    in_body=not sentence.headline,
                    focused=bool(relevance[row] >= th.shift_relevance_min),
                    on_record=not sentence.hearsay,
                )
            )
        return _mark_shared(out)

    def nearest(self, topic: Topic, sentences: Sequence[ActorSentence]) -> list[Assignment]:
        """The baseline: each sentence to the position of its nearest label or example."""
        if not topic.positions or not sentences:
            return [Assignment(s, None, 0.0) for s in sentences]
        model = self._model(topic)
        vectors = self.embedder.encode([s.sentence for s in sentences])
        by_example = vectors @ model.examples.T
        out: list[Assignment] = []
        for row, sentence in enumerate(sentences):
            column = int(np.argmax(by_example[row]))
            similarity = float(by_example[row, column])
            if similarity < self.thresholds.baseline_floor:
                out.append(Assignment(sentence, None, similarity))
            else:
                position = model.position_ids[int(model.example_owner[column])]
                out.append(Assignment(sentence, position, similarity))
        return out


def _mark_shared(assigned: list[Assignment]) -> list[Assignment]:
    """Mark sentences that give a stance to two actors at once as not `alone`."""
    speakers: dict[str, set[str]] = {}
    for item in assigned:
        if item.position_id is not None:
            speakers.setdefault(item.sentence.sentence, set()).add(item.sentence.actor_id)
    return [
        item._replace(alone=False) if len(speakers.get(item.sentence.sentence, ())) > 1 else item
        for item in assigned
    ]


def best_per_actor(assigned: Sequence[Assignment]) -> list[Assignment]:
    """One assignment per actor: the position its sentences support most, best quote first.

    Sentences of one article that agree reinforce each other: the confidence is that of the
    position's sentences taken together, 1 - Π(1 - c), and each evidence flag holds when
    any of them has it. The quote is a clear sentence if there is one, else the surest.
    """
    support: dict[str, dict[str, list[Assignment]]] = {}
    for item in assigned:
        if item.position_id is not None:
            by_actor = support.setdefault(item.sentence.actor_id, {})
            by_actor.setdefault(item.position_id, []).append(item)
    out: list[Assignment] = []
    for by_position in support.values():
        position_id, items = max(
            by_position.items(),
            key=lambda kv: (sum(item.confidence for item in kv[1]), len(kv[1])),
        )
        # The quote shown is the clearest evidence: a clear sentence before a surer one.
        quote = max(items, key=lambda item: (item.clear, item.confidence))
        out.append(
            Assignment(
                quote.sentence,
                position_id,
                _together(items),
                in_body=any(item.in_body for item in items),
                alone=any(item.alone for item in items),
                focused=any(item.focused for item in items),
                on_record=any(item.on_record for item in items),
            )
        )
    return out


def _together(items: Sequence[Assignment]) -> float:
    """Confidence of agreeing sentences taken together: 1 - Π(1 - c)."""
    return 1.0 - float(np.prod([1.0 - item.confidence for item in items]))


def _unit(vector: NDArray[np.float32]) -> NDArray[np.float32]:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm else vector


def _confidence(scores: NDArray[np.float32], best: int, temperature: float) -> float:
    """Softmax probability of the best position: how clearly it wins."""
    shifted = (scores - scores.max()) / temperature
    weights = np.exp(shifted)
    return float(weights[best] / weights.sum())
