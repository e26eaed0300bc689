"""Article shapes real feeds carry beyond the plain news story: a wire flash in capitals, a
live page's time-stamped updates. Each item is served locally and matched with the real
model and the shipped watchlist."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.shipped_watchlist_feed import alerts_for


async def test_a_wire_flash_in_capitals_is_alerted_like_the_same_headline_in_lower_case(
    tmp_path: Path, embedder: Any
) -> None:
    # "Arms shipments to Ukraine" needs the article to name Ukraine. Aliases were compared
    # in their own case only, so "UKRAINE" named nobody and the flash was never alerted,
    # though its score (0.83) was far above the topic's threshold.
    item = {
        "title": "URGENT: RUSSIA DEMANDS WEST STOP ALL ARMS DELIVERIES TO UKRAINE",
        "link": "https://wire.example/flash",
    }
    (alert,) = await alerts_for(tmp_path, embedder, item)
    assert [t.topic_id for t in alert.topics] == ["arms-shipments"]


LIVE_UPDATES = [
    "09:15 GMT: Germany will send two more Patriot batteries to Ukraine, Defence Minister "
    "Boris Pistorius announced.",
    "10.32am: The Kremlin rejected any Western security guarantees for Ukraine, Peskov said.",
    "10:45 BST France said it would lead a reassurance force for Ukraine after a ceasefire.",
    "11:02 — Britain said it was ready to send troops to Ukraine as part of that force.",
    "12:30\n\nThe United States said it backs security guarantees for Ukraine.",
]


async def test_a_live_pages_time_stamps_are_not_part_of_its_sentences(
    tmp_path: Path, embedder: Any
) -> None:
    # A live page opens each update with the time it was posted. Read as the start of the
    # update's first sentence, the stamp opened the summary ("09:15 GMT: Germany will …
    # 10.32am: The Kremlin …") and each actor's quote, words no actor said.
    item = {
        "title": "Ukraine war live: Kremlin rejects guarantees as allies plan a force",
        "link": "https://wire.example/live",
        "description": "\n\n".join(LIVE_UPDATES),
    }
    (alert,) = await alerts_for(tmp_path, embedder, item)
    assert alert.stances
    shown = [alert.summary, *(t.passage for t in alert.topics)]
    shown += [s.now_quote for s in alert.stances]
    for text in shown:
        assert not re.search(r"\d\d[:.]\d\d|GMT|BST|am:", text), text


async def test_an_aggregators_outlet_signature_is_not_part_of_an_actors_quote(
    tmp_path: Path, embedder: Any
) -> None:
    # Aggregated feeds sign each headline with its outlet ("… - Example Wire"). A headline
    # read for stances kept it, and the card quoted Russia as saying "… - Example Wire".
    item = {
        "title": "Russia demands veto over Ukraine security guarantees - Example Wire",
        "link": "https://wire.example/signed",
    }
    (alert,) = await alerts_for(tmp_path, embedder, item)
    (stance,) = alert.stances
    assert stance.actor_name == "Russia"
    assert stance.now_quote == "Russia demands veto over Ukraine security guarantees"


TRANSCRIPT = [
    "MODERATOR: Good afternoon, and welcome.",
    "QUESTION: Will Moscow accept Western security guarantees for Ukraine?",
    "FOREIGN MINISTER LAVROV: No. We reject any Western guarantees for Ukraine. Foreign "
    "soldiers there would be a threat to us.",
    "QUESTION: And the Americans?",
    "LAVROV: Washington understands our concerns better than the Europeans do.",
]


async def test_a_transcripts_speaker_labels_say_who_speaks(tmp_path: Path, embedder: Any) -> None:
    # In a transcript the speaker is named once, in capitals, before the words: "LAVROV: We
    # reject …". The sentences after the label name nobody, so Russia's stance was missed.
    item = {
        "title": "Transcript: Lavrov's news conference on Ukraine security guarantees",
        "link": "https://wire.example/transcript",
        "description": "".join(f"<p>{paragraph}</p>" for paragraph in TRANSCRIPT),
    }
    (alert,) = await alerts_for(tmp_path, embedder, item)
    (russia,) = [s for s in alert.stances if s.actor_name == "Russia"]
    assert russia.now_label.startswith("rejects")
    assert russia.now_quote == "We reject any Western guarantees for Ukraine."
