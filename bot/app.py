"""Composition root: builds the store, fetcher, embedder, pipeline and deliveries."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.delivery.base import Delivery
from bot.delivery.console import ConsoleDelivery
from bot.delivery.outbox import OutboxWorker
from bot.feeds.fetch import Fetcher
from bot.matching.embedder import Embedder, SentenceTransformerEmbedder
from bot.matching.topics import TopicMatcher
from bot.models import DestinationKind, Watchlist
from bot.pipeline import Pipeline, StanceTracker
from bot.positions.tracker import build_stance_tracker
from bot.routing import destination_registry
from bot.settings import Settings
from bot.store.sqlite import SQLiteStore

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
    store: SQLiteStore
    fetcher: Fetcher
    embedder: Embedder
    watchlist: Watchlist
    pipeline: Pipeline
    outbox: OutboxWorker
    deliveries: list[Delivery]
    extras: dict[str, Any] = field(default_factory=dict)

    def use_watchlist(self, watchlist: Watchlist) -> None:
        """Apply a newly validated watchlist everywhere."""
        self.watchlist = watchlist
        matcher = TopicMatcher.for_watchlist(watchlist, self.embedder)
        self.pipeline.use_watchlist(watchlist, matcher, self._tracker(watchlist))

    def _tracker(self, watchlist: Watchlist) -> StanceTracker | None:
        return build_stance_tracker(watchlist, self.embedder, self.store)

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
        self.store.close()


def build_app(
    settings: Settings,
    watchlist: Watchlist,
    *,
    embedder: Embedder | None = None,
    deliveries: Sequence[Delivery] | None = None,
) -> App:
    """Wire the parts together; nothing touches the feeds until the first poll.

    The database is opened first (StoreOpenError: missing, not a database, read-only, too
    new), which takes milliseconds, then the model is checked (ModelLoadError): a bad
    STANCEWATCH_MODEL would otherwise surface only after every feed was fetched, and again
    on every poll.
    """
    store = SQLiteStore(settings.db_path)
    if embedder is None:
        model = SentenceTransformerEmbedder(settings.model or None)
        try:
            model.check()
        except BaseException:
            store.close()
            raise
        embedder = model
    fetcher = Fetcher(
        user_agent=settings.user_agent,
        connect_timeout_s=settings.connect_timeout_s,
        read_timeout_s=settings.read_timeout_s,
        max_bytes=settings.max_feed_bytes,
        max_redirects=settings.max_redirects,
        per_host_limit=settings.per_host_limit,
    )
    chosen: list[Delivery] = list(deliveries) if deliveries is not None else [ConsoleDelivery()]
    app_ref: dict[str, App] = {}

    def registry() -> dict[str, Any]:
        return destination_registry(app_ref["app"].watchlist)

    async def notify(text: str) -> None:
        await app_ref["app"].notify_admins(text)

    pipeline = Pipeline(
        store,
        fetcher,
        TopicMatcher.for_watchlist(watchlist, embedder),
        watchlist,
        stances=build_stance_tracker(watchlist, embedder, store),
        enabled=enabled_kinds(settings),
        pause_after_failures=settings.pause_after_failures,
        notify_admins=notify,
    )
    outbox = OutboxWorker(
        store, chosen, registry, give_up_after_s=settings.delivery_give_up_s, notify_admins=notify
    )
    app = App(settings, store, fetcher, embedder, watchlist, pipeline, outbox, chosen)
    app_ref["app"] = app
    return app
