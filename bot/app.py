"""Composition root: builds the store, fetcher, embedder, pipeline and deliveries."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.command_thread import CommandThread
from bot.delivery.base import Delivery
from bot.delivery.console import ConsoleDelivery
from bot.delivery.outbox import OutboxWorker
from bot.feeds.fetch import Fetcher
from bot.left_behind import LeftBehind, left_behind
from bot.matching.embedder import (
    Embedder,
    NamedModel,
    SentenceTransformerEmbedder,
    english_only,
)
from bot.matching.topics import TopicMatcher
from bot.matching.vectors import VectorCache, watchlist_texts
from bot.models import DestinationKind, Watchlist
from bot.pipeline import Pipeline, StanceTracker
from bot.positions.tracker import build_stance_tracker
from bot.reload import LoadedFrom
from bot.renames import carry_renames
from bot.routing import destination_registry
from bot.settings import Settings
from bot.store.connection import StoreOpenError, database_busy
from bot.store.protocol import Store
from bot.store.sqlite import SQLiteStore
from bot.store.vectors import TextVectorStore
from bot.store.write_gate import WriteGate

log = logging.getLogger(__name__)


def enabled_kinds(settings: Settings) -> set[DestinationKind]:
    """The destination kinds this process can reach with the configuration it has."""
    kinds = {
        DestinationKind.CONSOLE,
        DestinationKind.DISCORD_WEBHOOK,
        DestinationKind.SLACK_WEBHOOK,
    }
    if settings.discord_token:
        kinds.add(DestinationKind.DISCORD_CHANNEL)
    if settings.slack_bot_token:
        kinds.add(DestinationKind.SLACK_CHANNEL)
    return kinds


@dataclass
class App:
    """Everything a running Stancewatch holds."""

    settings: Settings
    store: Store
    fetcher: Fetcher
    embedder: Embedder
    watchlist: Watchlist
    pipeline: Pipeline
    outbox: OutboxWorker
    deliveries: list[Delivery]
    extras: dict[str, Any] = field(default_factory=dict)
    # The watchlist's vectors kept in the database (None: the embedder names no model, or
    # the database is in memory); when set, it is also `embedder`.
    vectors: VectorCache | None = None
    # What `watchlist` was read from at the start (None: not read from the folder here);
    # the watchlist watcher starts from it.
    loaded_from: LoadedFrom | None = None
    # Where slash commands do their database work (made when a platform first asks).
    _commands: CommandThread | None = field(default=None, init=False, repr=False)

    def command_thread(self) -> CommandThread:
        """The thread slash commands of every platform run their database work on."""
        if self._commands is None:
            self._commands = CommandThread(self)
        return self._commands

    async def writes_taken(self) -> bool:
        """Wait until the database takes writes, on the write gate's thread so the event loop
        does not wait; False when another program's lock outlasted the busy timeout (the
        caller gives its work up, to be done later). Any other refusal raises."""
        gate = self.pipeline.write_gate
        if gate is None:
            return True
        try:
            await gate.wait()
        except sqlite3.Error as exc:
            if not database_busy(exc):
                raise
            return False
        return True

    def use_watchlist(self, watchlist: Watchlist) -> None:
        """Apply a newly validated watchlist everywhere."""
        self.watchlist = watchlist
        # Before the tracker is built: the history it compares with is under the new ids.
        self.carry_renames()
        if self.vectors is not None:
            # Before the new matcher is built: its texts are then read from the database
            # (or held already); only new and edited ones reach the model.
            self.vectors.watch(watchlist_texts(watchlist))
        matcher = TopicMatcher.for_watchlist(watchlist, self.embedder)
        self.pipeline.use_watchlist(watchlist, matcher, self._tracker(watchlist))

    def left_behind(self, before: Watchlist | None) -> list[LeftBehind]:
        """What the database keeps under ids the watchlist lacks (followers, position
        history), so that an edit taking an id away from them is said; `before`: the
        watchlist just replaced, None at the start."""
        return left_behind(self.watchlist, before, self.store)

    def carry_renames(self) -> None:
        """Move what the database keeps under the watchlist's former ids to the current
        ones; a database that refuses is said in one line, and tried again at the next
        load (nothing was moved: it is one transaction)."""
        try:
            carry_renames(self.watchlist, self.store)
        except sqlite3.Error as exc:
            log.warning("could not carry renamed ids over (tried again at the next load): %s", exc)

    def _tracker(self, watchlist: Watchlist) -> StanceTracker | None:
        # It reads the actors' current positions on the model thread: through its reader.
        return build_stance_tracker(watchlist, self.embedder, self.pipeline.reader)

    async def notify_admins(self, text: str) -> None:
        """Tell admins on every platform that can (each decides where), once per call."""
        for delivery in self.deliveries:
            try:
                await delivery.notify_admins(text)
            except Exception:  # an admin notice must never break polling
                log.exception("could not notify admins")

    async def close(self) -> None:
        """Release network sessions and the database."""
        await self.fetcher.close()
        self.pipeline.close()
        if self.pipeline.write_gate is not None:
            self.pipeline.write_gate.close()
        if self._commands is not None:
            self._commands.close()
        if self.vectors is not None:
            self.vectors.close()
        if self.pipeline.reader is not self.store:
            self.pipeline.reader.close()
        self.store.close()


def build_app(
    settings: Settings,
    watchlist: Watchlist,
    *,
    embedder: Embedder | None = None,
    deliveries: Sequence[Delivery] | None = None,
    read_only: bool = False,
    loaded_from: LoadedFrom | None = None,
) -> App:
    """Wire the parts together; nothing touches the feeds until the first poll.

    `read_only`: for a command that only reads (`stancewatch why`): the database must
    exist already, is never created, upgraded or written, and may be in use by `run`.
    `loaded_from`: what the folder held when `watchlist` was read from it (see LoadedFrom).

    The database is opened first (StoreOpenError: missing, not a database, read-only, too
    new), which takes milliseconds, then the model is checked (ModelLoadError): a bad
    STANCEWATCH_MODEL would otherwise surface only after every feed was fetched, and again
    on every poll.
    """
    store = SQLiteStore(settings.db_path, create=not read_only, read_only=read_only)
    model = embedder if embedder is not None else _checked_model(settings, store)
    # Asked of the model itself, before the watchlist's vector cache wraps it.
    reads_english_only = english_only(model)
    # A reading command scores nothing, and the cache's own connection would upgrade the
    # file's schema (it opens it writable) behind an older Stancewatch still running on it.
    vectors = None if read_only else keep_watchlist_vectors(settings, model, watchlist)
    chosen: list[Delivery] = list(deliveries) if deliveries is not None else [ConsoleDelivery()]
    wiring = _Wiring(settings, store, vectors or model, read_only)
    pipeline = wiring.pipeline(watchlist, reads_english_only)
    app = App(
        settings,
        store,
        pipeline.fetcher,
        wiring.embedder,
        watchlist,
        pipeline,
        wiring.outbox(chosen),
        chosen,
        vectors=vectors,
        loaded_from=loaded_from,
    )
    wiring.app = app
    if not read_only:
        # At the start, before any poll or command reads the history or the follows.
        app.carry_renames()
    return app


def _checked_model(settings: Settings, store: Store) -> Embedder:
    """The configured model, checked before anything else starts; the store is closed if
    it cannot be loaded (the caller exits)."""
    model = SentenceTransformerEmbedder(settings.model or None)
    try:
        model.check()
    except BaseException:
        store.close()
        raise
    return model


def new_fetcher(settings: Settings) -> Fetcher:
    """The feed fetcher with the configured timeouts, caps and per-host limit."""
    return Fetcher(
        user_agent=settings.user_agent,
        connect_timeout_s=settings.connect_timeout_s,
        read_timeout_s=settings.read_timeout_s,
        max_bytes=settings.max_feed_bytes,
        max_redirects=settings.max_redirects,
        per_host_limit=settings.per_host_limit,
    )


@dataclass
class _Wiring:
    """What the pipeline and the outbox share while `build_app` makes them; both reach the
    app (its watchlist, its admins) only once it exists, through `app`."""

    settings: Settings
    store: Store
    embedder: Embedder
    read_only: bool
    app: App | None = None
    # One for the pipeline and the outbox: waits for another program's lock happen on its
    # thread, never on the event loop (see bot/store/write_gate.py).
    write_gate: WriteGate | None = field(init=False)

    def __post_init__(self) -> None:
        self.write_gate = None if self.read_only else WriteGate(self.settings.db_path)

    async def notify(self, text: str) -> None:
        """Tell the app's admins (see App.notify_admins)."""
        assert self.app is not None, "a notice before build_app returned"
        await self.app.notify_admins(text)

    def registry(self) -> dict[str, Any]:
        """The destinations of the app's current watchlist, by key."""
        assert self.app is not None, "a delivery before build_app returned"
        return destination_registry(self.app.watchlist)

    def pipeline(self, watchlist: Watchlist, reads_english_only: bool) -> Pipeline:
        """The poll cycle on this watchlist."""
        settings = self.settings
        reader = model_thread_reader(settings, self.store, self.read_only)
        return Pipeline(
            self.store,
            new_fetcher(settings),
            TopicMatcher.for_watchlist(watchlist, self.embedder),
            watchlist,
            stances=build_stance_tracker(watchlist, self.embedder, reader),
            enabled=enabled_kinds(settings),
            pause_after_failures=settings.pause_after_failures,
            notify_admins=self.notify,
            english_only_model=reads_english_only,
            write_gate=self.write_gate,
            reader=reader,
        )

    def outbox(self, deliveries: list[Delivery]) -> OutboxWorker:
        """The outbox worker delivering through `deliveries` (the app's own list)."""
        return OutboxWorker(
            self.store,
            deliveries,
            self.registry,
            give_up_after_s=self.settings.delivery_give_up_s,
            notify_admins=self.notify,
            max_alerts_per_hour=self.settings.max_alerts_per_hour,
            write_gate=self.write_gate,
        )


