"""Local fakes for the reliability tests: a feed server and a Slack incoming webhook."""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from rich.console import Console

from bot.app import App, build_app
from bot.delivery.console import ConsoleDelivery
from bot.hot_reload import watch_watchlists
from bot.models import Watchlist
from bot.reload import LoadedFrom
from bot.settings import Settings
from bot.watchlists import load_watchlists
from tests.conftest import rss

ROOT = Path(__file__).resolve().parents[2]
STANCEWATCH = [sys.executable, "-m", "bot"]
SECRET_VARS = ("DISCORD_TOKEN", "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "DISCORD_WEBHOOK_URL")

# Eight distinct stories, each plainly about one tracked topic.
ON_TOPIC = [
    (
        "Pentagon approves new Patriot interceptor shipment for Kyiv",
        "The Pentagon approved a shipment of Patriot air-defence interceptors and artillery"
        " shells for Ukraine's armed forces. Deliveries are due within weeks.",
    ),
    (
        "Germany pledges more Leopard tanks and drones to Ukraine",
        "Berlin said it would deliver additional Leopard tanks and reconnaissance drones to"
        " Ukrainian forces as part of a new military aid package.",
    ),
    (
        "Coalition drafts reassurance force plan for post-ceasefire Ukraine",
        "European defence chiefs drew up plans for a reassurance force and air policing to"
        " guarantee Ukraine's security once a ceasefire holds.",
    ),
    (
        "Macron says Article 5-style guarantee for Kyiv is within reach",
        "France's president said allies were close to offering Ukraine a mutual-defence pledge"
        " modelled on NATO's Article 5 as part of a peace settlement.",
    ),
    (
        "Rutte says Ukraine's path to NATO membership is irreversible",
        "NATO's secretary general told allies that Ukraine's eventual membership of the"
        " alliance remained on the table despite objections from Moscow.",
    ),
    (
        "Hungary blocks talks on inviting Ukraine into NATO",
        "Budapest vetoed a statement on Ukraine's accession to NATO, saying membership for"
        " Kyiv would drag the alliance into war with Russia.",
    ),
    (
        "Britain to send long-range Storm Shadow missiles to Ukrainian army",
        "London confirmed a further delivery of Storm Shadow cruise missiles to Ukraine's"
        " military, with the weapons shipped in the coming days.",
    ),
    (
        "Kremlin rejects any Western troops in Ukraine under a peace deal",
        "Moscow said any deployment of European soldiers on Ukrainian soil as part of security"
        " guarantees was unacceptable and would be a legitimate target.",
    ),
]

OFF_TOPIC = [
    (
        "Heatwave grips southern Spain",
        "Temperatures topped 44C in Seville on Tuesday as the heatwave continued.",
    ),
    (
        "Rovers beat United 3-1 to stay top of the league",
        "A late double from the captain sealed the win in front of a record crowd.",
    ),
]


@dataclass
class Reply:
    """What the feed server answers for one path."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/rss+xml"
    # Set: the answer waits until the test sets it (a feed slow to answer, for as long as
    # the test needs something to happen meanwhile).
    gate: threading.Event | None = None


class _Server:
    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.httpd.block_on_close = False
        self.port = int(self.httpd.server_address[1])
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class FeedServer(_Server):
    """Serves `replies[path]`; counts requests per path."""

    def __init__(self) -> None:
        self.replies: dict[str, Reply] = {}
        self.hits: dict[str, int] = {}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                reply = outer.replies.get(self.path, Reply(404, b"not found"))
                outer.hits[self.path] = outer.hits.get(self.path, 0) + 1
                if reply.gate is not None:
                    reply.gate.wait(timeout=30)
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(reply.body)))
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(reply.body)

        super().__init__(Handler)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


class FakeWebhook(_Server):
    """A Slack incoming webhook: records each POSTed JSON, answers "ok" after `delay_s`.

    `script` (optional) decides the answer per request number: (status, body, headers).
    """

    def __init__(
        self,
        delay_s: float = 0.3,
        script: Callable[[int], tuple[int, str, dict[str, str]]] | None = None,
    ) -> None:
        self.delay_s = delay_s
        self.script = script
        self.received: list[dict[str, Any]] = []
        self.accepted: list[dict[str, Any]] = []
        self.first_post = threading.Event()
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                payload = json.loads(self.rfile.read(length) or b"{}")
                with outer._lock:
                    number = len(outer.received)
                    outer.received.append(payload)
                outer.first_post.set()
                time.sleep(outer.delay_s)
                status, body, headers = outer.script(number) if outer.script else (200, "ok", {})
                if status == 200:
                    # Recorded before the answer is sent: once the client has its "ok", a
                    # test may look, and must find the post (it did not, now and then).
                    with outer._lock:
                        outer.accepted.append(payload)
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(data)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)
                self.wfile.flush()

        super().__init__(Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def count(self, title: str, accepted_only: bool = False) -> int:
        """How many recorded posts carry this alert title."""
        with self._lock:
            posts = list(self.accepted if accepted_only else self.received)
        return sum(1 for p in posts if title in json.dumps(p, ensure_ascii=False))


@contextmanager
def serving(server: _Server) -> Iterator[Any]:
    server.start()
    try:
        yield server
    finally:
        server.stop()


def rss_items(items: list[tuple[str, str]], prefix: str) -> list[dict[str, str]]:
    """RSS item dicts with distinct links under a fake host."""
    return [
        {"title": t, "description": d, "link": f"https://news.example/{prefix}/{i}"}
        for i, (t, d) in enumerate(items)
    ]


def watchlist_folder(tmp_path: Path, files: dict[str, str]) -> tuple[Path, Watchlist]:
    """A `watchlists` folder holding these files (name: text), and the watchlist they load to."""
    folder = tmp_path / "watchlists"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    watchlist = load_watchlists(folder, env={}).watchlist
    assert watchlist is not None, f"the test's own watchlists do not load: {files}"
    return folder, watchlist


def write_watchlist(folder: Path, feeds: list[str], *, hook: str | None = None) -> None:
    """The shipped topics and actors, with these feeds (interval 1m) and an all-topic route."""
    folder.mkdir(parents=True, exist_ok=True)
    shipped = (ROOT / "watchlists" / "ukraine-talks.yaml").read_text(encoding="utf-8")
    # Keep actors and topics; drop the shipped feeds and routes.
    cut = min(
        (i for i in (shipped.find("\nfeeds:"), shipped.find("\nroutes:")) if i >= 0),
        default=len(shipped),
    )
    text = shipped[:cut] + "\nfeeds:\n"
    for i, url in enumerate(feeds):
        text += f"  - url: {url}\n    name: Feed {i}\n    interval: 1m\n"
    if hook:
        text += '\nroutes:\n  - topics: ["*"]\n    slack_webhook: ' + hook + "\n"
    (folder / "w.yaml").write_text(text, encoding="utf-8")


@dataclass
class Service:
    """A watchlist folder and database whose feed has had its first (history-only) poll."""

    folder: Path
    db: Path
    history: list[dict[str, str]]

    @property
    def paths(self) -> tuple[str, ...]:
        """The --watchlists and --db arguments for `stancewatch run`."""
        return ("--watchlists", str(self.folder), "--db", str(self.db))

    def publish_new_items(self, feeds: FeedServer) -> None:
        """Put the on-topic stories on top of the feed, as a publisher would."""
        items = rss_items(ON_TOPIC, "new") + self.history
        feeds.replies["/wire.xml"] = Reply(body=rss("Wire", items))


def after_first_poll(tmp_path: Path, feeds: FeedServer, hook: FakeWebhook) -> Service:
    """Serve off-topic history, run one pass (the first poll alerts nothing), check it did."""
    history = rss_items(OFF_TOPIC, "old")
    feeds.replies["/wire.xml"] = Reply(body=rss("Wire", history))
    service = Service(tmp_path / "watchlists", tmp_path / "sw.db", history)
    write_watchlist(service.folder, [feeds.url("/wire.xml")], hook=hook.url)
    first = run("run", "--once", *service.paths)
    assert first.returncode == 0, first.stderr[-3000:]
    assert query(service.db, "SELECT first_polled_at FROM feeds")[0][0], "first poll not recorded"
    assert hook.received == [], "the first poll must not alert"
    return service


def env_for(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The test's environment without real secrets, offline."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    for name in SECRET_VARS:
        env.pop(name, None)
    env.update(extra or {})
    return env


def start(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """Start `stancewatch ARGS` with stdout and stderr captured."""
    return subprocess.Popen(
        [*STANCEWATCH, *args],
        cwd=ROOT,
        env=env_for(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run `stancewatch ARGS` to the end."""
    return subprocess.run(
        [*STANCEWATCH, *args],
        cwd=ROOT,
        env=env_for(env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def kill(proc: subprocess.Popen[str]) -> None:
    """SIGKILL a process we started (if still running) and reap it."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)


def query(db: Path, sql: str, *params: object) -> list[tuple[Any, ...]]:
    """Run one statement on the service's database; its rows."""
    con = sqlite3.connect(db, timeout=10)
    try:
        rows = list(con.execute(sql, params))
        con.commit()
        return rows
    finally:
        con.close()


def wait_for(check: Callable[[], bool], timeout: float, step: float = 0.2) -> bool:
    """Poll `check` until true or timeout; True when it became true."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if check():
                return True
        except sqlite3.Error:
            pass
        time.sleep(step)
    return False


class Recorder(ConsoleDelivery):
    """The console delivery into a buffer, keeping admin notices apart."""

    def __init__(self) -> None:
        self.out = io.StringIO()
        super().__init__(Console(file=self.out, width=120))
        self.notices: list[str] = []

    async def notify_admins(self, text: str) -> None:
        self.notices.append(text)


def app_for_feeds(tmp_path: Path, urls: list[str], embedder: Any, **settings: Any) -> App:
    """An app on these feeds (the shipped topics), its alerts into a `Recorder`."""
    folder = tmp_path / "watchlists"
    write_watchlist(folder, urls)
    watchlist = load_watchlists(folder, env={}).watchlist
    assert watchlist is not None
    config = replace(Settings(), db_path=tmp_path / "sw.db", **settings)
    return build_app(config, watchlist, embedder=embedder, deliveries=[Recorder()])


def alert_titles(app: App) -> list[str]:
    """The titles of every alert the app made, sorted."""
    rows = app.store.db.execute("SELECT json_extract(payload, '$.title') FROM alerts")
    return sorted(str(r[0]) for r in rows)


class ReloadingApp:
    """What `watch_watchlists` uses of the app: its settings, watchlist and admin channel."""

    def __init__(self, folder: Path, watchlist: Watchlist) -> None:
        self.settings = replace(Settings(), watchlists_dir=folder)
        self.watchlist = watchlist
        self.applied = asyncio.Event()
        self.notices: list[str] = []
        self.loaded_from: LoadedFrom | None = None  # as an app built by `run` has it

    def use_watchlist(self, watchlist: Watchlist) -> None:
        self.watchlist = watchlist
        self.applied.set()

    def left_behind(self, before: Watchlist | None) -> list[str]:
        return []

    async def writes_taken(self) -> bool:
        return True  # no database here: nothing to wait for

    async def notify_admins(self, text: str) -> None:
        self.notices.append(text)


@asynccontextmanager
async def watching(app: Any) -> AsyncIterator[asyncio.Task[None]]:
    """The watchlist watcher running on `app` (a fake with what it uses), started before the
    body's edits and stopped after them."""
    stop = asyncio.Event()
    watcher = asyncio.create_task(watch_watchlists(app, stop))
    try:
        await asyncio.sleep(0.5)  # let the watcher start before the edits
        yield watcher
    finally:
        stop.set()
        await asyncio.wait_for(watcher, timeout=15)
