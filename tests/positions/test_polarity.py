"""Stance cue words: negation, refusal and consent, with their scope."""

from __future__ import annotations

import pytest

from bot.models import Position, Topic
from bot.positions.polarity import (
    content_words,
    polarity,
    position_polarity,
    states_no_stance,
)
from tests.positions.conftest import CAPS


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
        # A name before an -s verb makes it a verb, not a plural noun.
        ("Pistorius dismisses calls to stop arming Kyiv.", 1),
        ("Warsaw pauses deliveries.", -1),
        # "no longer" before a refusal verb flips it.
        ("Berlin no longer opposes an invitation for Kyiv.", 1),
        # A refusal verb reaches the cue inside a demand it rejects, however far.
        ("He dismissed calls from opposition parties to stop arming Kyiv.", 1),
        ("She rejected Moscow's demand that the government cut off weapons.", 1),
        ("He rejected calls for neutrality.", 0),
        # A refusal as the object of a refusal verb: ending a freeze is for.
        ("The government ended its freeze and resumed deliveries.", 1),
        ("Britain ends freeze, resumes deliveries.", 1),
        ("Deliveries will restart, ending a two-month freeze.", 1),
        # Undoing a refusal is for; undoing something else says nothing by itself.
        ("The government lifted its ban on tank exports.", 1),
        ("Washington lifts freeze on aid.", 1),
        ("Regulators lifted the requirement for permits.", 0),
        # Repealing, revoking or overturning a refusal undoes it, as lifting does; an object
        # that a refusal describes ("its decree barring …") is a refusal too.
        ("Mexico will repeal its decree barring modified corn from tortillas.", 1),
        ("The court overturned the ban on the herbicide.", 1),
        ("The cabinet revoked a rule restricting rice shipments.", 1),
        ("The government scrapped the rules limiting exports.", 1),
        ("Parliament repealed the levy.", 0),
        # A restriction as the subject of its own undoing is for what it restricted; a
        # negator still flips it.
        ("Rare-earth curbs suspended.", 1),
        ("Russia called for all sanctions on Iran to be lifted.", 1),
        ("Export bans on staple grains should end.", 1),
        ("The ban will not be lifted.", -1),
        # Two such pairs in one sentence (the first drops its noun cue: this crashed).
        ("The ban was lifted and the curbs were suspended.", 1),
        ("The government imposed a ban on exports.", -1),
        ("The ministry refused the request, blocking the shipment.", -1),
        # A negator before an article or a preposition denies a description or a time.
        ("This is not a tariff but a climate measure.", 0),
        ("Relocation has to start now, not in a year.", 0),
        ("It will continue to send no weapons of its own.", -1),
        ("Moscow demands that Kyiv remain outside the bloc.", -1),
        ("The alliance must not close its doors to Kyiv.", 1),
        ("Negotiators were close to a deal.", 0),
        # A hyphenated judgement is three tokens ("non", "-", "starter"), never one word.
        ("Moscow called the guarantee a non-starter.", -1),
    ],
)
def test_polarity_sign(sentence: str, sign: int) -> None:
    value = polarity(sentence)
    assert (value > 0) - (value < 0) == sign, value


def test_a_list_of_refusals_is_not_a_double_negative() -> None:
    assert polarity("It pauses, halts or limits deliveries.") < 0


def test_cues_in_a_compound_adjective_do_not_count() -> None:
    assert polarity("Troop-backed guarantees were discussed.") == 0


@pytest.mark.parametrize(
    "clause",
    [
        "The Kremlin declined to comment on the report.",
        "Ukraine did not comment.",
        "The government has not decided how to answer the request.",
        "The government is studying whether troops could be sent.",
        "Russia accused Britain of preparing to send troops.",
        "The government denied the report, saying no transfer had taken place.",
        "Berlin denies",
        "He did not rule out a change.",
        "Officials in Kyiv declined to respond.",
        "The ministry did not respond to a request for comment.",
        "The embassy could not be reached.",
        "Tokyo had no view on the proposal.",
        "The ministry said it has no position on the auction yet.",
        "Canada takes no formal stance on the dispute.",
    ],
)
def test_clauses_that_state_no_stance(clause: str) -> None:
    assert states_no_stance(clause)