def model_thread_reader(settings: Settings, store: Store, read_only: bool) -> Store:
    """The store the pipeline's model thread reads through: a read-only connection of its
    own to the same file, or `store` itself for a database in memory (no other connection
    sees it) or a process that never writes.

    The event loop writes and checkpoints through `store` while that thread reads: on one
    connection, a read still stepping on one thread made the outbox's checkpoint fail with
    "database table is locked", which stopped deliveries as if the disk refused writes.
    """
    if read_only or str(settings.db_path) == ":memory:":
        return store
    return SQLiteStore(settings.db_path, create=False, read_only=True)


def keep_watchlist_vectors(
    settings: Settings, embedder: Embedder, watchlist: Watchlist
) -> VectorCache | None:
    """Wrap the embedder so the watchlist's vectors are kept in the database; None if not.

    Only an embedder that names its model can reuse stored vectors. The cache has its own
    connection to the file: the matcher embeds in worker threads while the event loop
    writes articles and deliveries, and one SQLite connection must not be written from two
    threads at once (a transaction would take in the other's statements). A database the
    cache cannot use costs the cache, never the start.
    """
    if not isinstance(embedder, NamedModel) or str(settings.db_path) == ":memory:":
        return None
    identity = embedder.model_identity()
    if not identity:
        return None
    try:
        rows = TextVectorStore(settings.db_path, create=False, writable=False)
    except StoreOpenError as exc:
        log.warning("watchlist vectors are not kept on disk: %s", exc)
        return None
    vectors = VectorCache(embedder, identity, rows)
    vectors.watch(watchlist_texts(watchlist))
    return vectors
