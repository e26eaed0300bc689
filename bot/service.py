"""`stancewatch run`: the long-running service (or one pass with --once)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sqlite3
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol, TypeVar

from bot.app import App, build_app
from bot.delivery.base import Delivery
from bot.delivery.console import ConsoleDelivery
from bot.hot_reload import watch_watchlists
from bot.logs import counted
from bot.models import Watchlist
from bot.pipeline import CycleReport
from bot.reload import LoadedFrom
from bot.settings import Settings
from bot.store.backup import BackupError, DamagedDatabase
from bot.store.lock import heartbeat, hold_database
from bot.store.protocol import Store
from bot.stories import RULES

log = logging.getLogger(__name__)

# On SIGTERM, in-flight deliveries get this long to finish before we exit.
STOP_GRACE_S = 10.0
# How long each platform may take to disconnect once the deliveries' grace is over
# (discord.py closes its gateway and HTTP sessions, Slack its socket): one whose server
# never answers the close must not keep the process past a service manager's patience.
PLATFORM_STOP_S = 3.0
# How long `run --once` delivers after its pass. A platform's rate limit or a destination
# that is down must not keep a cron job running: what is left waits in the outbox, and the
# next run sends it first.
ONCE_DELIVERY_S = 60.0


class PlatformRuntime(Protocol):
    """A connected platform (Discord bot, Slack Socket Mode app): a delivery plus commands."""

    @property
    def delivery(self) -> Delivery:
        """The delivery that reaches this platform's destinations."""
        ...

    async def stop(self) -> None:
        """Disconnect cleanly."""
        ...


class PlatformStartError(Exception):
    """A platform raised while starting; the ones started before it have been stopped."""

    def __init__(self, platform: str, cause: BaseException) -> None:
        # Type and text only, on one line: a library's message names what failed, and a
        # token travels in headers, never in it.
        reason = " ".join(f"{type(cause).__name__}: {cause}".split())[:200]
        super().__init__(f"could not start {platform} ({reason})")


async def start_platforms(app: App, stop: asyncio.Event | None = None) -> list[PlatformRuntime]:
    """Connect to every platform that has a token; webhooks need none and are always on.

    `stop` set meanwhile ends the wait for a platform's first answer (see start_discord).
    A platform that raises stops those started before it (PlatformStartError): left
    connected, a Discord gateway would keep the process alive with nothing to serve.
    """
    from bot.delivery.discord import runtime as discord_runtime
    from bot.delivery.slack import runtime as slack_runtime

    starters: list[tuple[str, Callable[[], Awaitable[PlatformRuntime]]]] = [
        ("Discord", lambda: discord_runtime.start_discord(app, stop=stop)),
        ("Slack", lambda: slack_runtime.start_slack(app)),
    ]
    runtimes: list[PlatformRuntime] = []
    for platform, starter in starters:
        try:
            runtimes.append(await starter())
        except Exception as exc:
            for runtime in runtimes:
                await _disconnect(runtime)
            raise PlatformStartError(platform, exc) from exc
    for runtime in runtimes:
        # One list serves both the outbox and admin notices (App.deliveries is it).
        app.deliveries.append(runtime.delivery)
    if app.settings.discord_token or app.settings.slack_bot_token:
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


async def prune_old_data(app: App) -> None:
    """Prune; a database that refuses the writes (a full disk) is said in one line, and the
    pass goes on: it has its own way of reporting a store that cannot be written.

    Another program's write lock is waited for first, off the event loop (`App.writes_taken`):
    waited for by the prune's first write, it held the loop, slash commands' 3 s with it.
    """
    try:
        if not await app.writes_taken():
            log.warning(
                "old data not pruned this time: the database is locked by another program"
                " (tried again at the next prune: every 6 h, and at each start)"
            )
            return
        await _prune(app)
    except sqlite3.Error as exc:
        log.warning("could not prune old data: %s", exc)


def _stop_on_signals(stop: asyncio.Event) -> list[signal.Signals]:
    """Set `stop` on SIGINT and SIGTERM; the list fills with the signals received."""
    loop = asyncio.get_running_loop()
    received: list[signal.Signals] = []

    def on_signal(sig: signal.Signals) -> None:
        received.append(sig)
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, on_signal, sig)
    return received


