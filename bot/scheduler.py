"""APScheduler jobs for the service: poll due feeds, drain the outbox, prune old text.

The only module that imports apscheduler.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

log = logging.getLogger(__name__)

# Each feed's own next poll time lives in the database; this tick only asks "who is due?",
# so 15 s keeps a feed at most 15 s late without costing anything when nothing is due.
POLL_TICK_S = 15.0
# The outbox is drained often: a new alert should not wait long once it is stored.
DRAIN_TICK_S = 2.0
PRUNE_TICK_S = 6 * 3600.0
# How often the wall clock is checked for a step back (see `follow_clock_steps`). The loop's
# own timers run on the monotonic clock, so this check itself cannot stall.
CLOCK_CHECK_S = 5.0
# A job whose next run is further off than its interval plus this margin was scheduled by a
# clock that has since gone back; a smaller gap is the scheduler's own slack.
CLOCK_STEP_MARGIN = timedelta(seconds=2)


class _SkippedRunIsNormal(logging.Filter):
    """Demote APScheduler's "skipped: maximum number of running instances" to DEBUG.

    A drain longer than its 2 s tick, or a poll longer than 15 s (a first poll, a slow
    feed), is normal here: the job never overlaps itself by design and the skipped tick
    comes again. As a WARNING it read like a fault. Only that message is touched: job
    errors ("… raised an exception") come from another logger and stay errors.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Pass every other record; pass this one as DEBUG, and only when DEBUG is on."""
        if "maximum number of running instances" not in str(record.msg):
            return True
        record.levelno, record.levelname = logging.DEBUG, logging.getLevelName(logging.DEBUG)
        # The logger checked the WARNING level before this filter ran: check DEBUG now.
        return logging.getLogger().isEnabledFor(logging.DEBUG)


def quiet_skipped_runs() -> None:
    """Install the filter on APScheduler's scheduler logger (once)."""
    logger = logging.getLogger("apscheduler.scheduler")
    if not any(isinstance(f, _SkippedRunIsNormal) for f in logger.filters):
        logger.addFilter(_SkippedRunIsNormal())


def reschedule_after_clock_step(scheduler: AsyncIOScheduler, now: datetime) -> timedelta | None:
    """Run at once every job whose next run is further off than its interval; how far the
    clock went back (None: it did not).

    APScheduler keeps next run times in wall-clock time: after NTP or a resumed VM steps the
    clock back an hour, every job's next run is an hour away, and nothing was polled or
    delivered for that hour. A job brought to `now` runs, and its next run is counted from
    there.
    """
    step: timedelta | None = None
    for job in scheduler.get_jobs():
        trigger, next_run = job.trigger, job.next_run_time
        if not isinstance(trigger, IntervalTrigger) or next_run is None:
            continue
        ahead = next_run - now - trigger.interval
        if ahead > CLOCK_STEP_MARGIN:
            step = max(step or ahead, ahead)
            job.modify(next_run_time=now)  # wakes the scheduler up
    return step


async def follow_clock_steps(scheduler: AsyncIOScheduler, stop: asyncio.Event) -> None:
    """Every CLOCK_CHECK_S until `stop`, bring the jobs back to a clock that went back."""
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), CLOCK_CHECK_S)
        step = reschedule_after_clock_step(scheduler, datetime.now(UTC))
        if step is not None:
            # About: the job measured was due anywhere within its interval.
            shown = timedelta(seconds=round(step.total_seconds()))
            log.warning("the clock went back by about %s: the scheduled jobs run now", shown)


async def serve(
    poll: Callable[[], Awaitable[object]],
    drain: Callable[[], Awaitable[object]],
    prune: Callable[[], Awaitable[object]],
    stop: asyncio.Event,
) -> None:
    """Run the jobs until `stop` is set; a job never overlaps itself."""
    quiet_skipped_runs()
    scheduler = AsyncIOScheduler(timezone=UTC)
    now = datetime.now(UTC)
    # A late run is still wanted, however late (a laptop that slept, a clock stepped
    # forward): run once (coalesce), not skip it with a "missed by" warning. The prune
    # skipped that way waited another 6 h.
    options = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None}
    scheduler.add_job(
        poll, "interval", seconds=POLL_TICK_S, next_run_time=now, id="poll", **options
    )
    scheduler.add_job(
        drain, "interval", seconds=DRAIN_TICK_S, next_run_time=now, id="drain", **options
    )
    # Pruned at start too: a service restarted more often than every 6 h (deploys, a
    # crash loop) would otherwise never prune at all. (`run --once` prunes in its pass.)
    scheduler.add_job(
        prune, "interval", seconds=PRUNE_TICK_S, next_run_time=now, id="prune", **options
    )
    scheduler.start()
    log.info("scheduler started")
    try:
        await follow_clock_steps(scheduler, stop)
    finally:
        scheduler.shutdown(wait=False)
        log.info("scheduler stopped")