@pytest.mark.parametrize(
    "clause",
    [
        "The government refused to send troops.",
        "Kyiv will not join the alliance.",
        "The minister denied that any deliveries would stop.",
        "Berlin has no intention of sending troops.",
        "Paris sees no reason to lift the ban.",
    ],
)
def test_stances_are_not_taken_for_hedges(clause: str) -> None:
    assert not states_no_stance(clause)


def test_a_declared_polarity_wins_over_the_words() -> None:
    position = Position("keeps-sending", "keeps sending weapons", ("They halted it.",), "for")
    assert position_polarity(position) == 1.0


@pytest.mark.parametrize(
    ("label", "examples", "sign"),
    [
        # Most watchlists declare no polarity: the label and examples show it.
        ("agrees to cap enrichment", ("Tehran accepted a ceiling on enrichment.",), 1.0),
        (
            "refuses any cap",
            ("Tehran rejected any ceiling.", "The minister ruled out limits on enrichment."),
            -1.0,
        ),
        # Words that pull both ways, or none at all, leave the polarity unknown.
        ("asks for a summit", ("The minister wants a summit in Oman.",), 0.0),
        ("mixed", ("They agreed to take part.", "They refused to take part."), 0.0),
    ],
)
def test_an_undeclared_polarity_is_read_from_the_words(
    label: str, examples: tuple[str, ...], sign: float
) -> None:
    assert position_polarity(Position("p", label, examples)) == sign


def test_a_cue_word_a_position_is_for_is_the_topic_not_a_stance() -> None:
    assert content_words(CAPS) == {"limit"}
    sentence = "The treaty must still limit the production of new plastic."
    assert polarity(sentence) < 0  # read alone, "limit" refuses
    assert polarity(sentence, content_words(CAPS)) == 0  # here it is what the position backs
    # Other cues keep their meaning, and a chain of them is left alone.
    assert polarity("The delegation rejected a limit.", content_words(CAPS)) < 0
    chained = Topic(
        "t",
        "T",
        "d",
        positions=(
            Position("keep", "keeps sending", ("They rejected calls to halt deliveries.",), "for"),
            Position("stop", "stops sending", ("They halted deliveries.",), "against"),
        ),
    )
    assert content_words(chained) == frozenset()


@pytest.mark.parametrize(
    "sentence",
    [
        "We intend to run the first automated berth by the end of this year.",
        "The operator will run the new terminal at the end of the month.",
        "In the end, the company kept its timetable.",
    ],
)
def test_the_end_of_a_time_is_no_refusal(sentence: str) -> None:
    # "by the end of the year" dates an act; read as "end" the verb, it turned a pledge
    # to go ahead into a stance against.
    assert polarity(sentence) == 0


def test_ending_something_is_still_a_refusal() -> None:
    assert polarity("The union will end its ban by the end of the week.") > 0
    assert polarity("The operator will end the trial.") < 0


@pytest.mark.parametrize(
    "sentence",
    [
        "The federation has dropped its outright opposition to the four-day week.",
        "The union withdrew its opposition to the plan.",
        "The party abandoned its refusal to back the deal.",
    ],
)
def test_giving_up_an_opposition_is_for(sentence: str) -> None:
    assert polarity(sentence) > 0


@pytest.mark.parametrize(
    "sentence",
    [
        "Brackwell rejected the union's demand that it scrap automation.",
        "The company rejected the National Union of Transport Workers' demand that it scrap"
        " the cranes.",
        "The minister dismissed the opposition leader's call to halt the programme.",
    ],
)
def test_a_refusal_reaches_a_demand_behind_a_possessor(sentence: str) -> None:
    # The demand's owner may be a long name: "the union's", "the … Workers'".
    assert polarity(sentence) > 0


def test_an_accusation_after_a_stance_leaves_the_stance() -> None:
    clause = "The union still rejected automation and accused the company of breaking its word."
    assert not states_no_stance(clause)
    assert states_no_stance("The union accused the company of breaking its word.")