async def serve_app(app: App, once: bool, stop: asyncio.Event | None = None) -> int:
    """Run the service on a built app until stopped (or one pass with `once`).

    A platform that cannot start ends it with one error line and exit code 1; whatever
    had started, the app included, is closed first.
    """
    stop = stop or asyncio.Event()
    received = _stop_on_signals(stop)
    runtimes: list[PlatformRuntime] = []
    try:
        try:
            runtimes = await start_platforms(app, stop)
        except PlatformStartError as exc:
            log.error("%s; stopped", exc)
            return 1
        if once:
            return await _one_pass(app, stop, received)
        await _serve_until_stopped(app, stop)
        return 0
    finally:
        for runtime in runtimes:
            await _disconnect(runtime)
        save_if_file_gone(app.store)
        await app.close()


def save_if_file_gone(store: Store) -> None:
    """When the database file was deleted or replaced while the service ran, copy what the
    open connection still holds beside the path (else in the temp folder) before it is
    closed, and say where.

    SQLite goes on with the file it opened: after an `rm` (or a backup moved over it) that
    file is reachable only through this connection, and every alert, position and follow in
    it went with the process. Beside the path, not at it: a file put there (or a deletion
    meant to start afresh) is the admin's choice, not undone.
    """
    gone = None
    with contextlib.suppress(sqlite3.Error, OSError):  # a broken store: nothing to tell
        gone = store.file_gone()
    if gone is None:
        return
    name = f"{os.path.basename(store.path)}.rescued-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    # Beside the path first; then the temp folder, for when the path's folder went too
    # (`rm -rf data/`, a volume unmounted) or is full: a copy there still outlives the
    # process, where none at all loses every alert, position and follow.
    folders = dict.fromkeys([os.path.dirname(store.path) or ".", tempfile.gettempdir()])
    refused: list[str] = []
    for folder in folders:
        target = os.path.join(folder, name)
        try:
            store.save_copy(target)
        except DamagedDatabase as exc:  # copied, damaged: the message says where
            log.error(
                "the database file %s was %s while the service ran: %s", store.path, gone, exc
            )
            return
        except BackupError as exc:
            refused.append(str(exc))
            continue
        log.warning(
            "the database file %s was %s while the service ran: what it held is saved to %s;"
            " to go on with it, move that file to %s before the next start",
            store.path,
            gone,
            target,
            store.path,
        )
        return
    log.error(
        "the database file %s was %s while the service ran: %s",
        store.path,
        gone,
        "; ".join(refused),
    )


def _shielded(
    work: Callable[[], Awaitable[None]], tasks: set[asyncio.Task[None]]
) -> Callable[[], Awaitable[None]]:
    """A scheduler job running `work` as a task kept in `tasks`, shielded from the
    scheduler's cancellation on stop: the stop decides how long it is given."""

    async def run() -> None:
        task = asyncio.ensure_future(work())
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        # A post cancelled after the platform took it would be posted again on the next
        # start: the work is given the stop grace instead.
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.shield(task)

    return run


async def _serve_until_stopped(app: App, stop: asyncio.Event) -> None:
    """Poll, deliver and prune on schedule, and reload watchlists, until `stop`; then end
    the polls and give deliveries the stop grace."""
    from bot.scheduler import serve

    running: set[asyncio.Task[None]] = set()  # drains and prunes: given the grace
    polling: set[asyncio.Task[None]] = set()  # polls: given up at once on stop

    async def poll() -> None:
        await app.pipeline.poll()
        heartbeat(app.settings.db_path)  # every tick, even with no feed due

    async def drain() -> None:
        await app.outbox.drain()

    async def prune() -> None:
        await prune_old_data(app)

    watcher = asyncio.create_task(watch_watchlists(app, stop))
    await serve(
        _shielded(poll, polling), _shielded(drain, running), _shielded(prune, running), stop
    )
    watcher.cancel()
    await _give_up_polls(polling)
    await _finish_deliveries(app, running)
    _say_what_waits(app)


