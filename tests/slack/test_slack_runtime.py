"""start_slack/stop: no network without tokens; Socket Mode end to end against the fake."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web

from bot.app import App, build_app
from bot.delivery.slack.runtime import start_slack
from bot.local_http import serve_local
from bot.logs import setup_logging
from bot.models import Destination, DestinationKind
from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def _slack_app(kit: Any, tmp_path: Path, **slack: Any) -> App:
    """An app on a temporary database with the kit's watchlist, Slack set up as given."""
    settings = Settings(db_path=tmp_path / "t.db", **slack)
    return build_app(settings, kit.make_watchlist(), embedder=kit.FakeEmbedder())


async def test_without_tokens_only_webhooks_and_no_network(kit: Any, tmp_path: Path) -> None:
    app = _slack_app(kit, tmp_path, slack_api_base="http://127.0.0.1:9/api")
    try:
        runtime = await start_slack(app)
        assert runtime.delivery.client is None and runtime.socket is None
        assert runtime.delivery.handles(Destination(DestinationKind.SLACK_WEBHOOK, "https://x"))
        assert not runtime.delivery.handles(Destination(DestinationKind.SLACK_CHANNEL, "C1"))
        assert not runtime.delivery.handles(Destination(DestinationKind.DISCORD_CHANNEL, "1"))
        await runtime.stop()
        await runtime.stop()
    finally:
        await app.close()


async def test_bot_token_alone_posts_but_serves_no_commands(kit: Any, tmp_path: Path) -> None:
    async with kit.FakeSlack.running() as fake:
        app = _slack_app(
            kit,
            tmp_path,
            slack_bot_token=kit.BOT_TOKEN,
            slack_api_base=fake.api_base.rstrip("/"),  # the missing slash is added back
        )
        try:
            runtime = await start_slack(app)
            assert runtime.delivery.team_id == kit.TEAM
            assert runtime.socket is None
            assert runtime.delivery.handles(Destination(DestinationKind.SLACK_CHANNEL, "C1"))
            assert [c.method for c in fake.calls] == ["auth.test"]
            await runtime.stop()
        finally:
            await app.close()


