"""Finding actors in text by their aliases: what is found, and how much work it takes."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from bot.actors import ActorIndex
from bot.models import Actor

ACTORS = (
    Actor("russia", "Russia", ("Russia", "Russian", "Moscow", "Kremlin", "Peskov")),
    Actor("ukraine", "Ukraine", ("Ukraine", "Kyiv", "Zelensky")),
    Actor("usa", "United States", ("United States", "US", "U.S.", "Washington")),
    Actor("nato", "NATO", ("NATO", "the alliance")),
    Actor("south-korea", "South Korea", ("South Korea", "Seoul")),
    Actor("korea", "Korea", ("Korea",)),
)
TEXT = (
    "Moscow rejected the plan on Monday, while Kyiv and the U.S. said talks would go on. "
    "The alliance met in Brussels; South Korea sent an observer. Russia's envoy left early."
)


def names(index: ActorIndex, text: str) -> list[tuple[str, str]]:
    """(matched text, actor id) of every alias found, left to right."""
    return [(text[start:end], actor) for start, end, actor in index.find(text)]


def test_a_watchlist_with_many_more_actors_finds_the_same_in_the_same_work() -> None:
    # A team that tracks 500 more actors must not pay for each of them on every sentence of
    # every article: only aliases that begin with a word of the text are compared. (One
    # regex of every alias tried each alias at each character: 110 ms per article with the
    # 43 actors and 450 aliases of nine watchlists, the largest cost of a steady poll.)
    crowd = [
        Actor(f"extra-{i}", f"Extra Actor {i}", (f"Zorblat{i}", f"Quintar City {i}"))
        for i in range(500)
    ]
    small, large = ActorIndex(ACTORS), ActorIndex([*ACTORS, *crowd])
    assert names(large, TEXT) == names(small, TEXT)
    assert large.aliases_compared == small.aliases_compared > 0


def test_the_longest_alias_at_a_place_wins_and_a_capitalised_lower_case_alias_counts() -> None:
    assert names(ActorIndex(ACTORS), TEXT) == [
        ("Moscow", "russia"),
        ("Kyiv", "ukraine"),
        ("U.S.", "usa"),
        ("The alliance", "nato"),
        ("South Korea", "south-korea"),
        ("Russia", "russia"),
    ]


def test_an_alias_inside_a_longer_word_or_after_a_dot_is_not_found() -> None:
    index = ActorIndex(ACTORS)
    assert names(index, "USAID and Kyivstar staff met in Washingtonville.") == []
    assert names(index, "Mail sent to info.Moscow or to US-based groups.") == []
    assert names(index, "Let us be clear, the us-versus-them talk ends.") == []


def test_an_alias_that_does_not_begin_with_a_letter_is_found_too() -> None:
    index = ActorIndex([Actor("g7", "G7", ("#G7", "(G7)"))])
    assert names(index, "Leaders of the (G7) met; #G7 trended.") == [
        ("(G7)", "g7"),
        ("#G7", "g7"),
    ]


def test_reading_many_articles_builds_the_actor_index_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Every matched article rebuilt the index of every alias of the watchlist (1,297 times
    # in a first poll of 300 feeds, 2 ms each with 43 actors).
    from bot import actors as actor_module
    from bot.positions import extract

    built: list[int] = []

    class CountedIndex(ActorIndex):
        def __init__(self, actors: Sequence[Actor]) -> None:
            built.append(len(actors))
            super().__init__(actors)

    monkeypatch.setattr(actor_module, "ActorIndex", CountedIndex)
    actor_module.index_for.cache_clear()
    actors = tuple(ACTORS)
    for text in (TEXT, "Kyiv said on Tuesday that talks would resume.", TEXT):
        assert extract.actor_sentences(text, actors)
    assert built == [len(ACTORS)]


@pytest.mark.parametrize(
    ("alias", "text"),
    [
        ("Côte d'Ivoire", "Côte d’Ivoire rejected the catch limits."),  # typeset in the news
        ("Côte d’Ivoire", "Côte d'Ivoire rejected the catch limits."),  # typed in the text
    ],
)
def test_an_alias_with_an_apostrophe_is_found_with_either_apostrophe(alias: str, text: str) -> None:
    # Admins type ' and news sites typeset ’: an alias written one way found none of the
    # articles written the other, and the actor had no statements at all.
    index = ActorIndex([Actor("ivory-coast", "Ivory Coast", (alias,))])
    assert names(index, text) == [(text[:13], "ivory-coast")]


def test_text_in_capitals_names_the_actors_and_keeps_longer_names_apart() -> None:
    # Wire flashes are set in capitals; there "UKRAINE" is Ukraine, while "NORTH KOREA" and
    # "THE MOSCOW TIMES" are no more Korea or Russia than in lower case.
    text = "KREMLIN SAYS U.S. MUST STOP ARMS FOR UKRAINE; NORTH KOREA CITED BY THE MOSCOW TIMES"
    assert names(ActorIndex(ACTORS), text) == [
        ("KREMLIN", "russia"),
        ("U.S.", "usa"),
        ("UKRAINE", "ukraine"),
    ]
