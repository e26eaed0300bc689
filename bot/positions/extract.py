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
from itertools import pairwise

from bot import lexicon as lx
from bot.actors import ActorIndex
from bot.lexicon import Tok, VerbGroup, clause_verb, tokenize
from bot.models import Actor
from bot.text import paragraphs, split_paragraph

Span = tuple[int, int]

# Clauses joined by a semicolon often have different speakers: "Vance says X; Kyiv says Y".
_SEMICOLON = re.compile(r"\s*;\s+")


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
    index = ActorIndex(actors)
    out: list[ActorSentence] = []
    title = " ".join(headline.split())
    for number, paragraph in enumerate([title, *paragraphs(text)] if title else paragraphs(text)):
        in_headline = bool(title) and number == 0
        # "He"/"the minister" may refer back only within the paragraph, to a single speaker.
        speaker: str | None = None
        pending: list[str] = []  # sentences of a quotation still open, waiting for its speaker
        clauses = [c for s in split_paragraph(paragraph) for c in _SEMICOLON.split(s) if c]
        for sentence in clauses:
            tokens = tokenize(sentence, index.find(sentence))
            if not pending and _whole_quote(sentence):
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
                hearsay = _hearsay(tokens)
                for actor, reporter, span in found:
                    span = _without_sourcing(tokens, span) if hearsay else span
                    out.extend(
                        ActorSentence(actor, s, None, number, headline=in_headline, hearsay=hearsay)
                        for s in pending
                    )
                    clause = _text(sentence, tokens, span)
                    clause = "" if clause == sentence else clause
                    out.append(
                        ActorSentence(
                            actor, sentence, reporter, number, clause, in_headline, hearsay
                        )
                    )
                pending = []
            else:
                pending = [*pending, sentence] if _quote_open([*pending, sentence]) else []
            speaker = next_speaker
    return _dedupe(out)


def _text(sentence: str, tokens: list[Tok], span: Span) -> str:
    """The sentence text covered by a token span, without surrounding quotes and commas."""
    inner = [t for t in tokens[span[0] : span[1]]]
    while inner and (not inner[0].is_word or inner[0].low == "that"):
        inner = inner[1:]
    while inner and inner[-1].text in _BREAKS | {":"}:
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


# --- hearsay --------------------------------------------------------------------------------


def _hearsay(tokens: list[Tok]) -> bool:
    """True when the sentence passes an actor's stance on second-hand.

    "…, according to people familiar with the matter", "officials said on condition of
    anonymity", "Beijing is said to be considering …", "Moscow reportedly rejected …",
    "according to a report in …", "two sources told …", "analysts said Moscow would …",
    "…, the Courier reported". Words inside a quotation are the speaker's own and never
    count: '"Sources say many things," Peskov said.' is on the record. Plain "officials
    said" is not hearsay: the actor's own officials speak for it, and wire copy names them
    so.
    """
    lows = [t.low for t in tokens]
    quoted = _quoted(tokens)
    for i, low in enumerate(lows):
        if quoted[i]:
            continue
        if low in lx.HEARSAY_WORDS or any(_at(lows, i, p) for p in lx.HEARSAY_PHRASES):
            return True
        if low in lx.HEARSAY_PARTICIPLES and i and lows[i - 1] in lx.BE_FORMS:
            # "is said to be considering", "it is understood that"; not "what was said to him"
            after = lows[i + 1 : i + 3]
            if after[:1] == ["that"] or (after[:1] == ["to"] and _verb_after_to(after)):
                return True
        if low in lx.UNNAMED_SOURCES and any(_at(lows, i + 1, p) for p in lx.HEARSAY_LINKS):
            return True
        if low in lx.HEARSAY_SPEAKERS and (_cited(lows, i) or _speaks(lows, i)):
            return True
        if _at(lows, i, ("according", "to")) and lx.REPORT_NOUNS & set(lows[i + 2 : i + 6]):
            return True  # "according to a report in …", "according to media reports"
    return _outlet_reported(tokens)


