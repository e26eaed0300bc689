"""A watchlist left broken while other files in its folder change (an editor's autosave, a
second watchlist edited): the refusal is one log line, and files that are not watchlists
start no reload at all."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from bot.logs import setup_logging
from tests.reliability.helpers import ReloadingApp, watching, watchlist_folder

TOPIC = """\
topics:
  - id: {id}
    name: Topic {id}
    description: A topic that is described well enough.
"""
BROKEN = TOPIC.format(id="one") + "  - id: [unclosed\n"
# Separate events rather than one batch (the watcher groups changes 50 ms apart).
BETWEEN_EDITS_S = 0.3


async def _notice(app: ReloadingApp, count: int) -> None:
    while len(app.notices) < count:
        await asyncio.sleep(0.05)


async def _topic(app: ReloadingApp, topic: str) -> None:
    while topic not in [t.id for t in app.watchlist.topics]:
        app.applied.clear()
        await app.applied.wait()


async def test_a_watchlist_left_broken_is_refused_in_one_line_while_the_folder_changes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    folder, watchlist = watchlist_folder(
        tmp_path, {"a.yaml": TOPIC.format(id="one"), "b.yaml": TOPIC.format(id="two")}
    )
    app = ReloadingApp(folder, watchlist)
    async with watching(app):
        (folder / "a.yaml").write_text(BROKEN, encoding="utf-8")
        await asyncio.wait_for(_notice(app, 1), timeout=20)
        for n in range(3):
            # Emacs's autosave of the buffer, a note left beside the files, and an edit of
            # the other watchlist: a.yaml is still broken the same way each time.
            (folder / "#a.yaml#").write_text(f"draft {n}", encoding="utf-8")
            await asyncio.sleep(BETWEEN_EDITS_S)
            (folder / "NOTES.txt").write_text(f"todo {n}", encoding="utf-8")
            await asyncio.sleep(BETWEEN_EDITS_S)
            (folder / "b.yaml").write_text(TOPIC.format(id=f"two{n}"), encoding="utf-8")
            await asyncio.sleep(BETWEEN_EDITS_S)
        (folder / "a.yaml").write_text(TOPIC.format(id="one"), encoding="utf-8")
        await asyncio.wait_for(_notice(app, 2), timeout=20)
        # Fixed: the editor's files keep changing, then a real edit.
        for n in range(3):
            (folder / "#a.yaml#").write_text(f"later draft {n}", encoding="utf-8")
            await asyncio.sleep(BETWEEN_EDITS_S)
            (folder / "NOTES.txt").write_text(f"done {n}", encoding="utf-8")
            await asyncio.sleep(BETWEEN_EDITS_S)
        (folder / "b.yaml").write_text(TOPIC.format(id="three"), encoding="utf-8")
        await asyncio.wait_for(_topic(app, "three"), timeout=20)
    assert "valid again" in app.notices[1], app.notices
    refused = [r for r in caplog.records if "edit refused" in r.getMessage()]
    assert len(refused) == 1, [r.getMessage() for r in refused]
    assert "a.yaml" in refused[0].getMessage()
    # The files that are not watchlists started no reload ("reloaded: no changes" at every
    # autosave): the two applied are the fix and the last edit.
    reloads = [r.getMessage() for r in caplog.records if "reloaded" in r.getMessage()]
    assert len(reloads) == 2 and "no changes" not in reloads[1], reloads


async def test_the_file_watcher_adds_no_line_of_its_own_at_each_edit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """watchfiles logged "1 change detected" (INFO) beside our own reload line at every
    edit: a second line that says less."""
    from watchfiles import awatch

    setup_logging()
    try:
        stop = asyncio.Event()
        changes = awatch(tmp_path, stop_event=stop, debounce=50, step=20)

        async def edit_soon() -> None:
            await asyncio.sleep(BETWEEN_EDITS_S)
            (tmp_path / "a.yaml").write_text(TOPIC.format(id="one"), encoding="utf-8")

        editing = asyncio.create_task(edit_soon())
        seen = await asyncio.wait_for(anext(changes), timeout=10)
        stop.set()
        await editing
    finally:
        logging.getLogger().handlers.clear()
    assert seen, "the edit was seen"
    assert "change detected" not in capsys.readouterr().err
