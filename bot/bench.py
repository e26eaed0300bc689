"""`stancewatch bench`: throughput, latency and memory of the real pipeline on local feeds.

Generated feeds (topical and off-topic news sentences built from templates) are served by a
local aiohttp server on 127.0.0.1 that honours ETags (304 when If-None-Match matches) and
counts how many requests it serves at once. One run measures:

- the floor: the model alone encoding each article's title + text (batch 64);
- the first pass of the real pipeline over every feed, and its ratio to the floor;
- a second pass with nothing changed (all 304, no embedding) as a share of the first;
- articles per second, new-item-to-delivery latency, peak RSS and start-up time;
- scaling: the first pass over 100, 1,000 and 5,000 articles (time per article);
- 1,000 unchanged feeds polled at once, with the per-host limit the server observed.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import random
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from aiohttp import web

from bot.app import App, build_app
from bot.bench_news import NEW_ITEM, Item, generate_items, render_rss
from bot.delivery.console import ConsoleDelivery
from bot.local_http import LocalServer
from bot.matching.embedder import Embedder, SentenceTransformerEmbedder
from bot.models import Alert, Destination, Feed, Route, Watchlist
from bot.settings import Settings, load_settings
from bot.watchlists import load_watchlists

log = logging.getLogger(__name__)

SCALING_SIZES = (100, 1_000, 5_000)
UNCHANGED_FEEDS = 1_000
FLOOR_BATCH = 64

# --- the local feed server ---------------------------------------------------------------


@dataclass
class ServerCounts:
    """What the server saw: statuses and the most requests it served at once."""

    ok: int = 0
    not_modified: int = 0
    in_flight: int = 0
    max_in_flight: int = 0


class FeedServer(LocalServer):
    """Serves generated feeds at /<name>.xml with ETags; counts concurrent requests."""

    def __init__(self) -> None:
        self.items: dict[str, list[Item]] = {}
        self._bodies: dict[str, tuple[bytes, str]] = {}
        self.counts = ServerCounts()

    def url(self, name: str) -> str:
        """The feed's URL on this server."""
        return f"http://127.0.0.1:{self.port}/{name}.xml"

    def publish(self, name: str, items: list[Item]) -> None:
        """Set (or replace) a feed's items; its ETag changes with its content."""
        self.items[name] = items
        body = render_rss(name, f"http://bench.invalid/{name}", items)
        self._bodies[name] = (body, '"' + hashlib.sha1(body).hexdigest()[:16] + '"')

    def add_item(self, name: str, item: Item) -> None:
        """Put a new item at the top of a feed."""
        self.publish(name, [item, *self.items[name]])

    def reset_counts(self) -> None:
        """Start counting afresh (per pass)."""
        self.counts = ServerCounts()

    async def _feed(self, request: web.Request) -> web.StreamResponse:
        counts = self.counts
        counts.in_flight += 1
        counts.max_in_flight = max(counts.max_in_flight, counts.in_flight)
        try:
            await asyncio.sleep(0)  # let concurrent requests overlap, as on a real server
            found = self._bodies.get(request.match_info["name"].removesuffix(".xml"))
            if found is None:
                raise web.HTTPNotFound()
            body, etag = found
            if request.headers.get("If-None-Match") == etag:
                counts.not_modified += 1
                return web.Response(status=304, headers={"ETag": etag})
            counts.ok += 1
            return web.Response(
                body=body, headers={"ETag": etag, "Content-Type": "application/rss+xml"}
            )
        finally:
            counts.in_flight -= 1

    def add_routes(self, app: web.Application) -> None:
        """GET /<name> is a feed."""
        app.router.add_get("/{name}", self._feed)


# --- measurement -------------------------------------------------------------------------


class CountingEmbedder(Embedder, Protocol):
    """An embedder that says how many texts went through its model."""

    texts_encoded: int