def _without_sourcing(tokens: list[Tok], span: Span) -> Span:
    """The span without a closing hearsay attribution (", according to people familiar with
    the matter", ", two sources said on Monday"): like "…, Lavrov said", it says who passed
    the stance on, not what the stance is. A tail that names an actor is kept: it may be
    that actor's own clause ("…, and analysts said Moscow would …")."""
    lo, hi = span
    for k in range(hi - 2, lo, -1):
        if tokens[k].text not in (",", "—", "–"):
            continue
        tail = tokens[k + 1 : hi]
        if any(t.actor for t in tail) or sum(t.is_word for t in tail) > _SOURCING_WORDS:
            return span
        if _hearsay(tail):
            return (lo, k)
        if tail[0].low in _COORDINATORS:
            # "…, according to people familiar with the talks, and will send …": the
            # attribution is not the sentence's close, and a span cannot skip its middle.
            return span
    return span


_COORDINATORS = frozenset(("and", "but", "or", "yet", "while", "whereas"))


# Words an attribution such as "according to two people briefed on the negotiations" takes
# (about ten), with room for "on Monday"; a longer tail is a clause of its own.
_SOURCING_WORDS = 14


def _at(lows: list[str], i: int, phrase: tuple[str, ...]) -> bool:
    """True when the words from i on are the phrase."""
    return tuple(lows[i : i + len(phrase)]) == phrase


def _verb_after_to(after: list[str]) -> bool:
    """True for "to" + a verb: "to be", "to have", "to favour"; not "to reporters"."""
    return len(after) == 2 and (after[1] in ("be", "have") or lx.lemma(after[1]) in lx.KNOWN_VERBS)


def _cited(lows: list[str], i: int) -> bool:
    """True when the word at i is cited as the source: "according to two sources"."""
    before = lows[max(0, i - 4) : i]
    return "citing" in before or "cited" in before or "according" in before


def _speaks(lows: list[str], i: int) -> bool:
    """True when a reporting verb follows the word at i within its phrase ("two sources
    told", "analysts at a bank said"); not "the experts' report", a noun it qualifies."""
    if lows[i + 1 : i + 2] in (["'"], ["'s"]):
        return False
    for low in lows[i + 1 : i + 8]:
        if low in _PHRASE_ENDS:
            return False
        if low != "that" and (
            lx.lemma(low) in lx.REPORT_VERBS or lx.lemma(low) in lx.HEARSAY_SPEAKER_VERBS
        ):
            return True
    return False


_PHRASE_ENDS = frozenset(',.;:!?"“”—–()')


def _quoted(tokens: list[Tok]) -> list[bool]:
    """For each token, whether it stands inside a quotation (straight or curly quotes).

    A straight quote right after a word or a comma, with no space, closes a quotation, even
    one opened in an earlier sentence ('… meet them," she said.'); otherwise it opens one.
    """
    out: list[bool] = []
    inside = False
    for k, tok in enumerate(tokens):
        attached = k > 0 and tokens[k - 1].end == tok.start
        if tok.text == "”" or (tok.text == '"' and (inside or attached)):
            if not inside:
                out = [True] * len(out)  # the quotation began before this sentence
            inside = False
            out.append(False)
            continue
        if tok.text in ('"', "“"):
            inside = True
            out.append(False)
            continue
        out.append(inside)
    return out


def _outlet_reported(tokens: list[Tok]) -> bool:
    """True for "…, the newspaper reported" or "Reuters reported that …": an outlet's report
    about the actor. An actor that reports ("the ministry reported") speaks for itself."""
    attribution = _tail_attribution(tokens) or _lead_attribution(tokens)
    if attribution is None or attribution[2] != "report":
        return False
    group = attribution[1]
    return _resolve(tokens, group, None) is None and not _is_anaphor(tokens, group)


# --- who speaks in one sentence -------------------------------------------------------------

Found = list[tuple[str, str | None, Span]]  # (actor, reported by, span of its clause)


