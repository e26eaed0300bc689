"""Stance polarity cues: is the speaker for or against what the clause names?

Generic English words of consent and refusal, negators and what they reach; none names an
actor, a topic or a position of any watchlist.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import numpy as np

from bot.lexicon import (
    ADVERBS,
    AGAINST_VERBS,
    AUXILIARIES,
    DETERMINERS,
    FOR_CUES,
    FUNCTION_WORDS,
    NEGATORS,
    TOKEN_PATTERN,
    lemma,
)
from bot.models import Position, Topic
from bot.positions import THRESHOLDS
from bot.text import words

# Words that judge something unacceptable; they count against but negate nothing.
AGAINST_WORDS = words(
    "unacceptable impossible unrealistic premature provocation provocative escalation "
    "illegitimate against opposed opposition refusal"
)
# The same as phrases, token by token: a hyphenated word is three tokens ("non", "-",
# "starter"), so as one word it never matched.
AGAINST_PHRASES = (
    ("non", "-", "starter"),
    ("red", "line"),
    ("off", "the", "table"),
    ("out", "of", "the", "question"),
    ("legitimate", "target"),
    ("on", "hold"),
    ("remain", "outside"),
    ("remains", "outside"),
    ("stay", "outside"),
    ("stays", "outside"),
    ("stay", "out"),
)
# Phrasal verbs of refusal; like refusal verbs they negate what they govern.
AGAINST_PHRASAL = (
    ("rule", "out"),
    ("ruled", "out"),
    ("rules", "out"),
    ("ruling", "out"),
    ("give", "up"),
    ("gave", "up"),
    ("given", "up"),
    ("giving", "up"),
    ("hold", "back"),
    ("held", "back"),
    ("scale", "back"),
    ("scaled", "back"),
    ("wind", "down"),
)
# Negators of a verb or a predicate ("did not say", "is not a tariff"), as against those
# that deny a thing exists ("no foreign troops", "nothing to offer").
VERBAL_NEGATORS = words("not n't never cannot")
# Verbs that undo something: they flip a refusal they reach ("lifted its ban", "unfroze the
# aid") and say nothing by themselves ("lifted the requirement" is for or against what,
# the words cannot tell).
UNDO_VERBS = words(
    "lift lifts lifted lifting unfreeze unfreezes unfroze unfrozen unblock unblocks unblocked "
    "repeal repeals repealed repealing revoke revokes revoked revoking rescind rescinds "
    "rescinded rescinding overturn overturns overturned overturning annul annuls annulled "
    "annulling"
)
# Nouns naming a restriction. As the subject of a refusal or an undoing ("the curbs were
# suspended", "sanctions on Iran to be lifted", "export bans should end") they make the pair
# a stance *for* what they restricted, as "lifted its ban" is.
RESTRICTION_NOUNS = words(
    "ban bans freeze freezes curb curbs restriction restrictions embargo embargoes moratorium "
    "blockade blockades suspension pause halt limit limits controls sanctions"
)
# What may stand between such a subject and its verb: a modal or a form of "be", "to", and
# a short phrase saying what is restricted ("on Iran", "on rare earths").
_TO_ITS_VERB = AUXILIARIES | words("to on of against for all any the a an its their not")
# How many tokens before its verb a restriction may stand and still be its subject: "the
# sanctions on Iran to be lifted" (four between), not a noun in an earlier phrase.
_SUBJECT_REACH = 5
# A clause opened by one of these names a past or background event ("after a pause").
_BACKGROUND = words("after before since despite following amid")
_SUBJECT_LIKE = words("he she it they we also now still again never")
# Nouns for what others ask for: a refusal verb aimed at one ("rejected calls to halt
# deliveries", "dismissed Moscow's demand that Kyiv drop its bid") reaches the cue inside
# the demand, however far, and flips it; a demand with no cue in it tells nothing.
DEMAND_NOUNS = words(
    "call calls demand demands pressure request requests appeal appeals push proposal "
    "proposals suggestion suggestions"
)
_CLAUSE_END = frozenset(',;:.!?()"“”—–')


# What a cue word that governs no other cue says by itself, by kind: a refusal or a
# judgement is against, a consent or an undone restriction for, and an undoing verb that
# undoes no refusal nothing. (A lone negator's weight is a threshold: `unused_negator`.)
_ALONE = {"refuse": -1.0, "judge": -1.0, "consent": 1.0, "undo": 0.0, "undone": 1.0}


@dataclass(frozen=True)
class _Cue:
    """A stance word: its index among the sentence's tokens, its kind and its weight."""

    at: int
    # "neg" (not, never), "refuse" (rejects), "consent" (agrees), "judge" (unacceptable),
    # "undo" (lifts)
    kind: str
    weight: float = 1.0


