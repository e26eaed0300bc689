"""Tokens and webhook secrets never reach stdout or stderr, even when every call fails."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.conftest import rss
from tests.reliability.helpers import (
    OFF_TOPIC,
    ON_TOPIC,
    FeedServer,
    Reply,
    rss_items,
    run,
    serving,
    write_watchlist,
)

pytestmark = pytest.mark.slow

DISCORD_TOKEN = "MTk4NjIyNDgzNDcxOTI1MjQ4.Gx1Abc.discordSecretToken0123456789abcdefXYZ"
SLACK_BOT_TOKEN = "xoxb-1111111111-2222222222-slackBotSecret0123456789"
SLACK_APP_TOKEN = "xapp-1-A0123456789-3333333333-slackAppSecret0123456789"
SLACK_HOOK_SECRET = "hookSecretPathQwErTy0123456789"
DISCORD_HOOK_TOKEN = "dwhSecretToken" + "a1B2c3D4e5" * 6


def _closed_port() -> int:
    """A local port with nothing listening (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_run_once_with_tokens_and_secret_webhooks_never_prints_a_secret(tmp_path: Path) -> None:
    closed = f"http://127.0.0.1:{_closed_port()}"
    env = {
        "DISCORD_TOKEN": DISCORD_TOKEN,
        "SLACK_BOT_TOKEN": SLACK_BOT_TOKEN,
        "SLACK_APP_TOKEN": SLACK_APP_TOKEN,
        "DISCORD_API_BASE": f"{closed}/api/v10",
        "SLACK_API_BASE": f"{closed}/api/",
        "SW_SLACK_HOOK": f"{closed}/services/T0000/B0000/{SLACK_HOOK_SECRET}",
        "SW_DISCORD_HOOK": (
            f"https://discord.com/api/webhooks/123456789012345678/{DISCORD_HOOK_TOKEN}"
        ),
    }
    secrets = [
        DISCORD_TOKEN,
        SLACK_BOT_TOKEN,
        SLACK_APP_TOKEN,
        SLACK_HOOK_SECRET,
        DISCORD_HOOK_TOKEN,
        # Distinctive fragments too, in case a library shortens or re-quotes a value.
        "discordSecretToken",
        "slackBotSecret",
        "slackAppSecret",
        "dwhSecretToken",
    ]
    with serving(FeedServer()) as feeds:
        feeds.replies["/wire.xml"] = Reply(body=rss("Wire", rss_items(OFF_TOPIC, "old")))
        folder, db = tmp_path / "watchlists", tmp_path / "sw.db"
        write_watchlist(folder, [feeds.url("/wire.xml")])
        with (folder / "w.yaml").open("a", encoding="utf-8") as handle:
            handle.write(
                "\nroutes:\n"
                '  - topics: ["*"]\n'
                "    slack_webhook: ${SW_SLACK_HOOK}\n"
                "    discord_webhook: ${SW_DISCORD_HOOK}\n"
                '    slack_channel: "C0123456789"\n'
                '    discord_channel: "123456789012345678"\n'
            )
        args = ("-v", "run", "--once", "--watchlists", str(folder), "--db", str(db))
        first = run(*args, env=env, timeout=180)
        items = rss_items(ON_TOPIC[:3], "new") + rss_items(OFF_TOPIC, "old")
        feeds.replies["/wire.xml"] = Reply(body=rss("Wire", items))
        second = run(*args, env=env, timeout=180)

    output = "\n".join([first.stdout, first.stderr, second.stdout, second.stderr])
    for done in (first, second):
        assert done.returncode == 0, done.stderr[-3000:]
    leaked = [s for s in secrets if s in output]
    assert not leaked, f"secrets in output: {leaked}"
    # The paths that could leak were exercised: logins failed and deliveries failed.
    assert "delivery of alert" in second.stderr, second.stderr[-3000:]
    assert "Slack" in output and "Discord" in output, output[-3000:]
