"""Hot reload outlives its folder: deleted and put back, the folder is watched again."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path

from bot.watchlists import load_watchlists
from tests.reliability.helpers import ReloadingApp, watching

TOPIC = """\
topics:
  - id: {id}
    name: Topic {id}
    description: A topic that is described well enough.
"""


def _folder(path: Path, topic: str) -> Path:
    path.mkdir()
    (path / "a.yaml").write_text(TOPIC.format(id=topic), encoding="utf-8")
    return path


async def _watch(folder: Path, change: Callable[[ReloadingApp], Awaitable[None]]) -> ReloadingApp:
    watchlist = load_watchlists(folder, env={}).watchlist
    assert watchlist is not None
    app = ReloadingApp(folder, watchlist)
    async with watching(app):
        await change(app)
        # Later edits in the folder now at that path still apply.
        (folder / "a.yaml").write_text(TOPIC.format(id="edited"), encoding="utf-8")
        await asyncio.wait_for(_applied(app, "edited"), timeout=20)
    return app


async def _applied(app: ReloadingApp, topic: str) -> None:
    while [t.id for t in app.watchlist.topics] != [topic]:
        app.applied.clear()
        await app.applied.wait()


async def test_a_folder_deleted_then_put_back_is_watched_again(tmp_path: Path) -> None:
    folder = _folder(tmp_path / "watchlists", "one")

    async def delete_and_restore(app: ReloadingApp) -> None:
        shutil.rmtree(folder)
        # Gone for longer than a deploy takes: admins are told.
        while not app.notices:
            await asyncio.sleep(0.05)
        _folder(folder, "two")

    app = await _watch(folder, delete_and_restore)
    # Told once that it went, once that it is back.
    assert len(app.notices) == 2 and "folder not found" in app.notices[0], app.notices
    assert "valid again" in app.notices[1], app.notices


async def test_a_folder_moved_aside_and_replaced_is_watched_at_its_path(tmp_path: Path) -> None:
    # `mv watchlists watchlists.old` and a fresh copy in its place: the move sends no event
    # from inside the old folder, whose watch followed it, so every later edit at the path
    # was ignored until a restart.
    folder = _folder(tmp_path / "watchlists", "one")

    async def swap(app: ReloadingApp) -> None:
        folder.rename(tmp_path / "watchlists.old")
        _folder(folder, "two")
        await asyncio.wait_for(_applied(app, "two"), timeout=20)

    app = await _watch(folder, swap)
    assert app.notices == [], app.notices  # the folder was never missing for long