def _undone_restrictions(low: list[str], cues: list[_Cue]) -> list[_Cue]:
    """The cues, with a restriction undone as its subject ("the curbs were suspended",
    "sanctions on Iran to be lifted") read as one cue for: the noun, if it was a cue, is
    dropped, and the verb becomes an "undone" cue that a negator can still flip ("the ban
    will not be lifted")."""
    undone: set[int] = set()  # where the verbs are
    dropped: set[int] = set()  # where their subject nouns are
    for cue in cues:
        if cue.kind not in ("refuse", "undo") or not cue.weight:
            continue
        start = max(0, cue.at - _SUBJECT_REACH)
        nouns = [i for i in range(start, cue.at) if low[i] in RESTRICTION_NOUNS]
        if not nouns:
            continue
        noun = nouns[-1]
        between = low[noun + 1 : cue.at]
        if _ends_clause(between):
            continue
        others = [w for w in between if w not in _TO_ITS_VERB]
        if len(others) > 2 or any(c.kind != "neg" and noun < c.at < cue.at for c in cues):
            continue
        undone.add(cue.at)
        dropped.add(noun)
    return [
        _Cue(c.at, "undone", c.weight) if c.at in undone else c for c in cues if c.at not in dropped
    ]


def _is_verb_form(low: list[str], i: int, caps: frozenset[int] = frozenset()) -> bool:
    """False for a plural noun that looks like a verb ("arms supplies", "the deliveries").

    After a name ("Pistorius dismisses", "Pentagon pauses") or an adverb ("no longer
    opposes") the -s form is a verb; `caps` holds the indices of capitalised tokens.
    """
    word = low[i]
    if not word.endswith("s") or lemma(word) == word or i == 0:
        return True
    before = low[i - 1]
    named = i - 1 in caps and (i > 1 or before not in FUNCTION_WORDS)
    return before in _SUBJECT_LIKE or before in ADVERBS or named


def _cue_at(
    low: list[str], i: int, caps: frozenset[int], content: frozenset[str] = frozenset()
) -> tuple[str, int] | None:
    """(kind, length in tokens) of the cue starting at token i, if any; words in `content`
    (see `content_words`) are no cue."""
    for phrasal in AGAINST_PHRASAL:
        if tuple(low[i : i + len(phrasal)]) == phrasal:
            return "refuse", len(phrasal)
    for phrase in AGAINST_PHRASES:
        if tuple(low[i : i + len(phrase)]) == phrase:
            return "judge", len(phrase)
    word = low[i]
    if i > 0 and low[i - 1] == "-":
        return None  # "troop-backed": part of a compound adjective
    if lemma(word) == "close" and {"door", "doors"} & set(low[i + 1 : i + 4]):
        return "refuse", 1  # "close the door to": a refusal; closing a plant is not
    if word == "end" and _dates_an_act(low, i):
        return None  # "by the end of the year" says when, not that anything ends
    base = lemma(word)
    if base in content or word in content:
        return None
    if word in NEGATORS:
        return "neg", 1
    if word in UNDO_VERBS:
        return "undo", 1
    if (base in AGAINST_VERBS or word in AGAINST_VERBS) and _is_verb_form(low, i, caps):
        return "refuse", 1
    if word == "opposition" and low[i + 1 : i + 2] != ["to"]:
        return None  # "opposition parties": the political opposition, not a stance
    if word in AGAINST_WORDS:
        return "judge", 1
    if (base in FOR_CUES or word in FOR_CUES) and _is_verb_form(low, i, caps):
        return "consent", 1
    return None


# Prepositions that make "the end" a point in time: "by the end of May", "in the end".
_TIME_PREPOSITIONS = words("by at before until till towards toward from after around in")


