"""The watchlist watcher starts from what `run` read at its start: the start's warnings are
not logged again by the first reload, and an edit made while the model loaded is applied."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest

from bot import cli, service
from bot.reload import folder_state, read_watchlists
from tests.reliability.helpers import ReloadingApp, watching

TOPIC = """\
topics:
  - id: {id}
    name: {name}
    description: A topic that is described well enough.
"""
# A Slack channel route with no SLACK_BOT_TOKEN: a warning at start ("… is skipped").
SLACK_ROUTE = "routes:\n  - topics: [{id}]\n    slack_channel: C0123456789\n"


def _started(folder: Path) -> ReloadingApp:
    """A watched app as `run` builds it: its watchlist and what the folder held when read."""
    result, loaded_from = read_watchlists(folder, 900.0)
    assert result.watchlist is not None, result.problems
    app = ReloadingApp(folder, result.watchlist)
    app.loaded_from = loaded_from
    return app


async def test_the_first_reload_does_not_repeat_the_warnings_of_the_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    monkeypatch.delenv("SWEEP_START_HOOK", raising=False)
    text = TOPIC.format(id="one", name="Topic one") + SLACK_ROUTE.format(id="one")
    (tmp_path / "a.yaml").write_text(text, encoding="utf-8")
    app = _started(tmp_path)
    assert any("SLACK_BOT_TOKEN is not set" in w for w in app.loaded_from.warnings)  # type: ignore[union-attr]
    caplog.set_level(logging.INFO)
    async with watching(app):
        # A good edit elsewhere in the file, adding a warning of its own.
        edited = text.replace("Topic one", "Topic number one")
        edited += "  - topics: [one]\n    discord_webhook: ${SWEEP_START_HOOK}\n"
        (tmp_path / "a.yaml").write_text(edited, encoding="utf-8")
        await asyncio.wait_for(app.applied.wait(), timeout=15)
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert not [m for m in warned if "SLACK_BOT_TOKEN" in m], warned  # said at the start
    assert [m for m in warned if "SWEEP_START_HOOK is not set" in m], warned  # new: said


async def test_an_edit_made_while_the_model_loaded_is_applied_when_the_watcher_starts(
    tmp_path: Path,
) -> None:
    (tmp_path / "a.yaml").write_text(TOPIC.format(id="one", name="One"), encoding="utf-8")
    app = _started(tmp_path)
    # Written after the start read the folder, before the watcher (which starts once the
    # model has loaded) looked at it; nothing changes in the folder after that.
    (tmp_path / "a.yaml").write_text(TOPIC.format(id="two", name="Two"), encoding="utf-8")
    async with watching(app):
        await asyncio.wait_for(app.applied.wait(), timeout=15)
    assert [t.id for t in app.watchlist.topics] == ["two"]


def test_run_hands_what_it_read_and_printed_to_the_service(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    text = TOPIC.format(id="one", name="One") + SLACK_ROUTE.format(id="one")
    (tmp_path / "a.yaml").write_text(text, encoding="utf-8")
    handed: dict[str, Any] = {}

    def run_service(*args: Any, **kwargs: Any) -> int:
        handed.update(kwargs)
        return 0

    monkeypatch.setattr(service, "run_service", run_service)
    with pytest.raises(SystemExit) as exited:
        cli.main(["run", "--watchlists", str(tmp_path), "--db", str(tmp_path / "db")])
    assert exited.value.code == 0
    printed = capsys.readouterr().err.strip().splitlines()
    loaded_from = handed["loaded_from"]
    assert loaded_from.state == folder_state(tmp_path)
    assert printed and set(printed) == set(loaded_from.warnings)
