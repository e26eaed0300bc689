"""APScheduler jobs for the service: poll due feeds, drain the outbox, prune old text.

The only module that imports apscheduler.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

log = logging.getLogger(__name__)

# Each feed's own next poll time lives in the database; this tick only asks "who is due?",
# so 15 s keeps a feed at most 15 s late without costing anything when nothing is due.
POLL_TICK_S = 15.0
# The outbox is drained often: a new alert should not wait long once it is stored.
DRAIN_TICK_S = 2.0
PRUNE_TICK_S = 6 * 3600.0


async def serve(
    poll: Callable[[], Awaitable[object]],
    drain: Callable[[], Awaitable[object]],
    prune: Callable[[], Awaitable[object]],
    stop: asyncio.Event,
) -> None:
    """Run the jobs until `stop` is set; a job never overlaps itself."""
    scheduler = AsyncIOScheduler(timezone=UTC)
    now = datetime.now(UTC)
    options = {"max_instances": 1, "coalesce": True, "misfire_grace_time": 60}
    scheduler.add_job(
        poll, "interval", seconds=POLL_TICK_S, next_run_time=now, id="poll", **options
    )
    scheduler.add_job(
        drain, "interval", seconds=DRAIN_TICK_S, next_run_time=now, id="drain", **options
    )
    scheduler.add_job(prune, "interval", seconds=PRUNE_TICK_S, id="prune", **options)
    scheduler.start()
    log.info("scheduler started")
    try:
        await stop.wait()
    finally:
        scheduler.shutdown(wait=False)
        log.info("scheduler stopped")
