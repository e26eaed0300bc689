"""Article shapes real feeds carry beyond the plain news story: a wire flash in capitals, a
live page's time-stamped updates. Each item is served locally and matched with the real
model and the shipped watchlist."""

from __future__ import annotations

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