def _attribute(tokens: list[Tok], carried: str | None) -> tuple[Found, str | None]:
    """(actor, reported_by) pairs the sentence speaks for, and who "he" is in the next one."""
    tail = _tail_attribution(tokens)
    lead = None if tail else _lead_attribution(tokens)
    attribution = tail or lead
    if attribution is not None:
        content, group, verb_word = attribution
        speaker = _resolve(tokens, group, carried)
        # Only a neutral "said"/"told" relays another actor's stance; "insisted that Ukraine
        # abandon …" or "warned that …" states the speaker's own demand or judgement.
        relays = verb_word in lx.RELAY_VERBS
        said = _reported(tokens, content, speaker, relays)
        if verb_word in lx.ALLEGE_VERBS and any(r is not None for _, r, _ in said):
            said = []  # "Russia claimed Germany had delivered …": an allegation, no stance
        return said, _next_speaker(tokens, speaker)
    found: Found = []
    for span in _contrast_clauses(tokens):
        groups, verb = _subjects(tokens, *span)
        for group in groups:
            actor = _resolve(tokens, group, carried)
            # A pronoun carries a speaker over only into a statement ("he said", "it refused").
            if actor and (not _is_anaphor(tokens, group) or _is_stance_verb(verb)):
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


def _resolve(tokens: list[Tok], group: Span, carried: str | None) -> str | None:
    """The actor a noun group stands for: its own alias, else the carried speaker for "he"."""
    inside = tokens[group[0] : group[1]]
    if any(t.low in _NOT_IN_OFFICE for t in inside):
        # "Israeli opposition leader Yair Lapid", "Former British prime minister Boris
        # Johnson": the country qualifies an office its government does not hold (now). Only
        # a person named after the title who is an alias himself ("… Dmitry Medvedev") counts.
        titles = [k for k, t in enumerate(inside) if t.low in lx.TITLES]
        inside = inside[titles[-1] + 1 :] if titles else []
    # "Israel's ambassador in Washington": the possessor speaks, the place does not.
    owners = [t.actor for t, after in pairwise(inside) if t.actor and after.low == "'s"]
    if owners:
        return owners[0]
    posted = _posting(inside)
    if posted is not None:
        # "The US ambassador in Moscow", "the Russian embassy in Washington": the place after
        # a diplomatic title is where the official serves, never whom they speak for.
        inside = inside[:posted]
    named = [t.actor for t in inside if t.actor]
    if named:
        return named[-1]
    return carried if _is_anaphor(tokens, group) else None


# Words that put an official outside the government the country name stands for.
_NOT_IN_OFFICE = frozenset({"former", "ex", "opposition", "exiled", "retired", "dissident"})

# Titles of officials who serve abroad: "in X" after them names their posting.
# fmt: off
_POSTED_TITLES = frozenset({
    "ambassador", "ambassadors", "envoy", "envoys", "embassy", "diplomat", "diplomats",
    "mission", "consulate", "consul", "delegation", "delegations",
})
# fmt: on


def _posting(inside: list[Tok]) -> int | None:
    """Index of "in"/"at" after a diplomatic title in a noun group, if there is one."""
    for k in range(1, len(inside)):
        if inside[k].low in ("in", "at") and inside[k - 1].low in _POSTED_TITLES:
            return k
    return None


def _reported(tokens: list[Tok], content: Span, speaker: str | None, relays: bool) -> Found:
    """Split "A said B had agreed …": B's own stance relayed by A, or else A's own stance."""
    groups, verb = _subjects(tokens, *content)
    # "he"/"it" inside what someone said refers back to the speaker: "Washington said it …".
    subjects = [_resolve(tokens, group, speaker) for group in groups]
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


# --- noun groups and clause structure -------------------------------------------------------

_OPEN = frozenset("\"“‘'([")
_BREAKS = frozenset(',"”—–;')
_CONJUNCTIONS = frozenset(["but", "and", "yet", "so"])


