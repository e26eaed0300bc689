"""`/why` says, for each statement an article gave, whether it was a change of position and,
when a change was not reported, why: the confidence it lacked, or the weak evidence.

Before, `/why` listed the statements with their confidence only, so an admin whose
watchlist missed an actor's reversal could not tell a misread sentence from a bar not met.
Real SQLite, the real model, the feed served over local HTTP.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.commands import Commands
from tests.conftest import rss
from tests.test_live_page_revisions import (
    HISTORY,
    MORNING,
    RESTATEMENT,
    REVERSAL,
    live_item,
    page_at_0915,
    poll_update,
)
from tests.test_shift_not_folded import FUNDING

PAGE = "https://wire.example/live/lake-accord"
BANKS = FUNDING.positions[1].label


def statements_found(served: Any) -> list[str]:
    """The lines of /why's "Statements found" for the live page."""
    fields = dict(Commands(served.app).why(PAGE).fields)
    return fields["Statements found"].splitlines()


@pytest.mark.asyncio(loop_scope="function")
async def test_why_tells_a_first_position_a_restatement_and_a_shift_apart(
    tmp_path: Path, embedder: Any
) -> None:
    async with page_at_0915(tmp_path, embedder) as (served, _, clock):
        clock.now += timedelta(minutes=30)
        await poll_update(served, f"{RESTATEMENT}\n\n{MORNING}", clock)
        clock.now += timedelta(minutes=30)
        await poll_update(served, f"{REVERSAL}\n\n{RESTATEMENT}\n\n{MORNING}", clock)
        first, restated, reversed_ = statements_found(served)
    assert first.endswith("· its first recorded position on this topic")
    assert restated.endswith("· restates its current position")
    assert f"· a shift from “{BANKS}” ({served.feed.name}, " in reversed_


@pytest.mark.asyncio(loop_scope="function")
async def test_why_says_a_change_only_a_headline_states_was_not_reported(
    tmp_path: Path, embedder: Any
) -> None:
    async with page_at_0915(tmp_path, embedder) as (served, console, clock):
        clock.now += timedelta(minutes=30)
        page = live_item(MORNING, clock.now)
        page["title"] = "Live: Norland now backs a separate fund for the lake accord"
        served.body = rss("Wire", [page, HISTORY])
        await served.poll()
        await served.app.outbox.drain()
        _, headline = statements_found(served)
    assert headline.endswith(
        f"· a change from “{BANKS}”, not reported as a shift: only the headline says it"
    )
    assert len(console.posts) == 1  # the 09:15 version's alert; no shift alert
