"""An undated feed's items enter an actor's history in the feed's order, newest last.

Items without a date are dated when they are read, so a first poll gives them all one
moment. They were then stored in the order of their ids (links, guids), which says nothing
about when they were written: an actor's older stance could end up as its current one, and
the next article restating the actor's real latest stance was posted as a shift.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest

from bot.commands import Commands
from tests.conftest import RecordingConsole
from tests.one_feed import one_feed
from tests.test_shift_not_folded import AFTER, BEFORE, FUNDING, use_norland


def _undated(items: list[tuple[str, str, str]]) -> bytes:
    """RSS whose items carry a link and a guid but no date, newest first as feeds list them."""
    body = "".join(
        f"<item><title>{escape(title)}</title><link>https://wire.example/{slug}</link>"
        f"<guid>https://wire.example/{slug}</guid>"
        f"<description>{escape(text)}</description></item>"
        for slug, title, text in items
    )
    return f'<rss version="2.0"><channel><title>Wire</title>{body}</channel></rss>'.encode()


# Slugs sort the other way round from the order the items were written in.
LATER = ("norland-backs-separate-fund", *AFTER)
EARLIER = ("norland-says-banks-can-pay", *BEFORE)
AGAIN = ("norland-repeats-call-for-fund", "Norland repeats call for a separate lake fund", AFTER[1])


@pytest.mark.asyncio(loop_scope="function")
async def test_an_undated_feeds_latest_stance_is_the_current_one_after_its_first_poll(
    tmp_path: Path, embedder: Any
) -> None:
    console = RecordingConsole()
    async with one_feed(tmp_path, _undated([LATER, EARLIER]), console=console) as served:
        await use_norland(served, embedder, console)
        await served.poll()  # first poll: history only
        current = Commands(served.app).positions("lake-fund", "norland")
        # Three days on (past the story window, so it is news of its own) Norland says again
        # what it said last.
        later = datetime.now(UTC) + timedelta(days=3)
        served.app.pipeline.clock = lambda: later
        served.body = _undated([AGAIN, LATER, EARLIER])
        await served.poll()
        await served.app.outbox.drain()
    (name, _), *_ = current.fields
    assert name == f"Norland: {FUNDING.positions[0].label}"
    assert [alert.title for alert in console.posts] == [AGAIN[1]]
    assert [line.now_label for line in console.posts[0].stances] == [FUNDING.positions[0].label]
    assert not console.posts[0].shifts  # a restatement of its latest stance