def _group_at(tokens: list[Tok], i: int, hi: int) -> Span | None:
    """A noun group naming someone that starts at i ("Russia's foreign minister Sergei Lavrov")."""
    if i >= hi:
        return None
    if tokens[i].low in lx.ANAPHORS and not _is_acronym(tokens[i]):  # "IT Minister …"
        return (i, i + 1)
    j = i + 1 if tokens[i].low in lx.DETERMINERS or tokens[i].low == "both" else i
    first, last_kept, previous = j, -1, ""
    while j < hi:
        tok, low = tokens[j], tokens[j].low
        if tok.actor is not None:
            kind = "actor"
        elif low == "'s" and previous in ("actor", "name", "title"):
            kind = "'s"
        elif low in lx.TITLES:
            kind = "title"
        elif previous in ("'s", "modifier", "actor") and _modifies_title(tokens, j, hi):
            # "China's commerce ministry", "U.S. Trade Representative"
            kind = "modifier"
        elif low in ("of", "-", "in") and previous == "title" and _links(tokens, j + 1, hi):
            kind = "link"  # "Secretary of State", "Secretary-General", "the government in Kyiv"
        elif (
            tok.is_word
            and tok.is_capitalised
            and (low not in lx.FUNCTION_WORDS or _is_acronym(tok))
            and previous in ("", "title", "name", "'s")
        ):
            # "Sergei" in "Sergei Lavrov"; never right after an actor ("Russia Rejects …").
            kind = "name"
        else:
            break
        if kind in ("actor", "title", "name", "'s"):
            last_kept = j
        previous = kind
        j += 1
    if last_kept < first:
        return None
    group = (i, last_kept + 1)
    has_actor = any(t.actor for t in tokens[group[0] : group[1]])
    if not has_actor and not _is_anaphor(tokens, group) and not _is_named(tokens, group):
        return None
    return group


def _is_acronym(tok: Tok) -> bool:
    """True for "IT" or "ICE": capitals throughout, so not the pronoun or the function word."""
    return len(tok.text) > 1 and tok.text.isupper()


def _modifies_title(tokens: list[Tok], j: int, hi: int) -> bool:
    """True for a word that qualifies a title within two words ("commerce ministry", "Trade
    Representative"); a verb never does ("Russia rejects envoy's plan")."""
    tok = tokens[j]
    if not tok.is_word or tok.low in lx.FUNCTION_WORDS or lx.lemma(tok.low) in lx.KNOWN_VERBS:
        return False
    return any(t.low in lx.TITLES for t in tokens[j + 1 : min(hi, j + 3)])


def _links(tokens: list[Tok], j: int, hi: int) -> bool:
    return j < hi and (tokens[j].low in lx.TITLES or tokens[j].actor is not None)


def _is_named(tokens: list[Tok], group: Span) -> bool:
    """True for a group that names some other person or body ("European leaders")."""
    return any(t.is_capitalised and t.low not in lx.TITLES for t in tokens[group[0] : group[1]])


def _is_anaphor(tokens: list[Tok], group: Span) -> bool:
    """True for "he"/"it" and for a bare definite title ("the minister", "its envoy")."""
    words = [t.low for t in tokens[group[0] : group[1]]]
    if len(words) == 1 and words[0] in lx.ANAPHORS:
        return True
    # "the minister", and "its representative" / "his spokesman": the speaker's own official.
    definite = ("the", *lx.POSSESSIVE_PRONOUNS)
    return len(words) >= 2 and words[0] in definite and all(w in lx.TITLES for w in words[1:])


def _clause_start(tokens: list[Tok], lo: int, hi: int) -> int:
    """Skip opening quotes, a leading conjunction and an opening phrase up to its comma."""
    i = lo
    while i < hi and (tokens[i].text in _OPEN or tokens[i].low == "that"):
        i += 1
    if i < hi and tokens[i].low in _CONJUNCTIONS:
        i += 1
        return i + 1 if i < hi and tokens[i].text == "," else i
    if i < hi and tokens[i].low in lx.OPENERS:
        for j in range(i + 1, min(hi, i + 12)):
            if tokens[j].text == ",":
                return j + 1
        end = lx.time_phrase_end(tokens, i)
        return end or i
    return i


