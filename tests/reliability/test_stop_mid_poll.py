"""A stop while a poll is under way ends that poll at once: `run` exits without waiting for a
stalled feed (or a long first pass), and the stop grace is left to the deliveries."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from bot import service
from bot.app import build_app
from bot.matching.hashing import HashingEmbedder
from bot.models import Feed, Route, Watchlist
from bot.settings import Settings
from tests.one_feed import DRILLS
from tests.reliability.helpers import Recorder


async def test_a_stop_mid_poll_does_not_wait_for_the_poll(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A feed that accepts the connection and never answers: the poll waits on it.
    stalled = socket.socket()
    stalled.bind(("127.0.0.1", 0))
    stalled.listen(8)
    stalled.setblocking(False)
    port = stalled.getsockname()[1]
    # The poll, not the grace, must end first: with a grace this long, a stop that waited
    # for the poll would outlast the test's own limit below.
    monkeypatch.setattr(service, "STOP_GRACE_S", 600.0)
    feed = Feed(f"http://127.0.0.1:{port}/slow.xml", "Slow", 600.0)
    app = build_app(
        Settings(db_path=tmp_path / "sw.db", read_timeout_s=600.0),
        Watchlist(topics=(DRILLS,), feeds=(feed,), routes=(Route(("*",)),)),
        embedder=HashingEmbedder(),
        deliveries=[Recorder()],
    )
    stop = asyncio.Event()
    serving = asyncio.create_task(service.serve_app(app, once=False, stop=stop))
    try:
        loop = asyncio.get_running_loop()
        connection, _ = await asyncio.wait_for(loop.sock_accept(stalled), 60)
        stop.set()
        code = await asyncio.wait_for(serving, 60)  # waited out the whole grace before
        connection.close()
    finally:
        stalled.close()
    assert code == 0


class _HungPlatform:
    """A platform whose disconnect never ends (a gateway that never answers the close)."""

    def __init__(self) -> None:
        self.delivery = Recorder()

    async def stop(self) -> None:
        await asyncio.Event().wait()


async def test_a_platform_that_never_disconnects_does_not_hold_the_stop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # The platforms were closed with no limit after the deliveries' grace: a Discord gateway
    # or Slack socket that never answers its close handshake kept the process running past
    # `docker stop`'s patience, to be killed.
    async def hung_platforms(app: object, stop: object = None) -> list[_HungPlatform]:
        return [_HungPlatform()]

    monkeypatch.setattr(service, "start_platforms", hung_platforms)
    monkeypatch.setattr(service, "PLATFORM_STOP_S", 0.2)
    app = build_app(
        Settings(db_path=tmp_path / "sw.db"),
        Watchlist(topics=(DRILLS,)),
        embedder=HashingEmbedder(),
        deliveries=[Recorder()],
    )
    stop = asyncio.Event()
    stop.set()
    code = await asyncio.wait_for(service.serve_app(app, once=False, stop=stop), 30)
    assert code == 0
    said = [r.getMessage() for r in caplog.records if "did not disconnect" in r.getMessage()]
    assert said == ["stopping: _HungPlatform did not disconnect within 0.2 s; left behind"]
