"""An article that shifts an actor's position is its own alert, never folded.

Within a story's 48 h window an actor's reversal reads very like the article that gave
its earlier stance (same actor, same topic, same words), so story matching used to fold
the reversal into that alert as "also reported by": readers saw the old position, the
shift was never posted, and the outlet that reported the opposite was listed as another
source of the same news.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest

from bot.app import build_app
from bot.models import Actor, Position, Route, Topic, Watchlist
from tests.conftest import RecordingConsole, rss
from tests.one_feed import OneFeed, one_feed

FUNDING = Topic(
    "lake-fund",
    "Funding the lake clean-up accord",
    "How the regional accord on cleaning up the lake will be paid for: a new dedicated"
    " fund for poorer riparian states, or existing development banks.",
    examples=(
        "Poorer states demanded a stand-alone fund to carry out the lake accord.",
        "Donors prefer to pay for the lake accord through existing development banks.",
    ),
    positions=(
        Position(
            "new-fund",
            "wants a new dedicated fund for the accord",
            ("The accord needs its own fund, separate from existing banks, the minister said.",),
            "for",
        ),
        Position(
            "existing-banks",
            "prefers existing development banks over a new fund",
            ("There is no need for a new fund; the development banks can do the job.",),
            "against",
        ),
    ),
)
FISHING = Topic(
    "fishing-quotas",
    "Fishing quotas on the lake",
    "How many tonnes of fish each state may catch in the lake each year.",
    examples=("Ministers cut the perch quota by a fifth for next season.",),
)
NORLAND = Actor("norland", "Norland", ("Norland", "Norlandic"))
BEFORE = (
    "Norland says existing banks can pay for lake accord",
    "Norland said on Wednesday there was no need to create a new fund for the lake accord,"
    ' and that the development banks should finance it. "There is no need for a new fund;'
    ' the development banks can do the job," a Norlandic minister said.',
)
AFTER = (
    "Norland now backs a separate fund for lake accord",
    "Norland said on Thursday it would support creating a new fund dedicated to the lake"
    ' accord, dropping its earlier insistence that existing banks were enough. "The accord'
    ' needs its own fund, separate from existing banks," the Norlandic minister said.',
)


def _item(n: int, title: str, text: str, when: datetime) -> dict[str, str]:
    return {
        "title": title,
        "link": f"https://wire.example/{n}",
        "description": text,
        "date": format_datetime(when),
    }


async def use_norland(served: OneFeed, embedder: Any, console: RecordingConsole) -> None:
    """Give the served feed an app with Norland and its two topics: the default app has no
    actors, so it would read no stance."""
    await served.app.close()
    served.app = build_app(
        served.app.settings,
        Watchlist((NORLAND,), (FUNDING, FISHING), (served.feed,), (Route(("*",)),)),
        embedder=embedder,
        deliveries=[console],
    )


@pytest.mark.asyncio(loop_scope="function")
async def test_a_reversal_within_the_story_window_is_posted_with_its_shift(
    tmp_path: Path, embedder: Any
) -> None:
    now = datetime.now(UTC)
    history = _item(0, "Harbour ferry timetable to change", "Ferries run less often.", now)
    console = RecordingConsole()
    async with one_feed(tmp_path, rss("Wire", [history]), console=console) as served:
        await use_norland(served, embedder, console)
        await served.poll()  # first poll: history only
        before = _item(1, *BEFORE, now - timedelta(hours=20))
        served.body = rss("Wire", [before, history])
        await served.poll()
        after = _item(2, *AFTER, now - timedelta(hours=1))
        served.body = rss("Wire", [after, before, history])
        report = await served.poll()
        await served.app.outbox.drain()
    assert report.folded == 0
    assert [alert.title for alert in console.posts] == [BEFORE[0], AFTER[0]]
    shift = [line for line in console.posts[1].stances if line.is_shift]
    assert [(s.actor_name, s.now_label, s.before_label) for s in shift] == [
        ("Norland", FUNDING.positions[0].label, FUNDING.positions[1].label)
    ]
