"""Which sentences speak for which actor: aliases, reported speech, pronouns, splitting."""

from __future__ import annotations

import pytest

from bot.models import Actor
from bot.positions.extract import ActorSentence, actor_sentences

ACTORS = (
    Actor("russia", "Russia", ("Russia", "Russian", "Moscow", "Kremlin", "Lavrov", "Peskov")),
    Actor("ukraine", "Ukraine", ("Ukraine", "Ukrainian", "Kyiv", "Zelensky")),
    Actor("usa", "United States", ("United States", "US", "U.S.", "America", "Witkoff")),
    Actor("nato", "NATO", ("NATO", "the alliance", "Rutte")),
)


def found(text: str) -> list[tuple[str, str | None]]:
    """(actor, reported_by) of every actor sentence."""
    return [(s.actor_id, s.reported_by) for s in actor_sentences(text, ACTORS)]


def test_aliases_need_word_boundaries_and_allow_possessives() -> None:
    assert found("Americana music festivals in Moscow-on-Sea were cancelled.") == []
    assert found("Moscow's envoy said the plan was unacceptable.") == [("russia", None)]
    assert found("The Kremlin's position has not changed, Peskov told reporters.") == [
        ("russia", None)
    ]


@pytest.mark.parametrize(
    "text",
    [
        "Let us be clear: the guarantees must be binding, the minister said.",
        "He told us that nothing had been agreed.",
        "Tell us what you think about the guarantees.",
    ],
)
def test_lower_case_us_is_never_the_united_states(text: str) -> None:
    assert found(text) == []


def test_upper_case_us_is_the_united_states() -> None:
    assert found("The US will not send troops to Ukraine.") == [("usa", None)]


def test_reported_speech_keeps_who_relayed_it() -> None:
    sentences = actor_sentences(
        "Witkoff said Russia had agreed to let Western states protect Kyiv.", ACTORS
    )
    assert [(s.actor_id, s.reported_by) for s in sentences] == [("russia", "usa")]
    assert sentences[0].clause == "Russia had agreed to let Western states protect Kyiv."
    assert found('"Russia has agreed to talk about guarantees," Witkoff said.') == [
        ("russia", "usa")
    ]


def test_a_demand_about_another_actor_is_the_speakers_stance() -> None:
    assert found("Lavrov said Ukraine must never join NATO.") == [("russia", None)]
    assert found("Russia will insist that Ukraine abandon its plan, Lavrov said.") == [
        ("russia", None)
    ]


def test_an_actor_merely_mentioned_gets_no_statement() -> None:
    assert found("Russian forces struck Kharkiv overnight.") == []
    assert found("Western weapons keep flowing to Ukraine.") == []
    assert found("Kyiv wants guarantees that cannot be broken by a new Russian offensive.") == [
        ("ukraine", None)
    ]


def test_titles_and_names_attribute_to_their_actor() -> None:
    assert found("The Kremlin spokesman said Western troops were unacceptable.") == [
        ("russia", None)
    ]
    assert found("NATO Secretary General Mark Rutte, who attended, said it would help.") == [
        ("nato", None)
    ]


def test_contrasting_clauses_each_speak_for_their_own_actor() -> None:
    sentences = actor_sentences(
        "Ukraine is ready to sign the deal, whereas Russia rejects it outright.", ACTORS
    )
    assert [(s.actor_id, s.clause) for s in sentences] == [
        ("ukraine", "Ukraine is ready to sign the deal"),
        ("russia", "Russia rejects it outright."),
    ]


def test_a_relative_clause_about_another_actor_is_not_the_speakers_stance() -> None:
    # "which has refused" is Moscow's refusal: read as Washington's, the critic refused.
    [critic] = actor_sentences(
        "The United States criticised Moscow, which has refused to join the talks.", ACTORS
    )
    assert (critic.actor_id, critic.text) == ("usa", "The United States criticised Moscow")
    # About the speaker itself, the clause is the speaker's own.
    [own] = actor_sentences("Kyiv, which wants guarantees, urged the alliance to act.", ACTORS)
    assert own.text == "Kyiv, which wants guarantees, urged the alliance to act."


def test_pronoun_carries_the_speaker_within_a_paragraph() -> None:
    sentences = actor_sentences(
        "Lavrov spoke in Moscow. He said the West must stop arming Kyiv.", ACTORS
    )
    assert [s.actor_id for s in sentences] == ["russia", "russia"]
    assert sentences[1] == ActorSentence(
        "russia",
        "He said the West must stop arming Kyiv.",
        None,
        0,
        "the West must stop arming Kyiv.",
    )


