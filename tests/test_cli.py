"""The `stancewatch` command line, run as users run it: in a subprocess."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.conftest import rss

ROOT = Path(__file__).resolve().parents[1]
STANCEWATCH = [sys.executable, "-m", "bot"]

GOOD_FEED = rss(
    "Good Wire",
    [
        {
            "title": "Allies discuss security guarantees for Ukraine",
            "link": "https://good.example/a1",
            "description": "European leaders discussed guarantees for Kyiv. A force may deploy.",
        },
        {
            "title": "Heatwave grips southern Spain",
            "link": "https://good.example/a2",
            "description": "Temperatures topped 44C in Seville on Tuesday.",
        },
    ],
)
BAD_PATHS = {
    "/malformed.xml": "malformed XML",
    "/page.html": "HTML page",
    "/empty.xml": "empty response body",
    "/missing.xml": "404",
    "/broken.xml": "500",
    "/stalled.xml": "timed out",
    "/loop.xml": "redirect",
}


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass

    def _send(self, code: int, body: bytes, ctype: str = "application/rss+xml") -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path == "/good.xml":
            self._send(200, GOOD_FEED)
        elif self.path == "/malformed.xml":
            self._send(200, b'<?xml version="1.0"?>\n<rss version="2.0">\n<channel>\n<<<x>>>\n')
        elif self.path == "/page.html":
            self._send(200, b"<!DOCTYPE html><html><body><p>Hello</p></body></html>", "text/html")
        elif self.path == "/empty.xml":
            self._send(200, b"")
        elif self.path == "/missing.xml":
            self._send(404, b"not found", "text/plain")
        elif self.path == "/broken.xml":
            self._send(500, b"oops", "text/plain")
        elif self.path == "/stalled.xml":
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.write(b'<?xml version="1.0"?><rss')
            self.wfile.flush()
            time.sleep(120)  # far past the 2 s timeout: only the fetcher can end it
        elif self.path == "/loop.xml":
            self.send_response(302)
            self.send_header("Location", "/loop.xml")
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self._send(404, b"", "text/plain")


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.block_on_close = False  # the stalled handler must not hold up teardown
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _run(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})}
    for name in ("DISCORD_TOKEN", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "DISCORD_WEBHOOK_URL"):
        full_env.pop(name, None)
    return subprocess.run(
        [*STANCEWATCH, *args],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_check_on_shipped_watchlists_exits_0() -> None:
    done = _run("check", "--watchlists", str(ROOT / "watchlists"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok: ")


def test_check_on_broken_folder_prints_each_problem_and_exits_1(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        "topics:\n"
        "  - id: guarantees\n"
        "    name: Guarantees\n"
        "    description: Security guarantees for Ukraine.\n"
        "    threshold: 1.5\n"
        "feeds:\n"
        "  - url: https://example.org/rss\n"
        "    interval: 10x\n",
        encoding="utf-8",
    )
    (tmp_path / "b.yaml").write_text("topics: [\n", encoding="utf-8")
    done = _run("check", "--watchlists", str(tmp_path))
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    assert any(line.startswith(f"{a}:5: topics[0].threshold: ") for line in lines), lines
    assert any(line.startswith(f"{a}:8: feeds[0].interval: ") for line in lines), lines
    assert any(line.startswith(f"{b}:") and "YAML syntax error" in line for line in lines), lines


def test_run_once_stores_good_feed_and_marks_each_bad_feed_failing(
    tmp_path: Path, server: str
) -> None:
    folder = tmp_path / "watchlists"
    folder.mkdir()
    feeds = "".join(
        f"  - url: {server}{path}\n    name: {path.strip('/')}\n    interval: 10m\n"
        for path in ["/good.xml", *BAD_PATHS]
    )
    (folder / "w.yaml").write_text(
        "topics:\n"
        "  - id: guarantees\n"
        "    name: Security guarantees for Ukraine\n"
        "    description: Post-war security guarantees for Ukraine, a reassurance force.\n"
        f"feeds:\n{feeds}",
        encoding="utf-8",
    )
    db = tmp_path / "sw.db"
    started = time.monotonic()
    done = _run(
        "run",
        "--once",
        "--watchlists",
        str(folder),
        "--db",
        str(db),
        env={"STANCEWATCH_FETCH_TIMEOUT": "2"},
        timeout=120,
    )
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    # Loading the model dominates and varies with machine load; a hang on the stalled
    # feed would last 120 s.
    assert elapsed < 90, elapsed

    con = sqlite3.connect(db)
    try:
        urls = {row[0] for row in con.execute("SELECT url FROM articles")}
        assert urls == {"https://good.example/a1", "https://good.example/a2"}
        states = {
            row[0].removeprefix(server): (row[1], row[2] or "")
            for row in con.execute("SELECT url, status, last_error FROM feeds")
        }
        failed_at = {
            row[0].removeprefix(server): datetime.fromisoformat(row[1])
            for row in con.execute("SELECT url, last_error_at FROM feeds WHERE last_error_at")
        }
    finally:
        con.close()
    assert states.pop("/good.xml") == ("ok", "")
    assert set(states) == set(BAD_PATHS)
    for path, fragment in BAD_PATHS.items():
        status, error = states[path]
        assert status == "failing", (path, status)
        assert error, path
        assert fragment.lower() in error.lower(), (path, error)
    # The stalled feed was given up within its time limit (connect 5 s + 2 x read 2 s),
    # counted from when the quick failures were recorded.
    stalled_for = failed_at["/stalled.xml"] - min(failed_at.values())
    assert stalled_for < timedelta(seconds=10), stalled_for
