"""Slack test kit: a local fake Web API (plus webhooks, response_url and Socket Mode),
a tiny fake embedder, a small watchlist and alert builders.

Tests get it through the `kit` fixture (with --import-mode=importlib, test modules cannot
import each other), and run every server inside the test's own event loop.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestServer
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import App, build_app
from bot.delivery.slack.delivery import SlackDelivery
from bot.delivery.slack.pacing import ChannelPacer
from bot.delivery.slack.runtime import build_bolt
from bot.matching.hashing import HashingEmbedder
from bot.models import (
    Actor,
    Alert,
    Position,
    Route,
    StanceLine,
    Topic,
    TopicLine,
    Watchlist,
)
from bot.settings import Settings

TEAM = "T0TEAM"
CHANNEL = "C0ALERTS"
ADMIN_CHANNEL = "C0ADMIN"
BOT_TOKEN = "xoxb-test-token"
APP_TOKEN = "xapp-test-token"
WHEN = datetime(2025, 8, 20, 9, 30, tzinfo=UTC)


@dataclass
class Call:
    """One request the fake received: the API method (or path) and its decoded body."""

    method: str
    body: dict[str, Any]
    headers: dict[str, str]
    at: float


@dataclass
class Answer:
    """A scripted answer for the next call of a method."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    match: dict[str, Any] = field(default_factory=dict)  # only for calls with these fields
    # Slack did the work (the post is stored) whatever this answer says: a lost answer.
    took: bool = False
    delay_s: float = 0.0  # answer this late (past the client's time limit, say)
    drop: bool = False  # close the connection instead of answering


