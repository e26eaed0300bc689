"""Assignment to named positions with the real model: polarity, abstention, aggregation."""

from __future__ import annotations

import pytest

from bot.models import Position, Statement, Topic, Watchlist
from bot.positions.assign import Assignment, PositionAssigner, best_per_actor
from bot.positions.extract import ActorSentence, actor_sentences
from bot.positions.polarity import position_polarity
from bot.positions.shifts import detect_shift
from bot.positions.statements import topic_statements
from tests.positions.conftest import CAPS, ENERGY

pytestmark = pytest.mark.model


def one(assigner: PositionAssigner, topic: Topic, text: str, actor: str = "x") -> str | None:
    """The position assigned to a single sentence."""
    [assigned] = assigner.assign(topic, [ActorSentence(actor, text, None, 0)])
    return assigned.position_id


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
    [assigned] = assigner.assign(topic, sentences)
    assert 0.5 < assigned.confidence <= 1.0


def test_best_per_actor_sums_agreeing_sentences() -> None:
    a1 = ActorSentence("russia", "one", None, 0)
    a2 = ActorSentence("russia", "two", None, 0)
    a3 = ActorSentence("russia", "three", None, 1)
    b1 = ActorSentence("usa", "four", None, 1)
    picked = best_per_actor(
        [
            Assignment(a1, "p", 0.8),
            Assignment(a2, "p", 0.6),
            Assignment(a3, "q", 0.9),
            Assignment(b1, None, 0.4),
            Assignment(b1, "q", 0.7),
        ]
    )
    assert [(a.sentence.actor_id, a.position_id, round(a.confidence, 2)) for a in picked] == [
        ("russia", "p", 0.92),  # 0.8 + 0.6 beats 0.9; together 1 - 0.2 * 0.4
        ("usa", "q", 0.7),
    ]
    assert picked[0].sentence is a1  # the most confident sentence is the quote


def test_best_per_actor_combines_evidence_and_quotes_a_clear_sentence() -> None:
    title = ActorSentence("russia", "Russia shifts on guarantees", None, 0, headline=True)
    body = ActorSentence("russia", "Lavrov said Moscow could accept guarantees.", None, 1)
    vague = ActorSentence("russia", "He said more talks were needed.", None, 1)
    [picked] = best_per_actor(
        [
            Assignment(title, "p", 0.9, in_body=False),
            Assignment(body, "p", 0.6),
            Assignment(vague, "p", 0.5, focused=False),
        ]
    )
    assert picked.clear and picked.sentence is body
    [headline_only] = best_per_actor([Assignment(title, "p", 0.9, in_body=False)])
    assert not headline_only.clear


def test_headline_and_shared_sentences_are_not_clear_evidence(
    assigner: PositionAssigner, shipped: Watchlist
) -> None:
    topic = shipped.topic("arms-shipments")
    assert topic is not None
    text = "Germany halted deliveries of air-defence missiles to Ukraine."
    joint = "Germany and Britain halted deliveries of air-defence missiles to Ukraine."
    body, headline, shared_de, shared_uk = assigner.assign(
        topic,
        [
            ActorSentence("germany", text, None, 1),
            ActorSentence("germany", text, None, 0, headline=True),
            ActorSentence("germany", joint, None, 2),
            ActorSentence("uk", joint, None, 2),
        ],
    )
    assert body.position_id == "halts-deliveries" and body.clear
    assert headline.position_id == "halts-deliveries" and not headline.clear
    assert shared_de.position_id == shared_uk.position_id == "halts-deliveries"
    assert not shared_de.clear and not shared_uk.clear


@pytest.mark.parametrize(
    "rumour",
    [
        "Germany has halted deliveries of air-defence missiles to Ukraine, according to "
        "people familiar with the matter.",
        "Berlin has halted deliveries of air-defence missiles to Ukraine, officials said on "
        "condition of anonymity.",
        "Germany is said to have halted deliveries of air-defence missiles to Ukraine.",
        "Analysts said Berlin would halt deliveries of air-defence missiles to Ukraine.",
    ],
)
def test_hearsay_is_the_current_position_but_never_a_shift(
    assigner: PositionAssigner, shipped: Watchlist, rumour: str
) -> None:
    topic = shipped.topic("arms-shipments")
    assert topic is not None
    before = Statement("germany", topic.id, "supports-deliveries", "Germany sent missiles.", 0.99)

    def read(text: str) -> Statement:
        sentences = actor_sentences(text, shipped.actors)
        [statement] = topic_statements(
            assigner.assign, topic, sentences, article_id="a", source="s", url="", published=None
        )
        return statement

    second_hand = read(rumour)
    assert second_hand.position_id == "halts-deliveries" and not second_hand.clear
    assert detect_shift(topic, [before], second_hand) is None
    # The same news on the record is a shift.
    own = read("Germany said it had halted deliveries of air-defence missiles to Ukraine.")
    assert own.position_id == "halts-deliveries" and own.clear
    assert detect_shift(topic, [before], own) is not None


def test_nearest_baseline_never_abstains_above_the_floor(
    assigner: PositionAssigner, shipped: Watchlist
) -> None:
    topic = shipped.topic("security-guarantees")
    assert topic is not None
    sentence = ActorSentence("russia", "Russia rejected Western security guarantees.", None, 0)
    [assigned] = assigner.nearest(topic, [sentence])
    assert assigned.position_id is not None


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


# Two positions whose texts both carry "against" cue words (halt, end, scrap): the cue
# cannot tell them apart.
BORDER = Topic(
    id="border-checks",
    name="Internal border checks",
    description="Checks and police controls at borders between Schengen countries.",
    positions=(
        Position(
            "imposes-checks",
            "reintroduces checks at its internal borders",
            (
                "The ministry halted passport-free travel and put police at the crossings.",
                "Officers will stop every vehicle at the border from Monday.",
            ),
        ),
        Position(
            "lifts-checks",
            "ends checks at its internal borders",
            (
                "The checks at the crossings will end at midnight.",
                "The government scrapped the border controls it brought in last year.",
            ),
        ),
    ),
)


def test_a_cue_all_positions_share_does_not_silence_the_topic(
    assigner: PositionAssigner,
) -> None:
    assert [position_polarity(p) for p in BORDER.positions] == [-1.0, -1.0]
    # "accepted" is a "for" cue: it contradicted both positions, so every such sentence was
    # dropped.
    text = "Austria accepted that the checks on its border with Slovenia should go."
    assert one(PositionAssigner([BORDER], assigner.embedder), BORDER, text) == "lifts-checks"


def test_restating_support_for_a_limit_is_not_read_as_rejecting_it(
    assigner: PositionAssigner,
) -> None:
    # "limit" is a refusal cue, and it contradicted the position it restates: the sentence
    # was given to the position against the cap, and announced as a shift.
    text = "The treaty must still limit plastic production, the bloc's negotiator said."
    found = one(PositionAssigner([CAPS], assigner.embedder), CAPS, text)
    assert found == "backs-cap"
