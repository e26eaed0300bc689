"""The words that set one position apart from the others: which count, and what they add."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.matching.embedder import Embedder
from bot.models import Actor, Position, Topic
from bot.positions import THRESHOLDS
from bot.positions.assign import PositionAssigner
from bot.positions.extract import actor_sentences
from bot.positions.wording import distinctive_stems, shared_wording, stems

# Two positions of one polarity (both want something built), as the model confuses them.
DAM = Topic(
    "velka-dam",
    "Damming the Velka",
    "Whether the Velka river is dammed for power and flood control, and how.",
    positions=(
        Position(
            "high-dam",
            "wants a tall hydropower dam on the Velka",
            ("Norland wants a tall dam whose reservoir floods the upper valley.",),
        ),
        Position(
            "small-weirs",
            "wants small weirs on the Velka instead of one dam",
            ("Norland rejected one big dam and wants a chain of low weirs.",),
        ),
    ),
)


def test_only_words_of_one_position_count_for_it() -> None:
    high, weirs = distinctive_stems(DAM)
    assert {"tall", "hydropower", "reservoir", "flood", "valley"} <= high
    assert {"small", "weir", "chain"} <= weirs
    # Shared by both ("dam", "want"), a name ("Norland", "Velka"), a cue ("rejected"),
    # or a word of any sentence ("whose", "upper" stays: it is this position's own).
    for word in ("dam", "want", "norland", "velka", "reject", "whose"):
        assert word not in high | weirs


def test_word_forms_meet_at_one_stem() -> None:
    assert stems("The weirs flooded the valleys") == stems("a weir floods the valley")


def test_a_clause_leans_to_the_position_whose_own_words_it_uses() -> None:
    distinctive = distinctive_stems(DAM)
    texts = [
        "Norland said a chain of weirs would do.",
        "Norland said the reservoir may flood farmland.",
        "Norland said it would decide in spring.",
    ]
    share = shared_wording(texts, distinctive, enough=2)
    assert share.tolist() == [[0.0, 1.0], [1.0, 0.0], [0.0, 0.0]]


COD = Topic(
    "cod-quota",
    "The North Shelf cod quota",
    "How much cod fleets may catch on the North Shelf next year: the total allowed catch.",
    examples=("Ministers will set next year's cod quota for the North Shelf in December.",),
    positions=(
        Position(
            "lower-quota",
            "wants a smaller cod quota to let stocks recover",
            (
                "The catch limit must come down sharply so the stock can recover.",
                "Scientists' advice for a reduction of the quota should be followed.",
            ),
        ),
        Position(
            "higher-quota",
            "wants a larger cod quota for its fleet",
            (
                "Our fleet needs a bigger catch limit next year.",
                "Stocks have recovered enough to allow an increase in the quota.",
            ),
        ),
    ),
)


@pytest.mark.model
def test_a_statement_in_a_positions_own_words_is_read_with_more_confidence(
    embedder: Embedder,
) -> None:
    # Both positions want something, so no cue word tells them apart: the model alone is
    # less sure than it is with the words only one of them uses ("recover").
    [sentence] = actor_sentences(
        "Norland said the stock needs time to recover before boats catch more.",
        (Actor("norland", "Norland", ("Norland",)),),
    )
    without = PositionAssigner([COD], embedder, replace(THRESHOLDS, wording_weight=0.0))
    [plain] = without.assign(COD, [sentence])
    [worded] = PositionAssigner([COD], embedder).assign(COD, [sentence])
    assert plain.position_id == worded.position_id == "lower-quota"
    assert worded.confidence > plain.confidence
