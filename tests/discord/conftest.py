"""Discord test kit: a local fake of the REST API, a small app, alerts and interactions.

Tests get this module through the `dk` fixture (with --import-mode=importlib test modules
cannot import each other). The fake API records the real JSON that discord.py sends.

Point discord.py at it with `DISCORD_API_BASE` (settings.discord_api_base). It answers
`Content-Type: application/json` exactly (discord.py only parses JSON on that exact value)
and can be told to fail a route a few times (429 with or without `Via`, 403, 404), or to
keep a request waiting, unanswered, until the test releases it (having carried it out
first, with `take`: a post Discord took whose answer never arrived).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import discord
import pytest
import yarl
from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestServer

from bot import service
from bot.app import App, build_app
from bot.delivery.discord.runtime import DiscordRuntime, start_discord
from bot.matching.hashing import HashingEmbedder
from bot.models import (
    Actor,
    Alert,
    Destination,
    DestinationKind,
    Position,
    Route,
    StanceLine,
    Topic,
    TopicLine,
    Watchlist,
)
from bot.settings import Settings

BOT_ID = "900000000000000001"
APP_ID = "900000000000000002"
OWNER_ID = "900000000000000003"
GUILD_ID = "800000000000000001"
CHANNEL_ID = "700000000000000001"
ADMIN_CHANNEL_ID = "700000000000000009"
WEBHOOK_ID = "600000000000000001"
WEBHOOK_TOKEN = "T" * 68
WEBHOOK_URL = f"https://discord.com/api/webhooks/{WEBHOOK_ID}/{WEBHOOK_TOKEN}"
BOT_TOKEN = "fake-bot-token"


def user(user_id: str, name: str = "someone", bot: bool = False) -> dict[str, Any]:
    """A user object as Discord sends it."""
    return {
        "id": user_id,
        "username": name,
        "discriminator": "0",
        "global_name": None,
        "avatar": None,
        "bot": bot,
    }


@dataclass
class Seen:
    """One request the fake received."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    headers: dict[str, str]


@dataclass
class Scripted:
    """A canned failure for the next matching request(s)."""

    method: str
    pattern: re.Pattern[str]
    status: int
    body: Any
    headers: dict[str, str]
    times: int
    stall: bool = False  # answer only once the test calls `release()`
    content_type: str = "application/json"  # of a `bytes` body, sent as it is
    take: bool = False  # carry the request out as usual; with `stall`, hold only the answer


@dataclass
class FakeDiscord:
    """The fake's state: what it saw, the messages it holds, the failures it will give."""

    base: str = ""
    seen: list[Seen] = field(default_factory=list)
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)  # message id → message
    channel_guilds: dict[str, str | None] = field(default_factory=dict)  # default: GUILD_ID
    scripted: list[Scripted] = field(default_factory=list)
    commands: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # scope → payload
    gateway_url: str = ""
    identify: list[dict[str, Any]] = field(default_factory=list)  # IDENTIFY payloads received
    released: asyncio.Event = field(default_factory=asyncio.Event)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(500000000000000001))

    def next_id(self) -> str:
        """A fresh snowflake."""
        return str(next(self._ids))

    def fail(
        self,
        method: str,
        path_regex: str,
        status: int,
        body: Any = None,
        headers: dict[str, str] | None = None,
        times: int = 1,
        stall: bool = False,
        content_type: str = "application/json",
        take: bool = False,
    ) -> None:
        """Answer the next `times` requests matching method and path with this failure
        (with `stall`, only after `release()`: a server that takes the request and hangs).
        A `bytes` body goes out as it is, with `content_type` (an HTML page, broken JSON).
        With `take`, status and body are ignored: the request is carried out and answered
        as usual, with `headers` added (and only after `release()`, with `stall`)."""
        pattern = re.compile(path_regex)
        self.scripted.append(
            Scripted(method, pattern, status, body, headers or {}, times, stall, content_type, take)
        )

    def release(self) -> None:
        """Let stalled requests be answered."""
        self.released.set()

    def requests(self, method: str, path_regex: str) -> list[Seen]:
        """The requests received so far on matching routes."""
        pattern = re.compile(path_regex)
        return [s for s in self.seen if s.method == method and pattern.fullmatch(s.path)]

    def only(self, method: str, path_regex: str) -> Seen:
        """The one request on a matching route (fails when there were more or none)."""
        found = self.requests(method, path_regex)
        assert len(found) == 1, (method, path_regex, [(s.method, s.path) for s in self.seen])
        return found[0]


