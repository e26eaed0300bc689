"""`stancewatch bench --soak MINUTES`: the service pipeline for a while against changing feeds.

Local feeds gain items every few seconds; a local fake Slack webhook sometimes fails (500)
or rate-limits (429 with Retry-After). The report compares alerts expected with alerts the
webhook accepted, counts duplicates, and shows memory at the start and the end.

The hourly cap applies as in the service (STANCEWATCH_MAX_ALERTS_PER_HOUR): an alert beyond
it is delivered as a line of a digest, not lost, so it counts as delivered, and the report
says how many went each way. The digests still waiting when the run ends are sent then, as
`run --once` sends them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import re
import sqlite3
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.app import build_app
from bot.bench import FeedServer, shipped_watchlist
from bot.bench_news import generate_items
from bot.delivery.slack.delivery import SlackDelivery
from bot.local_http import LocalServer
from bot.models import Feed, Route
from bot.settings import Settings, load_settings

log = logging.getLogger(__name__)

FEEDS = 3
NEW_ITEM_EVERY_S = 3.0
TICK_S = 1.0
FAIL_RATE = 0.10  # share of webhook posts answered 500
LIMIT_RATE = 0.10  # share answered 429 with Retry-After
RETRY_AFTER_S = 2
FINAL_DRAIN_S = 300.0  # after the run, how long the outbox may take to empty


def rss_mb() -> float:
    """Resident memory of this process now, in MB (Linux /proc; 0 elsewhere)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return 0.0


@dataclass
class FakeWebhook(LocalServer):
    """A Slack incoming webhook that records accepted posts and sometimes refuses."""

    rng: random.Random
    accepted: list[str] = field(default_factory=list)
    answers: dict[int, int] = field(default_factory=dict)

    async def _hook(self, request: web.Request) -> web.Response:
        payload = await request.json()
        roll = self.rng.random()
        status = 500 if roll < FAIL_RATE else 429 if roll < FAIL_RATE + LIMIT_RATE else 200
        self.answers[status] = self.answers.get(status, 0) + 1
        if status == 429:
            return web.Response(
                status=429, text="rate_limited", headers={"Retry-After": str(RETRY_AFTER_S)}
            )
        if status == 500:
            return web.Response(status=500, text="internal_error")
        self.accepted.append(json.dumps(payload, ensure_ascii=False))
        return web.Response(text="ok")

    def add_routes(self, app: web.Application) -> None:
        """POST /hook is the webhook."""
        app.router.add_post("/hook", self._hook)


async def soak(minutes: float, tmp: Path, seed: int = 7) -> dict[str, Any]:
    """Run the pipeline and outbox for `minutes` against changing feeds; the report."""
    rng = random.Random(seed)
    server, hook = FeedServer(), FakeWebhook(random.Random(seed + 1))
    await server.start()
    await hook.start()
    names = [f"soak-{i}" for i in range(FEEDS)]
    for name in names:
        server.publish(name, generate_items(10, rng, name))
    feeds = tuple(Feed(server.url(n), f"Soak {n}", 2.0) for n in names)
    route = Route(("*",), slack_webhook=f"http://127.0.0.1:{hook.port}/hook")
    watchlist = replace(shipped_watchlist(), feeds=feeds, routes=(route,))
    cap = load_settings().max_alerts_per_hour
    settings = replace(Settings(), db_path=tmp / "soak.db", max_alerts_per_hour=cap)
    app = build_app(settings, watchlist, deliveries=[])
    app.deliveries.append(SlackDelivery(app.store, settings))
    figures: dict[str, Any] = {"minutes": minutes, "feeds": FEEDS}
    try:
        await app.pipeline.poll(feeds)  # history; also loads the model before memory is read
        figures["rss_mb_start"] = rss_mb()
        started = time.monotonic()
        end = started + minutes * 60
        next_item, published, polls = started, 0, 0
        while time.monotonic() < end:
            if time.monotonic() >= next_item:
                name = rng.choice(names)
                item = generate_items(1, rng, f"{name}-n{published}")[0]
                server.add_item(name, item)
                published += 1
                next_item += NEW_ITEM_EVERY_S
            await app.pipeline.poll()
            await app.outbox.drain()
            polls += 1
            await asyncio.sleep(TICK_S)
        run_s = time.monotonic() - started
        app.outbox.release_digests()  # no digest is left waiting for a timer after the run
        drain_end = time.monotonic() + FINAL_DRAIN_S
        while app.store.pending_count() and time.monotonic() < drain_end:
            await app.outbox.drain()
            await asyncio.sleep(TICK_S)
        figures["rss_mb_end"] = rss_mb()
        # The tally counts rows the Store protocol has no question for: it reads the file.
        with contextlib.closing(sqlite3.connect(app.store.path)) as db:
            figures.update(_tally(db, hook, published, polls, run_s))
        figures["max_alerts_per_hour"] = cap
    finally:
        await app.close()
        await server.stop()
        await hook.stop()
    return figures


# A digest's header ("12 more alerts, in brief"), as bot/delivery/digest.py words it.
_DIGEST_HEADER = re.compile(r'"text": "\d+ more alerts?, in brief')


def _carries(payload: str, url: str) -> bool:
    """True when the payload links this very URL (".../n1" is not in a post of ".../n10")."""
    return re.search(re.escape(url) + r'(?=[|>\s"\\]|$)', payload) is not None


def _tally(db: Any, hook: FakeWebhook, published: int, polls: int, run_s: float) -> dict[str, Any]:
    urls = [str(r[0]) for r in db.execute("SELECT json_extract(payload, '$.url') FROM alerts")]
    counts = {u: sum(1 for p in hook.accepted if _carries(p, u)) for u in urls}
    digests = [p for p in hook.accepted if _DIGEST_HEADER.search(p)]
    in_digest = {u for u in urls if any(_carries(p, u) for p in digests)}
    statuses = dict(db.execute("SELECT status, COUNT(*) FROM outbox GROUP BY status").fetchall())
    return {
        "run_seconds": round(run_s, 1),
        "items_published": published,
        "poll_cycles": polls,
        "articles_stored": db.execute("SELECT COUNT(*) FROM articles").fetchone()[0],
        "alerts_expected": len(urls),
        "alerts_delivered": sum(1 for n in counts.values() if n),
        "alerts_as_cards": sum(1 for u, n in counts.items() if n and u not in in_digest),
        "alerts_in_digests": len(in_digest),
        "digest_messages": len(digests),
        "alerts_missing": sum(1 for n in counts.values() if not n),
        "duplicates": sum(n - 1 for n in counts.values() if n > 1),
        "webhook_answers": {str(k): v for k, v in sorted(hook.answers.items())},
        "outbox": statuses,
    }


def run_soak(minutes: float) -> dict[str, Any]:
    """Soak the pipeline for `minutes` in a temporary folder; the JSON-ready report."""
    with tempfile.TemporaryDirectory(prefix="stancewatch-soak-") as tmp:
        return asyncio.run(soak(minutes, Path(tmp)))
