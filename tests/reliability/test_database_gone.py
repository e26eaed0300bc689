"""The database file deleted, or replaced, under the running service: what the service held
is not lost with the process, but saved beside the path at stop."""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot import service
from bot.app import App, build_app
from bot.matching.hashing import HashingEmbedder
from bot.models import Watchlist
from bot.settings import Settings
from bot.store.sqlite import SQLiteStore
from tests.conftest import make_alert
from tests.one_feed import DRILLS
from tests.reliability.helpers import Recorder, query


def app_with_one_alert(db: Path) -> App:
    """An app on this database file holding one queued alert."""
    app = build_app(
        Settings(db_path=db),
        Watchlist(topics=(DRILLS,)),
        embedder=HashingEmbedder(),
        deliveries=[Recorder()],
    )
    now = datetime.now(UTC)
    with app.store.transaction():
        app.store.save_alert(make_alert("story-1", now), "a-1", ["console"], now)
    return app


@pytest.mark.parametrize("how", ["deleted", "replaced"])
async def test_what_the_service_held_is_saved_beside_the_path_at_stop(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, how: str
) -> None:
    # `rm stancewatch.db*` (or a backup moved over it) while the service runs: it goes on
    # with the file it opened, and every alert, position and follow in it was gone once the
    # process ended.
    db = tmp_path / "sw.db"
    app = app_with_one_alert(db)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    if how == "replaced":
        SQLiteStore(tmp_path / "other.db").close()
        (tmp_path / "other.db").replace(db)
    caplog.set_level(logging.INFO)
    stop = asyncio.Event()
    stop.set()
    assert await asyncio.wait_for(service.serve_app(app, once=False, stop=stop), 30) == 0

    saved = sorted(tmp_path.glob("sw.db.rescued-*"))
    assert len(saved) == 1, sorted(p.name for p in tmp_path.iterdir())
    assert query(saved[0], "SELECT id FROM alerts") == [("story-1",)]
    said = [r.getMessage() for r in caplog.records if str(saved[0]) in r.getMessage()]
    assert said == [
        f"the database file {db} was {how} while the service ran: what it held is saved to"
        f" {saved[0]}; to go on with it, move that file to {db} before the next start"
    ]


async def test_with_its_folder_gone_what_the_service_held_is_saved_in_the_temp_folder(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `rm -rf data/` (or a volume unmounted) under the running service: the copy beside the
    # path had no folder to go to, and everything the database held went with the process.
    data = tmp_path / "data"
    data.mkdir()
    db = data / "sw.db"
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    app = app_with_one_alert(db)
    shutil.rmtree(data)
    caplog.set_level(logging.INFO)
    stop = asyncio.Event()
    stop.set()
    assert await asyncio.wait_for(service.serve_app(app, once=False, stop=stop), 30) == 0

    saved = sorted(temp.glob("sw.db.rescued-*"))
    assert len(saved) == 1, sorted(p.name for p in temp.iterdir())
    assert query(saved[0], "SELECT id FROM alerts") == [("story-1",)]
    assert any(
        f"what it held is saved to {saved[0]}; to go on with it, move that file to {db}"
        in r.getMessage()
        for r in caplog.records
    )
