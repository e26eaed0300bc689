"""This machine offline for a day (network down, DNS failing), then back: one line in the log
rather than one per feed per retry, no feed paused, and every feed polled again within
one interval of the network coming back."""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web

from bot.app import build_app
from bot.matching.hashing import HashingEmbedder
from bot.models import Feed, Route, Watchlist
from bot.settings import Settings
from tests.conftest import rss
from tests.one_feed import DRILLS
from tests.reliability.helpers import Recorder

T = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
INTERVAL = timedelta(minutes=10)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@asynccontextmanager
async def _network(port: int) -> AsyncIterator[None]:
    """The feeds' servers answering on `port` (the network is up) while inside."""
    body = rss("Harbour", [{"title": "Navy drills in the harbour", "link": "https://h.example/1"}])

    async def answer(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/rss+xml")

    server = web.Application()
    server.router.add_get("/{name}.xml", answer)
    runner = web.AppRunner(server, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port, reuse_address=True).start()
    try:
        yield
    finally:
        await runner.cleanup()


async def test_a_day_offline_is_one_line_pauses_nothing_and_heals_within_an_interval(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    port = _free_port()
    # Two hosts (both this machine): one host down is that host's problem, not the network.
    feeds = tuple(
        Feed(f"http://{host}:{port}/{name}.xml", name, INTERVAL.total_seconds())
        for host, name in (("127.0.0.1", "a"), ("localhost", "b"), ("127.0.0.1", "c"))
    )
    recorder = Recorder()
    app = build_app(
        Settings(db_path=tmp_path / "sw.db"),
        Watchlist(topics=(DRILLS,), feeds=feeds, routes=(Route(("*",)),)),
        embedder=HashingEmbedder(),
        deliveries=[recorder],
    )
    pipeline, clock = app.pipeline, [T]
    pipeline.clock = lambda: clock[0]
    try:
        async with _network(port):
            assert (await pipeline.poll()).failures == 0
        caplog.clear()

        while clock[0] < T + timedelta(hours=24):  # down: a tick a minute for a day
            clock[0] += timedelta(minutes=1)
            await pipeline.poll()
        lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
        assert len(lines) == 1, lines  # was 27: one per feed per retry
        assert "3 feeds on 2 hosts" in lines[0], lines
        states = app.store.feed_states()
        assert {s.status for s in states} == {"ok"}, states  # were all paused
        assert recorder.notices == []  # was one "paused" notice per feed

        async with _network(port):
            back, polled = clock[0], set[str]()
            while len(polled) < len(feeds):
                clock[0] += timedelta(seconds=15)
                await pipeline.poll()
                polled = {s.url for s in app.store.feed_states() if s.last_ok_at > back}  # type: ignore[operator]
                assert clock[0] - back <= INTERVAL + timedelta(seconds=30), polled
    finally:
        await app.close()
    assert any("network is back" in r.getMessage() for r in caplog.records)
    assert recorder.notices == []
