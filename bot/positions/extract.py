"""Find the sentences of an article that attribute a stance to a tracked actor.

No parser is used: a handful of generic English patterns (who is the subject, who "said"
it, whose words a reported clause carries) decide which actor a sentence speaks for. An
actor that is merely mentioned ("weapons for Ukraine", "a Russian offensive") is not the
author of the sentence, so it gets no statement: precision matters more than recall here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot import lexicon as lx
from bot.actors import ActorIndex, index_for
from bot.lexicon import Tok, VerbGroup, tokenize
from bot.models import Actor
from bot.positions.clauses import (
    BREAKS,
    Span,
    clause_subjects,
    is_anaphor,
    lead_attribution,
    resolve,
    tail_attribution,
)
from bot.positions.hearsay import is_hearsay, without_sourcing
from bot.text import outlet_signature, paragraphs, split_paragraph

# Clauses joined by a semicolon often have different speakers: "Vance says X; Kyiv says Y".
_SEMICOLON = re.compile(r"\s*;\s+")
# A transcript's speaker label: "LAVROV:", "FOREIGN MINISTER LAVROV:", "QUESTION:".
_SPEAKER_LABEL = re.compile(r"^[A-Z][A-Z.'’-]*(?: [A-Z][A-Z.'’-]*){0,3}: (?=\S)")


@dataclass(frozen=True)
class ActorSentence:
    """A sentence that speaks for an actor; `reported_by` is who relayed it, if another."""

    actor_id: str
    sentence: str
    reported_by: str | None
    paragraph: int
    # The part of the sentence that carries the actor's stance: without "…, Lavrov said" or
    # the other side of "X agreed, whereas Y refused". Empty: the whole sentence.
    clause: str = ""
    headline: bool = False  # from the article's title, not its body
    # Passed on second-hand: anonymous sources, "is said to", "reportedly", a media report,
    # analysts' reading. What is said about the actor, not the actor on the record.
    hearsay: bool = False

    @property
    def text(self) -> str:
        """The clause when there is one, else the sentence."""
        return self.clause or self.sentence


def actor_sentences(
    text: str, actors: Sequence[Actor], *, headline: str = ""
) -> list[ActorSentence]:
    """Sentences that speak for an actor, and who relayed them; blank lines part paragraphs.

    The `headline`, when given, is read first as a paragraph of its own, and its sentences
    are marked as such.
    """
    index = index_for(tuple(actors))
    out: list[ActorSentence] = []
    title = " ".join(headline.split())
    signature = outlet_signature(title)
    if signature and not index.find(signature):
        # "… - Example Wire" is the outlet, not words of the story; "… - Kremlin" names who
        # spoke, so a signature that names an actor stays.
        title = title[: -len(signature)]
    body = paragraphs(text)
    labelled = _labelled_speakers(body, index)
    for number, paragraph in enumerate([title, *body] if title else body):
        in_headline = bool(title) and number == 0
        # A transcript's label says who speaks the whole paragraph (`_labelled_speakers`).
        speaker: str | None = None
        label = labelled.get(number - 1 if title else number)
        if label is not None:
            speaker, paragraph = label
        out += _paragraph_sentences(paragraph, number, in_headline, index, speaker)
    return _dedupe(out)


def _paragraph_sentences(
    paragraph: str,
    number: int,
    in_headline: bool,
    index: ActorIndex,
    labelled_speaker: str | None = None,
) -> list[ActorSentence]:
    """The actor sentences of one paragraph, read in order (who "he" is carries over);
    `labelled_speaker`: the actor a transcript's label says speaks all of it."""
    out: list[ActorSentence] = []
    # "He"/"the minister" may refer back only within the paragraph, to a single speaker.
    speaker = labelled_speaker
    in_speakers_voice = labelled_speaker is not None
    pending: list[str] = []  # sentences of a quotation still open, waiting for its speaker
    clauses = [c for s in split_paragraph(paragraph) for c in _SEMICOLON.split(s) if c]
    for sentence in clauses:
        tokens = tokenize(sentence, index.find(sentence))
        if in_speakers_voice or (not pending and _whole_quote(sentence)):
            # '"Russia must withdraw."' after '"…," he said.': the quote goes on in the
            # speaker's voice; an actor it names speaks only as relayed ("Russia has
            # agreed …"), never by being its subject.
            found: Found = _reported(tokens, (0, len(tokens)), speaker, True)
            next_speaker = speaker
        else:
            found, next_speaker = _attribute(tokens, speaker)
        if found:
            # A quotation's earlier sentences are as second-hand as the one that names
            # its source ('"We will not budge. Not now," Peskov said, according to
            # people familiar with the meeting.').
            hearsay = is_hearsay(tokens)
            for actor, reporter, span in found:
                span = without_sourcing(tokens, span) if hearsay else span
                span = _without_relative_of_another(tokens, span, actor)
                out.extend(
                    ActorSentence(actor, s, None, number, headline=in_headline, hearsay=hearsay)
                    for s in pending
                )
                clause = _text(sentence, tokens, span)
                clause = "" if clause == sentence else clause
                out.append(
                    ActorSentence(actor, sentence, reporter, number, clause, in_headline, hearsay)
                )
            pending = []
        else:
            pending = [*pending, sentence] if _quote_open([*pending, sentence]) else []
        speaker = next_speaker
    return out


