"""Deploys that write the watchlist folder in several steps, as real teams do (a checkout
that renames a file, `rm -rf` and a slow copy, an editor's save through a backup), on a
disk slow enough that the watcher sees each step on its own: the half-written folder in
between is never told to admins as an error, and the final state is what applies."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from bot.models import Watchlist
from bot.watchlists import load_watchlists
from tests.reliability.helpers import ReloadingApp, watching

TOPIC = """\
topics:
  - id: {id}
    name: Topic {id}
    description: A topic that is described well enough to be matched.
    exclude: ["Something else entirely."]
"""
ROUTE = """\
routes:
  - topics: [{id}]
    discord_channel: "123456789012345678"
"""
# Longer than the watcher's debounce: on a slow disk each step is a change of its own.
SLOW_DISK_STEP_S = 1.2


class _App(ReloadingApp):
    """The watched app, keeping every watchlist it was given."""

    def __init__(self, folder: Path, watchlist: Watchlist) -> None:
        super().__init__(folder, watchlist)
        self.used: list[Watchlist] = []

    def use_watchlist(self, watchlist: Watchlist) -> None:
        self.used.append(watchlist)
        super().use_watchlist(watchlist)


def _names(watchlist: Watchlist) -> list[str]:
    return sorted(t.name for t in watchlist.topics)


async def _until_topics(app: _App, names: list[str]) -> None:
    while _names(app.watchlist) != names:
        app.applied.clear()
        await app.applied.wait()


async def _deploy(
    folder: Path, files: dict[str, str], steps: Callable[[Path], Awaitable[None]], final: list[str]
) -> _App:
    """Watch `folder` holding `files` while `steps` change it; return once the topics
    named `final` apply."""
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    watchlist = load_watchlists(folder, env={}).watchlist
    assert watchlist is not None
    app = _App(folder, watchlist)
    async with watching(app):
        await steps(folder)
        await asyncio.wait_for(_until_topics(app, final), timeout=30)
    return app


async def _told(app: _App) -> None:
    while not app.notices:
        await asyncio.sleep(0.05)


async def _step() -> None:
    await asyncio.sleep(SLOW_DISK_STEP_S)


def _quiet(app: _App, caplog: pytest.LogCaptureFixture) -> None:
    """Nothing was refused: not to admins, not in the log; no empty watchlist applied."""
    assert app.notices == [], app.notices
    refused = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert refused == [], refused
    assert all(w.topics for w in app.used), "a watchlist with no topics was applied"


async def test_a_checkout_that_renames_a_file_tells_admins_of_no_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Git deletes the old name, then rewrites the routes, then writes the new name: in
    between, the routes name a topic that is not there ("unknown topic")."""
    caplog.set_level(logging.INFO)

    async def checkout(folder: Path) -> None:
        (folder / "guarantees.yaml").unlink()
        await _step()
        (folder / "routes.yaml").write_text(ROUTE.format(id="assurances"), encoding="utf-8")
        await _step()
        (folder / "assurances.yaml").write_text(TOPIC.format(id="assurances"), encoding="utf-8")

    files = {
        "arms.yaml": TOPIC.format(id="arms"),
        "guarantees.yaml": TOPIC.format(id="guarantees"),
        "routes.yaml": ROUTE.format(id="guarantees"),
    }
    app = await _deploy(
        tmp_path / "watchlists", files, checkout, ["Topic arms", "Topic assurances"]
    )
    _quiet(app, caplog)


