"""Stance cue words: negation, refusal and consent, with their scope."""

from __future__ import annotations

import pytest

from bot.positions.lexicon import polarity


@pytest.mark.parametrize(
    ("sentence", "sign"),
    [
        ("The minister agreed to send troops.", 1),
        ("The minister rejected sending troops.", -1),
        ("The government paused weapons deliveries.", -1),
        ("The government resumed weapons deliveries after a pause.", 1),
        ("He did not rule out extending the deployment.", 1),
        ("She refused to rule out sending troops.", 1),
        ("They rejected calls to halt deliveries.", 1),
        ("Kyiv is ready to abandon its bid.", -1),
        ("Kyiv will not give up its bid.", 1),
        ("There will be no foreign soldiers on our soil.", -1),
        ("The country will send no more weapons.", -1),
        ("Any deployment is unacceptable and would be a legitimate target.", -1),
        ("The plan is off the table.", -1),
        ("Deliveries were put on hold.", -1),
        ("The summit was held in a hotel.", 0),
    ],
)
def test_polarity_sign(sentence: str, sign: int) -> None:
    value = polarity(sentence)
    assert (value > 0) - (value < 0) == sign, value


def test_a_list_of_refusals_is_not_a_double_negative() -> None:
    assert polarity("It pauses, halts or limits deliveries.") < 0


def test_cues_in_a_compound_adjective_do_not_count() -> None:
    assert polarity("Troop-backed guarantees were discussed.") == 0
