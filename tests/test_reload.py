"""Hot reload keeps going: an edit that breaks the reload is refused, later edits still apply."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import cast

import pytest

from bot.app import App
from bot.commands import Commands
from bot.models import Watchlist
from bot.watchlists import load_watchlists
from tests.reliability.helpers import ReloadingApp, watching

TOPIC = """\
topics:
  - id: {id}
    name: Topic {id}
    description: A topic that is described well enough.
"""


class _App(ReloadingApp):
    """The watched app, whose applying of the first reload raises."""

    def __init__(self, folder: Path, watchlist: Watchlist) -> None:
        super().__init__(folder, watchlist)
        self.calls = 0

    def use_watchlist(self, watchlist: Watchlist) -> None:
        self.calls += 1
        if self.calls == 1:
            raise RuntimeError("the matcher could not be built")
        super().use_watchlist(watchlist)


async def _edit(folder: Path, text: str) -> None:
    (folder / "a.yaml").write_text(text, encoding="utf-8")
    await asyncio.sleep(2.0)  # past the watcher's 800 ms debounce


async def _notices(app: _App, count: int) -> None:
    while len(app.notices) < count:
        await asyncio.sleep(0.05)


def _app_on_topic_one(folder: Path) -> _App:
    """A watched app whose folder holds one valid file with topic `one`."""
    (folder / "a.yaml").write_text(TOPIC.format(id="one"), encoding="utf-8")
    watchlist = load_watchlists(folder, env={}).watchlist
    assert watchlist is not None
    return _App(folder, watchlist)


async def test_a_reload_that_raises_does_not_stop_hot_reload(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    app = _app_on_topic_one(tmp_path)
    async with watching(app) as watcher:
        await _edit(tmp_path, TOPIC.format(id="two"))  # this reload raises
        assert not watcher.done(), "the watcher died with the failed reload"
        assert [t.id for t in app.watchlist.topics] == ["one"]  # the last good set is kept
        assert len(app.notices) == 1 and "the matcher could not be built" in app.notices[0]
        await _edit(tmp_path, TOPIC.format(id="three"))
        await asyncio.wait_for(app.applied.wait(), timeout=15)
        assert [t.id for t in app.watchlist.topics] == ["three"]


async def test_a_reload_logs_the_warnings_of_the_edit(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.INFO)
    monkeypatch.delenv("SWEEP_UNSET_HOOK", raising=False)
    app = _app_on_topic_one(tmp_path)
    app.calls = 1  # no failure in this test
    async with watching(app):
        route = "routes:\n  - topics: [one]\n    discord_webhook: ${SWEEP_UNSET_HOOK}\n"
        (tmp_path / "a.yaml").write_text(TOPIC.format(id="one") + route, encoding="utf-8")
        await asyncio.wait_for(app.applied.wait(), timeout=15)
        app.applied.clear()
        # Another good edit, the unset variable still there: not said again.
        edited = TOPIC.format(id="one").replace("Topic one", "Topic number one") + route
        (tmp_path / "a.yaml").write_text(edited, encoding="utf-8")
        await asyncio.wait_for(app.applied.wait(), timeout=15)
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    unset = [m for m in warned if "SWEEP_UNSET_HOOK is not set" in m]
    assert len(unset) == 1 and "a.yaml:7" in unset[0], warned


async def test_admins_told_of_a_refused_edit_are_told_when_it_is_fixed(tmp_path: Path) -> None:
    app = _app_on_topic_one(tmp_path)
    app.calls = 1  # no failure in this test
    async with watching(app):
        (tmp_path / "a.yaml").write_text("topics:\n  - id: two\n    name: [unclosed\n")
        # Told once it has stood a few seconds (a deploy under way fixes itself sooner).
        await asyncio.wait_for(_notices(app, 1), timeout=20)
        assert "refused" in app.notices[0], app.notices
        await _edit(tmp_path, TOPIC.format(id="two"))
        await asyncio.wait_for(app.applied.wait(), timeout=15)
        await _edit(tmp_path, TOPIC.format(id="three"))  # a later good edit: nothing to say
    assert len(app.notices) == 2, app.notices
    assert "valid again" in app.notices[1] and "fixed" in app.notices[1], app.notices


def test_the_reload_command_refusing_an_edit_hides_a_feed_token_as_hot_reload_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WIRE_TOKEN", "s3cret-wire-token")
    app = _app_on_topic_one(tmp_path)
    # The scheme left out: refused, and the refusal quotes the address to write instead.
    feed = "feeds:\n  - url: wire.example/rss?token=${WIRE_TOKEN}\n"
    (tmp_path / "a.yaml").write_text(TOPIC.format(id="one") + feed, encoding="utf-8")
    reply = Commands(cast(App, app)).reload()
    assert not reply.ok, reply.text
    assert "https://wire.example/rss?token=…" in reply.text, reply.text
    assert "s3cret-wire-token" not in reply.text, reply.text


def test_the_reload_command_says_how_many_errors_it_did_not_list(tmp_path: Path) -> None:
    app = _app_on_topic_one(tmp_path)
    # 30 topics without a description: the answer listed 20 errors and said nothing of the
    # rest, so the admin fixed those 20 and met the others at the next reload.
    broken = "topics:\n" + "".join(f"  - id: t{i}\n    name: Topic {i}\n" for i in range(30))
    (tmp_path / "a.yaml").write_text(broken, encoding="utf-8")
    reply = Commands(cast(App, app)).reload()
    assert not reply.ok, reply.text
    assert len(reply.lines) == 21, reply.text
    assert reply.lines[-1] == "… and 10 more errors: “stancewatch check” lists them all."
    assert [t.id for t in app.watchlist.topics] == ["one"]  # the last good set stays


def test_the_reload_command_names_files_inside_the_watchlist_folder(tmp_path: Path) -> None:
    # Told in a chat, a server path ("/srv/stancewatch/watchlists/a.yaml") says nothing a
    # channel admin can use and more about the server than they need.
    app = _app_on_topic_one(tmp_path)
    (tmp_path / "a.yaml").write_text("topics: [\n", encoding="utf-8")
    reply = Commands(cast(App, app)).reload()
    assert not reply.ok, reply.text
    assert reply.lines[0].startswith("a.yaml:"), reply.text
    assert str(tmp_path) not in reply.text