def test_pronoun_does_not_cross_a_paragraph() -> None:
    sentences = actor_sentences("Lavrov spoke in Moscow.\n\nHe said the West must stop.", ACTORS)
    assert [(s.actor_id, s.paragraph) for s in sentences] == [("russia", 0)]


def test_pronoun_is_not_carried_when_two_actors_could_be_meant() -> None:
    assert found("Lavrov met Witkoff in Riyadh. He said the talks were useful.") == [
        ("russia", None)
    ]


def test_quotation_spread_over_sentences_goes_to_its_speaker() -> None:
    sentences = actor_sentences(
        '"We will never accept foreign troops. This is a red line," Lavrov said.', ACTORS
    )
    assert [s.actor_id for s in sentences] == ["russia", "russia"]


def test_offices_and_people_named_through_a_possessive_speak_for_the_actor() -> None:
    # An office of the actor, named through a possessive and a plain modifier.
    assert found("Russia's energy ministry said the plan was unacceptable.") == [("russia", None)]
    assert found("Moscow's trade ministry rejected the proposal.") == [("russia", None)]
    # A person named through a possessive, and an office qualified by a capitalised word.
    assert found("Russia's Sergei Ivanov said the plan was unacceptable.") == [("russia", None)]
    assert found("In Geneva, U.S. Trade Representative Jane Roe said talks were going on.") == [
        ("usa", None)
    ]
    # The possessor speaks, not the place its envoy sits in.
    assert found("Russia's ambassador in Kyiv said nothing had changed.") == [("russia", None)]
    # A verb between an actor and a title is a verb, not part of a name.
    assert found("Russia rejects envoy proposals.") == [("russia", None)]
    # A possessor with no office after it is still no subject.
    assert found("Ukraine's membership bid was discussed at length.") == []


def test_a_dateline_does_not_hide_the_subject() -> None:
    text = "MOSCOW (Reuters) — Russia rejected the plan on Monday.\n\nLater, talks resumed."
    assert found(text) == [("russia", None)]


def test_a_clause_after_said_is_what_was_said() -> None:
    [sentence] = actor_sentences("In Geneva, Lavrov said talks were going nowhere.", ACTORS)
    assert sentence.text == "talks were going nowhere."


def test_the_headline_is_read_first_and_marked() -> None:
    sentences = actor_sentences(
        "Lavrov said Moscow would veto any such force.",
        ACTORS,
        headline="Kremlin rejects peacekeepers",
    )
    assert [(s.actor_id, s.headline, s.paragraph) for s in sentences] == [
        ("russia", True, 0),
        ("russia", False, 1),
    ]


def test_headlines_attribute_to_their_subject() -> None:
    assert found("Lavrov: no foreign troops in Ukraine") == [("russia", None)]
    assert found("US to resume weapons shipments to Ukraine") == [("usa", None)]
    assert found("Vance says Ukraine won't join NATO; Kyiv says it will") == [("ukraine", None)]


def test_a_claim_about_another_actor_is_nobodys_stance() -> None:
    text = "Russia claimed on Monday that the United States had secretly delivered missiles."
    assert found(text) == []


def test_an_adverb_after_an_auxiliary_keeps_the_relayed_clause() -> None:
    text = "Witkoff said that Russia had formally agreed to the plan."
    assert found(text) == [("russia", "usa")]


def test_an_official_named_between_commas_is_the_same_speaker() -> None:
    # Watchlists list officials' names as aliases, so the name is an actor mention too.
    assert found("Russia's foreign minister, Lavrov, said the plan was a trap.") == [
        ("russia", None)
    ]
    assert found("Lavrov, the Russian foreign minister, told reporters that talks had failed.") == [
        ("russia", None)
    ]
    # A real list of subjects still gives each its statement.
    assert found("Russia, Ukraine and NATO said they would meet again.") == [
        ("russia", None),
        ("ukraine", None),
        ("nato", None),
    ]


def test_where_an_official_serves_does_not_hide_the_verb() -> None:
    text = "Moscow's envoy to the United Nations, Vasily Orlov, said the plan was dead."
    assert found(text) == [("russia", None)]


def test_its_spokesman_refers_back_to_the_last_speaker() -> None:
    text = (
        "Russia used the meeting to repeat its objections. Its spokesman said nothing had changed."
    )
    assert found(text) == [("russia", None), ("russia", None)]


