"""Assignment to named positions with the real model: polarity, abstention, aggregation."""

from __future__ import annotations

import pytest

from bot.models import Topic, Watchlist
from bot.positions.assign import PositionAssigner, best_per_actor
from bot.positions.extract import ActorSentence
from tests.positions.conftest import ENERGY

pytestmark = pytest.mark.model


def one(assigner: PositionAssigner, topic: Topic, text: str, actor: str = "x") -> str | None:
    """The position assigned to a single sentence."""
    [(_, position, _)] = assigner.assign(topic, [ActorSentence(actor, text, None, 0)])
    return position


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Russia rejected Western security guarantees for Ukraine.", "rejects-guarantees"),
        ("Russia agreed to Western security guarantees for Ukraine.", "supports-guarantees"),
        ("Britain will not send troops to a reassurance force in Ukraine.", "rejects-guarantees"),
        ("Britain will send troops to a reassurance force in Ukraine.", "supports-guarantees"),
    ],
)
def test_negation_flips_guarantees(
    assigner: PositionAssigner, shipped: Watchlist, text: str, expected: str
) -> None:
    topic = shipped.topic("security-guarantees")
    assert topic is not None
    assert one(assigner, topic, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The government paused shipments of air-defence missiles to Ukraine.", "halts-deliveries"),
        (
            "The government resumed shipments of air-defence missiles to Ukraine.",
            "supports-deliveries",
        ),
    ],
)
def test_pause_and_resume_are_told_apart(
    assigner: PositionAssigner, shipped: Watchlist, text: str, expected: str
) -> None:
    topic = shipped.topic("arms-shipments")
    assert topic is not None
    assert one(assigner, topic, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Lavrov praised the organisation of a chess tournament in Kazan.",
        "Zelensky said he was grateful for the warm welcome.",
        "Peskov said the president would travel to China next week.",
    ],
)
def test_abstains_on_an_off_topic_actor_sentence(
    assigner: PositionAssigner, shipped: Watchlist, text: str
) -> None:
    topic = shipped.topic("security-guarantees")
    assert topic is not None
    assert one(assigner, topic, text) is None


def test_abstains_when_the_sentence_belongs_to_another_topic(
    assigner: PositionAssigner, shipped: Watchlist
) -> None:
    topic = shipped.topic("security-guarantees")
    assert topic is not None
    text = "Germany will send two more Patriot air-defence systems to Ukraine."
    assert one(assigner, topic, text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Poland agreed to close its last coal plants by 2032.", "backs-exit"),
        ("Poland rejected any date for closing its coal plants.", "resists-exit"),
        ("Poland postponed the closure of its coal mines.", "resists-exit"),
        ("Poland won the football match against Spain.", None),
    ],
)
def test_generalises_to_another_watchlist(
    energy_assigner: PositionAssigner, text: str, expected: str | None
) -> None:
    assert one(energy_assigner, ENERGY.topics[0], text, "poland") == expected


def test_confidence_is_a_probability(assigner: PositionAssigner, shipped: Watchlist) -> None:
    topic = shipped.topic("security-guarantees")
    assert topic is not None
    sentences = [ActorSentence("russia", "Russia rejected Western troops in Ukraine.", None, 0)]
    [(_, _, confidence)] = assigner.assign(topic, sentences)
    assert 0.5 < confidence <= 1.0


def test_best_per_actor_sums_agreeing_sentences() -> None:
    a1 = ActorSentence("russia", "one", None, 0)
    a2 = ActorSentence("russia", "two", None, 0)
    a3 = ActorSentence("russia", "three", None, 1)
    b1 = ActorSentence("usa", "four", None, 1)
    picked = best_per_actor(
        [(a1, "p", 0.8), (a2, "p", 0.6), (a3, "q", 0.9), (b1, None, 0.4), (b1, "q", 0.7)]
    )
    assert [(s.actor_id, p, round(c, 2)) for s, p, c in picked] == [
        ("russia", "p", 0.92),  # 0.8 + 0.6 beats 0.9; together 1 - 0.2 * 0.4
        ("usa", "q", 0.7),
    ]
    assert picked[0][0] is a1  # the most confident sentence is the quote


def test_nearest_baseline_never_abstains_above_the_floor(
    assigner: PositionAssigner, shipped: Watchlist
) -> None:
    topic = shipped.topic("security-guarantees")
    assert topic is not None
    sentence = ActorSentence("russia", "Russia rejected Western security guarantees.", None, 0)
    [(_, position, _)] = assigner.nearest(topic, [sentence])
    assert position is not None


@pytest.mark.parametrize(
    "text",
    [
        "The government has not decided whether to send troops to a reassurance force.",
        "The government is studying whether its air force could police a ceasefire.",
        "Moscow accused London of preparing to send troops to Ukraine.",
        "The Kremlin declined to comment on Western security guarantees.",
    ],
)
def test_abstains_on_a_hedge_an_accusation_or_no_comment(
    assigner: PositionAssigner, shipped: Watchlist, text: str
) -> None:
    topic = shipped.topic("security-guarantees")
    assert topic is not None
    assert one(assigner, topic, text) is None