def reply(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON response with exactly `application/json` (no charset)."""
    data = b"" if body is None else json.dumps(body).encode()
    return web.Response(
        body=data, status=status, headers={"Content-Type": "application/json", **(headers or {})}
    )


def message_payload(
    message_id: str, channel_id: str, body: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    """A message object as Discord returns it, posted by the bot unless `extra` says who."""
    return {
        "id": message_id,
        "channel_id": channel_id,
        "author": user(BOT_ID, "stancewatch", bot=True),
        "content": body.get("content") or "",
        "timestamp": "2025-08-20T09:00:00.000000+00:00",
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": body.get("embeds") or [],
        "pinned": False,
        "type": 0,
        "flags": body.get("flags") or 0,
        "components": [],
        **extra,
    }


def _message(
    fake: FakeDiscord, channel_id: str, body: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    nonce = body.get("nonce")
    if nonce is not None and body.get("enforce_nonce"):
        # As Discord: a message the same author posted with this nonce is returned, not
        # posted again (a retry after a post whose answer or record was lost).
        for earlier in fake.messages.values():
            if earlier.get("nonce") == nonce:
                return earlier
    message_id = fake.next_id()
    message = message_payload(message_id, channel_id, body, **extra)
    if nonce is not None:
        message["nonce"] = nonce
    fake.messages[message_id] = message
    return message


def _edit(fake: FakeDiscord, message_id: str, body: dict[str, Any]) -> web.Response:
    message = fake.messages.get(message_id)
    if message is None:
        return reply({"message": "Unknown Message", "code": 10008}, 404)
    for key in ("content", "embeds", "flags"):
        if key in body:
            message[key] = body[key] if body[key] is not None else ("" if key == "content" else [])
    message["edited_timestamp"] = "2025-08-20T10:00:00.000000+00:00"
    return reply(message)


Handler = Callable[[FakeDiscord, re.Match[str], dict[str, Any], dict[str, str]], web.Response]


def _routes() -> list[tuple[str, re.Pattern[str], Handler]]:
    def me(fake: FakeDiscord, m: re.Match[str], body: Any, q: dict[str, str]) -> web.Response:
        return reply(user(BOT_ID, "stancewatch", bot=True))

    def application(fake: FakeDiscord, m: re.Match[str], body: Any, q: Any) -> web.Response:
        return reply(
            {
                "id": APP_ID,
                "name": "Stancewatch",
                "description": "",
                "icon": None,
                "bot_public": False,
                "bot_require_code_grant": False,
                "owner": user(OWNER_ID, "owner"),
                "verify_key": "0" * 64,
                "flags": 0,
            }
        )

    def put_commands(fake: FakeDiscord, m: re.Match[str], body: Any, q: Any) -> web.Response:
        scope = m.group("guild") or "global"
        fake.commands[scope] = body
        out = []
        for command in body:
            out.append(
                {
                    **command,
                    "id": fake.next_id(),
                    "application_id": APP_ID,
                    "version": "1",
                    **({"guild_id": scope} if scope != "global" else {}),
                }
            )
        return reply(out)

    def get_channel(fake: FakeDiscord, m: re.Match[str], body: Any, q: Any) -> web.Response:
        channel_id = m.group("channel")
        guild = fake.channel_guilds.get(channel_id, GUILD_ID)
        data: dict[str, Any] = {
            "id": channel_id,
            "type": 0,
            "name": "news",
            "position": 0,
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": None,
        }
        if guild:
            data["guild_id"] = guild
        return reply(data)

    def post_message(fake: FakeDiscord, m: re.Match[str], body: Any, q: Any) -> web.Response:
        return reply(_message(fake, m.group("channel"), body))

    def edit_message(fake: FakeDiscord, m: re.Match[str], body: Any, q: Any) -> web.Response:
        return _edit(fake, m.group("message"), body)

    def open_dm(fake: FakeDiscord, m: re.Match[str], body: Any, q: Any) -> web.Response:
        recipient = str(body["recipient_id"])
        return reply(
            {
                "id": fake.next_id(),
                "type": 1,
                "last_message_id": None,
                "recipients": [user(recipient)],
            }
        )

    def webhook_post(fake: FakeDiscord, m: re.Match[str], body: Any, q: Any) -> web.Response:
        message = _message(fake, CHANNEL_ID, body, webhook_id=m.group("webhook"))
        if m.group("webhook") != APP_ID and q.get("wait") not in ("1", "true"):
            return web.Response(status=204)
        return reply(message)

    def webhook_edit(fake: FakeDiscord, m: re.Match[str], body: Any, q: Any) -> web.Response:
        message_id = m.group("message")
        if message_id == "@original":
            original = fake.messages.get(f"original:{m.group('token')}")
            if original is None:
                return reply({"message": "Unknown Message", "code": 10008}, 404)
            message_id = original["id"]
        return _edit(fake, message_id, body)

    def webhook_delete(fake: FakeDiscord, m: re.Match[str], body: Any, q: Any) -> web.Response:
        message_id = m.group("message")
        if message_id == "@original":
            original = fake.messages.pop(f"original:{m.group('token')}", None)
            message_id = original["id"] if original else ""
        if fake.messages.pop(message_id, None) is None:
            return reply({"message": "Unknown Message", "code": 10008}, 404)
        return web.Response(status=204)

    def callback(fake: FakeDiscord, m: re.Match[str], body: Any, q: Any) -> web.Response:
        kind = body["type"]
        data = body.get("data") or {}
        resource: dict[str, Any] = {"type": kind}
        interaction = {
            "id": m.group("interaction"),
            "type": 2,
            "response_message_loading": kind == 5,
            "response_message_ephemeral": bool((data.get("flags") or 0) & 64),
        }
        if kind in (4, 5):
            message = _message(fake, CHANNEL_ID, data, interaction_token=m.group("token"))
            fake.messages[f"original:{m.group('token')}"] = message
            interaction["response_message_id"] = message["id"]
            resource["message"] = message
        return reply({"interaction": interaction, "resource": resource})

    snowflake = r"\d{15,21}"
    return [
        ("GET", re.compile(r"/users/@me"), me),
        ("GET", re.compile(r"/oauth2/applications/@me"), application),
        (
            "PUT",
            re.compile(rf"/applications/{snowflake}(?:/guilds/(?P<guild>{snowflake}))?/commands"),
            put_commands,
        ),
        ("GET", re.compile(rf"/channels/(?P<channel>{snowflake})"), get_channel),
        ("POST", re.compile(rf"/channels/(?P<channel>{snowflake})/messages"), post_message),
        (
            "PATCH",
            re.compile(rf"/channels/(?P<channel>{snowflake})/messages/(?P<message>{snowflake})"),
            edit_message,
        ),
        ("POST", re.compile(r"/users/@me/channels"), open_dm),
        ("POST", re.compile(rf"/webhooks/(?P<webhook>{snowflake})/(?P<token>[^/]+)"), webhook_post),
        (
            "PATCH",
            re.compile(
                rf"/webhooks/(?P<webhook>{snowflake})/(?P<token>[^/]+)/messages/"
                rf"(?P<message>{snowflake}|@original)"
            ),
            webhook_edit,
        ),
        (
            "DELETE",
            re.compile(
                rf"/webhooks/(?P<webhook>{snowflake})/(?P<token>[^/]+)/messages/"
                rf"(?P<message>{snowflake}|@original)"
            ),
            webhook_delete,
        ),
        (
            "POST",
            re.compile(rf"/interactions/(?P<interaction>{snowflake})/(?P<token>[^/]+)/callback"),
            callback,
        ),
    ]


@asynccontextmanager
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    """Run the fake on a free local port; `fake.base` is the API base URL."""
    fake = FakeDiscord()
    routes = _routes()

    async def handle(request: web.Request) -> web.Response:
        path = request.path.removeprefix("/api/v10")
        body = await request.json() if request.can_read_body else None
        fake.seen.append(
            Seen(request.method, path, dict(request.query), body, dict(request.headers))
        )
        for script in fake.scripted:
            if script.times and script.method == request.method and script.pattern.fullmatch(path):
                script.times -= 1
                if script.take:
                    answer = routed(path, request.method, body, dict(request.query))
                    if script.stall:
                        await fake.released.wait()
                    answer.headers.update(script.headers)
                    return answer
                if script.stall:
                    await fake.released.wait()
                if isinstance(script.body, bytes):
                    headers = {"Content-Type": script.content_type, **script.headers}
                    return web.Response(body=script.body, status=script.status, headers=headers)
                return reply(script.body, script.status, script.headers)
        return routed(path, request.method, body, dict(request.query))

    def routed(path: str, method: str, body: Any, query: dict[str, str]) -> web.Response:
        """The answer of the route that serves this request, as Discord would give it."""
        for route_method, pattern, handler in routes:
            match = pattern.fullmatch(path)
            if route_method == method and match:
                return handler(fake, match, body or {}, query)
        return reply({"message": "404: Not Found", "code": 0}, 404)

    async def gateway(request: web.Request) -> web.WebSocketResponse:
        # HELLO, then READY (no guilds) after IDENTIFY; heartbeats are acknowledged.
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json({"op": 10, "d": {"heartbeat_interval": 45000}})
        async for frame in ws:
            if frame.type is not WSMsgType.TEXT:
                continue
            message = json.loads(frame.data)
            if message["op"] == 2:
                fake.identify.append(message["d"])
                ready = {
                    "v": 10,
                    "user": user(BOT_ID, "stancewatch", bot=True),
                    "guilds": [],
                    "session_id": "fake-session",
                    "resume_gateway_url": fake.gateway_url,
                    "application": {"id": APP_ID, "flags": 0},
                }
                await ws.send_json({"op": 0, "s": 1, "t": "READY", "d": ready})
            elif message["op"] == 1:
                await ws.send_json({"op": 11})
        return ws

    app = web.Application()
    app.router.add_get("/gateway", gateway)
    app.router.add_route("*", "/{tail:.*}", handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    fake.base = str(server.make_url("/api/v10"))
    fake.gateway_url = str(server.make_url("/gateway")).replace("http://", "ws://")
    try:
        yield fake
    finally:
        fake.release()  # a stalled handler would hold up the server's shutdown
        await server.close()


# --- the app side ----------------------------------------------------------------

MANAGE_GUILD = str(1 << 5)
NO_PERMISSIONS = "0"
CHANNEL = Destination(DestinationKind.DISCORD_CHANNEL, CHANNEL_ID)
WEBHOOK = Destination(DestinationKind.DISCORD_WEBHOOK, WEBHOOK_URL)


def watchlist(channel: bool = True, webhook: bool = True) -> Watchlist:
    """Two topics (one with positions), two actors, routes to the fake channel and webhook."""
    guarantees = Topic(
        id="security-guarantees",
        name="Security guarantees for Ukraine",
        description="Commitments to protect Ukraine after a ceasefire.",
        positions=(
            Position("supports-guarantees", "backs Western security guarantees for Ukraine"),
            Position("rejects-guarantees", "rejects Western guarantees and foreign troops"),
        ),
    )
    arms = Topic(id="arms-shipments", name="Arms shipments", description="Weapons sent to Ukraine.")
    routes = (
        Route(
            topics=("*",),
            discord_channel=CHANNEL_ID if channel else "",
            discord_webhook=WEBHOOK_URL if webhook else "",
        ),
    )
    actors = (Actor("russia", "Russia", ("Russia", "Moscow")), Actor("ukraine", "Ukraine"))
    return Watchlist(actors=actors, topics=(guarantees, arms), routes=routes)


def make_app(
    tmp_path: Path,
    fake: FakeDiscord | None,
    *,
    token: bool = True,
    admin_channel: str = "",
    guild: str = GUILD_ID,
    wl: Watchlist | None = None,
) -> App:
    """An app wired to the fake (bot mode when `token`), with a temporary database."""
    settings = Settings(
        db_path=tmp_path / "t.db",
        watchlists_dir=tmp_path / "watchlists",
        discord_token=BOT_TOKEN if token else "",
        discord_api_base=fake.base if fake else "http://127.0.0.1:9/api/v10",
        discord_guild_id=guild,
        discord_admin_channel=admin_channel,
    )
    return build_app(settings, wl or watchlist(), embedder=HashingEmbedder(), deliveries=[])


@asynccontextmanager
async def running(app: App) -> AsyncIterator[DiscordRuntime]:
    """start_discord without the gateway (REST only), its delivery added to the outbox."""
    runtime = await start_discord(app, gateway=False)
    app.outbox.deliveries.append(runtime.delivery)
    try:
        yield runtime
    finally:
        await runtime.stop()
        await app.fetcher.close()  # the store stays open for the test's assertions


def alert(
    alert_id: str = "story-1",
    *,
    topics: Sequence[str] = ("security-guarantees",),
    also: tuple[tuple[str, str], ...] = (),
    title: str = "Russia demands a veto over guarantees",
) -> Alert:
    """A realistic alert with a position shift."""
    names = {"security-guarantees": "Security guarantees for Ukraine", "arms-shipments": "Arms"}
    return Alert(
        id=alert_id,
        title=title,
        url="https://example-wire.com/world/russia-veto",
        source="Example Wire",
        published=datetime(2025, 8, 20, 9, 0, tzinfo=UTC),
        topics=tuple(
            TopicLine(t, names.get(t, t), 0.71, "Moscow said it must have a veto.") for t in topics
        ),
        summary="Moscow said it must have a veto over any guarantee for Kyiv. Talks resume Friday.",
        stances=(
            StanceLine(
                actor_name="Russia",
                topic_name="Security guarantees for Ukraine",
                now_label="demands a veto over any guarantee",
                now_quote="Russia must be among the guarantors, with a veto.",
                before_label="accepts Article 5-like guarantees",
                before_source="harbour-post.com",
                before_date=datetime(2025, 8, 18, tzinfo=UTC),
            ),
        ),
        also_reported_by=also,
    )


def queue(
    app: App, item: Alert, destinations: Sequence[Destination], at: datetime | None = None
) -> None:
    """Put an alert in the outbox for these destinations, as the pipeline does (due `at`)."""
    when = at or datetime.now(UTC)
    app.store.save_alert(item, item.id, [d.key for d in destinations], when)


_interaction_ids = itertools.count(400000000000000001)


def command_payload(
    name: str,
    options: Sequence[dict[str, Any]] = (),
    *,
    user_id: str = "300000000000000001",
    permissions: str = NO_PERMISSIONS,
    kind: int = 2,
) -> dict[str, Any]:
    """An APPLICATION_COMMAND (kind 2) or AUTOCOMPLETE (kind 4) interaction in the guild."""
    interaction_id = str(next(_interaction_ids))
    return {
        "id": interaction_id,
        "application_id": APP_ID,
        "type": kind,
        "token": f"interaction-token-{interaction_id}",
        "version": 1,
        "guild_id": GUILD_ID,
        "channel_id": CHANNEL_ID,
        "channel": {
            "id": CHANNEL_ID,
            "type": 0,
            "guild_id": GUILD_ID,
            "name": "news",
            "position": 0,
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": None,
        },
        "member": {
            "user": {
                "id": user_id,
                "username": "reader",
                "discriminator": "0",
                "global_name": None,
                "avatar": None,
            },
            "roles": [],
            "joined_at": "2025-01-01T00:00:00+00:00",
            "deaf": False,
            "mute": False,
            "flags": 0,
            "permissions": permissions,
        },
        "app_permissions": str((1 << 11) | (1 << 14)),
        "locale": "en-US",
        "guild_locale": "en-US",
        "entitlements": [],
        "authorizing_integration_owners": {"0": GUILD_ID},
        "context": 0,
        "attachment_size_limit": 8 * 1024 * 1024,
        "data": {
            "id": str(next(_interaction_ids)),
            "name": name,
            "type": 1,
            "guild_id": GUILD_ID,
            "options": list(options),
        },
    }


def option(name: str, value: Any, kind: int = 3, focused: bool = False) -> dict[str, Any]:
    """One command option (3: string, 4: integer, 5: boolean)."""
    data: dict[str, Any] = {"name": name, "type": kind, "value": value}
    if focused:
        data["focused"] = True
    return data


async def invoke(runtime: DiscordRuntime, payload: dict[str, Any]) -> None:
    """Dispatch the interaction through the real CommandTree (private API, pinned minor)."""
    client = runtime.client
    assert client is not None
    await client.tree._call(discord.Interaction(data=payload, state=client._connection))


async def until(check: Callable[[], object], what: str) -> None:
    """Wait until `check()` is true; at most a minute, a hang guard only."""
    for _ in range(6000):
        if check():
            return
        await asyncio.sleep(0.01)
    pytest.fail(f"never happened: {what}")


def use_gateway(monkeypatch: pytest.MonkeyPatch, fake: FakeDiscord) -> None:
    """Point discord.py's Client, which connects to its default gateway URL, at the fake."""
    monkeypatch.setattr(
        discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(fake.gateway_url)
    )


def serve(
    app: App, monkeypatch: pytest.MonkeyPatch, fake: FakeDiscord, once: bool = False
) -> tuple[asyncio.Event, asyncio.Task[int]]:
    """The service's own loop on `app` against the fake, in a task, with a 1 s stop grace
    (shorter than one attempt's 8 s limit, so a stop must cut a delivery, not wait for it),
    and the event that stops it as SIGTERM does."""
    monkeypatch.setattr(service, "STOP_GRACE_S", 1.0)
    use_gateway(monkeypatch, fake)
    stop = asyncio.Event()
    return stop, asyncio.create_task(service.serve_app(app, once=once, stop=stop))


@pytest.fixture
def dk() -> ModuleType:
    """This module: the fake API, builders and ids, for the tests to use."""
    return sys.modules[__name__]


@pytest.fixture(autouse=True)
def _restore_route_base(monkeypatch: pytest.MonkeyPatch) -> None:
    """start_discord sets discord.py's class-wide API base: put it back after each test."""
    monkeypatch.setattr(discord.http.Route, "BASE", discord.http.Route.BASE)
