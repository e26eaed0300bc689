"""Queued alerts follow their topics to a replaced destination.

The usual fix for a revoked webhook or a wrong channel id is a new one in the watchlist
route. Outbox rows are keyed by destination (a webhook by a hash of its URL), so the
backlog has to be handed over: once each, in order, and never where the alert already is.
A route removed on purpose still gives up, as before.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import App, build_app, enabled_kinds
from bot.cli import build_parser
from bot.delivery.base import DeliveryError, SentPlainer
from bot.delivery.outbox import OutboxWorker
from bot.delivery.slack.delivery import SlackDelivery
from bot.matching.hashing import HashingEmbedder
from bot.models import Alert, Destination, DestinationKind, Route, Topic, TopicLine, Watchlist
from bot.routing import destination_registry, destinations_for
from bot.settings import Settings
from bot.store.sqlite import SQLiteStore
from tests.conftest import make_alert
from tests.reliability.helpers import FakeWebhook, serving

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
GUARANTEES, NATO = "security-guarantees", "nato-membership"
TOPICS = (
    Topic(GUARANTEES, "Security guarantees", "Post-war guarantees for Ukraine's security."),
    Topic(NATO, "NATO membership", "Ukraine joining NATO."),
)


def routes(*route: Route) -> Watchlist:
    """The two topics, routed as given."""
    return Watchlist(topics=TOPICS, routes=route)


def alert_on(story: str, topic: str = GUARANTEES) -> Alert:
    """A small alert on one topic."""
    alert = make_alert(story, NOW)
    return replace(alert, topics=(TopicLine(topic, topic, 0.7, "Passage."),))


def link(story: str) -> str:
    """The article link `make_alert` gives a story (each payload carries it)."""
    return f"https://wire.example/{story}"


# --- Slack incoming webhooks, through the real delivery and the app's own registry -------


def webhook_app(tmp_path: Path, hook: str) -> App:
    """The app routing every topic to a Slack incoming webhook, on a fixed clock."""
    watchlist = routes(Route(("*",), slack_webhook=hook))
    app = build_app(
        Settings(db_path=tmp_path / "o.db"), watchlist, embedder=HashingEmbedder(), deliveries=[]
    )
    app.outbox.deliveries.append(SlackDelivery(app.store, app.settings, None, pace_s=0))
    return app


def queue_as_the_pipeline_does(app: App, story: str) -> None:
    """Save an alert with one outbox row per destination its topics are routed to now."""
    alert = alert_on(story)
    topics = [t.topic_id for t in alert.topics]
    keys = [d.key for d in destinations_for(topics, app.watchlist, enabled_kinds(app.settings))]
    with app.store.transaction():
        app.store.save_alert(alert, story, keys, NOW)


def posts_of(hook: FakeWebhook, story: str) -> int:
    """How many accepted posts carry the story's link."""
    return hook.count(link(story), accepted_only=True)


def order_of(hook: FakeWebhook) -> list[str]:
    """The stories of the accepted posts, in the order they arrived."""
    return [
        story
        for payload in hook.accepted
        for story in ("s-1", "s-2")
        if link(story) in json.dumps(payload)
    ]


def secret_hook(server: FakeWebhook, secret: str) -> str:
    """A webhook URL on the fake whose last part is a secret (the fake takes any path)."""
    return f"{server.url}/T0TEAM/B0HOOK/{secret}"


