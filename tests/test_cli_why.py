"""`stancewatch why URL`: a team without Discord or Slack yet reads what `/why` answers."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

from bot.commands import Commands
from tests.conftest import rss
from tests.one_feed import DRILLS, one_feed

ROOT = Path(__file__).resolve().parents[1]
# The watchlist the feed's app was built with, as a team would have written it.
WATCHLIST = f"""topics:
  - id: {DRILLS.id}
    name: {DRILLS.name}
    description: {DRILLS.description}
    threshold: {DRILLS.threshold}
"""
OLD = {"title": "Harbour navy drills begin", "link": "https://news.example/old"}
NEW = {"title": "Navy ships exercise in the harbour", "link": "https://news.example/new"}


def _why(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STANCEWATCH_")}
    return subprocess.run(
        [sys.executable, "-m", "bot", "why", *args],
        cwd=ROOT,
        env={**env, "HF_HUB_OFFLINE": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_why_in_the_terminal_explains_an_alert_and_a_history_only_article(
    tmp_path: Path,
) -> None:
    async with one_feed(tmp_path, rss("News", [OLD])) as served:
        await served.poll()  # the feed's first poll: history, no alert
        served.body = rss("News", [OLD, NEW])
        await served.poll()
        assert await served.sent_titles() == [NEW["title"]]
    folder = tmp_path / "watchlists"
    folder.mkdir()
    (folder / "drills.yaml").write_text(WATCHLIST, encoding="utf-8")
    paths = ("--db", str(tmp_path / "s.db"), "--watchlists", str(folder))

    alerted = _why(NEW["link"], *paths)
    assert alerted.returncode == 0, alerted.stderr
    assert alerted.stdout.startswith(f"Why: {NEW['title']}\n"), alerted.stdout
    assert "Harbour drills: " in alerted.stdout and "(threshold 0.30, matched)" in alerted.stdout
    assert "Alerted." in alerted.stdout

    history = _why(OLD["link"], *paths)
    assert history.returncode == 0, history.stderr
    assert "Not alerted (first poll of its feed: history only)." in history.stdout

    unknown = _why("https://news.example/never-seen", *paths)
    assert unknown.returncode == 1
    assert "I have not seen that article." in unknown.stdout
    assert "Traceback" not in unknown.stderr


def test_why_on_a_mistyped_database_names_it_and_creates_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "watchlists"
    folder.mkdir()
    (folder / "drills.yaml").write_text(WATCHLIST, encoding="utf-8")
    missing = tmp_path / "typo.db"
    done = _why("https://news.example/a", "--db", str(missing), "--watchlists", str(folder))
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == f"error: database not found: {missing}"
    assert not missing.exists()


async def test_why_says_why_a_matched_article_was_history_only(tmp_path: Path) -> None:
    # A matched article that was not alerted got a bare "Not alerted." unless it came in
    # its feed's first poll: a member asking /why about it learnt nothing.
    reissued = {**OLD, "link": "https://news.example/old?ts=2", "guid": "old-again"}
    archive = {
        "title": "Harbour navy drills exercise ships, archive",
        "link": "https://news.example/archive",
        "date": format_datetime(datetime.now(UTC) - timedelta(days=30)),
    }
    async with one_feed(tmp_path, rss("News", [OLD])) as served:
        await served.poll()  # the feed's first poll: history, no alert
        served.body = rss("News", [reissued, archive])
        await served.poll()
        assert await served.sent_titles() == []
        commands = Commands(served.app)
        again = commands.why(reissued["link"]).text
        old = commands.why(archive["link"]).text
    assert "(threshold 0.30, matched)" in again
    assert "Not alerted (its feed gave this story at its first poll: history only)." in again
    assert "(threshold 0.30, matched)" in old
    assert "Not alerted (dated more than 7 days before it was first seen: history only)." in old


async def test_why_on_a_second_copy_names_the_alert_it_joined(tmp_path: Path) -> None:
    # A member who sees an outlet's copy of an alerted story asks /why about that copy:
    # the answer must name the alert it was folded into, not "Not alerted".
    copy = {**NEW, "link": "https://news.example/new-copy", "guid": "copy-of-new"}
    async with one_feed(tmp_path, rss("News", [OLD])) as served:
        await served.poll()  # the feed's first poll: history, no alert
        served.body = rss("News", [OLD, NEW])
        await served.poll()
        served.body = rss("News", [copy, NEW, OLD])
        await served.poll()
        assert await served.sent_titles() == [NEW["title"]]
        commands = Commands(served.app)
        folded = commands.why(copy["link"]).text
    assert f"\nStory: Folded into the alert for “{NEW['title']}” (News)." in folded
    assert "(threshold 0.30, matched)" in folded
