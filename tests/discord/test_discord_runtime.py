"""start_discord: what it does with and without a token, and what it never does."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from types import ModuleType

import discord
import pytest

from bot.delivery.base import DeliveryError
from bot.delivery.discord.delivery import BotLink
from bot.delivery.discord.runtime import bot_intents, start_discord
from bot.logs import setup_logging
from bot.models import Destination, DestinationKind

CHANNEL = Destination(DestinationKind.DISCORD_CHANNEL, "700000000000000001")


async def test_no_token_no_webhooks_means_no_network(dk: ModuleType, tmp_path: Path) -> None:
    async with dk.fake_discord() as fake:
        app = dk.make_app(
            tmp_path, fake, token=False, wl=dk.watchlist(channel=False, webhook=False)
        )
        runtime = await start_discord(app)
        assert runtime.client is None and runtime.task is None
        assert not runtime.delivery.handles(CHANNEL)
        await runtime.delivery.notify_admins("nothing to say")
        await runtime.stop()
        await app.close()
        assert fake.seen == []
        assert runtime.delivery._session is None  # not even an HTTP session was opened


async def test_api_base_applies_to_bot_and_webhook_calls(dk: ModuleType, tmp_path: Path) -> None:
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake)
        async with dk.running(app) as runtime:
            assert fake.base == discord.http.Route.BASE
            await runtime.delivery.send(dk.WEBHOOK, dk.alert())
            await runtime.delivery.send(CHANNEL, dk.alert())
        paths = [(s.method, s.path) for s in fake.seen]
        assert paths[:2] == [("GET", "/users/@me"), ("GET", "/oauth2/applications/@me")]
        assert ("POST", f"/webhooks/{dk.WEBHOOK_ID}/{dk.WEBHOOK_TOKEN}") in paths
        assert ("POST", f"/channels/{dk.CHANNEL_ID}/messages") in paths


async def test_bad_token_turns_channels_broken_but_keeps_webhooks(
    dk: ModuleType, tmp_path: Path
) -> None:
    async with dk.fake_discord() as fake:
        fake.fail("GET", r"/users/@me", 401, {"message": "401: Unauthorized", "code": 0})
        app = dk.make_app(tmp_path, fake)
        started = time.monotonic()
        async with dk.running(app) as runtime:
            assert time.monotonic() - started < 5
            assert runtime.link is not None and runtime.link.error
            with pytest.raises(DeliveryError) as caught:
                await runtime.delivery.send(CHANNEL, dk.alert())
            assert caught.value.destination_broken
            assert await runtime.delivery.send(dk.WEBHOOK, dk.alert())
        assert not fake.requests("PUT", r"/applications/.*")


async def test_stop_closes_the_client(dk: ModuleType, tmp_path: Path) -> None:
    async with dk.fake_discord() as fake:
        app = dk.make_app(tmp_path, fake)
        async with dk.running(app) as runtime:
            client = runtime.client
            assert client is not None and not client.is_closed()
        assert client.is_closed()
        assert runtime.task is not None and runtime.task.done()


def test_no_privileged_intents() -> None:
    intents = bot_intents()
    assert not intents.message_content and not intents.members and not intents.presences
    assert intents.guilds


async def test_sending_waits_for_login_and_a_bounded_ready() -> None:
    client = discord.Client(intents=bot_intents())
    link = BotLink(client, ready_timeout_s=0.2)
    with pytest.raises(DeliveryError) as caught:
        await link.client_for_sending()
    assert caught.value.retry_after_s and not caught.value.destination_broken
    link.logged_in.set()
    started = time.monotonic()
    assert await link.client_for_sending() is client  # READY never came: send anyway
    assert 0.05 < time.monotonic() - started < 2
    loop = asyncio.get_running_loop()
    link2 = BotLink(client, ready_timeout_s=30)
    link2.logged_in.set()
    loop.call_later(0.05, link2.ready.set)
    started = time.monotonic()
    await link2.client_for_sending()
    assert time.monotonic() - started < 1
    await client.close()


async def test_gateway_mode_waits_for_ready_then_sends(
    dk: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with dk.fake_discord() as fake:
        dk.use_gateway(monkeypatch, fake)
        app = dk.make_app(tmp_path, fake)
        runtime = await start_discord(app)
        try:
            assert runtime.link is not None
            await runtime.delivery.send(CHANNEL, dk.alert())
            assert runtime.link.ready.is_set()  # READY came first (on_ready after 2 s)
            assert len(fake.identify) == 1
            intents = discord.Intents._from_value(fake.identify[0]["intents"])
            assert not intents.message_content and not intents.members and not intents.presences
            assert fake.identify[0]["token"] == dk.BOT_TOKEN
            fake.only("POST", f"/channels/{dk.CHANNEL_ID}/messages")
        finally:
            await runtime.stop()
            await app.close()
        assert runtime.task is not None and runtime.task.done()


async def test_an_unreachable_discord_is_said_in_one_plain_line(
    dk: ModuleType, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Discord out of reach at start (no network, a proxy down): admins read where it failed,
    not a repr of aiohttp's connection key with its proxy and header hashes."""
    app = dk.make_app(tmp_path, None)  # DISCORD_API_BASE on a port nothing listens to
    with caplog.at_level(logging.WARNING, logger="bot.delivery.discord.runtime"):
        async with dk.running(app):
            pass
    said = [r.getMessage() for r in caplog.records if "login failed" in r.getMessage()]
    assert said, "the failed login is logged"
    assert "127.0.0.1:9" in said[0]
    assert "ConnectionKey" not in said[0] and "proxy" not in said[0]
    await app.close()


def test_no_warning_that_voice_is_off(capsys: pytest.CaptureFixture[str]) -> None:
    """discord.py warns at every start that voice needs PyNaCl: nothing an operator can act
    on, since Stancewatch never joins a voice channel. Its other warnings still show."""
    setup_logging()
    try:
        discord.Client(intents=bot_intents())
        logging.getLogger("discord.client").warning("a warning that matters")
    finally:
        logging.getLogger().handlers.clear()
    err = capsys.readouterr().err
    assert "voice" not in err
    assert "a warning that matters" in err