def _dates_an_act(low: list[str], i: int) -> bool:
    """True when the "end" at i is a point in time ("by the end of the year"), not the verb."""
    return i >= 2 and low[i - 1] == "the" and low[i - 2] in _TIME_PREPOSITIONS


def _cues(
    low: list[str], caps: frozenset[int], content: frozenset[str] = frozenset()
) -> list[_Cue]:
    """Every cue of the sentence, left to right; cues in a background clause weigh 0."""
    out: list[_Cue] = []
    background = False
    i = 0
    while i < len(low):
        if low[i] in _CLAUSE_END:
            background = False
        elif low[i] in _BACKGROUND:
            background = True
        found = _cue_at(low, i, caps, content)
        if found is None:
            i += 1
            continue
        kind, length = found
        out.append(_Cue(i, kind, 0.0 if background else 1.0))
        i += length
    return out


def _governs(low: list[str], head: _Cue, next_cue: _Cue) -> bool:
    """True when `head` reaches `next_cue`: close by, same clause, and (for verbs) through an
    infinitive or a gerund ("refused to send", "ruled out sending"), not as the next item of
    a list ("pauses, halts or limits")."""
    between = low[head.at + 1 : next_cue.at]
    words_between = [w for w in between if w not in _CLAUSE_END]
    if head.kind == "refuse" and _demand_at(low, head.at) and not _ends_clause(between):
        return True  # "rejected calls from the opposition to halt deliveries"
    if head.kind in ("refuse", "undo") and next_cue.kind == "refuse" and _object_lead(between):
        return True  # "ended its freeze", "lifted a two-month ban": a refusal as the object
    if head.kind in ("refuse", "undo") and _restricting_object(low, between, next_cue):
        return True  # "repeal its decree barring GM corn": the object is a restriction too
    if head.kind in ("refuse", "undo") and _stance_noun_object(low, between, next_cue):
        return True  # "dropped its outright opposition to": giving up a stance against
    if len(words_between) >= THRESHOLDS.negator_scope or any(w in _CLAUSE_END for w in between):
        return False
    if head.kind == "neg":
        return True
    if head.kind == "consent" and not between and low[next_cue.at] == "no":
        return True  # "will send no weapons" denies the sending
    if head.kind in ("refuse", "consent"):
        return "to" in between or low[next_cue.at].endswith("ing")
    return False


_OBJECT_LEAD = DETERMINERS | words("any all 's")
_NUMBER_WORDS = words("one two three four five six seven eight nine ten several")
_LENGTHS = words("day days week weeks month months year years")


def _object_lead(between: list[str]) -> bool:
    """True when only a determiner and a length or count stand before a noun: "its",
    "a two-month", "the 90-day"."""
    rest = [w for w in between if w != "-" and not w.isdigit() and w not in _NUMBER_WORDS]
    return all(w in _OBJECT_LEAD or w in _LENGTHS for w in rest)


def _restricting_object(low: list[str], between: list[str], next_cue: _Cue) -> bool:
    """True when the words between are an object noun phrase that a refusal describes:
    "its decree barring", "the rules restricting", "a law banning" (a determiner, at most
    two other words, then a refusal verb in -ing). Undoing or rejecting such an object is
    a stance for what it restricted."""
    if next_cue.kind != "refuse" or not low[next_cue.at].endswith("ing"):
        return False
    if _ends_clause(between) or not between or between[0] not in _OBJECT_LEAD:
        return False
    return len([w for w in between if w not in _OBJECT_LEAD]) <= 2


# Judgement words that are nouns naming a stance against: what one can drop or withdraw.
_STANCE_NOUNS = words("opposition refusal")


def _stance_noun_object(low: list[str], between: list[str], next_cue: _Cue) -> bool:
    """True when the next cue is a stance noun that is the object: a determiner and at most
    one more word before it ("its opposition", "its outright opposition"). Not an
    adjective ("rejected the unacceptable terms"), which judges rather than names a stance."""
    if next_cue.kind != "judge" or low[next_cue.at] not in _STANCE_NOUNS:
        return False
    if _ends_clause(between) or not between or between[0] not in _OBJECT_LEAD:
        return False
    return len([w for w in between if w not in _OBJECT_LEAD]) <= 1


