"""`stancewatch run`: the long-running service (or one pass with --once)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sqlite3
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol, TypeVar

from bot.app import App, build_app
from bot.delivery.base import Delivery
from bot.delivery.console import ConsoleDelivery
from bot.left_behind import named, present
from bot.logs import redact_urls
from bot.models import Watchlist
from bot.reload import reload_watchlists
from bot.settings import Settings
from bot.store.lock import heartbeat, hold_database
from bot.store.protocol import Store
from bot.stories import RULES

log = logging.getLogger(__name__)

# On SIGTERM, in-flight deliveries get this long to finish before we exit.
STOP_GRACE_S = 10.0
# How long `run --once` delivers after its pass. A platform's rate limit or a destination
# that is down must not keep a cron job running: what is left waits in the outbox, and the
# next run sends it first.
ONCE_DELIVERY_S = 60.0

# How often a deleted watchlist folder is looked for again.
FOLDER_CHECK_S = 1.0


class PlatformRuntime(Protocol):
    """A connected platform (Discord bot, Slack Socket Mode app): a delivery plus commands."""

    @property
    def delivery(self) -> Delivery:
        """The delivery that reaches this platform's destinations."""
        ...

    async def stop(self) -> None:
        """Disconnect cleanly."""
        ...


async def start_platforms(app: App) -> list[PlatformRuntime]:
    """Connect to every platform that has a token; webhooks need none and are always on."""
    runtimes: list[PlatformRuntime] = []
    settings = app.settings
    from bot.delivery.discord.runtime import start_discord
    from bot.delivery.slack.runtime import start_slack

    runtimes.append(await start_discord(app))
    runtimes.append(await start_slack(app))
    for runtime in runtimes:
        # One list serves both the outbox and admin notices (App.deliveries is it).
        app.deliveries.append(runtime.delivery)
    if settings.discord_token or settings.slack_bot_token:
        # Started, not connected: a platform that cannot be reached yet keeps trying, and
        # says so in its own lines.
        log.info("platforms started")
    return runtimes


async def drain_until_idle(app: App, deadline_s: float) -> None:
    """Deliver what is due now, for at most `deadline_s` (retries wait for the next run)."""
    end = time.monotonic() + deadline_s
    # A drain already running (the scheduler's) stops starting deliveries at the same time.
    app.outbox.deadline = end
    while time.monotonic() < end:
        if not await app.outbox.drain():
            break


async def deliver_everything(app: App, deadline_s: float) -> None:
    """`run --once`'s deliveries: what is due, then the digests of what the cap held.

    A held alert waits for its digest's delay, a timer that only a running service sees
    fire: a pass ending without sending it would leave the alert held until some later
    run, or for ever. Whatever a later run holds goes into that run's digest, and the cap
    still counts the cards every earlier run sent (from the database).
    """
    end = time.monotonic() + deadline_s
    await drain_until_idle(app, deadline_s)
    if app.outbox.deadline is not None and app.outbox.deadline < end:
        return  # a stop moved the deadline: no new delivery starts
    if app.outbox.release_digests():
        await drain_until_idle(app, max(0.0, end - time.monotonic()))