def _subjects(tokens: list[Tok], lo: int, hi: int) -> tuple[list[Span], VerbGroup | None]:
    """Noun groups that are the subject of the clause starting at lo, with its verb group."""
    i = _clause_start(tokens, lo, hi)
    groups: list[Span] = []
    while (group := _group_at(tokens, i, hi)) is not None:
        groups.append(group)
        i = group[1]
        if i < hi and tokens[i].low in ("and", "or", ",") and _group_at(tokens, i + 1, hi):
            i += 1
            continue
        break
    if not groups or tokens[groups[-1][1] - 1].low == "'s":
        return [], None  # "Ukraine's membership …": a possessor is not a subject
    verb = _predicate(tokens, groups, hi)
    if verb is None and _is_apposition(tokens, groups):
        # "Norway's fisheries minister, Sigrid Haugland, said …": the name between commas is
        # the same person, not a second subject, when an alias names the official too.
        groups = groups[:-1]
        verb = _predicate(tokens, groups, hi)
    return (groups, verb) if verb is not None else ([], None)


def _is_apposition(tokens: list[Tok], groups: list[Span]) -> bool:
    """True when the last group follows the one before it after a comma, not "and"/"or".

    Only a guess: the caller keeps it only if the earlier group then finds its verb past
    the apposition's closing comma.
    """
    return len(groups) >= 2 and tokens[groups[-1][0] - 1].text == ","


def _predicate(tokens: list[Tok], groups: list[Span], hi: int) -> VerbGroup | None:
    """The verb group that follows the subject groups, if they are the subject of a clause."""
    i = groups[-1][1]
    if tokens[i - 1].low in lx.TITLES:
        # "China's envoy to the seabed authority, Zhou Minghui, said …": where the official
        # serves, up to the comma of an apposition.
        i = _skip_posting(tokens, i, hi)
    if i < hi and tokens[i].text == ",":
        # An apposition: "Lavrov, the foreign minister, said …"
        close = next((j for j in range(i + 1, min(hi, i + 12)) if tokens[j].text == ","), None)
        if close is not None:
            i = close + 1
    if i < hi and tokens[i].text == ":":
        return VerbGroup((), "say", i + 1)  # headline style: "Kremlin: no foreign troops"
    if i + 1 < hi and tokens[i].low == "to" and lx.lemma(tokens[i + 1].low) in lx.VERBS:
        return VerbGroup(("will",), lx.lemma(tokens[i + 1].low), i + 2)  # "Germany to send …"
    verb = clause_verb(tokens, i)
    if verb is None or verb.auxiliaries or len(groups) > 1:
        return verb
    # A bare base form after one singular subject is a noun: "the American offer", "US plan".
    word = tokens[verb.end - 1].low
    plural = (
        tokens[groups[-1][1] - 1].low.endswith("s") and tokens[groups[-1][1] - 1].low in lx.TITLES
    )
    if word == verb.main and not plural and word not in lx.INVARIANT_PAST:
        return None
    return verb


def _skip_posting(tokens: list[Tok], i: int, hi: int) -> int:
    """Past "to the seabed authority" / "in Vienna" when a comma follows within a few words."""
    if i >= hi or tokens[i].low not in ("to", "in", "at", "for"):
        return i
    for j in range(i + 1, min(hi, i + 6)):
        if tokens[j].text == ",":
            return j
        if not tokens[j].is_word or lx.lemma(tokens[j].low) in lx.KNOWN_VERBS:
            break  # "the envoy to Kyiv said": a verb, not a place, follows
    return i


# Adverbs between "said" and what was said ("said again that …"); a negator is not one of
# them: it belongs to what was said ("said no mining should be allowed").
_SKIPPED_AFTER_SAID = lx.ADVERBS - lx.NEGATORS


def _lead_attribution(tokens: list[Tok]) -> tuple[Span, Span, str] | None:
    """("According to X," | "X said [that]") at the start: content span, X's group, the verb."""
    n = len(tokens)
    start = _clause_start(tokens, 0, n)
    if start + 1 < n and tokens[start].low == "according" and tokens[start + 1].low == "to":
        group = _group_at(tokens, start + 2, n)
        if group and group[1] < n and tokens[group[1]].text == ",":
            return (group[1] + 1, n), group, "say"
        return None
    groups, verb = _subjects(tokens, 0, n)
    if len(groups) != 1 or verb is None or verb.main not in lx.REPORT_VERBS:
        return None
    if any(a in lx.BE_FORMS for a in verb.auxiliaries):
        return None  # "Beijing is said to be weighing …": said of the subject, not by it
    i = verb.end
    if verb.main in ("tell", "assure", "warn", "caution") and "that" in _lows(tokens, i, i + 6):
        i = _lows(tokens, i, i + 6).index("that") + i  # "told reporters that …"
    while i < n and (tokens[i].low in _SKIPPED_AFTER_SAID or tokens[i].text in ":,"):
        i += 1
    i = lx.time_phrase_end(tokens, i) or i
    return (i, n), groups[0], verb.main