async def test_a_wrong_api_address_is_not_blamed_on_the_token(
    kit: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def not_slack(request: web.Request) -> web.Response:
        return web.Response(status=501, text="Not Implemented")

    app_ = web.Application()
    app_.router.add_route("*", "/{tail:.*}", not_slack)
    runner, port = await serve_local(app_)
    app = _slack_app(
        kit, tmp_path, slack_bot_token=kit.BOT_TOKEN, slack_api_base=f"http://127.0.0.1:{port}/api/"
    )
    try:
        with caplog.at_level(logging.ERROR):
            runtime = await start_slack(app)
        await runtime.stop()
    finally:
        await app.close()
        await runner.cleanup()
    text = caplog.text
    assert "answered HTTP 501" in text and "check SLACK_API_BASE" in text
    assert "rejected SLACK_BOT_TOKEN" not in text
    assert kit.BOT_TOKEN not in text


async def test_socket_mode_end_to_end(kit: Any, tmp_path: Path) -> None:
    async with kit.FakeSlack.running() as fake:
        app = _slack_app(
            kit,
            tmp_path,
            slack_bot_token=kit.BOT_TOKEN,
            slack_app_token=kit.APP_TOKEN,
            slack_api_base=fake.api_base,
        )
        try:
            runtime = await start_slack(app)
            opened = await fake.wait_for("apps.connections.open")
            assert opened.headers["Authorization"] == "Bearer xapp-test-token"
            assert runtime.connecting is not None
            await asyncio.wait_for(runtime.connecting, 5)
            payload = kit.slash_payload(
                "follow arms-shipments", "U0ANN", kit.TEAM, fake.url("/respond/1")
            )
            await fake.sockets[0].send_json(
                {
                    "envelope_id": "env-1",
                    "type": "slash_commands",
                    "accepts_response_payload": True,
                    "payload": payload,
                }
            )
            ack = await fake.wait_socket("env-1")
            assert ack == {"envelope_id": "env-1"}
            reply = await fake.wait_for("respond:1")
            assert reply.body["text"] == "You now follow Arms shipments."
            assert reply.body["response_type"] == "ephemeral"
            assert app.store.following("slack", kit.TEAM, "U0ANN") == [("arms-shipments", False)]
            await runtime.stop()
            assert runtime.socket is None
        finally:
            await app.close()


def test_slack_code_never_loads_discord() -> None:
    code = (
        "import sys, bot.delivery.slack.runtime\n"
        "bad = [m for m in sys.modules if m == 'discord' or m.startswith('discord.')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_manifest_matches_the_app() -> None:
    manifest = yaml.safe_load((ROOT / "slack-app-manifest.yaml").read_text())
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert sorted(manifest["oauth_config"]["scopes"]["bot"]) == [
        "channels:history",  # a post answered late is looked for before it goes again
        "chat:write",
        "commands",
        "groups:history",  # the same, in private channels
        "im:history",  # the same, in followers' DMs
        "im:write",
        "users:read",
    ]
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == "/stancewatch"
    # Limits from Slack's manifest schema.
    assert len(command["description"]) <= 2000 and len(command["usage_hint"]) <= 1000
    assert len(manifest["display_information"]["name"]) <= 35
    assert len(manifest["display_information"]["description"]) <= 140
    assert len(manifest["features"]["bot_user"]["display_name"]) <= 80


@pytest.mark.parametrize("error", ["invalid_auth", "token_revoked", "not_allowed_token_type"])
async def test_a_refused_app_token_stops_socket_mode_and_says_so_once(
    kit: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture, error: str
) -> None:
    # Socket Mode asked apps.connections.open again every 10 s for as long as the service
    # ran, logging two multi-line errors each time; a new token is the only fix.
    async with kit.FakeSlack.running() as fake:
        for _ in range(3):
            fake.script("apps.connections.open", body={"ok": False, "error": error})
        app = _slack_app(
            kit,
            tmp_path,
            slack_bot_token=kit.BOT_TOKEN,
            slack_app_token=kit.APP_TOKEN,
            slack_api_base=fake.api_base,
        )
        try:
            with caplog.at_level(logging.INFO):
                runtime = await start_slack(app)
                assert runtime.connecting is not None
                await asyncio.wait_for(runtime.connecting, 5)  # gave up instead of retrying
            assert len(fake.of("apps.connections.open")) == 1
            # Alerts still go out with the bot token.
            dest = Destination(DestinationKind.SLACK_CHANNEL, kit.CHANNEL)
            assert await runtime.delivery.send(dest, kit.make_alert())
            await runtime.stop()
        finally:
            await app.close()
    problems = [r for r in caplog.records if r.levelno >= logging.WARNING]
    [line] = [r.getMessage() for r in problems]
    assert f"Slack refused SLACK_APP_TOKEN ({error})" in line and "/stancewatch is off" in line
    assert "\n" not in line and kit.APP_TOKEN not in line
    assert not any(r.exc_info for r in caplog.records)


@pytest.mark.parametrize(
    ("status", "error"), [(429, "ratelimited"), (200, "internal_error"), (503, "fatal_error")]
)
async def test_slack_failing_at_start_is_not_blamed_on_the_token(
    kit: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture, status: int, error: str
) -> None:
    # Any Slack error at start was logged as "Slack rejected SLACK_BOT_TOKEN", sending the
    # operator off to reinstall the app during what was a Slack incident or a rate limit.
    async with kit.FakeSlack.running() as fake:
        fake.script("auth.test", status, {"ok": False, "error": error}, Retry_After="5")
        app = _slack_app(kit, tmp_path, slack_bot_token=kit.BOT_TOKEN, slack_api_base=fake.api_base)
        try:
            with caplog.at_level(logging.WARNING):
                runtime = await start_slack(app)
            # The next use asks again, and then it works.
            dest = Destination(DestinationKind.SLACK_CHANNEL, kit.CHANNEL)
            assert await runtime.delivery.send(dest, kit.make_alert())
            assert runtime.delivery.team_id == kit.TEAM
            await runtime.stop()
        finally:
            await app.close()
    assert "rejected SLACK_BOT_TOKEN" not in caplog.text
    [line] = [r.getMessage() for r in caplog.records if "auth.test" in r.getMessage()]
    assert line == f"Slack auth.test failed ({error}); will retry on first use"


async def test_a_refused_bot_token_at_start_is_said_plainly(
    kit: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with kit.FakeSlack.running() as fake:
        fake.script("auth.test", body={"ok": False, "error": "invalid_auth"})
        app = _slack_app(kit, tmp_path, slack_bot_token=kit.BOT_TOKEN, slack_api_base=fake.api_base)
        try:
            with caplog.at_level(logging.WARNING):
                await (await start_slack(app)).stop()
        finally:
            await app.close()
    assert "Slack rejected SLACK_BOT_TOKEN: invalid_auth" in caplog.text


async def test_admin_users_that_are_not_user_ids_are_named_at_start(
    kit: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # SLACK_ADMIN_USERS=@ann,bob matched nobody, silently: Ann was told "Only workspace
    # admins can use feeds" and the operator had no hint that the setting was the problem.
    async with kit.FakeSlack.running() as fake:
        app = _slack_app(
            kit,
            tmp_path,
            slack_bot_token=kit.BOT_TOKEN,
            slack_api_base=fake.api_base,
            slack_admin_users=("@ann", "U0OPS", "bob"),
        )
        try:
            with caplog.at_level(logging.WARNING):
                await (await start_slack(app)).stop()
        finally:
            await app.close()
    [line] = [r.getMessage() for r in caplog.records if "SLACK_ADMIN_USERS" in r.getMessage()]
    assert line == (
        "SLACK_ADMIN_USERS: “@ann”, “bob” are not Slack user ids (U… or W…, from a member's"
        " profile: ⋮ → Copy member ID); they are ignored"
    )


async def test_slack_out_of_reach_at_start_says_where(
    kit: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """No network, or a proxy down: the line says which address failed, not only a class name."""
    app = _slack_app(
        kit,
        tmp_path,
        slack_bot_token=kit.BOT_TOKEN,
        slack_api_base="http://127.0.0.1:9/api/",  # nothing listens there
    )
    try:
        with caplog.at_level(logging.WARNING):
            runtime = await start_slack(app)
        await runtime.stop()
    finally:
        await app.close()
    [line] = [r.getMessage() for r in caplog.records if "auth.test" in r.getMessage()]
    assert "127.0.0.1:9" in line
    assert kit.BOT_TOKEN not in caplog.text


async def test_no_library_chatter_at_start_and_stop(
    kit: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With both tokens set as in production, starting and stopping Socket Mode logs only
    lines of our own: slack-bolt's "token will be unused" and the socket client's "session
    abandoned" said nothing an operator could act on, at every start and stop."""
    monkeypatch.setenv("SLACK_BOT_TOKEN", kit.BOT_TOKEN)  # where slack-bolt looks by itself
    async with kit.FakeSlack.running() as fake:
        app = _slack_app(
            kit,
            tmp_path,
            slack_bot_token=kit.BOT_TOKEN,
            slack_app_token=kit.APP_TOKEN,
            slack_api_base=fake.api_base,
        )
        setup_logging()
        try:
            runtime = await start_slack(app)
            await runtime.stop()
        finally:
            logging.getLogger().handlers.clear()
            await app.close()
    err = capsys.readouterr().err
    assert "will be unused" not in err
    assert "abandoned" not in err