async def watch_watchlists(app: App, stop: asyncio.Event) -> None:
    """Hot reload: apply good edits within seconds; refuse bad ones and keep the last good set."""
    from watchfiles import awatch

    folder = app.settings.watchlists_dir
    told: set[str] = set()
    warned: set[str] = set()
    left: set[tuple[str, str, str]] = set()  # LeftBehind keys admins were told of

    async def reload() -> None:
        before = app.watchlist
        refusal_logged = False
        try:
            text = _reload_once(app, warned)
        except Exception as exc:  # one odd edit must not end hot reload for good
            log.exception("watchlist reload failed, keeping the last good watchlists")
            text, refusal_logged = f"reload failed ({type(exc).__name__}: {exc})", True
        if text is None:
            if told:
                # Admins were told of the refusal: like a feed that recovers, they are told
                # it is over, or the admin channel's last word on it stays "refused".
                await app.notify_admins(
                    "Watchlist edit applied: the watchlists are valid again (the refused"
                    " edit is fixed)."
                )
            told.clear()
            await say_left_behind(app, before, left)
        elif text not in told:
            told.add(text)
            if not refusal_logged:
                log.error("watchlist edit refused, keeping the last good watchlists: %s", text)
            await app.notify_admins(f"Watchlist edit refused (last good set kept): {text}")

    # Edits made while the service was down are met here first.
    await say_left_behind(app, None, left)
    while not stop.is_set():
        if not folder.is_dir():
            # A deleted folder is watched no more (its watch went with it, silently): wait
            # for one to be put back at the path, read it, and watch that one.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), FOLDER_CHECK_S)
            if folder.is_dir() and not stop.is_set():
                await reload()
            continue
        changes = awatch(folder, stop_event=stop, debounce=800, watch_filter=read_by_reload(folder))
        async for _changes in changes:
            await reload()
            if not folder.is_dir():
                break


async def say_left_behind(
    app: App, before: Watchlist | None, told: set[tuple[str, str, str]]
) -> None:
    """Warn in the log and tell admins, once while it stands, of each id the watchlists no
    longer have that followers or a position history still use (`before`: the watchlist
    just replaced, None at the start).

    A renamed or deleted topic leaves its follows on the old id, where no alert comes, and
    a renamed actor leaves its history where /positions and shifts no longer look: without
    this, members hear nothing and nobody says why. `told` holds what was said already.
    """
    try:
        found = app.left_behind(before)
    except sqlite3.Error as exc:  # the check must never cost the reload that was applied
        log.warning("could not compare the watchlists with what the database keeps: %s", exc)
        return
    current = present(app.watchlist)
    back = [
        f"{named(key)} is back in the watchlists: what was kept under it is in use again"
        for key in sorted(told & current)
    ]
    told -= current
    fresh = [str(item) for item in found if item.key not in told]
    told.update(item.key for item in found)
    for text in back:
        log.info("watchlist: %s", text)
    for text in fresh:
        log.warning("watchlist: %s", text)
    if back or fresh:
        # Admins told an id was gone are told it is back, as they are of a feed.
        await app.notify_admins("Watchlists: " + "; ".join([*fresh, *back]))


def _reload_once(app: App, warned: set[str]) -> str | None:
    """Read the watchlists again and apply them; None when applied, else what was refused.

    `warned`: the warnings already logged; each is logged once while it stands.
    """
    result = reload_watchlists(
        app.settings.watchlists_dir, app.watchlist, app.settings.default_interval_s
    )
    if result.applied:
        assert result.watchlist is not None
        app.use_watchlist(result.watchlist)
        # Diff lines name feeds by URL, and a feed URL may carry a token or a password.
        # Each line is cleaned before they are joined, so no separator is read as part
        # of a URL.
        changes = "; ".join(redact_urls(line) for line in result.changes)
        log.info("watchlists reloaded: %s", changes or "no changes")
        # What `check` and the start show as warnings (an unset ${VAR} skips a destination),
        # once each: an edit elsewhere in the folder does not repeat them.
        current = {redact_urls(str(problem)) for problem in result.problems}
        for text in sorted(current - warned):
            log.warning("watchlist: %s", text)
        warned.clear()
        warned.update(current)
        return None
    # Logged by the caller, once while it stands: a file left broken is read again at every
    # change in its folder, and said the same way each time.
    return "; ".join(redact_urls(str(p)) for p in result.problems if p.severity == "error")


def read_by_reload(folder: Path) -> Callable[[object, str], bool]:
    """The changes in `folder` a reload would see: its watchlist files, and the folder itself.

    An editor's autosave (`#a.yaml#`), a backup or a note beside the files started a reload,
    and its log lines, at every save of a file no reload reads.
    """

    def wanted(change: object, path: str) -> bool:
        name = Path(path).name
        if Path(path) == folder:
            return True  # the folder deleted: the watcher must look for it again
        # Hidden files are not read either (see load_watchlists).
        return not name.startswith(".") and name.endswith((".yaml", ".yml"))

    return wanted