async def test_queued_alerts_follow_a_replaced_webhook(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    down = FakeWebhook(delay_s=0, script=lambda n: (500, "internal_error", {}))
    with serving(down), serving(FakeWebhook(delay_s=0)) as fixed:
        old_url, new_url = secret_hook(down, "oldsecret"), secret_hook(fixed, "newsecret")
        app = webhook_app(tmp_path, old_url)
        clock = [NOW]
        app.outbox.clock = lambda: clock[0]
        for story in ("s-1", "s-2"):
            queue_as_the_pipeline_does(app, story)
        assert await app.outbox.drain() == 0
        # An outage: s-2 waits behind s-1's retry instead of being tried too.
        assert len(down.received) == 1 and app.store.pending_count() == 2

        # The admin puts a working webhook in the route; the service reloads it. The next
        # drain hands the backlog over at once, before the old rows' retry time.
        app.use_watchlist(routes(Route(("*",), slack_webhook=new_url)))
        assert await app.outbox.drain() == 2
        assert order_of(fixed) == ["s-1", "s-2"]  # in the order queued

        for hours in (1, 2, 30):  # later drains, past the give-up time: nothing more to do
            clock[0] = NOW + timedelta(hours=hours)
            assert await app.outbox.drain() == 0
        assert [posts_of(fixed, s) for s in ("s-1", "s-2")] == [1, 1]  # once each
        assert len(fixed.received) == 2 and len(down.received) == 1
        assert app.store.pending_count() == 0 and app.store.dead_outbox() == []
        old = Destination(DestinationKind.SLACK_WEBHOOK, old_url)
        new = Destination(DestinationKind.SLACK_WEBHOOK, new_url)
        said = f"2 queued alerts for {old.key} moved to {new.label}"
        assert caplog.text.count(said) == 1
        assert "no longer configured" not in caplog.text
        assert "oldsecret" not in caplog.text and "newsecret" not in caplog.text
        await app.close()


async def test_outbox_replay_reroutes_dead_rows(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.INFO)
    revoked = FakeWebhook(delay_s=0, script=lambda n: (404, "no_service", {}))
    with serving(revoked), serving(FakeWebhook(delay_s=0)) as fixed:
        new_url = secret_hook(fixed, "newsecret")
        app = webhook_app(tmp_path, secret_hook(revoked, "oldsecret"))
        for story in ("s-1", "s-2"):
            queue_as_the_pipeline_does(app, story)
        await app.outbox.drain()
        assert len(app.store.dead_outbox()) == 2  # a removed webhook is given up on at once

        app.use_watchlist(routes(Route(("*",), slack_webhook=new_url)))
        assert await app.outbox.drain() == 0
        assert fixed.received == []  # dead rows move only when an admin replays them

        args = build_parser().parse_args(["outbox", "--replay", "--db", str(app.settings.db_path)])
        assert args.func(args) == 0
        assert "requeued 2" in capsys.readouterr().out
        assert await app.outbox.drain() == 2
        assert await app.outbox.drain() == 0
        assert [posts_of(fixed, s) for s in ("s-1", "s-2")] == [1, 1]
        assert order_of(fixed) == ["s-1", "s-2"]
        assert app.store.pending_count() == 0 and app.store.dead_outbox() == []
        assert caplog.text.count("2 queued alerts for slack_webhook:") == 1
        assert "newsecret" not in caplog.text and "oldsecret" not in caplog.text
        await app.close()


# --- channels, through a fake platform at the boundary -----------------------------------


class Platform:
    """A chat platform that records posts and edits; the channels in `broken` fail."""

    def __init__(self, *broken: str) -> None:
        self.broken = set(broken)
        self.posts: list[tuple[str, str]] = []  # (channel or webhook, alert id)
        self.edits: list[tuple[str, str]] = []

    def handles(self, destination: Destination) -> bool:
        return destination.kind is not DestinationKind.CONSOLE

    async def send(self, destination: Destination, alert: Alert) -> str | SentPlainer | None:
        if destination.target in self.broken:
            raise DeliveryError("Slack answered channel_not_found", destination_broken=True)
        self.posts.append((destination.target, alert.id))
        return f"{destination.target}:{alert.id}"

    async def edit(
        self, destination: Destination, message_ref: str, alert: Alert
    ) -> SentPlainer | None:
        if destination.target in self.broken:
            raise DeliveryError("Slack answered channel_not_found", destination_broken=True)
        self.edits.append((destination.target, alert.id))
        return None

    async def notify_admins(self, text: str) -> None:
        pass

    def to(self, target: str) -> list[str]:
        """The alerts posted to one place, in order."""
        return [alert for where, alert in self.posts if where == target]


def channel_worker(
    store: SQLiteStore, platform: Platform, current: list[Watchlist], clock: list[datetime]
) -> OutboxWorker:
    """An outbox whose registry follows `current[0]`, as the app's does across reloads."""

    def registry() -> dict[str, Destination]:
        return destination_registry(current[0])

    return OutboxWorker(store, [platform], registry, give_up_after_s=3600, clock=lambda: clock[0])


def queue(store: SQLiteStore, alert: Alert, watchlist: Watchlist) -> None:
    topics = [t.topic_id for t in alert.topics]
    keys = [d.key for d in destinations_for(topics, watchlist, set(DestinationKind))]
    with store.transaction():
        store.save_alert(alert, alert.id, keys, NOW)


def rows_of(store: SQLiteStore, alert_id: str) -> list[tuple[str, str, str]]:
    """(destination, action, status) of an alert's outbox rows, in queue order."""
    rows = store.db.execute(
        "SELECT destination, action, status FROM outbox WHERE alert_id = ? ORDER BY id",
        (alert_id,),
    )
    return [(r[0], r[1], r[2]) for r in rows]


async def test_a_corrected_channel_id_gets_the_backlog_but_not_posted_alerts_edits(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    store = SQLiteStore(tmp_path / "o.db")
    current, clock = [routes(Route(("*",), slack_channel="COLD"))], [NOW]
    platform = Platform()
    worker = channel_worker(store, platform, current, clock)
    queue(store, alert_on("s-0"), current[0])
    assert await worker.drain() == 1  # s-0 is in COLD

    platform.broken.add("COLD")  # the channel is gone; a copy of s-0's story folds in
    with store.transaction():
        store.update_alert(replace(alert_on("s-0"), also_reported_by=(("B", "https://b/1"),)), NOW)
    for story in ("s-1", "s-2", "s-3"):
        queue(store, alert_on(story), current[0])
    assert await worker.drain() == 0

    current[0] = routes(Route(("*",), slack_channel="CNEW"))  # the corrected id
    clock[0] = NOW + timedelta(hours=2)  # past the give-up time of the old rows
    assert await worker.drain() == 3
    assert await worker.drain() == 0
    assert platform.to("CNEW") == ["s-1", "s-2", "s-3"]  # once each, in the order queued
    # s-0's message is in COLD: its edit cannot move, and s-0 is not posted again.
    assert platform.edits == [] and rows_of(store, "s-0") == [
        ("slack_channel:COLD", "post", "sent"),
        ("slack_channel:COLD", "edit", "dead"),
    ]
    assert rows_of(store, "s-1") == [("slack_channel:CNEW", "post", "sent")]
    assert "3 queued alerts for slack_channel:COLD moved to slack_channel:CNEW" in caplog.text
    store.close()


async def test_a_route_with_two_new_destinations_gives_each_its_own_row(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "o.db")
    current, clock = [routes(Route(("*",), discord_channel="111"))], [NOW]
    platform = Platform("111")
    worker = channel_worker(store, platform, current, clock)
    for story in ("s-1", "s-2"):
        queue(store, alert_on(story), current[0])
    assert await worker.drain() == 0

    hook = "https://discord.com/api/webhooks/123456789012345678/" + "t" * 68
    current[0] = routes(Route(("*",), discord_channel="222", discord_webhook=hook))
    clock[0] = NOW + timedelta(minutes=1)
    assert await worker.drain() == 4
    assert await worker.drain() == 0
    assert platform.to("222") == ["s-1", "s-2"] and platform.to(hook) == ["s-1", "s-2"]
    webhook = Destination(DestinationKind.DISCORD_WEBHOOK, hook).key
    assert sorted(rows_of(store, "s-1")) == [
        ("discord_channel:222", "post", "sent"),
        (webhook, "post", "sent"),
    ]
    store.close()


async def test_a_removed_route_still_gives_up_while_a_replaced_one_moves(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    store = SQLiteStore(tmp_path / "o.db")
    everything = Route(("*",), slack_channel="CALL")  # every alert also goes here
    current = [
        routes(
            Route((GUARANTEES,), slack_channel="CGUAR"),
            Route((NATO,), slack_channel="CNATO"),
            everything,
        )
    ]
    clock = [NOW]
    platform = Platform("CGUAR", "CNATO")
    worker = channel_worker(store, platform, current, clock)
    queue(store, alert_on("g-1", GUARANTEES), current[0])
    queue(store, alert_on("n-1", NATO), current[0])
    assert await worker.drain() == 2  # both to CALL

    # The guarantees route is removed on purpose; the NATO one gets a new channel.
    current[0] = routes(Route((NATO,), slack_channel="CNATO2"), everything)
    clock[0] = NOW + timedelta(hours=2)  # past the give-up time
    assert await worker.drain() == 1
    assert await worker.drain() == 0
    assert platform.posts == [("CALL", "g-1"), ("CALL", "n-1"), ("CNATO2", "n-1")]
    # g-1's only other destination has its own row: nothing to move, given up as before.
    assert rows_of(store, "g-1") == [
        ("slack_channel:CGUAR", "post", "dead"),
        ("slack_channel:CALL", "post", "sent"),
    ]
    assert "giving up on alert g-1 to slack_channel:CGUAR: destination no longer" in caplog.text
    assert "1 queued alert for slack_channel:CNATO moved to slack_channel:CNATO2" in caplog.text
    assert "for slack_channel:CGUAR moved" not in caplog.text
    store.close()