def _labelled_speakers(body: Sequence[str], index: ActorIndex) -> dict[int, tuple[str | None, str]]:
    """Paragraphs that open with a label in capitals: number → (actor, words after it).

    A transcript names its speaker once, in capitals, before the words ("LAVROV: We reject
    …"); what follows is the speaker's own, sentence after sentence, as a quotation is. Only
    a text with two labelled paragraphs or more is read so. A single label opening the story
    is a dateline ("MOSCOW: Kyiv has agreed …, Zelensky said"): it names no speaker, and
    read as the sentence's subject it made Kyiv's words Russia's. The actor is None for a
    label that is no speaker: a dateline, "QUESTION:", or one naming no actor or two.
    """
    labels = {n: found for n, p in enumerate(body) if (found := _SPEAKER_LABEL.match(p))}
    if len(labels) < 2:
        opening = labels.get(0)
        return {0: (None, body[0][opening.end() :])} if opening else {}
    out: dict[int, tuple[str | None, str]] = {}
    for number, found in labels.items():
        named = {actor for _, _, actor in index.find(found.group())}
        out[number] = (named.pop() if len(named) == 1 else None, body[number][found.end() :])
    return out


def _without_relative_of_another(tokens: list[Tok], span: Span, actor: str) -> Span:
    """The span without a closing relative clause about another actor: in "Washington
    criticised Rome, which has refused to sign", the refusal is Rome's, and read as
    Washington's it made the critic the refuser. Only a clause that closes the span is cut
    (a span cannot skip its middle)."""
    lo, hi = span
    for k in range(lo + 1, hi - 1):
        named = tokens[k - 1].actor
        if tokens[k].text != "," or tokens[k + 1].low not in ("which", "who"):
            continue
        closes = not any(t.text in BREAKS for t in tokens[k + 2 : hi - 1])
        if named and named != actor and closes:
            return (lo, k)
    return span


def _text(sentence: str, tokens: list[Tok], span: Span) -> str:
    """The sentence text covered by a token span, without surrounding quotes and commas."""
    inner = tokens[span[0] : span[1]]
    while inner and (not inner[0].is_word or inner[0].low == "that"):
        inner = inner[1:]
    while inner and inner[-1].text in BREAKS | {":"}:
        inner = inner[:-1]
    return sentence[inner[0].start : inner[-1].end] if inner else sentence


def _whole_quote(sentence: str) -> bool:
    """True for a sentence that is one quotation and nothing else: '"We will not give up."'."""
    text = sentence.strip()
    if len(text) < 3 or text[0] not in '"“' or text[-1] not in '"”':
        return False
    return text.count('"') + text.count("“") + text.count("”") == 2


def _quote_open(sentences: list[str]) -> bool:
    """True while a quotation opened in these sentences has not closed yet."""
    text = " ".join(sentences)
    return text.count('"') % 2 == 1 or text.count("“") > text.count("”")


def _dedupe(items: list[ActorSentence]) -> list[ActorSentence]:
    seen: set[tuple[str, str, int]] = set()
    out = []
    for item in items:
        key = (item.actor_id, item.sentence, item.paragraph)
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


# --- who speaks in one sentence -------------------------------------------------------------

Found = list[tuple[str, str | None, Span]]  # (actor, reported by, span of its clause)