def _before_a_noun(low: list[str], at: int) -> bool:
    """True when the negator at `at` is followed by an article or a preposition."""
    following = low[at + 1 : at + 2]
    return bool(following) and following[0] in _NOMINAL_LEAD


_NOMINAL_LEAD = DETERMINERS | words("in on at for by of from until before after")


def _ends_clause(between: list[str]) -> bool:
    return any(w in _CLAUSE_END for w in between)


# How far after a refusal verb a possessor's demand may stand: "rejected the National Union
# of Transport Workers' demand" has seven tokens before the demand noun.
_POSSESSOR_REACH = 9


def _demand_at(low: list[str], at: int) -> bool:
    """True when a demand noun follows the verb at `at`: within three tokens ("Moscow's
    demand"), or right after a possessor of any length in the same clause ("the opposition
    leader's call", "the … Workers' demand")."""
    if any(w in DEMAND_NOUNS for w in low[at + 1 : at + 4]):
        return True
    window = low[at + 1 : at + 1 + _POSSESSOR_REACH]
    for k, word in enumerate(window[:-1]):
        if word in _CLAUSE_END:
            return False
        if word in ("'s", "'") and window[k + 1] in DEMAND_NOUNS:
            return True
    return False


def _chain(low: list[str], cues: list[_Cue], k: int) -> tuple[float, int]:
    """Value of the cue chain starting at cues[k], and the index of the next free cue."""
    head = cues[k]
    if k + 1 < len(cues) and _governs(low, head, cues[k + 1]):
        value, after = _chain(low, cues, k + 1)
        # "not agree" / "refused to send" / "lifted its ban" flip what they govern; "agreed to
        # halt" passes it on.
        return (value if head.kind == "consent" else -value), after
    if head.kind == "refuse" and _demand_at(low, head.at):
        return 0.0, k + 1  # "rejected calls for neutrality": against what, the words cannot tell
    if head.kind == "neg" and low[head.at] in VERBAL_NEGATORS and _before_a_noun(low, head.at):
        # "is not a tariff", "now, not in a year": it denies a description or a time, not
        # an action, so it says nothing about the stance.
        return 0.0, k + 1
    # A negator that flips nothing ("there will be no foreign soldiers") counts against.
    alone = -THRESHOLDS.unused_negator if head.kind == "neg" else _ALONE[head.kind]
    return head.weight * alone, k + 1


def _tokens(sentence: str) -> tuple[list[str], frozenset[int]]:
    """The sentence's tokens in lower case, and the indices of the capitalised ones."""
    raw = [m.group() for m in TOKEN_PATTERN.finditer(sentence)]
    low = [t.lower().replace("’", "'") for t in raw]
    return low, frozenset(i for i, t in enumerate(raw) if t[:1].isupper())


def polarity(sentence: str, content: frozenset[str] = frozenset()) -> float:
    """Net stance polarity of a sentence from cue words: > 0 for, < 0 against, 0 unknown.

    A negator flips the cue just after it ("not agree"); a refusal verb flips what it
    governs ("refused to rule out" is for); a consent verb passes on what it governs
    ("ready to abandon" is against). A negator that flips nothing counts against by itself
    ("no foreign soldiers"). Cues in a background clause ("after a pause") count for nothing.
    Words in `content` are what the topic is about, not cues (`content_words`).
    """
    low, caps = _tokens(sentence)
    cues = _undone_restrictions(low, _cues(low, caps, content))
    total, k = 0.0, 0
    while k < len(cues):
        value, k = _chain(low, cues, k)
        total += value
    return total


def cue_sign(sentence: str, content: frozenset[str], minimum: float) -> float:
    """+1 or -1 when the sentence's cue words lean that way by at least `minimum`, else 0."""
    value = polarity(sentence, content)
    return float(np.sign(value)) if abs(value) >= minimum else 0.0


_DECLARED = {"for": 1.0, "against": -1.0}