class TimedConsole(ConsoleDelivery):
    """The console delivery, into a string buffer, noting when each alert is handed over."""

    def __init__(self) -> None:
        import io

        from rich.console import Console

        super().__init__(Console(file=io.StringIO(), width=100))
        self.handed_at: list[float] = []

    async def send(self, destination: Destination, alert: Alert) -> str | None:
        """Note the time, then print into the buffer."""
        self.handed_at.append(time.perf_counter())
        return await super().send(destination, alert)


@dataclass
class Bench:
    """One bench run's inputs: the embedder maker (the real model unless a test gives one)."""

    feeds: int = 200
    items: int = 10
    scaling_sizes: Sequence[int] = SCALING_SIZES
    unchanged_feeds: int = UNCHANGED_FEEDS
    make_embedder: Callable[[], CountingEmbedder] = SentenceTransformerEmbedder
    base: Watchlist = field(default_factory=Watchlist)
    settings: Settings = field(default_factory=Settings)


def shipped_watchlist() -> Watchlist:
    """The topics and actors of the repo's watchlists/ (else of STANCEWATCH_WATCHLISTS)."""
    settings = load_settings()
    for folder in (Path(__file__).resolve().parent.parent / "watchlists", settings.watchlists_dir):
        result = load_watchlists(folder)
        if result.watchlist is not None:
            return result.watchlist
    raise RuntimeError("no valid watchlists found for the bench")


def _local(base: Watchlist, feeds: Sequence[Feed]) -> Watchlist:
    return replace(base, feeds=tuple(feeds), routes=(Route(("*",)),))


async def _pass(app: App, server: FeedServer) -> dict[str, Any]:
    """Poll every feed once and drain the outbox; time it and count texts and statuses."""
    server.reset_counts()
    before = _encoded(app)
    start = time.perf_counter()
    report = await app.pipeline.poll(app.watchlist.feeds)
    await app.outbox.drain()
    seconds = time.perf_counter() - start
    log.info(
        "bench pass: %d feeds, %d new articles, %.2f s",
        report.feeds_polled,
        report.new_articles,
        seconds,
    )
    return {
        "seconds": round(seconds, 3),
        "new_articles": report.new_articles,
        "matched": report.matched,
        "alerts": report.alerts,
        "failures": report.failures,
        "texts_encoded": _encoded(app) - before,
        "http_200": server.counts.ok,
        "http_304": server.counts.not_modified,
        "max_concurrent_requests": server.counts.max_in_flight,
    }


def _encoded(app: App) -> int:
    return int(getattr(app.embedder, "texts_encoded", 0))


def _publish(server: FeedServer, prefix: str, feeds: int, items: int, seed: int) -> list[Feed]:
    rng = random.Random(seed)
    out = []
    for i in range(feeds):
        name = f"{prefix}-{i}"
        server.publish(name, generate_items(items, rng, name))
        out.append(Feed(server.url(name), f"Bench {prefix} {i}", 600.0))
    return out


def _app(bench: Bench, tmp: Path, name: str, feeds: Sequence[Feed], embedder: Embedder) -> App:
    settings = replace(bench.settings, db_path=tmp / f"{name}.db")
    wl = _local(bench.base, feeds)
    return build_app(settings, wl, embedder=embedder, deliveries=[TimedConsole()])


