"""The console delivery remembers only its latest alerts, however long the service runs."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from rich.console import Console

from bot.delivery.console import SENT_KEPT, ConsoleDelivery
from bot.routing import CONSOLE
from tests.conftest import make_alert


async def test_a_long_running_console_keeps_only_its_latest_alerts() -> None:
    # `sent` (what the demo and tests read back) took every alert and edit the service ever
    # printed: in console mode, memory grew with each one for as long as it ran.
    console = ConsoleDelivery(Console(file=io.StringIO()))
    now = datetime.now(UTC)
    for n in range(SENT_KEPT + 25):
        alert = make_alert(f"s-{n}", now)
        await console.send(CONSOLE, alert)
        await console.edit(CONSOLE, alert.id, alert)
    assert len(console.sent) == SENT_KEPT
    assert console.sent[-1].id == f"s-{SENT_KEPT + 24}"