def position_polarity(position: Position) -> float:
    """+1 (for), -1 (against) or 0 (unknown): the declared `polarity`, else the one its words show.

    Most watchlists will not declare a polarity, so the label and examples are read with
    the same cues as the statements: a clear majority of them (two thirds of those with any
    cue) must agree, else the position stays unknown and cues leave it alone.
    """
    if position.polarity in _DECLARED:
        return _DECLARED[position.polarity]
    signs = [float(np.sign(polarity(text))) for text in (position.label, *position.examples)]
    voiced = [s for s in signs if s]
    if not voiced:
        return 0.0
    lean = sum(voiced) / len(voiced)
    return float(np.sign(lean)) if abs(lean) >= 1 / 3 else 0.0


@functools.lru_cache(maxsize=256)  # topics are few; hot reloads bring new ones
def content_words(topic: Topic) -> frozenset[str]:
    """Cue words that name what the topic is about, not a stance, in this topic.

    A position's own words are the judge: a cue standing alone in a text of a position
    whose polarity it contradicts ("limit" in "backs a binding limit on plastic
    production", a position for) is the thing the position is for or against, so in a
    statement on this topic it says nothing about the stance ("the treaty must still limit
    production" restated the position and read as rejecting it). Cues inside a chain
    ("rejected calls to halt deliveries") are left alone: there the words compose.
    """
    found: set[str] = set()
    for position, sign in zip(topic.positions, topic_polarities(topic), strict=True):
        if not sign:
            continue
        for text in (position.label, *position.examples):
            low, caps = _tokens(text)
            cues = _cues(low, caps)
            for k, cue in enumerate(cues):
                chained = (k > 0 and _governs(low, cues[k - 1], cue)) or (
                    k + 1 < len(cues) and _governs(low, cue, cues[k + 1])
                )
                # A negator is left out: what it negates is the stance, not the topic.
                alone = _ALONE.get(cue.kind, 0.0)
                if not chained and cue.weight and alone * sign < 0:
                    found.add(lemma(low[cue.at]))
    return frozenset(found)


def topic_polarities(topic: Topic) -> tuple[float, ...]:
    """Each position's polarity, or all 0 when every position of the topic has the same one.

    A polarity all positions share cannot tell them apart; worse, a cue against it would
    contradict every position, and the assigner would abstain on each such sentence (a
    migration topic whose three positions all read as "against" lost its "for" sentences).
    """
    signs = tuple(position_polarity(p) for p in topic.positions)
    if len(signs) > 1 and len(set(signs)) == 1:
        return tuple(0.0 for _ in signs)
    return signs


# Clauses that report no stance of their subject: no comment, no decision yet, a hedge, an
# accusation against someone else, or the denial of a report ("denied the report").
_NOT = r"(?:not|n't|never)"
_NO_STANCE = re.compile(
    r"\b(?:declin|refus)\w* to (?:comment|confirm|discuss|say|elaborate|speculate|give|"
    r"respond|reply|answer)"
    r"|\bcould not be reached\b"
    rf"|\b(?:did|does|do|would|will|could|has|had|have)\s?{_NOT} (?:yet )?"
    r"(?:comment|confirm|elaborate|speculate|give details|decided|made a decision|"
    r"taken a decision|rule out|ruled out|respond|reply|answer)"
    r"|\bno (?:final )?decision\b|\bundecided\b|\byet to decide\b"
    # "had no view on", "takes no formal stance": saying it holds none ("no intention of",
    # "no reason to" state one, and are left alone).
    r"|\b(?:has|had|have|hold|holds|held|take|takes|took|taken|taking)"
    r" no (?:firm |formal |official |public |clear )?(?:view|position|opinion|stance)\b"
    r"|\b(?:is|are|was|were) (?:still )?(?:studying|weighing|examining|assessing)\b"
    # Not after "and": "rejected the plan and accused the firm of …" states a stance first.
    r"|(?<!\band )\baccus(?:e|es|ed|ing)\b"
    r"|\bden(?:y|ies|ied|ying)\b(?:\W+\w+){0,4}?\W+(?:report|reports|claim|claims|account|"
    r"allegation|allegations|accusation|accusations)\b"
    r"|\bden(?:y|ies|ied)\W*$"
)


def states_no_stance(clause: str) -> bool:
    """True for a clause that reports no stance: "declined to comment", "has not decided",
    "is studying whether", "accused X of", "denied the report", "did not rule out"."""
    return _NO_STANCE.search(clause.lower().replace("’", "'")) is not None