def test_a_negator_after_said_stays_in_what_was_said() -> None:
    [sentence] = actor_sentences("Lavrov said no foreign troops would be accepted.", ACTORS)
    assert sentence.text == "no foreign troops would be accepted."


def test_an_actor_qualifying_a_noun_after_said_is_not_the_speaker() -> None:
    # Not an inversion ("…, said the US envoy"): the US only qualifies "plan".
    text = 'Ukraine\'s president, Zelensky, said the US plan "changes nothing for us".'
    assert [s.actor_id for s in actor_sentences(text, ACTORS)] == ["ukraine"]


def test_an_upper_case_acronym_is_not_the_pronoun_it() -> None:
    actors = (*ACTORS, Actor("india", "India", ("India", "Arvind Menon", "Menon")))
    text = '"That is the right balance for India," IT Minister Arvind Menon said at the launch.'
    assert [s.actor_id for s in actor_sentences(text, actors)] == ["india"]


def test_a_commissioner_is_an_office_like_a_minister() -> None:
    text = "Ukraine's trade commissioner, speaking in Geneva, said the plan was fair."
    assert found(text) == [("ukraine", None)]


# --- found in a sweep of news English the development files do not cover --------------------


def test_a_diplomat_speaks_for_the_country_that_posted_him_not_the_host() -> None:
    assert found("The US ambassador in Moscow said Washington would not lift sanctions.") == [
        ("usa", None)
    ]
    assert found("The Russian embassy in Kyiv said the talks would not change anything.") == [
        ("russia", None)
    ]
    assert found("Western diplomats in Moscow said they expected no breakthrough.") == []
    # Officials in a capital are still that country's own.
    assert found("Officials in Kyiv said they rejected the plan.") == [("ukraine", None)]


def test_former_and_opposition_officials_do_not_speak_for_the_government() -> None:
    assert found("Russian opposition leader Ilya Yashin rejected the ceasefire plan.") == []
    assert found("Former Ukrainian president Petro Poroshenko said the plan was a trap.") == []
    assert found("Former US national security adviser John Bolton rejected the deal.") == []
    # An alias named after the title is that person's own: "… Lavrov" still speaks.
    assert found("Russia's former ambassador Sergei Lavrov rejected the plan.") == [
        ("russia", None)
    ]


def test_the_question_put_to_a_speaker_is_not_his_answer() -> None:
    [sentence] = actor_sentences(
        "Asked whether Russia would accept the plan, Lavrov said no.", ACTORS
    )
    assert (sentence.actor_id, sentence.clause) == ("russia", "no.")
    [sentence] = actor_sentences(
        'When asked if the US would send troops, Witkoff said: "Not yet."', ACTORS
    )
    assert (sentence.actor_id, sentence.clause) == ("usa", "Not yet.")


def test_a_quote_that_goes_on_after_its_attribution_keeps_its_speaker() -> None:
    text = '"We will never give up our land," Zelensky said. "Russia must withdraw."'
    assert found(text) == [("ukraine", None), ("ukraine", None)]
    text = '"We will never give up our land," Zelensky said. "Russia has agreed to nothing."'
    assert found(text) == [("ukraine", None), ("russia", "ukraine")]
    assert found('"Russia must withdraw."') == []  # nobody known says it


def test_an_actor_compared_with_in_an_opening_phrase_is_not_a_subject() -> None:
    assert found("Unlike America, Kyiv has refused to freeze the front line.") == [
        ("ukraine", None)
    ]


def test_a_statement_relayed_twice_is_its_first_speakers() -> None:
    text = "Zelensky said Lavrov had told Witkoff that Russia was ready to freeze the front line."
    assert found(text) == [("russia", "ukraine")]


# --- an alias that is only part of a longer proper name -------------------------------------

# Aliases that are also the tail or the head of other proper names.
NAMED = (
    Actor("south-korea", "South Korea", ("Korea", "Seoul")),
    Actor("france", "France", ("France", "Paris", "French")),
    Actor("russia", "Russia", ("Russia", "Moscow", "Russian")),
    Actor("uk", "United Kingdom", ("Britain", "British", "London")),
    Actor("ukraine", "Ukraine", ("Ukraine", "Kyiv")),
    Actor("germany", "Germany", ("Germany", "Berlin")),
    Actor("usa", "United States", ("US", "U.S.", "America", "American", "Washington")),
    Actor("mexico", "Mexico", ("Mexico", "Mexican")),
)