# Articles rewritten per transaction when pruning. The first prune after an upgrade or a long
# stop may have tens of thousands (2.3 s for 45,000 in one go): in batches of this size each
# takes tens of milliseconds, and slash commands and deliveries run between them.
PRUNE_BATCH = 1000


async def prune_store(store: Store, now: datetime, retention_days: int) -> tuple[int, int]:
    """Drop what is older than the retention: articles' text, embeddings and topic scores,
    and the delivery rows of settled alerts; return (articles pruned, deliveries dropped).

    A story's vector and its delivery rows wait for it to leave the clustering window as
    well, so with a retention shorter than that window (1 day) a late copy is still folded
    into the alert, and still edits its message.
    """
    before = now - timedelta(days=retention_days)
    in_window = min(before, now - RULES.window)
    articles = 0
    while True:
        batch = store.prune_articles(before, stories_before=in_window, limit=PRUNE_BATCH)
        articles += batch
        if batch < PRUNE_BATCH:
            break
        await asyncio.sleep(0)  # let the service answer between batches
    deliveries = store.prune_outbox(in_window)
    return articles, deliveries


async def _prune(app: App) -> None:
    days = app.settings.retention_days
    articles, deliveries = await prune_store(app.store, datetime.now(UTC), days)
    if articles or deliveries:
        log.info(
            "pruned the text and scores of %d articles and %d sent deliveries older than %d days",
            articles,
            deliveries,
            days,
        )


async def _prune_or_say_why(app: App) -> None:
    """Prune; a database that refuses the writes (a full disk) is said in one line, and the
    pass goes on: it has its own way of reporting a store that cannot be written."""
    try:
        await _prune(app)
    except sqlite3.Error as exc:
        log.warning("could not prune old data: %s", exc)


async def serve_app(app: App, once: bool, stop: asyncio.Event | None = None) -> int:
    """Run the service on a built app until stopped (or one pass with `once`)."""
    from bot.scheduler import serve

    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    received: list[signal.Signals] = []

    def on_signal(sig: signal.Signals) -> None:
        received.append(sig)
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, on_signal, sig)
    runtimes = await start_platforms(app)
    try:
        if once:
            return await _one_pass(app, stop, received)

        running: set[asyncio.Task[None]] = set()  # drains and prunes: given the grace
        polling: set[asyncio.Task[None]] = set()  # polls: given up at once on stop

        def job(
            work: Callable[[], Awaitable[None]], tasks: set[asyncio.Task[None]] = running
        ) -> Callable[[], Awaitable[None]]:
            async def run() -> None:
                task = asyncio.ensure_future(work())
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                # On stop the scheduler cancels running jobs; the work itself is shielded and
                # given the stop grace: a post cancelled after the platform took it would be
                # posted again on the next start.
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.shield(task)

            return run

        async def poll() -> None:
            await app.pipeline.poll()
            heartbeat(app.settings.db_path)  # every tick, even with no feed due

        async def drain() -> None:
            await app.outbox.drain()

        async def prune() -> None:
            await _prune_or_say_why(app)

        watcher = asyncio.create_task(watch_watchlists(app, stop))
        await serve(job(poll, polling), job(drain), job(prune), stop)
        watcher.cancel()
        # A poll is not waited for: a stalled feed or a long first pass took the whole grace
        # (and `docker stop`'s 10 s). Nothing is lost: an article is stored with its alert in
        # one transaction, and a feed's validators only after its articles, so the next start
        # fetches again what this poll had not stored.
        for task in polling:
            task.cancel()
        if polling:
            await asyncio.wait(set(polling))
        log.info("stopping: finishing deliveries (up to %.0f s)", STOP_GRACE_S)
        end = time.monotonic() + STOP_GRACE_S
        app.outbox.deadline = end  # a drain under way starts no new delivery after this
        if running:
            await asyncio.wait(set(running), timeout=STOP_GRACE_S)
        await drain_until_idle(app, max(0.0, end - time.monotonic()))
        return 0
    finally:
        for runtime in runtimes:
            with contextlib.suppress(Exception):
                await runtime.stop()
        await app.close()


