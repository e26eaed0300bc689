"""Clause structure without a parser: noun groups that name someone, the subject and verb of
a clause, "X said" attributions at either end of a sentence, and which actor a group stands
for. `extract` and `hearsay` build on these.
"""

from __future__ import annotations

from itertools import pairwise

from bot import lexicon as lx
from bot.lexicon import Tok, VerbGroup, clause_verb

Span = tuple[int, int]  # a half-open range of token indexes


def resolve(tokens: list[Tok], group: Span, carried: str | None) -> str | None:
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
    return carried if is_anaphor(tokens, group) else None


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


_OPEN = frozenset("\"“‘'([")
# Punctuation after which an attribution may begin: "…, Lavrov said", "…” said Peskov".
BREAKS = frozenset(',"”—–;')
_CONJUNCTIONS = frozenset(["but", "and", "yet", "so"])


def group_at(tokens: list[Tok], i: int, hi: int) -> Span | None:
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
    if not has_actor and not is_anaphor(tokens, group) and not _is_named(tokens, group):
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


def is_anaphor(tokens: list[Tok], group: Span) -> bool:
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


def clause_subjects(tokens: list[Tok], lo: int, hi: int) -> tuple[list[Span], VerbGroup | None]:
    """Noun groups that are the subject of the clause starting at lo, with its verb group."""
    i = _clause_start(tokens, lo, hi)
    groups: list[Span] = []
    while (group := group_at(tokens, i, hi)) is not None:
        groups.append(group)
        i = group[1]
        if i < hi and tokens[i].low in ("and", "or", ",") and group_at(tokens, i + 1, hi):
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


def lead_attribution(tokens: list[Tok]) -> tuple[Span, Span, str] | None:
    """("According to X," | "X said [that]") at the start: content span, X's group, the verb."""
    n = len(tokens)
    start = _clause_start(tokens, 0, n)
    if start + 1 < n and tokens[start].low == "according" and tokens[start + 1].low == "to":
        group = group_at(tokens, start + 2, n)
        if group and group[1] < n and tokens[group[1]].text == ",":
            return (group[1] + 1, n), group, "say"
        return None
    groups, verb = clause_subjects(tokens, 0, n)
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


def tail_attribution(tokens: list[Tok]) -> tuple[Span, Span, str] | None:
    """ "…, X said." / "…," said X." / "…, according to X." at the end: content, X, the verb."""
    n = len(tokens)
    if _asked_opener(tokens):
        return None  # "Asked whether Russia would accept, Lavrov said no": the answer follows
    for k in range(n - 2, 0, -1):
        if tokens[k].text not in BREAKS:
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
    while i < n and tokens[i].text in BREAKS:
        i += 1
    if i + 1 < n and tokens[i].low == "according" and tokens[i + 1].low == "to":
        group = group_at(tokens, i + 2, n)
        return (group, "say") if group and _tail_ok(tokens, group[1]) else None
    verb_word = lx.lemma(tokens[i].low) if i < n else ""
    if verb_word in lx.REPORT_VERBS and tokens[i].low != "that":
        group = group_at(tokens, i + 1, n)  # inverted: "said Kremlin spokesman Dmitry Peskov"
        if group is None or is_anaphor(tokens, group) or clause_verb(tokens, group[1]):
            return None  # "…, said it would help" is a new clause, not an inversion
        if _noun_follows(tokens, group[1]):
            return None  # "…, said the American decision …": the actor only qualifies a noun
        return (group, verb_word) if _tail_ok(tokens, group[1]) else None
    group = group_at(tokens, i, n)
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