def _lows(tokens: list[Tok], lo: int, hi: int) -> list[str]:
    return [t.low for t in tokens[lo:hi]]


def _tail_attribution(tokens: list[Tok]) -> tuple[Span, Span, str] | None:
    """ "…, X said." / "…," said X." / "…, according to X." at the end: content, X, the verb."""
    n = len(tokens)
    if _asked_opener(tokens):
        return None  # "Asked whether Russia would accept, Lavrov said no": the answer follows
    for k in range(n - 2, 0, -1):
        if tokens[k].text not in _BREAKS:
            continue
        found = _attribution_after(tokens, k + 1)
        if found is not None:
            return (0, k), *found
    return None


def _asked_opener(tokens: list[Tok]) -> bool:
    """True for a sentence that opens with the question put to its speaker ("When asked …,")."""
    words = [t.low for t in tokens[:3] if t.is_word]
    return words[:1] == ["asked"] or words[:2] in (["when", "asked"], ["if", "asked"])


def _attribution_after(tokens: list[Tok], i: int) -> tuple[Span, str] | None:
    """X's group and the verb when tokens from i read "X said …", "said X …", "according to X"."""
    n = len(tokens)
    while i < n and tokens[i].text in _BREAKS:
        i += 1
    if i + 1 < n and tokens[i].low == "according" and tokens[i + 1].low == "to":
        group = _group_at(tokens, i + 2, n)
        return (group, "say") if group and _tail_ok(tokens, group[1]) else None
    verb_word = lx.lemma(tokens[i].low) if i < n else ""
    if verb_word in lx.REPORT_VERBS and tokens[i].low != "that":
        group = _group_at(tokens, i + 1, n)  # inverted: "said Kremlin spokesman Dmitry Peskov"
        if group is None or _is_anaphor(tokens, group) or clause_verb(tokens, group[1]):
            return None  # "…, said it would help" is a new clause, not an inversion
        if _noun_follows(tokens, group[1]):
            return None  # "…, said the American decision …": the actor only qualifies a noun
        return (group, verb_word) if _tail_ok(tokens, group[1]) else None
    group = _group_at(tokens, i, n)
    if group is None:
        return None
    verb = _predicate(tokens, [group], n)
    if verb is None or verb.main not in lx.REPORT_VERBS:
        return None
    if any(a in lx.BE_FORMS for a in verb.auxiliaries):
        return None  # "…, Moscow was told": said to the group, not by it
    return (group, verb.main) if _tail_ok(tokens, verb.end) else None


def _noun_follows(tokens: list[Tok], i: int) -> bool:
    """True when a plain lower-case word that is not a verb, preposition or time word is at i."""
    if i >= len(tokens) or not tokens[i].is_word or tokens[i].is_capitalised:
        return False
    low = tokens[i].low
    return not (
        low in lx.FUNCTION_WORDS
        or low in lx.PREPOSITIONS
        or low in lx.TIME_WORDS
        or lx.lemma(low) in lx.KNOWN_VERBS
    )


def _tail_ok(tokens: list[Tok], i: int) -> bool:
    """What follows an end attribution: a few words ("on Tuesday", "told reporters"), no clause.

    A comma closes the attribution: "…, Lavrov said on Tuesday, adding that …".
    """
    rest: list[Tok] = []
    for tok in tokens[i:]:
        if tok.text in (",", ";", "—", "–"):
            break
        rest.append(tok)
    words = [t for t in rest if t.is_word]
    # "…, Ruiz said talks were continuing": an auxiliary after the verb opens a new clause.
    clause = any(t.low in lx.AUXILIARIES for t in words[1:])
    return len(words) <= 8 and not clause and not any(t.low == "that" for t in rest)