async def _give_up_polls(polling: set[asyncio.Task[None]]) -> None:
    """Cancel the polls under way and wait for them to unwind.

    A poll is not waited for: a stalled feed or a long first pass took the whole grace (and
    `docker stop`'s 10 s). Nothing is lost: an article is stored with its alert in one
    transaction, and a feed's validators only after its articles, so the next start fetches
    again what this poll had not stored.
    """
    for task in polling:
        task.cancel()
    if polling:
        await asyncio.wait(set(polling))


async def _finish_deliveries(app: App, running: set[asyncio.Task[None]]) -> None:
    """Let the jobs under way end and deliver what is due, within STOP_GRACE_S."""
    log.info("stopping: finishing deliveries (up to %.0f s)", STOP_GRACE_S)
    end = time.monotonic() + STOP_GRACE_S
    app.outbox.deadline = end  # a drain under way starts no new delivery after this

    async def finish() -> None:
        if running:
            await asyncio.wait(set(running))
        await drain_until_idle(app, max(0.0, end - time.monotonic()))

    finishing = asyncio.ensure_future(finish())
    await end_within({finishing, *running}, STOP_GRACE_S)
    if not finishing.cancelled():
        finishing.result()  # a failure of the stop-time drain is not hidden


def _say_what_waits(app: App) -> None:
    """One line naming the posts a stop leaves queued, per destination, if any: Slack's
    pace (one post a second per channel) and the grace leave some, and an admin waiting
    for them must know they go at the next start, not that they were lost."""
    try:
        waiting = app.outbox.waiting_posts()
    except sqlite3.Error as exc:  # the database failing has been said where it failed
        log.debug("could not count the posts left queued: %s", exc)
        return
    if waiting:
        total = sum(count for _label, count in waiting)
        where = ", ".join(f"{label} ({count})" for label, count in waiting)
        log.info("stopped; %d posts wait for the next start: %s", total, where)
    else:
        # Said too when nothing waits: the last line of a stop tells an admin it ended.
        log.info("stopped; no post waits for the next start")


async def _disconnect(runtime: PlatformRuntime) -> None:
    """Stop a platform within PLATFORM_STOP_S; one that does not end by then is left
    behind (the process is about to exit), and said."""
    try:
        await asyncio.wait_for(runtime.stop(), PLATFORM_STOP_S)
    except TimeoutError:
        log.warning(
            "stopping: %s did not disconnect within %.1g s; left behind",
            type(runtime).__name__,
            PLATFORM_STOP_S,
        )
    except Exception:  # a platform failing to close must not stop the others closing
        log.debug("stopping %s failed", type(runtime).__name__, exc_info=True)


# After the grace, how long a cut delivery is given to unwind (its cancellation runs
# discord.py's own clean-up, which may await a rate-limit sleep: cancelled again each round).
CUT_UNWIND_ROUNDS = 4
CUT_UNWIND_S = 0.25


async def end_within(tasks: set[asyncio.Task[None]], grace_s: float) -> None:
    """Wait up to `grace_s` for `tasks` (drains), then cancel those still running.

    A stop must end in its grace whatever a delivery is doing (a second call of 8 s, a
    platform that took the post and never answers): a service manager kills what outlasts
    it (`docker stop` after 10 s), mid-write. A cut delivery leaves its outbox row as it
    was, pending, so nothing is lost: the next start sends it again, and Discord answers a
    bot post that it already took with the first message (the same nonce). Webhook and
    Slack posts have no such key: one the platform took before the cut is posted again.
    """
    if not tasks:
        return
    _done, left = await asyncio.wait(tasks, timeout=grace_s)
    if not left:
        return
    # What they carried stays queued: the line the stop ends with names it.
    log.warning("stopping: deliveries still under way after %.0f s were cut", grace_s)
    for _ in range(CUT_UNWIND_ROUNDS):
        for task in left:
            task.cancel()
        _done, left = await asyncio.wait(left, timeout=CUT_UNWIND_S)
        if not left:
            return


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


def _say_pass(report: CycleReport) -> None:
    """The log line that sums up a `run --once` pass."""
    if report.store_error:
        # Its counts are of what was read, not kept: "40 new articles, 0 failures" after
        # the database refused them read as a good pass.
        log.warning(
            "one pass given up: the database refused its writes; what it did not store is"
            " fetched again at the next run"
        )
        return
    log.info(
        "one pass: %s, %s, %s, %s",
        counted(report.feeds_polled, "feed"),
        counted(report.new_articles, "new article"),
        counted(report.alerts, "alert"),
        counted(report.failures, "failure"),
    )