def named(text: str) -> list[tuple[str, str | None]]:
    """(actor, reported_by) of every actor sentence, over the watchlist above."""
    return [(s.actor_id, s.reported_by) for s in actor_sentences(text, NAMED)]


@pytest.mark.parametrize(
    "text",
    [
        "North Korea said it would test another long-range missile before the end of the year.",
        "North Korea's foreign ministry called the drills a rehearsal for an invasion.",
        "Latin American leaders rejected the plan at their summit.",
        "Central American leaders rejected the deportation plan at their meeting.",
        "Texas and New Mexico said they would sue over the border wall.",
    ],
)
def test_a_qualified_place_is_another_place(text: str) -> None:
    assert named(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "British Airways chief executive Tom Hale said flights would resume in March.",
        "Paris Club chairman Anne Leroy said the loans would be rescheduled.",
        "The Moscow Times reported that the talks had stalled again.",
        "A Kyiv-based analyst said the offensive was running out of steam.",
        "Two London-listed miners warned that the new rules would cut their output.",
    ],
)
def test_an_outlet_a_club_or_an_origin_is_not_the_actor(text: str) -> None:
    assert named(text) == []


def test_a_named_agreement_does_not_hide_who_signs_it() -> None:
    assert named("Paris Agreement: Germany pledges deeper emission cuts") == [("germany", None)]
    assert named("Berlin said the Minsk agreements had never been implemented.") == [
        ("germany", None)
    ]


@pytest.mark.parametrize(
    ("text", "actor"),
    [
        ("Seoul said it would not send troops abroad.", "south-korea"),
        # A longer form that is itself an alias (here the actor's name) is still the actor.
        ("South Korea said it would not send troops abroad.", "south-korea"),
        ("French officials said the plan was workable.", "france"),
        ("France said the Paris Agreement must be respected.", "france"),
        ("Moscow's envoy said the plan was unacceptable.", "russia"),
        ("The British government said it would keep its troops in Estonia.", "uk"),
        # "New" opening a sentence is the adjective, not "New Mexico".
        ("New US envoy Mark Bellamy said Kyiv must cede land.", "usa"),
        ("Washington said the U.S.-led coalition would keep flying patrols.", "usa"),
        ("Washington said the Russia-Ukraine talks would resume next week.", "usa"),
        ("Kyiv said Moscow-backed forces had shelled the city.", "ukraine"),
        ("Paris said the EU-Russia summit had ended without a deal.", "france"),
        ("Officials in Mexico said the border wall was a waste of money.", "mexico"),
    ],
)
def test_the_actor_itself_still_speaks(text: str, actor: str) -> None:
    assert named(text) == [(actor, None)]


@pytest.mark.parametrize(
    "text",
    [
        "Under the new plan, Russia said it would keep its troops in place.",
        "With the talks stalled, the Kremlin rejected any foreign force.",
        "For now, Moscow has refused to sign.",
        "Through its envoy, Russia offered a pause in strikes.",
    ],
)
def test_an_opening_phrase_up_to_its_comma_does_not_hide_the_subject(text: str) -> None:
    # "On Monday, …" and "After the talks, …" were read; "Under the deal, …" was not.
    assert found(text) == [("russia", None)]


def test_new_before_a_place_at_a_sentence_start_is_part_of_its_name() -> None:
    # "New" opening a sentence is both a capital letter and the start of "New Mexico": an
    # alias followed by a verb, a possessive or a comma heads its group, so "New" is part
    # of the name; an alias followed by a noun qualifies it ("New US envoy …").
    assert named("New Mexico said it would sue over the border wall.") == []
    assert named("New Mexico's governor said the wall was a waste of money.") == []
    assert named("New Mexico, Texas and Arizona have refused to pay for the wall.") == []
    assert named("New Mexico has refused to pay for the wall.") == []
    assert named('The governor said: "New Mexico will not pay for the wall."') == []
    assert named("New South Wales said it would ban the devices from schools.") == []
    assert named("New US sanctions took effect on Monday, Mexico said.") == [("mexico", None)]


# --- hearsay: an actor's stance passed on second-hand ----------------------------------------


def hearsay(text: str) -> list[tuple[str, bool]]:
    """(actor, hearsay) of every actor sentence."""
    return [(s.actor_id, s.hearsay) for s in actor_sentences(text, ACTORS)]


