"""A publisher's clock ahead of ours must not freeze an actor's position.

Feeds may date an item up to a day ahead (a wrong time zone, a clock that runs fast), and
such a date was kept on the actor's statement. That statement then stayed the actor's
"current" position until the real time caught up: every later statement was dated before
it, so it was taken for an old article surfacing late and never reported as a shift. The
actor's next reversal was lost (it was folded into an earlier story as a restatement), and
`/positions` listed the future-dated stance as the latest.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.commands import Commands
from tests.conftest import RecordingConsole, rss
from tests.one_feed import one_feed
from tests.test_shift_not_folded import AFTER, BEFORE, FUNDING, _item, use_norland


@pytest.mark.asyncio(loop_scope="function")
async def test_a_stance_dated_ahead_of_our_clock_does_not_hide_the_next_shift(
    tmp_path: Path, embedder: Any
) -> None:
    now = datetime.now(UTC)
    earlier = now - timedelta(hours=10)  # the clock of the first three polls
    history = _item(0, "Harbour ferry timetable to change", "Ferries run less often.", earlier)
    console = RecordingConsole()
    async with one_feed(tmp_path, rss("Wire", [history]), console=console) as served:
        await use_norland(served, embedder, console)
        served.app.pipeline.clock = lambda: earlier
        await served.poll()  # first poll: history only
        fund = _item(1, *AFTER, earlier - timedelta(hours=30))
        served.body = rss("Wire", [fund, history])
        await served.poll()
        # The publisher's clock runs 20 hours ahead: the item is dated in our future.
        banks = _item(2, *BEFORE, earlier + timedelta(hours=20))
        served.body = rss("Wire", [banks, fund, history])
        await served.poll()
        # Ten hours later Norland goes back to a new fund; the item is dated correctly.
        served.app.pipeline.clock = lambda: now
        back = _item(
            3, "Norland returns to a separate lake fund", AFTER[1], now - timedelta(hours=1)
        )
        served.body = rss("Wire", [back, banks, fund, history])
        await served.poll()
        await served.app.outbox.drain()
        positions = Commands(served.app).positions("lake-fund", "norland")
    assert [alert.title for alert in console.posts] == [
        AFTER[0],
        BEFORE[0],
        "Norland returns to a separate lake fund",
    ]
    shifts = [line for line in console.posts[-1].stances if line.is_shift]
    assert [(s.now_label, s.before_label) for s in shifts] == [
        (FUNDING.positions[0].label, FUNDING.positions[1].label)
    ]
    # The earlier stance is dated when we read it, not in the future.
    assert shifts[0].before_date is not None and shifts[0].before_date <= earlier
    # /positions names the latest stance as the current one.
    (name, _), *_ = positions.fields
    assert name == f"Norland: {FUNDING.positions[0].label}"