async def test_a_checkout_that_writes_the_new_name_first_tells_admins_of_no_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The new file is written before the old one is deleted: for an instant both define
    the same id ("duplicate topic id")."""
    caplog.set_level(logging.INFO)

    async def checkout(folder: Path) -> None:
        moved = TOPIC.format(id="guarantees").replace("Topic guarantees", "Guarantees")
        (folder / "security.yaml").write_text(moved, encoding="utf-8")
        await _step()
        (folder / "guarantees.yaml").unlink()

    files = {"arms.yaml": TOPIC.format(id="arms"), "guarantees.yaml": TOPIC.format(id="guarantees")}
    app = await _deploy(tmp_path / "watchlists", files, checkout, ["Guarantees", "Topic arms"])
    _quiet(app, caplog)


async def test_a_folder_deleted_and_copied_back_slowly_tells_admins_of_no_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """`rm -rf watchlists && cp -r new watchlists`: no folder, then a folder with the routes
    but not yet the topic they name."""
    caplog.set_level(logging.INFO)

    async def redeploy(folder: Path) -> None:
        shutil.rmtree(folder)
        await _step()
        folder.mkdir()
        (folder / "routes.yaml").write_text(ROUTE.format(id="grain"), encoding="utf-8")
        await _step()
        (folder / "grain.yaml").write_text(TOPIC.format(id="grain"), encoding="utf-8")

    files = {"arms.yaml": TOPIC.format(id="arms")}
    app = await _deploy(tmp_path / "watchlists", files, redeploy, ["Topic grain"])
    _quiet(app, caplog)


async def test_an_editors_save_through_a_backup_and_its_litter_tell_admins_of_no_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Vim's probe and backup (the file renamed to `a.yaml~`, then written anew: for an
    instant there is no watchlist at all), its swap file, Emacs's autosave and lock (a
    symlink to nowhere) and rsync's hidden temporary file renamed over the watchlist."""
    caplog.set_level(logging.INFO)

    async def save(folder: Path) -> None:
        (folder / ".topics.yaml.swp").write_bytes(b"b0VIM 9.0\x00\x00")
        os.symlink("admin@host.4242:1763800000", folder / ".#topics.yaml")
        (folder / "#topics.yaml#").write_text("topics: [half typed", encoding="utf-8")
        (folder / "4913").write_text("", encoding="utf-8")
        (folder / "4913").unlink()
        (folder / "topics.yaml").rename(folder / "topics.yaml~")
        await _step()
        (folder / "topics.yaml").write_text(TOPIC.format(id="grain"), encoding="utf-8")
        await _step()
        (folder / ".topics.yaml.Xa81Qz").write_text(TOPIC.format(id="arms"), encoding="utf-8")
        (folder / ".topics.yaml.Xa81Qz").rename(folder / "topics.yaml")

    app = await _deploy(
        tmp_path / "watchlists", {"topics.yaml": TOPIC.format(id="one")}, save, ["Topic arms"]
    )
    _quiet(app, caplog)


async def test_a_configmap_update_is_applied_once_and_its_folders_are_not_read(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A Kubernetes ConfigMap volume: each file a link through `..data` to a timestamped
    folder; an update writes a new folder, swaps `..data` in one rename, deletes the old."""
    caplog.set_level(logging.INFO)
    folder = tmp_path / "watchlists"
    folder.mkdir()
    old = "..2026_11_22_10_00_00.123456789"
    (folder / old).mkdir()
    (folder / old / "topics.yaml").write_text(TOPIC.format(id="one"), encoding="utf-8")
    os.symlink(old, folder / "..data")
    os.symlink("..data/topics.yaml", folder / "topics.yaml")
    loaded = load_watchlists(folder, env={})
    # Read once: the copies in `..data` and the timestamped folder are no watchlists.
    assert loaded.watchlist is not None and _names(loaded.watchlist) == ["Topic one"], (
        loaded.problems
    )

    async def update(folder: Path) -> None:
        new = "..2026_11_22_11_30_00.987654321"
        (folder / new).mkdir()
        (folder / new / "topics.yaml").write_text(TOPIC.format(id="two"), encoding="utf-8")
        os.symlink(new, folder / "..data_tmp")
        os.rename(folder / "..data_tmp", folder / "..data")
        shutil.rmtree(folder / old)

    app = _App(folder, loaded.watchlist)
    async with watching(app):
        await update(folder)
        await asyncio.wait_for(_until_topics(app, ["Topic two"]), timeout=30)
    _quiet(app, caplog)
    reloads = [r.getMessage() for r in caplog.records if "reloaded" in r.getMessage()]
    assert reloads == ["watchlists reloaded: + topic two; - topic one"], reloads


async def test_a_watchlist_saved_in_latin1_is_refused_at_the_line_of_its_accent(
    tmp_path: Path,
) -> None:
    """An old editor saves `é` as the single byte 0xe9: refused with the line to fix (not a
    byte offset into the file), and the last good watchlists stay in use."""
    folder = tmp_path / "watchlists"
    folder.mkdir()
    (folder / "topics.yaml").write_text(TOPIC.format(id="one"), encoding="utf-8")
    watchlist = load_watchlists(folder, env={}).watchlist
    assert watchlist is not None
    app = _App(folder, watchlist)
    edited = TOPIC.format(id="one").replace("well enough", "well enough for a café")
    async with watching(app):
        (folder / "topics.yaml").write_bytes(edited.encode("latin-1"))
        await asyncio.wait_for(_told(app), timeout=20)
    assert len(app.notices) == 1, app.notices
    assert f"{folder / 'topics.yaml'}:4: (file): not UTF-8 text: byte 0xe9" in app.notices[0]
    assert "save the file as UTF-8" in app.notices[0], app.notices
    assert _names(app.watchlist) == ["Topic one"] and app.used == []