T = TypeVar("T")


async def _until_stopped(work: Awaitable[T], stop: asyncio.Event) -> tuple[bool, T | None]:
    """Run `work` unless a stop comes first: (True, its result), or (False, None) once it
    has been cancelled."""
    task = asyncio.ensure_future(work)
    stopping = asyncio.ensure_future(stop.wait())
    done, _ = await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if task in done:
        return True, task.result()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return False, None


async def _one_pass(app: App, stop: asyncio.Event, received: list[signal.Signals]) -> int:
    """`run --once`: poll every feed, deliver, exit 0; Ctrl-C or SIGTERM stops it at once.

    A pass over slow feeds, or a large first poll, takes minutes; a stop must not wait for
    it. What a cancelled pass already stored stays (each article is stored with its alert in
    one transaction, and a feed's validators only after its articles), so the next run
    fetches again whatever this one had not stored.
    """
    # First, as the service does at start: a database served only by `run --once` from cron
    # never met the service's 6-hourly prune, and grew without limit.
    await _prune_or_say_why(app)
    finished, report = await _until_stopped(app.pipeline.poll(app.watchlist.feeds), stop)
    if finished and report is not None:
        log.info(
            "one pass: %d feeds, %d new articles, %d alerts, %d failures",
            report.feeds_polled,
            report.new_articles,
            report.alerts,
            report.failures,
        )
        draining = asyncio.ensure_future(deliver_everything(app, ONCE_DELIVERY_S))
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait({draining, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not draining.done():
            # Not cancelled: a post cut off after the platform took it would be posted again
            # next run. No new delivery starts; the one under way finishes.
            app.outbox.deadline = time.monotonic()
            finished = False
        await draining
    if finished:
        # A pass whose writes the database refused (disk full) did not do its job: a cron
        # job or a script must see that.
        return 1 if report is not None and report.store_error else 0
    log.info("stopped; what was stored is kept, the rest waits for the next run")
    # 130: the shell's code for Ctrl-C, so a script can tell an interrupted pass.
    return 130 if signal.SIGINT in received else 0


class _StoppedWhileStarting(BaseException):
    """SIGTERM came while the app was being built (the model loads): nothing has run yet.

    A BaseException, like KeyboardInterrupt, so that no library's `except Exception`
    swallows it.
    """


def _stop_while_starting(signum: int, frame: object) -> None:
    raise _StoppedWhileStarting


def run_service(settings: Settings, watchlist: Watchlist, once: bool) -> int:
    """Hold the database, build the app and run it; returns the exit code.

    The lock is taken before the model loads, so a second `run` on the same file is
    refused at once (DatabaseInUse) instead of polling and posting every alert twice.
    """
    # Until `serve_app` sets its own handlers, SIGTERM (a service manager stopping `run`
    # while the model loads, seconds) killed the process: exit 143, not the 0 of a stop.
    previous = signal.signal(signal.SIGTERM, _stop_while_starting)
    try:
        with hold_database(settings.db_path):
            try:
                app = build_app(settings, watchlist, deliveries=[ConsoleDelivery()])
            finally:
                signal.signal(signal.SIGTERM, previous)
            return asyncio.run(serve_app(app, once))
    except _StoppedWhileStarting:
        # Caught around the lock too: its file exists before `hold_database` has returned,
        # and a SIGTERM in between left as a traceback and exit 1.
        signal.signal(signal.SIGTERM, previous)
        log.info("stopped while starting; nothing was polled")
        return 0