async def measure(bench: Bench) -> dict[str, Any]:
    """Run every measurement; return the figures as one JSON-ready dict."""
    began = time.perf_counter()
    server = FeedServer()
    await server.start()
    figures: dict[str, Any] = {"feeds": bench.feeds, "items_per_feed": bench.items}
    try:
        with tempfile.TemporaryDirectory(prefix="stancewatch-bench-") as tmp_name:
            tmp = Path(tmp_name)
            feeds = _publish(server, "main", bench.feeds, bench.items, seed=1)
            # (d) start-up: build the app and load the model (the first embed).
            start = time.perf_counter()
            embedder = bench.make_embedder()
            app = _app(bench, tmp, "main", feeds, embedder)
            embedder.encode(["start-up probe"])
            figures["startup_s"] = round(time.perf_counter() - start, 3)
            try:
                await _main_passes(bench, app, server, figures)
            finally:
                await app.close()
            # The service's own peak: one model and a full first pass, before the bench
            # loads a second model for the floor and grows the data for scaling.
            figures["pipeline_peak_rss_mb"] = _peak_rss_mb()
            # (a) the floor: a fresh model encodes title + text of the same articles.
            texts = [f"{i.title}. {i.text}" for f in feeds for i in server.items[_name(f)]]
            figures.update(_floor(bench, texts))
            first = figures["first_pass"]["seconds"]
            figures["first_pass_ratio_to_floor"] = round(first / max(figures["floor_s"], 1e-9), 2)
            # (e) scaling, with the app's (already loaded) embedder and a fresh DB each.
            figures["scaling"] = [
                await _scale(bench, tmp, server, n, embedder) for n in bench.scaling_sizes
            ]
            # (f) many unchanged feeds, polled once, then again (all 304).
            figures["unchanged"] = await _unchanged(bench, tmp, server, embedder)
    finally:
        await server.stop()
    figures["per_host_limit"] = bench.settings.per_host_limit
    figures["peak_rss_mb"] = _peak_rss_mb()
    figures["total_s"] = round(time.perf_counter() - began, 1)
    return figures


