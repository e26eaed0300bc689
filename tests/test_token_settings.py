"""Bot tokens as operators pass them: from secrets files, with a trailing newline, or pasted
with more than the token."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import pytest

from bot.logs import RedactingFilter
from bot.settings import load_settings


def test_tokens_read_from_secrets_files_lose_their_trailing_newline() -> None:
    # `DISCORD_TOKEN=$(cat token)` strips it, but a Kubernetes secret or a compose
    # `env_file` of a file keeps it: Slack's Socket Mode then failed to connect at every
    # retry with "Forbidden control character detected in headers".
    settings = load_settings(
        {
            "DISCORD_TOKEN": "MTk4.Gx1Abc.discordSecret\n",
            "SLACK_BOT_TOKEN": "xoxb-1-2-slackBotSecret\r\n",
            "SLACK_APP_TOKEN": " xapp-1-A0-3-slackAppSecret\n",
        }
    )
    assert settings.discord_token == "MTk4.Gx1Abc.discordSecret"
    assert settings.slack_bot_token == "xoxb-1-2-slackBotSecret"
    assert settings.slack_app_token == "xapp-1-A0-3-slackAppSecret"
    # Only blanks: no token, as an empty one is (bot mode with a blank token retried its
    # login for ever).
    assert load_settings({"DISCORD_TOKEN": "  \n"}).discord_token == ""


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DISCORD_TOKEN", "Bot MTk4.Gx1Abc.discordSecret"),  # pasted with its header word
        ("SLACK_BOT_TOKEN", "xoxb-1-2-slackBotSecret\nxapp-1-A0-3-slackAppSecret"),
        ("SLACK_APP_TOKEN", "xapp-1-A0 3-slackAppSecret"),
    ],
)
def test_a_token_with_a_space_or_line_break_inside_is_one_line_that_never_shows_it(
    name: str, value: str
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STANCEWATCH_", "SLACK_"))}
    env.pop("DISCORD_TOKEN", None)
    env.update({"HF_HUB_OFFLINE": "1", name: value})
    done = subprocess.run(
        [sys.executable, "-m", "bot", "check"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"error: {name}: "), done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "Secret" not in done.stderr + done.stdout


def test_a_token_given_with_its_trailing_newline_is_still_redacted_from_the_log(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The service uses the token without its newline; the log filter looked for the token
    # with it, so a message that quoted the token in use kept it.
    monkeypatch.setenv("DISCORD_TOKEN", "MTk4.Gx1Abc.discordSecret\n")
    record = logging.LogRecord(
        "discord.http",
        logging.WARNING,
        __file__,
        1,
        "sent %s",
        ("MTk4.Gx1Abc.discordSecret",),
        None,
    )
    assert RedactingFilter().filter(record)
    assert "discordSecret" not in record.getMessage()