@pytest.mark.parametrize(
    "text",
    [
        "Russia is ready to accept the plan, according to people familiar with the matter.",
        "The US has paused the deliveries, officials said on condition of anonymity.",
        "The Kremlin is said to be weighing a shorter truce.",
        "Moscow reportedly rejected the proposal for a ceasefire over the winter.",
        "Russia rejected the offer, according to a report in a Swiss newspaper.",
        "Russia has dropped its demand for a veto, two sources told a news agency.",
        "Kyiv will accept a smaller force, people briefed on the talks said on Friday.",
        "Analysts said Moscow would reject the plan once the elections were over.",
        "Moscow would reject the plan once the elections were over, analysts said.",
        "The US has halted the shipments, said the officials, who asked not to be named.",
        "Russia is understood to have accepted the monitoring mission.",
        "Russia has accepted the monitoring mission, the Baltic Courier reported.",
    ],
)
def test_hearsay_about_an_actor_is_marked(text: str) -> None:
    [(_, second_hand)] = hearsay(text)
    assert second_hand


@pytest.mark.parametrize(
    "text",
    [
        "Russia said it was ready to accept the plan.",
        "Russia is ready to accept the plan, Lavrov told reporters.",
        "Witkoff said Russia had agreed to let Western states protect Kyiv.",
        # Words inside the speaker's own quotation are the speaker's.
        '"Sources say many things, and we ignore them," Peskov said.',
        'Peskov said: "Anonymous sources don\'t speak for the Kremlin."',
        # An actor's own report, and a report it dismisses, are on the record.
        "The Kremlin dismissed the experts' report as biased.",
        "Kyiv said it was ready to talk, according to a statement from the president's office.",
    ],
)
def test_the_actors_own_words_are_not_hearsay(text: str) -> None:
    assert [second_hand for _, second_hand in hearsay(text)] == [False]


def test_a_quotation_is_as_second_hand_as_the_source_that_names_its_speaker() -> None:
    assert hearsay('"Moscow will not budge on the veto," a source close to the Kremlin said.') == [
        ("russia", True)
    ]
    text = (
        '"We will not budge. Not now, not ever," Peskov said, according to two people '
        "familiar with the meeting."
    )
    assert hearsay(text) == [("russia", True), ("russia", True)]


def test_the_sourcing_of_hearsay_is_not_part_of_the_stance() -> None:
    # Like "…, Lavrov said", the closing attribution is cut from the clause the model reads.
    [sentence] = actor_sentences(
        "Russia is ready to accept the plan, according to people familiar with the matter.",
        ACTORS,
    )
    assert sentence.clause == "Russia is ready to accept the plan"


def test_a_clause_after_the_sourcing_is_kept() -> None:
    # The attribution sits in the middle: what follows it is more of the stance, not more
    # of the sourcing, so nothing may be cut from the clause the model reads.
    [sentence] = actor_sentences(
        "Ukraine has accepted the truce terms, according to people familiar with the talks,"
        " and will send a delegation to Geneva.",
        ACTORS,
    )
    assert sentence.text.endswith("will send a delegation to Geneva.")


def test_said_of_an_actor_is_not_said_by_it() -> None:
    # "is said to" reports what others say of the subject: the clause keeps the subject.
    [sentence] = actor_sentences("The Kremlin is said to be weighing a shorter truce.", ACTORS)
    assert sentence.actor_id == "russia" and sentence.clause == ""
    assert found("A truce would follow within days, Moscow was told.") == []


def test_a_single_capitals_label_opening_a_story_is_a_dateline_not_a_speaker() -> None:
    # Some outlets write a dateline with a colon ("MOSCOW: …"). Only a transcript, with two
    # labelled paragraphs or more, is read as the label's words: here Kyiv speaks, on its own.
    text = "MOSCOW: Kyiv has agreed to a ceasefire, Zelensky said.\n\nTalks resume on Friday."
    assert found(text) == [("ukraine", None)]


def test_a_transcripts_labelled_paragraphs_speak_for_the_labels_actor() -> None:
    text = (
        "QUESTION: Will Moscow accept the plan?\n\n"
        "LAVROV: No. We reject it.\n\n"
        "WITKOFF: We will keep talking."
    )
    said = [(s.actor_id, s.sentence) for s in actor_sentences(text, ACTORS)]
    assert said == [
        ("russia", "No."),
        ("russia", "We reject it."),
        ("usa", "We will keep talking."),
    ]
