"""Find the watchlist's actors in text by their aliases."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from bot.lexicon import ADVERBS, AUXILIARIES, lemma
from bot.models import Actor

# An alias that is only part of a longer proper name is not the actor: "Korea" in "North
# Korea", "Paris" in "the Paris Agreement", "Kyiv" in "a Kyiv-based analyst". The word lists
# (space-separated) are for English news.
#
# Capitalised words that, right before an alias, make it another place ("North Korea",
# "South Sudan", "Northern Ireland", "Latin America", "Equatorial Guinea"). Not "Great"
# ("Great Britain" is Britain) nor "Upper"/"Lower"/"Greater", which headlines use as plain
# words ("Fed to Lower US Rates"). "New" counts; at the start of a sentence, where any word
# has a capital, it may also be the adjective: see `_new_is_adjective`.
QUALIFIERS = "North South East West Northern Southern Eastern Western Central Latin Equatorial New"
# Head nouns that, right after an alias, make it the name of a treaty, a club, an airline, an
# outlet or a university ("the Paris Agreement", "British Airways", "the Moscow Times"), in
# capitals only: lower-case "post", "times" or "daily" are ordinary words. Not words that
# keep the actor's own voice or are its events ("government", "ministry", "summit", "talks"),
# nor "Open" ("Kremlin Open to Talks").
NAME_HEADS = (
    "Agreement Agreements Accord Accords Treaty Protocol Convention Declaration Memorandum "
    "Charter Club Times Post Journal Independent Herald Daily Tribune Gazette Telegraph "
    "Chronicle Airways Airlines Olympics University Stock Exchange"
)
# The treaty words also in lower case: news writes "the Paris agreement", "the Minsk accords".
LOWER_NAME_HEADS = "agreement agreements accord accords treaty protocol convention declaration"
# Hyphenated origins, in any case: where someone or something comes from, not who speaks ("a
# Kyiv-based analyst", "London-listed miners"). Not "-led" or "-backed" ("U.S.-led",
# "Moscow-backed"), which say what the actor does.
ORIGIN_SUFFIXES = "based born listed headquartered registered"


def _any_of(words: str) -> str:
    """A regex alternation of space-separated words."""
    return "|".join(words.split())


# Each word list also in capitals, as aliases are found in text set in capitals: "NORTH
# KOREA" is no more Korea than "North Korea" is.
_QUALIFIED = re.compile(rf"(?<![\w-])({_any_of(QUALIFIERS)}|{_any_of(QUALIFIERS.upper())}) \Z")
_SENTENCE_START = re.compile(r"(?:\A|[.!?:;\n])[\s\"'“‘(\[]*\Z")
_NAME_HEAD = re.compile(
    rf" (?:{_any_of(NAME_HEADS)}|{_any_of(LOWER_NAME_HEADS)}|{_any_of(NAME_HEADS.upper())})\b"
)
_ORIGIN = re.compile(rf"-(?:{_any_of(ORIGIN_SUFFIXES)})\b", re.IGNORECASE)


def _part_of_longer_name(text: str, start: int, end: int) -> bool:
    """True when the alias at text[start:end] is only part of a longer proper name.

    Three cases: a qualifier before it makes another place ("North Korea"); a head noun after
    it names a treaty, club, airline or outlet ("the Paris Agreement", "the Moscow Times"); a
    hyphenated origin after it ("a Kyiv-based analyst"). A longer form that is itself an alias
    ("South Korea") never gets here: the longest alias at a position wins.
    """
    # Windows, not the whole text: `mentioned` reads an article at once. Lookbehinds and \A
    # still see the real text around a window.
    before = _QUALIFIED.search(text, max(0, start - 16), start)
    if before and not (
        before.group(1) == "New"
        and _SENTENCE_START.search(text, max(0, before.start() - 8), before.start())
        and _new_is_adjective(text, end)
    ):
        return True
    return bool(_NAME_HEAD.match(text, end) or _ORIGIN.match(text, end))


_NEXT_WORD = re.compile(r" ([a-z]+)\b")


def _new_is_adjective(text: str, end: int) -> bool:
    """True when "New" opening a sentence is the adjective, judged by what follows the alias.

    "New US sanctions …", "New Russian demands …": the alias qualifies a noun after it, and
    "New" that noun. "New Mexico said …", "New Mexico's governor …", "New Mexico, Texas
    and …": the alias heads its group (a verb, a possessive or punctuation follows), where
    an adjective "new" makes no sense, so the two words are one name. A capitalised word
    after it ("New Mexico Governor …") continues the name too.
    """
    found = _NEXT_WORD.match(text, end)
    if found is None:
        return bool(re.match(r"-\w", text[end : end + 2]))  # "New US-made drones": a compound
    word = found.group(1)
    # A past form ("said", "agreed", "told"), an auxiliary, an adverb or "and" ends the
    # group. A plural noun looks like a verb in -s ("New EU rules"), so -s and -ing forms
    # are read as nouns: "New Mexico sues …" is missed rather than "New US curbs" misread.
    past = word.endswith("ed") or (lemma(word) != word and not word.endswith(("s", "ing")))
    return not (past or word in AUXILIARIES or word in ADVERBS or word in ("and", "or"))


# A maximal run of word characters: every alias that begins with one begins a run (an alias
# may not follow a word character), so the run at a place says which aliases can start there.
_WORD_RUN = re.compile(r"\w+")
_WORD_CHAR = re.compile(r"\w")
# What may not come right before an alias: a word character or a dot ("info.Moscow").
_GLUED = re.compile(r"[\w.]")


class ActorIndex:
    """Every alias of every actor, looked up by the word it begins with; longest alias wins.

    One regex alternation of every alias tried each alias at each character of the text:
    with 450 aliases (nine watchlists' actors) that was 110 ms per article, the largest cost
    of a poll, and it grew with every actor added. Here a text's words are read once and
    only the aliases that begin with one of them are compared.
    """

    def __init__(self, actors: Sequence[Actor]) -> None:
        entries = sorted(
            ((alias, actor.id) for actor in actors for alias in {*actor.aliases, actor.name}),
            key=lambda pair: -len(pair[0]),
        )
        # Keyed by an alias's first word; lists stay longest first, as `entries` is sorted.
        self._by_word: dict[str, list[tuple[str, str]]] = {}
        # Aliases that begin with another character ("(G7)", "#G7"), by that character.
        self._by_mark: dict[str, list[tuple[str, str]]] = {}
        for alias, actor_id in entries:
            for form in _written_forms(alias):
                word = _WORD_RUN.match(form)
                table, key = (self._by_word, word.group()) if word else (self._by_mark, form[0])
                table.setdefault(key, []).append((form, actor_id))
        marks = "".join(re.escape(mark) for mark in self._by_mark)
        self._starts = re.compile(rf"\w+|[{marks}]") if marks else _WORD_RUN
        self.aliases_compared = 0  # how many aliases were compared with a text (tests)

    def mentioned(self, text: str) -> set[str]:
        """Ids of the actors the text names."""
        return {actor_id for _, _, actor_id in self.find(text)}

    def find(self, sentence: str) -> list[tuple[int, int, str]]:
        """(start, end, actor id) of every alias occurrence, left to right, no overlaps.

        An alias that is only part of a longer proper name ("North Korea", "the Moscow
        Times") is left out: it names something else, not the actor.
        """
        out = []
        taken = 0  # where the last alias found ends: aliases do not overlap
        for start_at in self._starts.finditer(sentence):
            start = start_at.start()
            if start < taken or (start and _GLUED.match(sentence, start - 1)):
                continue
            found = self._longest_at(sentence, start, start_at.group())
            if found is None:
                continue
            end, actor_id = found
            taken = end
            # Left out, yet its place is taken (as a regex match would be): a shorter alias
            # inside "North Korea" is not the actor either.
            if not _part_of_longer_name(sentence, start, end):
                out.append((start, end, actor_id))
        return out

    def _longest_at(self, text: str, start: int, first: str) -> tuple[int, str] | None:
        """(end, actor id) of the longest alias written at `start`, or None."""
        table = self._by_mark if not _WORD_CHAR.match(first) else self._by_word
        for form, actor_id in table.get(first, ()):
            self.aliases_compared += 1
            end = start + len(form)
            if text.startswith(form, start) and not _WORD_CHAR.match(text, end):
                return end, actor_id
        return None


def _written_forms(alias: str) -> set[str]:
    """How an alias may be written: exactly, capitalised when it is lower case, and in
    capitals.

    Exact case is what keeps "US" (the country) apart from "us" (the pronoun); "the
    alliance" opens a sentence as "The alliance". Wire flashes and some feeds' headlines
    are set in capitals ("RUSSIA DEMANDS … TO UKRAINE"): read in its own case only, the
    alias named nobody there, and a topic whose name names an actor refused the item.

    An apostrophe may be typed (') or typeset (’): admins type one, news sites print the
    other ("Côte d’Ivoire"), so both spellings are forms of the alias.
    """
    if not alias:
        return set()
    spellings = {alias, alias.replace("'", "’"), alias.replace("’", "'")}
    spellings |= {form.upper() for form in spellings}
    if not alias[0].islower():
        return spellings
    return {first + form[1:] for form in spellings for first in {form[0], *form[0].upper()}}


@functools.lru_cache(maxsize=8)  # a watchlist's actors; hot reloads bring new ones
def index_for(actors: tuple[Actor, ...]) -> ActorIndex:
    """The alias index of these actors, built once, not for every article read (stances
    and the story name check share it)."""
    return ActorIndex(actors)
