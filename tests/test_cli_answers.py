"""`stancewatch positions` and `stancewatch feeds`: what `/positions` and `/feeds` answer, in
the terminal, for a team with no chat platform yet or an admin on the server."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from bot.models import Feed, Statement
from bot.store.sqlite import SQLiteStore
from tests.conftest import rss
from tests.one_feed import one_feed

ROOT = Path(__file__).resolve().parents[1]
GONE = "http://127.0.0.1:9/gone.xml"  # nothing listens there
WATCHLIST = """\
actors:
  - id: norway
    name: Norway
    aliases: [Oslo]
topics:
  - id: seabed-claims
    name: Arctic seabed claims
    description: Claims to the Arctic seabed beyond the continental shelf.
    positions:
      - id: presses-claim
        label: presses its claim to the seabed
      - id: accepts-ruling
        label: accepts the commission's ruling on the claims
  - id: drills
    name: Harbour drills
    description: harbour navy drills exercise ships
"""


def _stancewatch(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STANCEWATCH_")}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=ROOT,
        env={**env, "HF_HUB_OFFLINE": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _folder(tmp_path: Path, extra: str = "") -> Path:
    folder = tmp_path / "watchlists"
    folder.mkdir(exist_ok=True)
    (folder / "arctic.yaml").write_text(WATCHLIST + extra, encoding="utf-8")
    return folder


def test_positions_in_the_terminal_show_the_label_and_the_evidence(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    store = SQLiteStore(db)
    with store.transaction():
        store.add_statements(
            [
                Statement(
                    "norway",
                    "seabed-claims",
                    "accepts-ruling",
                    "Norway said it would abide by the commission's findings.",
                    0.97,
                    article_id="a1",
                    source="Polar Wire",
                    published=datetime(2026, 11, 20, 9, tzinfo=UTC),
                    url="https://news.example/a1",
                )
            ]
        )
    store.close()
    paths = ("--db", str(db), "--watchlists", str(_folder(tmp_path)))

    done = _stancewatch("positions", "seabed-claims", *paths)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Positions on Arctic seabed claims\n"), done.stdout
    assert "Norway: accepts the commission's ruling on the claims" in done.stdout
    assert "abide by the commission's findings" in done.stdout and "(Polar Wire)" in done.stdout

    unknown = _stancewatch("positions", "seabed-claim", "Sweden", *paths)
    assert unknown.returncode == 1
    assert "Traceback" not in unknown.stderr


def test_feeds_in_the_terminal_put_the_feed_in_trouble_first(tmp_path: Path) -> None:
    async def poll_once() -> str:
        async with one_feed(tmp_path, rss("News", [])) as served:
            await served.poll()
            return served.feed.url

    good = asyncio.run(poll_once())
    db = tmp_path / "s.db"
    store = SQLiteStore(db)
    now = datetime.now(UTC)
    store.sync_feeds([Feed(good, "Good news", 600.0), Feed(GONE, "Gone news", 600.0)], now)
    store.record_fetch_error(GONE, now, "HTTP 404", now, "failing")
    store.close()
    feeds = f"""feeds:
  - url: {good}
    name: Good news
  - url: {GONE}
    name: Gone news
"""
    done = _stancewatch("feeds", "--db", str(db), "--watchlists", str(_folder(tmp_path, feeds)))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("2 feeds\n"), done.stdout
    listed = [line for line in done.stdout.splitlines() if line.endswith(" news:")]
    assert listed == ["Gone news:", "Good news:"], done.stdout
    assert "last error: HTTP 404" in done.stdout


def test_an_unknown_topic_in_the_terminal_lists_the_topics_not_a_slash_command(
    tmp_path: Path,
) -> None:
    # "/topics lists every topic." is the chat answer; in the terminal there is no /topics
    # (nor a `stancewatch topics`), so a newcomer who mistyped the id was sent nowhere.
    db = tmp_path / "s.db"
    SQLiteStore(db).close()
    paths = ("--db", str(db), "--watchlists", str(_folder(tmp_path)))

    done = _stancewatch("positions", "glacier-melt", *paths)
    assert done.returncode == 1
    assert "/topics" not in done.stdout
    assert "Arctic seabed claims" in done.stdout and "Harbour drills" in done.stdout