class FakeSlack:
    """Answers like Slack's Web API and records every real request it gets."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.scripts: dict[str, list[Answer]] = {}
        self.admins: set[str] = set()
        self.socket_messages: list[dict[str, Any]] = []
        self.sockets: list[web.WebSocketResponse] = []
        self._ts = itertools.count(1)
        # The seconds of each message's ts: a test on a clock of its own makes it follow that.
        self.clock: Callable[[], float] = lambda: 1755682200
        # Each channel's messages as posted (thread replies too), oldest first.
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self._changed = asyncio.Event()
        self.server: TestServer | None = None

    # --- set-up ---------------------------------------------------------------------------

    @classmethod
    @asynccontextmanager
    async def running(cls) -> AsyncIterator[FakeSlack]:
        fake = cls()
        web_app = web.Application()
        web_app.router.add_route("*", "/api/{method}", fake._api)
        web_app.router.add_post("/hooks/{path:.*}", fake._hook)
        web_app.router.add_post("/respond/{n}", fake._respond)
        web_app.router.add_get("/link", fake._socket)
        server = TestServer(web_app)
        await server.start_server()
        fake.server = server
        try:
            yield fake
        finally:
            for ws in fake.sockets:
                await ws.close()
            await server.close()

    def url(self, path: str) -> str:
        assert self.server is not None
        return str(self.server.make_url(path))

    @property
    def api_base(self) -> str:
        return self.url("/api/")

    def script(
        self,
        method: str,
        status: int = 200,
        body: Any = None,
        match: dict[str, Any] | None = None,
        **headers: str,
    ) -> None:
        """Answer the next call of `method` (whose body has `match`) with this, once."""
        fixed = {k.replace("_", "-"): v for k, v in headers.items()}
        self.scripts.setdefault(method, []).append(Answer(status, body, fixed, match or {}))

    def take_but_lose_answer(
        self,
        status: int = 200,
        body: Any = None,
        *,
        delay_s: float = 0.0,
        drop: bool = False,
        match: dict[str, Any] | None = None,
    ) -> None:
        """Store the next chat.postMessage (with `match`) as posted, then answer late, drop
        the connection, or answer `body` (an error) instead of the usual success."""
        answer = Answer(status, body, {}, match or {}, took=True, delay_s=delay_s, drop=drop)
        self.scripts.setdefault("chat.postMessage", []).append(answer)

    def posted(self, channel: str) -> list[dict[str, Any]]:
        """The messages stored in a channel, oldest first."""
        return self.messages.get(channel, [])

    # --- inspection ----------------------------------------------------------------------

    def of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    async def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> Call:
        async def until() -> Call:
            while len(self.of(method)) < count:
                self._changed.clear()
                await self._changed.wait()
            return self.of(method)[count - 1]

        return await asyncio.wait_for(until(), timeout)

    async def wait_socket(self, envelope_id: str, timeout: float = 5.0) -> dict[str, Any]:
        async def until() -> dict[str, Any]:
            while True:
                for message in self.socket_messages:
                    if message.get("envelope_id") == envelope_id:
                        return message
                self._changed.clear()
                await self._changed.wait()

        return await asyncio.wait_for(until(), timeout)

    # --- handlers ------------------------------------------------------------------------

    async def _record(self, method: str, request: web.Request) -> Call:
        body: dict[str, Any] = dict(request.query)
        raw = await request.read()
        if request.content_type == "application/json" and raw:
            body.update(json.loads(raw))
        elif raw:
            form = await request.post()
            for key, value in form.items():
                text = str(value)
                body[key] = json.loads(text) if key in ("blocks", "attachments") else text
        call = Call(method, body, dict(request.headers), asyncio.get_running_loop().time())
        self.calls.append(call)
        self._changed.set()
        return call

    def _scripted(self, method: str, body: dict[str, Any]) -> Answer | None:
        queue = self.scripts.get(method, [])
        for index, answer in enumerate(queue):
            if all(body.get(k) == v for k, v in answer.match.items()):
                return queue.pop(index)
        return None

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        call = await self._record(method, request)
        answer = self._scripted(method, call.body)
        if answer is None:
            return web.json_response(self._default(method, call.body))
        done = self._default(method, call.body) if answer.took else None
        if answer.delay_s:
            await asyncio.sleep(answer.delay_s)
        if answer.drop:
            assert request.transport is not None
            request.transport.close()  # the request was read: Slack has it, we get no answer
            return web.Response()
        body = answer.body if answer.body is not None else done
        return web.json_response(body, status=answer.status, headers=answer.headers)

    def _default(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {"ok": True, "team_id": TEAM, "team": "Test", "user_id": "U0BOT", "bot_id": "B1"}
        if method == "chat.postMessage":
            ts = f"{int(self.clock())}.{next(self._ts):06d}"
            self._store(body, ts)
            return {"ok": True, "channel": body.get("channel"), "ts": ts, "message": {"ts": ts}}
        if method in ("conversations.history", "conversations.replies"):
            return {"ok": True, "messages": self._history(method, body), "has_more": False}
        if method == "chat.update":
            return {"ok": True, "channel": body.get("channel"), "ts": body.get("ts")}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D" + str(body.get("users", ""))[1:]}}
        if method == "users.info":
            user = str(body.get("user"))
            admin = user in self.admins
            return {"ok": True, "user": {"id": user, "is_admin": admin, "is_owner": False}}
        if method == "apps.connections.open":
            return {"ok": True, "url": self.url("/link").replace("http://", "ws://")}
        return {"ok": True}

    def _store(self, body: dict[str, Any], ts: str) -> None:
        message = {"type": "message", "user": "U0BOT", "ts": ts, "text": body.get("text", "")}
        for key in ("thread_ts", "blocks", "metadata"):
            if body.get(key):
                message[key] = body[key]
        self.messages.setdefault(str(body.get("channel")), []).append(message)

    def _history(self, method: str, body: dict[str, Any]) -> list[dict[str, Any]]:
        """A channel's top-level messages, or one thread's, newest first, as Slack lists
        them: after `oldest`, at most `limit`, metadata only when asked for."""
        oldest = float(body.get("oldest") or 0)
        limit = int(body.get("limit") or 100)
        with_metadata = str(body.get("include_all_metadata")).lower() in ("1", "true")
        found = []
        for message in reversed(self.posted(str(body.get("channel")))):
            thread = message.get("thread_ts")
            if method == "conversations.history" and thread not in (None, message["ts"]):
                continue
            if method == "conversations.replies" and body.get("ts") not in (
                thread,
                message["ts"],
            ):
                continue
            if float(message["ts"]) > oldest:
                shown = dict(message)
                if not with_metadata:
                    shown.pop("metadata", None)
                found.append(shown)
        return found[:limit]

    async def _hook(self, request: web.Request) -> web.StreamResponse:
        call = await self._record("hook:" + request.match_info["path"], request)
        answer = self._scripted("hook", call.body)
        if answer is not None:
            return web.Response(text=answer.body, status=answer.status, headers=answer.headers)
        return web.Response(text="ok")

    async def _respond(self, request: web.Request) -> web.StreamResponse:
        call = await self._record("respond:" + request.match_info["n"], request)
        answer = self._scripted("respond", call.body)
        if answer is not None:
            return web.Response(text=answer.body, status=answer.status, headers=answer.headers)
        return web.Response(text="ok")

    async def _socket(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        await ws.send_json({"type": "hello", "num_connections": 1})
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                self.socket_messages.append(json.loads(message.data))
                self._changed.set()
        return ws


def make_watchlist(webhook_url: str = "", channel: str = CHANNEL) -> Watchlist:
    """Three topics (one with positions), two actors, one route to Slack."""
    return Watchlist(
        actors=(
            Actor("russia", "Russia", ("Russia", "Moscow", "Kremlin")),
            Actor("ukraine", "Ukraine", ("Ukraine", "Kyiv")),
        ),
        topics=(
            Topic(
                "security-guarantees",
                "Security guarantees for Ukraine",
                "Post-war guarantees for Ukraine's security.",
                positions=(
                    Position("accepts-guarantees", "accepts Western security guarantees"),
                    Position("demands-veto", "demands a veto over any guarantee"),
                ),
            ),
            Topic("nato-membership", "NATO membership", "Ukraine joining NATO."),
            Topic("arms-shipments", "Arms shipments", "Weapons sent to Ukraine."),
        ),
        routes=(Route(("*",), slack_channel=channel, slack_webhook=webhook_url),),
    )


def make_alert(alert_id: str = "story-1", **changes: Any) -> Alert:
    """A realistic alert with a shift, a restatement and one topic."""
    fields: dict[str, Any] = {
        "id": alert_id,
        "title": "Kremlin demands veto over Western guarantees for Kyiv",
        "url": "https://example-wire.com/world/kremlin-veto",
        "source": "example-wire.com",
        "published": WHEN,
        "topics": (
            TopicLine(
                "security-guarantees",
                "Security guarantees for Ukraine",
                0.81,
                "Moscow insists it must be among the guarantors, with a veto.",
            ),
        ),
        "summary": "Russia said on Tuesday it must have a veto over any security guarantee.",
        "stances": (
            StanceLine(
                "Russia",
                "Security guarantees for Ukraine",
                "demands a veto over any guarantee",
                "Moscow insists it must be among the guarantors, with a veto.",
                before_label="accepts Western security guarantees",
                before_source="harbour-post.com",
                before_date=datetime(2025, 8, 18, tzinfo=UTC),
            ),
            StanceLine(
                "Ukraine",
                "Security guarantees for Ukraine",
                "accepts Western security guarantees",
                "Kyiv welcomed the offer of Article 5-like protection.",
            ),
        ),
    }
    fields.update(changes)
    return Alert(**fields)


@dataclass
class Env:
    """A built App wired to the fake Slack: delivery, Bolt app, command helper."""

    fake: FakeSlack
    app: App
    delivery: SlackDelivery
    bolt: Any
    settings: Settings
    _n: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def command(
        self, text: str, user: str = "U0ANN", team: str = TEAM
    ) -> tuple[Any, dict[str, Any]]:
        """Dispatch /stancewatch like Socket Mode does; return (the ack, the respond body)."""
        n = next(self._n)
        body = slash_payload(text, user, team, self.fake.url(f"/respond/{n}"))
        ack = await self.bolt.async_dispatch(AsyncBoltRequest(body=body, mode="socket_mode"))
        call = await self.fake.wait_for(f"respond:{n}")
        return ack, call.body


def slash_payload(text: str, user: str, team: str, response_url: str) -> dict[str, Any]:
    """The `payload` of a Socket Mode slash_commands envelope."""
    return {
        "token": "legacy-verification-token",
        "team_id": team,
        "team_domain": "test",
        "channel_id": CHANNEL,
        "channel_name": "alerts",
        "user_id": user,
        "user_name": "ann",
        "command": "/stancewatch",
        "text": text,
        "api_app_id": "A0APP",
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": "13345224609.738474920.8088930838d88f008e0",
    }


@asynccontextmanager
async def slack_env(
    tmp_path: Path,
    *,
    bot: bool = True,
    webhook: bool = False,
    pace_s: float = 0.0,
    admins: tuple[str, ...] = (),
    admin_channel: str = ADMIN_CHANNEL,
) -> AsyncIterator[Env]:
    """An App on a temporary database with a Slack delivery pointed at the fake."""
    async with FakeSlack.running() as fake:
        settings = Settings(
            db_path=tmp_path / "t.db",
            watchlists_dir=tmp_path / "watchlists",
            slack_bot_token=BOT_TOKEN if bot else "",
            slack_api_base=fake.api_base,
            slack_admin_users=admins,
            slack_admin_channel=admin_channel,
        )
        hook = fake.url("/hooks/T0TEAM/B0HOOK/secretsecret") if webhook else ""
        app = build_app(settings, make_watchlist(hook), embedder=HashingEmbedder())
        client = (
            AsyncWebClient(token=BOT_TOKEN, base_url=fake.api_base, retry_handlers=[])
            if bot
            else None
        )
        delivery = SlackDelivery(app.store, settings, client, pace_s=pace_s, clock=app.outbox.now)
        app.outbox.deliveries.append(delivery)
        bolt = build_bolt(app, AsyncWebClient(token=BOT_TOKEN, base_url=fake.api_base))
        try:
            yield Env(fake, app, delivery, bolt, settings)
        finally:
            await app.close()


async def restarted(env: Env) -> Env:
    """The service started again on the env's database and fake Slack: the old process's
    app is closed, and nothing it kept in memory is carried over."""
    await env.app.close()
    app = build_app(env.settings, make_watchlist(), embedder=HashingEmbedder())
    client = AsyncWebClient(token=BOT_TOKEN, base_url=env.fake.api_base, retry_handlers=[])
    delivery = SlackDelivery(app.store, env.settings, client, pace_s=0.0, clock=app.outbox.now)
    app.outbox.deliveries.append(delivery)
    bolt = build_bolt(app, AsyncWebClient(token=BOT_TOKEN, base_url=env.fake.api_base))
    return Env(env.fake, app, delivery, bolt, env.settings)


class HandClock:
    """The outbox's time and the channel pacer's, moved by hand together."""

    def __init__(self, start: datetime) -> None:
        self.now = start
        self.mono = 1000.0  # the pacer's: a Retry-After pause on a channel

    def advance(self, seconds: float) -> None:
        """Move both clocks on by `seconds`."""
        self.now += timedelta(seconds=seconds)
        self.mono += seconds

    def to(self, when: datetime) -> None:
        """Move both clocks on to `when`."""
        self.advance((when - self.now).total_seconds())


def use_clock(env: Env, start: datetime) -> HandClock:
    """Drive the env's outbox and its delivery's pacer from one hand-moved clock."""
    clock = HandClock(start)
    env.app.outbox.clock = lambda: clock.now
    env.delivery.pacer = ChannelPacer(0.0, clock=lambda: clock.mono)
    return clock


@pytest.fixture
def kit() -> SimpleNamespace:
    """Everything above, for test modules (they cannot import this conftest)."""
    return SimpleNamespace(
        FakeSlack=FakeSlack,
        FakeEmbedder=HashingEmbedder,
        env=slack_env,
        restarted=restarted,
        use_clock=use_clock,
        make_alert=make_alert,
        make_watchlist=make_watchlist,
        slash_payload=slash_payload,
        TEAM=TEAM,
        CHANNEL=CHANNEL,
        ADMIN_CHANNEL=ADMIN_CHANNEL,
        BOT_TOKEN=BOT_TOKEN,
        APP_TOKEN=APP_TOKEN,
        WHEN=WHEN,
    )
