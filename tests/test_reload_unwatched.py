"""A watchlist folder the system will not watch (inotify's limits reached) is read on a
timer instead: edits still apply, the operator is told once why, and once it is over."""

from __future__ import annotations

import asyncio
import errno
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import watchfiles

from bot import hot_reload
from bot.watchlists import load_watchlists
from tests.reliability.helpers import ReloadingApp, watching

TOPIC = """\
topics:
  - id: {id}
    name: Topic {id}
    description: A topic that is described well enough.
"""


class _RefusedWatch:
    """watchfiles.awatch as it fails when inotify's watches are used up; counts the tries."""

    def __init__(self) -> None:
        self.tries = 0

    def __call__(self, *args: object, **kwargs: object) -> AsyncIterator[object]:
        self.tries += 1
        return self._watch()

    async def _watch(self) -> AsyncIterator[object]:
        raise OSError(errno.ENOSPC, "No space left on device (os error 28)")
        yield  # an async generator, as awatch is


async def _until(condition: object, timeout: float = 20) -> None:
    async def wait() -> None:
        while not condition():  # type: ignore[operator]
            await asyncio.sleep(0.05)

    await asyncio.wait_for(wait(), timeout)


def _topics(app: ReloadingApp) -> list[str]:
    return [t.id for t in app.watchlist.topics]


async def test_an_unwatchable_folder_is_read_on_a_timer_and_the_operator_told_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.INFO)
    refused = _RefusedWatch()
    real_awatch = watchfiles.awatch
    monkeypatch.setattr(watchfiles, "awatch", refused)
    monkeypatch.setattr(hot_reload, "WATCH_AGAIN_S", 1.0)  # watching is tried again soon
    (tmp_path / "a.yaml").write_text(TOPIC.format(id="one"), encoding="utf-8")
    watchlist = load_watchlists(tmp_path, env={}).watchlist
    assert watchlist is not None
    app = ReloadingApp(tmp_path, watchlist)
    async with watching(app):
        (tmp_path / "a.yaml").write_text(TOPIC.format(id="two"), encoding="utf-8")
        await _until(lambda: _topics(app) == ["two"])
        await _until(lambda: refused.tries >= 3)  # refused again at each try: told once
        (tmp_path / "a.yaml").write_text(TOPIC.format(id="three"), encoding="utf-8")
        await _until(lambda: _topics(app) == ["three"])
        warned = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
        unwatched = [m for m in warned if "cannot watch" in m]
        assert len(unwatched) == 1, warned
        assert "fs.inotify.max_user_watches" in unwatched[0]
        # The limit raised: watching works again, and says so once.
        monkeypatch.setattr(watchfiles, "awatch", real_awatch)
        await _until(lambda: any("for changes again" in r.getMessage() for r in caplog.records))
        (tmp_path / "a.yaml").write_text(TOPIC.format(id="four"), encoding="utf-8")
        await _until(lambda: _topics(app) == ["four"])
    again = [r.getMessage() for r in caplog.records if "for changes again" in r.getMessage()]
    assert len(again) == 1 and not app.notices
