"""Hot reload in the running service: a bad edit is refused, a good one applied."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import rss
from tests.reliability.helpers import (
    OFF_TOPIC,
    FeedServer,
    Reply,
    kill,
    rss_items,
    serving,
    start,
    write_watchlist,
)

pytestmark = pytest.mark.slow

NEW_TOPIC = """
  - id: grain-corridor
    name: Black Sea grain corridor
    description: Safe passage for grain ships leaving Ukrainian ports across the Black Sea.
"""


class _Lines:
    """Collects a process's stderr lines in a thread, so the test can wait for one."""

    def __init__(self, stream: object) -> None:
        self.lines: list[str] = []
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: object) -> None:
        for line in stream:  # type: ignore[attr-defined]
            with self._cond:
                self.lines.append(line)
                self._cond.notify_all()

    def wait(self, needle: str, timeout: float) -> str | None:
        end = time.monotonic() + timeout
        with self._cond:
            while True:
                found = next((line for line in self.lines if needle in line), None)
                if found is not None or time.monotonic() >= end:
                    return found
                self._cond.wait(end - time.monotonic())


def test_bad_edit_refused_with_file_and_line_then_good_edit_reloaded(tmp_path: Path) -> None:
    with serving(FeedServer()) as feeds:
        feeds.replies["/wire.xml"] = Reply(body=rss("Wire", rss_items(OFF_TOPIC, "old")))
        folder, db = tmp_path / "watchlists", tmp_path / "sw.db"
        write_watchlist(folder, [feeds.url("/wire.xml")])
        good = (folder / "w.yaml").read_text(encoding="utf-8")
        proc = start("run", "--watchlists", str(folder), "--db", str(db))
        assert proc.stderr is not None
        log = _Lines(proc.stderr)
        try:
            assert log.wait("scheduler started", 120), "".join(log.lines)[-3000:]
            time.sleep(1.0)  # the watcher starts with the scheduler

            bad = folder / "extra.yaml"
            bad.write_text("topics:\n  - id: broken\n    name: [unclosed\n", encoding="utf-8")
            refused = log.wait("watchlist edit refused", 15)
            assert refused, "".join(log.lines)[-3000:]
            assert f"{bad}:" in refused, refused
            line = refused.split(f"{bad}:", 1)[1].split(":", 1)[0]
            assert line.isdigit() and int(line) >= 2, refused
            assert proc.poll() is None, "the service stopped on a bad edit"

            bad.unlink()
            topics_at = good.index("\ntopics:\n") + len("\ntopics:\n")
            (folder / "w.yaml").write_text(
                good[:topics_at] + NEW_TOPIC.lstrip("\n") + good[topics_at:], encoding="utf-8"
            )
            reloaded = log.wait("+ topic grain-corridor", 20)
            assert reloaded and "watchlists reloaded" in reloaded, "".join(log.lines)[-3000:]
            assert proc.poll() is None

            os.kill(proc.pid, signal.SIGTERM)
            assert proc.wait(30) == 0
        finally:
            kill(proc)