async def _one_pass(app: App, stop: asyncio.Event, received: list[signal.Signals]) -> int:
    """`run --once`: poll every feed, deliver, exit 0; Ctrl-C or SIGTERM stops it at once.

    A pass over slow feeds, or a large first poll, takes minutes; a stop must not wait for
    it. What a cancelled pass already stored stays (each article is stored with its alert in
    one transaction, and a feed's validators only after its articles), so the next run
    fetches again whatever this one had not stored.
    """
    app.pipeline.health.recalls_earlier_runs = True
    # First, as the service does at start: a database served only by `run --once` from cron
    # never met the service's 6-hourly prune, and grew without limit.
    await prune_old_data(app)
    finished, report = await _until_stopped(app.pipeline.poll(app.watchlist.feeds), stop)
    if finished and report is not None:
        _say_pass(report)
        draining = asyncio.ensure_future(deliver_everything(app, ONCE_DELIVERY_S))
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait({draining, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if not draining.done():
            # No new delivery starts; the one under way gets the stop grace, as in `run`.
            app.outbox.deadline = time.monotonic()
            finished = False
            await end_within({draining}, STOP_GRACE_S)
        if not draining.cancelled():
            draining.result()
    if finished:
        # A pass whose writes the database refused (disk full) did not do its job: a cron
        # job or a script must see that.
        return 1 if report is not None and report.store_error else 0
    log.info("stopped; what was stored is kept, the rest waits for the next run")
    # 130: the shell's code for Ctrl-C, so a script can tell an interrupted pass.
    return 130 if signal.SIGINT in received else 0


class ExitWithoutWaiting(Exception):
    """The service has stopped and closed its app: the process should exit now, with
    `code`, without joining worker threads (one may still be busy with work no one waits
    for) or tearing the interpreter down."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class _StoppedWhileStarting(BaseException):
    """SIGTERM came while the app was being built (the model loads): nothing has run yet.

    A BaseException, like KeyboardInterrupt, so that no library's `except Exception`
    swallows it.
    """


def _stop_while_starting(signum: int, frame: object) -> None:
    raise _StoppedWhileStarting


def run_service(
    settings: Settings, watchlist: Watchlist, once: bool, loaded_from: LoadedFrom | None = None
) -> int:
    """Hold the database, build the app and run it; returns the exit code when the service
    never started, and raises ExitWithoutWaiting with it once a started service stopped.

    `loaded_from`: what the folder held when `watchlist` was read (before the model loads,
    which takes seconds): the watchlist watcher applies an edit made since.

    The lock is taken before the model loads, so a second `run` on the same file is
    refused at once (DatabaseInUse) instead of polling and posting every alert twice.
    """
    # Until `serve_app` sets its own handlers, SIGTERM (a service manager stopping `run`
    # while the model loads, seconds) killed the process: exit 143, not the 0 of a stop.
    previous = signal.signal(signal.SIGTERM, _stop_while_starting)
    try:
        with hold_database(settings.db_path):
            try:
                app = build_app(
                    settings, watchlist, deliveries=[ConsoleDelivery()], loaded_from=loaded_from
                )
            finally:
                signal.signal(signal.SIGTERM, previous)
            code = asyncio.run(serve_app(app, once))
        # Everything is stored and closed now. Stopped while the model was loading or
        # embedding, the interpreter would wait for that thread at exit (18.7 s in a soak
        # run, for ever on a model mount that hangs); and even with the model idle, tearing
        # torch down took 3.4 s after the last log line (and more on a busy machine), a
        # third of `docker stop`'s 10 s. None of it is needed any more.
        raise ExitWithoutWaiting(code)
    except _StoppedWhileStarting:
        # Caught around the lock too: its file exists before `hold_database` has returned,
        # and a SIGTERM in between left as a traceback and exit 1.
        signal.signal(signal.SIGTERM, previous)
        log.info("stopped while starting; nothing was polled")
        return 0
