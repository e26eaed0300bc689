"""Dates whose offset is written after a zone name or in short ("UTC+3", "GMT-5", "+03").

feedparser read "14:00 UTC+3" as 14:00 UTC, and Python's mail date reader took "+3" for
three minutes: items were dated hours from when they were written, so they sat in the
wrong place among other feeds' items and in an actor's history, and the 7-day age limit
was off by as much.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from tests.conftest import rss
from tests.one_feed import one_feed

LINK = "https://example.org/drills"


def written(when: datetime, offset: str) -> str:
    """The date as a publisher at that offset writes it, ending in `offset` as given."""
    return format_datetime(when).rsplit(" ", 1)[0] + f" {offset}"


@pytest.mark.parametrize(
    ("offset", "hours"),
    [
        ("UTC+3", 3),
        ("UTC+03:00", 3),
        ("GMT+3", 3),
        ("GMT+03", 3),
        ("GMT-5", -5),
        ("UT+3", 3),
        ("UTC+5:30", 5.5),
        ("+3", 3),
        ("+03", 3),
        ("-05", -5),
        ("GMT+0300", 3),  # read right before, and still
        ("+0300 (MSK)", 3),
    ],
)
@pytest.mark.asyncio(loop_scope="function")
async def test_an_offset_written_after_utc_or_gmt_or_in_short_dates_the_item_right(
    tmp_path: Path, offset: str, hours: float
) -> None:
    # The publisher's wall clock: 14:00 two days ago, at its offset.
    wall = datetime.now(UTC).replace(hour=14, minute=0, second=0, microsecond=0)
    wall -= timedelta(days=2)
    item = {"title": "Navy ships hold harbour drills", "link": LINK, "date": written(wall, offset)}
    async with one_feed(tmp_path, rss("Wire", [item])) as served:
        await served.poll()
        stored = served.app.store.article(f"guid:{LINK}")
    assert stored is not None
    assert stored.article.published == wall - timedelta(hours=hours)
