"""A Slack webhook URL holds its secret in its path: every host the watchlist takes for a
Slack webhook (GovSlack's too) is hidden in the log, as the service writes it."""

from __future__ import annotations

import logging

import pytest

from bot.logs import setup_logging
from bot.slack_webhooks import slack_webhook_problem

SECRET = "T0GOV1234/B0GOV5678/Zq8wXv3PpL0sKe9RtYb2NcUa"


@pytest.mark.parametrize("host", ["hooks.slack.com", "hooks.slack-gov.com"])
def test_a_failing_slack_webhook_is_logged_without_its_secret_path(
    host: str, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"https://{host}/services/{SECRET}"
    assert slack_webhook_problem(url) is None  # a webhook the watchlist accepts
    setup_logging()
    try:
        log = logging.getLogger("bot.delivery.slack.delivery")
        log.warning("Slack webhook %s failed: HTTP 500", url)
        try:
            raise ConnectionError(f"Cannot connect to host {host}:443 for {url}")
        except ConnectionError:
            log.exception("delivery to a Slack webhook failed")
    finally:
        logging.getLogger().handlers.clear()
    err = capsys.readouterr().err
    assert f"https://{host}/services/[redacted]" in err
    assert "Zq8wXv3PpL0sKe9RtYb2NcUa" not in err and "T0GOV1234" not in err
