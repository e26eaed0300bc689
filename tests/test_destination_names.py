"""Admins are told which destination fails in words they can match to a route, and a
webhook's secret never appears."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.delivery.base import DeliveryError
from bot.delivery.outbox import OutboxWorker
from bot.models import Alert, Destination, DestinationKind
from bot.store.sqlite import SQLiteStore
from tests.conftest import make_alert

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
SLACK_HOOK = "https://hooks.slack.com/services/T0001/B0002/s3cretWebhookToken"
DISCORD_HOOK = "https://discord.com/api/webhooks/123456789/s3cretWebhookToken"


def test_a_webhook_is_named_by_its_address_without_the_secret() -> None:
    slack = Destination(DestinationKind.SLACK_WEBHOOK, SLACK_HOOK)
    discord = Destination(DestinationKind.DISCORD_WEBHOOK, DISCORD_HOOK)
    assert slack.label == "slack_webhook https://hooks.slack.com/services/T0001/B0002/…"
    assert discord.label == "discord_webhook https://discord.com/api/webhooks/123456789/…"
    channel = Destination(DestinationKind.DISCORD_CHANNEL, "123456789012345678")
    assert channel.label == "discord_channel:123456789012345678"


class Revoked:
    """A platform that says the webhook no longer exists."""

    def handles(self, destination: Destination) -> bool:
        return True

    async def send(self, destination: Destination, alert: Alert) -> str | None:
        raise DeliveryError("webhook gone (404)", permanent=True, destination_broken=True)

    async def edit(self, destination: Destination, message_ref: str, alert: Alert) -> None:
        raise DeliveryError("webhook gone (404)", permanent=True, destination_broken=True)

    async def notify_admins(self, text: str) -> None:
        pass


async def test_a_failing_webhook_is_reported_by_its_label(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "o.db")
    hook = Destination(DestinationKind.SLACK_WEBHOOK, SLACK_HOOK)
    notices: list[str] = []

    async def tell(text: str) -> None:
        notices.append(text)

    worker = OutboxWorker(
        store, [Revoked()], lambda: {hook.key: hook}, clock=lambda: NOW, notify_admins=tell
    )
    alert = make_alert("story-1", NOW)
    with store.transaction():
        store.save_alert(alert, "a-1", [hook.key], NOW)
    await worker.drain()
    assert notices == [f"Alerts to {hook.label} are failing: webhook gone (404)"]
    assert "s3cret" not in notices[0]
    store.close()