def _peak_rss_mb() -> float:
    """This process's peak resident memory so far (Linux reports ru_maxrss in KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _name(feed: Feed) -> str:
    return feed.url.rsplit("/", 1)[-1].removesuffix(".xml")


async def _main_passes(bench: Bench, app: App, server: FeedServer, figures: dict[str, Any]) -> None:
    # (b) first pass, (c) second pass unchanged.
    first = await _pass(app, server)
    second = await _pass(app, server)
    figures["articles"] = first["new_articles"]
    figures["first_pass"] = first
    figures["second_pass"] = second
    figures["second_pass_share_of_first"] = round(
        second["seconds"] / max(first["seconds"], 1e-9), 4
    )
    figures["articles_per_s"] = round(first["new_articles"] / max(first["seconds"], 1e-9), 1)
    # (d) latency: a new on-topic item appears, one poll cycle, one drain.
    console = app.deliveries[0]
    assert isinstance(console, TimedConsole)
    name = _name(app.watchlist.feeds[0])
    now = datetime.now(UTC).replace(microsecond=0)
    appeared = time.perf_counter()
    server.add_item(name, Item(f"{name}-new", NEW_ITEM[0], NEW_ITEM[1], now))
    sent_before = len(console.handed_at)
    await app.pipeline.poll(app.watchlist.feeds)
    await app.outbox.drain()
    delivered = console.handed_at[sent_before:]
    figures["alert_latency_s"] = round(delivered[0] - appeared, 3) if delivered else None


def _floor(bench: Bench, texts: list[str]) -> dict[str, Any]:
    """The model alone on the same texts, batch 64, after loading (load time reported apart)."""
    start = time.perf_counter()
    model = bench.make_embedder()
    model.encode(["load probe"])
    loaded = time.perf_counter()
    for i in range(0, len(texts), FLOOR_BATCH):
        model.encode(texts[i : i + FLOOR_BATCH])
    seconds = time.perf_counter() - loaded
    return {
        "model_load_s": round(loaded - start, 3),
        "floor_s": round(seconds, 3),
        "floor_texts": len(texts),
        "floor_texts_per_s": round(len(texts) / max(seconds, 1e-9), 1),
    }


async def _scale(
    bench: Bench, tmp: Path, server: FeedServer, n: int, embedder: Embedder
) -> dict[str, Any]:
    per_feed = min(bench.items, n) or 1
    feeds = _publish(server, f"scale{n}", max(1, n // per_feed), per_feed, seed=n)
    app = _app(bench, tmp, f"scale{n}", feeds, embedder)
    try:
        first = await _pass(app, server)
    finally:
        await app.close()
    return {
        "articles": first["new_articles"],
        "feeds": len(feeds),
        "seconds": first["seconds"],
        "ms_per_article": round(1000 * first["seconds"] / max(first["new_articles"], 1), 2),
        "texts_encoded": first["texts_encoded"],
    }


async def _unchanged(
    bench: Bench, tmp: Path, server: FeedServer, embedder: Embedder
) -> dict[str, Any]:
    # Empty feeds: the first pass only stores their ETags; the second is all 304s.
    feeds = _publish(server, "many", bench.unchanged_feeds, 0, seed=7)
    app = _app(bench, tmp, "many", feeds, embedder)
    try:
        await _pass(app, server)
        again = await _pass(app, server)
    finally:
        await app.close()
    return {
        "feeds": len(feeds),
        "seconds": again["seconds"],
        "http_304": again["http_304"],
        "http_200": again["http_200"],
        "texts_encoded": again["texts_encoded"],
        "max_concurrent_requests": again["max_concurrent_requests"],
    }


# --- output ------------------------------------------------------------------------------


def table_rows(f: dict[str, Any]) -> list[tuple[str, str]]:
    """The figures as (measure, value) rows for a table."""
    first, second, many = f["first_pass"], f["second_pass"], f["unchanged"]
    latency = f["alert_latency_s"]
    rows = [
        ("feeds × items", f"{f['feeds']} × {f['items_per_feed']} = {f['articles']} articles"),
        ("start-up (build_app + model load)", f"{f['startup_s']:.2f} s"),
        (
            "floor: model alone, title+text, batch 64",
            f"{f['floor_s']:.2f} s ({f['floor_texts_per_s']:.0f} texts/s)",
        ),
        (
            "first pass (real pipeline)",
            f"{first['seconds']:.2f} s = {f['first_pass_ratio_to_floor']:.1f}× floor; "
            f"{first['texts_encoded']} texts encoded, {first['matched']} matched",
        ),
        ("articles per second (first pass)", f"{f['articles_per_s']:.1f}"),
        (
            "second pass, unchanged",
            f"{second['seconds']:.3f} s = {100 * f['second_pass_share_of_first']:.1f}% of first; "
            f"{second['http_304']} × 304, {second['http_200']} × 200, "
            f"{second['texts_encoded']} texts encoded",
        ),
        (
            "new item → alert handed to deliverer",
            "no alert" if latency is None else f"{latency:.3f} s",
        ),
    ]
    for s in f["scaling"]:
        rows.append(
            (
                f"scaling: {s['articles']} articles",
                f"{s['seconds']:.2f} s, {s['ms_per_article']:.1f} ms/article",
            )
        )
    rows += [
        (
            f"{many['feeds']} feeds unchanged",
            f"{many['seconds']:.2f} s; {many['http_304']} × 304; max "
            f"{many['max_concurrent_requests']} concurrent requests "
            f"(per-host limit {f['per_host_limit']})",
        ),
        ("peak RSS: pipeline (one model, first pass)", f"{f['pipeline_peak_rss_mb']:.0f} MB"),
        ("peak RSS: whole bench (two models, scaling)", f"{f['peak_rss_mb']:.0f} MB"),
        ("bench total", f"{f['total_s']:.0f} s"),
    ]
    return rows


def print_table(figures: dict[str, Any]) -> None:
    """Print the figures as a rich table."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title="stancewatch bench")
    table.add_column("measure")
    table.add_column("value")
    for name, value in table_rows(figures):
        table.add_row(name, value)
    Console().print(table)


def run_bench(
    *, feeds: int = 200, items: int = 10, as_json: bool = False, scaling: bool = True
) -> int:
    """Run the bench on the shipped topics; print JSON or a table; return the exit code."""
    if feeds < 1 or items < 1:
        print("error: --feeds and --items must be at least 1", file=sys.stderr)
        return 2
    settings = load_settings()
    bench = Bench(
        feeds=feeds,
        items=items,
        scaling_sizes=SCALING_SIZES if scaling else (),
        make_embedder=lambda: SentenceTransformerEmbedder(settings.model or None),
        base=shipped_watchlist(),
        settings=settings,
    )
    figures = asyncio.run(measure(bench))
    if as_json:
        print(json.dumps(figures, indent=2))
    else:
        print_table(figures)
    return 0