def _attribute(tokens: list[Tok], carried: str | None) -> tuple[Found, str | None]:
    """(actor, reported_by) pairs the sentence speaks for, and who "he" is in the next one."""
    tail = tail_attribution(tokens)
    lead = None if tail else lead_attribution(tokens)
    attribution = tail or lead
    if attribution is not None:
        content, group, verb_word = attribution
        speaker = resolve(tokens, group, carried)
        # Only a neutral "said"/"told" relays another actor's stance; "insisted that Ukraine
        # abandon …" or "warned that …" states the speaker's own demand or judgement.
        relays = verb_word in lx.RELAY_VERBS
        said = _reported(tokens, content, speaker, relays)
        if verb_word in lx.ALLEGE_VERBS and any(r is not None for _, r, _ in said):
            said = []  # "Russia claimed Germany had delivered …": an allegation, no stance
        return said, _next_speaker(tokens, speaker)
    found: Found = []
    for span in _contrast_clauses(tokens):
        groups, verb = clause_subjects(tokens, *span)
        for group in groups:
            actor = resolve(tokens, group, carried)
            # A pronoun carries a speaker over only into a statement ("he said", "it refused").
            if actor and (not is_anaphor(tokens, group) or _is_stance_verb(verb)):
                found.append((actor, None, span))
    actors = list(dict.fromkeys(a for a, _, _ in found))
    if len(actors) == 1:
        return found, _next_speaker(tokens, actors[0])
    if actors or _rivals(tokens, None):
        return found, None
    return found, carried  # a sentence naming nobody keeps the thread ("The talks were long.")


def _next_speaker(tokens: list[Tok], speaker: str | None) -> str | None:
    """Who "he" may mean in the next sentence: the speaker, unless someone else could be."""
    return None if speaker is None or _rivals(tokens, speaker) else speaker


def _rivals(tokens: list[Tok], speaker: str | None) -> bool:
    """True when another actor is named where it could be the next sentence's "he".

    "Lavrov met Witkoff." leaves "he" ambiguous; "guarantees for Ukraine" does not: an
    actor after a preposition is rarely who the next sentence's pronoun means.
    """
    for i, tok in enumerate(tokens):
        if tok.actor is None or tok.actor == speaker:
            continue
        before = tokens[i - 1].low if i else ""
        if before not in lx.PREPOSITIONS:
            return True
    return False


_CONTRAST = frozenset(["whereas", "while", "but"])


def _contrast_clauses(tokens: list[Tok]) -> list[Span]:
    """Split "X agreed, whereas Y refused" into its clauses; each may have its own subject."""
    cuts = [
        i
        for i in range(1, len(tokens) - 1)
        if tokens[i].low in _CONTRAST and tokens[i - 1].text in (",", ";", "—", "–")
    ]
    spans: list[Span] = []
    start = 0
    for cut in cuts:
        spans.append((start, cut - 1))  # the clause before ", whereas"
        start = cut + 1
    spans.append((start, len(tokens)))
    return spans


def _is_stance_verb(verb: VerbGroup | None) -> bool:
    if verb is None or verb.main is None:
        return False
    return verb.main in lx.REPORT_VERBS or lx.is_own_stance(verb)


def _reported(tokens: list[Tok], content: Span, speaker: str | None, relays: bool) -> Found:
    """Split "A said B had agreed …": B's own stance relayed by A, or else A's own stance."""
    groups, verb = clause_subjects(tokens, *content)
    # "he"/"it" inside what someone said refers back to the speaker: "Washington said it …".
    subjects = [resolve(tokens, group, speaker) for group in groups]
    relayed = []
    if relays and verb is not None and (lx.is_own_stance(verb) or _relays_in_turn(verb)):
        # "Russia had agreed …" is Russia's stance; "Russia must stop …" is the speaker's demand.
        relayed = [a for a in subjects if a is not None and a != speaker]
    if relayed:
        return [(a, speaker, content) for a in dict.fromkeys(relayed)]
    return [(speaker, None, content)] if speaker is not None else []


def _relays_in_turn(verb: VerbGroup) -> bool:
    """True for "Putin had told Trump that …": a statement of its subject, relayed once more."""
    own = VerbGroup(verb.auxiliaries, "agree", verb.end)  # the modal test of is_own_stance
    return verb.main in lx.RELAY_VERBS and lx.is_own_stance(own)
