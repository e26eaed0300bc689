"""A webhook URL holds its secret in its path: it must not reach the log, the database or
admins, whatever goes wrong on the way to Discord."""

from __future__ import annotations

import logging
from pathlib import Path
from types import ModuleType

import pytest

from bot.logs import RedactingFilter
from bot.settings import SettingsError, load_settings


async def test_a_redirect_loop_leaves_the_webhook_token_nowhere(
    dk: ModuleType, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # A proxy at DISCORD_API_BASE that redirects every request back to itself. The error
    # aiohttp raises names every URL it was sent to: the delivery error kept them all, the
    # token twenty times over, in the outbox row (`stancewatch outbox` prints it) and in the
    # log, where the versioned path (/api/v10/webhooks/…) slipped past the redaction.
    async with dk.fake_discord() as fake:
        loop = {"Location": f"{fake.base}/webhooks/600000000000000001/{dk.WEBHOOK_TOKEN}"}
        fake.fail("POST", r"/webhooks/.*", 307, None, loop, times=100)
        app = dk.make_app(tmp_path, fake, token=False, wl=dk.watchlist(channel=False))
        async with dk.running(app):
            dk.queue(app, dk.alert(), [dk.WEBHOOK])
            with caplog.at_level(logging.INFO):
                assert await app.outbox.drain() == 0
        [(status, error)] = app.store.db.execute("SELECT status, last_error FROM outbox")
        assert status == "pending"
        assert "redirect" in error.lower() and "\n" not in error and len(error) < 300
        logged = []
        for record in caplog.records:
            if not record.name.startswith("bot."):
                continue  # the fake server's access log is not the service's
            RedactingFilter().filter(record)  # as the service's log handler does
            logged.append(record.getMessage())
        assert dk.WEBHOOK_TOKEN not in error + "\n".join(logged)


@pytest.mark.parametrize("base", ["discord.com/api/v10", "ftp://discord.com/api", "https://"])
def test_a_discord_api_base_that_is_no_http_url_is_refused_at_start(base: str) -> None:
    # Taken as it was, every request failed with an error naming its whole URL, webhook
    # tokens included, and alerts piled up as "network errors".
    with pytest.raises(SettingsError, match=r"^DISCORD_API_BASE: must be an http"):
        load_settings({"DISCORD_API_BASE": base})
    assert load_settings({}).discord_api_base == "https://discord.com/api/v10"
