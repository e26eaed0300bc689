"""Discord requests under a time limit, and their failures as `DeliveryError`s.

discord.py retries on its own: a 5xx five times with 1+3+5+7+9 s of sleeps, and a 429
that carries `Via` after sleeping its whole `retry_after` (webhooks with no cap at all).
Sat out inside a delivery, that held every other destination of the outbox. Here each
request runs under `ATTEMPT_LIMIT_S`, and an aiohttp trace on discord.py's sessions shows
the call in progress each answer as it arrives, so a 5xx, or a 429 whose wait will not
fit, ends the call at once and goes back to the outbox, which has backoff and
Retry-After of its own. A bot post whose answer says its rate-limit bucket is spent
returns as soon as the answer is read (see `taken_message_id`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import aiohttp
import discord
from aiohttp.connector import Connection
from multidict import CIMultiDict, CIMultiDictProxy

from bot.delivery.base import ATTEMPT_LIMIT_S, DeliveryError

log = logging.getLogger(__name__)
DEFAULT_RETRY_AFTER_S = 5.0  # a 429 that names no delay
# Discord JSON error codes that mean "this message is gone", not "the channel is gone".
UNKNOWN_MESSAGE = 10008
# Codes of a 400 about where the message was sent, not what it says: the same alert goes
# through to a text channel. Read as a refused payload, each alert was given up on at once.
WRONG_PLACE_CODES = frozenset(
    {
        40058,  # a forum or media channel: messages go to its posts (threads)
        50008,  # not a text channel (a category, a voice or stage channel)
        50024,  # an action this channel type does not allow
        50083,  # an archived thread that the bot may not reopen (locked)
        160005,  # a locked thread
        220001,  # a forum channel's webhook with no thread_id in its URL
    }
)
_ERROR_PATH = re.compile(r"^In ([\w.]+):", re.MULTILINE)
# A webhook's token is the last part of its path: hidden wherever an error names a URL.
_WEBHOOK_TOKEN = re.compile(r"(/webhooks/\d+/)[^/?\s'\")>]+")
NETWORK_DETAIL_MAX = 200
# The 5xx answers discord.py sleeps on and retries (1+3+5+7+9 s): a call meeting one is
# ended at once. Any other 5xx (503) discord.py raises by itself, at once; ending the call
# there instead cut discord.py's rate-limit bucket off as it was being released, and every
# later request on that route waited for it, past the limit, for good (until a restart).
RETRIED_BY_DISCORD_PY = frozenset({500, 502, 504, 524})


def _retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds from Retry-After (or X-RateLimit-Reset-After), if Discord sent one."""
    for name in ("Retry-After", "X-RateLimit-Reset-After"):
        with contextlib.suppress(KeyError, TypeError, ValueError):
            return max(0.0, float((headers or {})[name]))
    return None


class WrongPlace(DeliveryError):
    """Discord refused a message for where it goes (see WRONG_PLACE_CODES), not for what
    it says: a post finds the destination broken; an edit is dropped."""


def network_detail(exc: BaseException) -> str:
    """A network failure in one short line, without the URLs aiohttp puts in its errors.

    aiohttp's errors name the request's URL (a redirect loop names every hop, with the
    webhook token in each), and the delivery error is logged, stored in the outbox row
    and may be told to admins.
    """
    if isinstance(exc, aiohttp.TooManyRedirects):
        last = exc.history[-1].status if exc.history else exc.status
        text = f"too many redirects (the last answer was HTTP {last})"
    elif isinstance(exc, aiohttp.ClientResponseError):
        text = f"HTTP {exc.status} {exc.message}"
    elif isinstance(exc, aiohttp.InvalidURL):
        text = "the request URL is not valid: check DISCORD_API_BASE"
    else:
        text = str(exc) or type(exc).__name__
    text = _WEBHOOK_TOKEN.sub(r"\1…", " ".join(text.split()))
    return f"{type(exc).__name__}: {text[:NETWORK_DETAIL_MAX]}"


def refusal_kind(exc: discord.HTTPException) -> str:
    """A stable name for what Discord refused: status, code and the fields it named.

    Indexes become N ("embeds.N.url"), so the same mistake in another alert is the same
    kind and admins hear about it once.
    """
    paths = sorted({re.sub(r"\d+", "N", p) for p in _ERROR_PATH.findall(exc.text or "")})
    where = f" at {', '.join(paths)}" if paths else ""
    return f"HTTP {exc.status} code {exc.code}{where}"


def to_delivery_error(exc: BaseException, where: str) -> DeliveryError:
    """Translate a discord.py or network failure into what the outbox should do next."""
    if isinstance(exc, DeliveryError):
        return exc
    if isinstance(exc, discord.RateLimited):  # a wait longer than max_ratelimit_timeout
        return DeliveryError(f"{where}: rate limited", retry_after_s=exc.retry_after)
    if isinstance(exc, discord.HTTPException):
        detail = f"{where}: HTTP {exc.status} (code {exc.code}) {exc.text[:200]}".strip()
        if exc.status == 429:  # no `Via` header: discord.py did not retry it itself
            headers = getattr(exc.response, "headers", None)
            wait = _retry_after(headers)
            return DeliveryError(
                detail, retry_after_s=DEFAULT_RETRY_AFTER_S if wait is None else wait
            )
        if isinstance(exc, discord.NotFound) and exc.code == UNKNOWN_MESSAGE:
            return DeliveryError(detail, permanent=True)  # someone deleted the alert message
        if isinstance(exc, discord.Forbidden | discord.NotFound) or exc.status == 401:
            return DeliveryError(detail, destination_broken=True)
        if exc.status == 400 and exc.code in WRONG_PLACE_CODES:
            return WrongPlace(detail, destination_broken=True)
        if exc.status >= 500:
            return DeliveryError(detail, unavailable=True)
        # 400: the same payload fails again. Admins are told: our rendering needs a fix.
        return DeliveryError(detail, permanent=True, refused=refusal_kind(exc))
    if isinstance(exc, aiohttp.ClientError | TimeoutError | OSError):
        return DeliveryError(f"{where}: network error ({network_detail(exc)})", unavailable=True)
    return DeliveryError(f"{where}: unexpected error ({network_detail(exc)})")


@contextlib.contextmanager
def translated(where: str) -> Iterator[None]:
    """Re-raise discord.py and network failures as `DeliveryError`."""
    try:
        yield
    except (discord.DiscordException, aiohttp.ClientError, TimeoutError, OSError) as exc:
        raise to_delivery_error(exc, where) from exc


@dataclass
class _Call:
    """A Discord call in progress: its time limit, and the last answer Discord gave it."""

    timeout: asyncio.Timeout
    status: int | None = None
    content_type: str = ""
    retry_after_s: float | None = None
    sent: bool = False  # a request of this call went out (not still in a rate-limit wait)
    spent: bool = False  # Discord took the request and said its rate-limit bucket is spent
    # Set by `taken_message_id`: the message id, once an answer that spent the bucket is read.
    taken: asyncio.Future[str] | None = None

    def heard(self, status: int, headers: Mapping[str, str]) -> None:
        """Discord answered one request of this call (discord.py has not acted on it yet)."""
        if self.timeout.expired():
            return  # already ended: nothing left to decide
        self.status = status
        self.content_type = headers.get("Content-Type", "")
        now = asyncio.get_running_loop().time()
        if 200 <= status < 300:
            # Accepted. What discord.py still does (read the message, sleep out a spent
            # rate-limit bucket) must not be cut: the outbox would post a second copy.
            self.timeout.reschedule(None)
            with contextlib.suppress(ValueError):
                self.spent = int(headers.get("X-RateLimit-Remaining", "1")) <= 0
        elif status == 429 and headers.get("Via"):
            # A real rate limit, which discord.py would sleep out: only if it fits.
            wait = _retry_after(headers)
            self.retry_after_s = DEFAULT_RETRY_AFTER_S if wait is None else wait
            ends = self.timeout.when()
            if ends is not None and now + self.retry_after_s > ends:
                self.timeout.reschedule(now)
        elif status in RETRIED_BY_DISCORD_PY:
            self.timeout.reschedule(now)  # not discord.py's 25 s of retries: the outbox's

    def read(self, body: bytes) -> None:
        """The body of an answer arrived: a taken message's id ends the wait for it."""
        if self.taken is None or self.taken.done() or not self.spent:
            return
        with contextlib.suppress(ValueError):
            message = json.loads(body)
            if isinstance(message, dict) and message.get("id"):
                self.taken.set_result(str(message["id"]))

    def unreadable(self, where: str) -> DeliveryError:
        """Discord (or something in its place) answered with what is not a Discord reply."""
        kind = self.content_type.split(";", 1)[0].strip() or "no Content-Type"
        return DeliveryError(
            f"{where}: the answer (HTTP {self.status}, {kind}) could not be read as"
            " Discord's; is a proxy or a captive portal in the way?",
            unavailable=True,
        )

    def failure(self, where: str, limit_s: float) -> DeliveryError:
        """Why the call was ended early, for the outbox."""
        if not self.sent:
            # Nothing went out: discord.py was still waiting for the route's rate limit
            # (a bucket an earlier post spent) or the global one to reset.
            return DeliveryError(
                f"{where}: Discord's rate limit did not reset within {limit_s:.0f} s",
                retry_after_s=DEFAULT_RETRY_AFTER_S,
            )
        if self.status == 429 and self.retry_after_s is not None:
            wait = self.retry_after_s
            return DeliveryError(f"{where}: rate limited for {wait:.0f} s", retry_after_s=wait)
        if self.status is not None and self.status >= 500:
            return DeliveryError(f"{where}: HTTP {self.status} from Discord", unavailable=True)
        return DeliveryError(
            f"{where}: no answer from Discord within {limit_s:.0f} s", unavailable=True
        )


_CALL: ContextVar[_Call | None] = ContextVar("stancewatch_discord_call", default=None)


async def _on_request_start(
    session: aiohttp.ClientSession,
    context: SimpleNamespace,
    params: aiohttp.TraceRequestStartParams,
) -> None:
    call = _CALL.get()
    if call is not None:
        call.sent = True


async def _on_request_end(
    session: aiohttp.ClientSession, context: SimpleNamespace, params: aiohttp.TraceRequestEndParams
) -> None:
    call = _CALL.get()
    if call is not None:  # login, command sync and interactions run outside any call
        call.heard(params.response.status, params.response.headers)


async def _on_body(
    session: aiohttp.ClientSession,
    context: SimpleNamespace,
    params: aiohttp.TraceResponseChunkReceivedParams,
) -> None:
    # aiohttp reports the whole body at once when discord.py reads it.
    call = _CALL.get()
    if call is not None:
        call.read(params.chunk)


class WebhookResponse(aiohttp.ClientResponse):
    """A webhook answer whose spent rate-limit bucket discord.py sits out only if it is short.

    After a post Discord took with `X-RateLimit-Remaining: 0`, discord.py's webhook code
    sleeps out `X-RateLimit-Reset-After` before it returns the message, with no cap: a post
    answered "spent for an hour" held the drain, and so every destination, an hour; a value
    it cannot read ("inf", or no reset header at all) hung it or raised after the post went
    out, which the outbox then posted again. Such a wait is hidden from discord.py here: the
    next post to the webhook meets a 429, whose wait goes back to the outbox (see `_Call`).
    """

    async def start(self, connection: Connection) -> aiohttp.ClientResponse:
        """Read the status and headers, dropping a spent-bucket wait that would not fit."""
        started = await super().start(connection)
        if self._headers.get("X-RateLimit-Remaining") == "0":
            wait: float | None = None
            with contextlib.suppress(KeyError, ValueError):
                wait = float(self._headers["X-RateLimit-Reset-After"])
            if wait is None or not 0 <= wait <= ATTEMPT_LIMIT_S:  # nan and inf fail too
                headers = CIMultiDict(self._headers)
                del headers["X-RateLimit-Remaining"]
                self._headers = CIMultiDictProxy(headers)
                self._cache.pop("headers", None)  # `headers` is cached once start() read it
        return started


def response_watch() -> aiohttp.TraceConfig:
    """An aiohttp trace for discord.py's sessions that lets `discord_call` see each answer."""
    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(_on_request_start)
    trace.on_request_end.append(_on_request_end)
    trace.on_response_chunk_received.append(_on_body)
    return trace


# Bot requests Discord took whose spent rate-limit bucket discord.py is still sleeping out.
_SLEEPING_ON_BUCKETS: set[asyncio.Task[discord.Message]] = set()


def _bucket_slept_out(task: asyncio.Task[discord.Message]) -> None:
    _SLEEPING_ON_BUCKETS.discard(task)
    if not task.cancelled() and task.exception() is not None:
        # The message was taken and recorded; what failed after it changes nothing.
        log.debug("a Discord post ended badly after it was taken: %r", task.exception())


async def taken_message_id(sending: Awaitable[discord.Message]) -> str:
    """Await a bot post or edit inside `discord_call`: its message id, as soon as Discord
    has taken it.

    When the answer says the route's rate-limit bucket is spent (`X-RateLimit-Remaining:
    0`), discord.py sleeps out the reset (up to 30 s) before it returns the message, and the
    drain, with every other destination's delivery, waited with it. That sleep belongs
    before the route's next request: it goes on in the background, holding discord.py's
    bucket, so the next post to that channel waits for it inside its own time limit (and
    goes back to the outbox if it does not fit). discord.py offers no way to skip the sleep,
    so the message id is read from the answer's body (`response_watch`) instead of waiting
    for the `Message`.
    """
    call = _CALL.get()
    if call is None:
        return str((await sending).id)
    taken: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    call.taken = taken
    task = asyncio.ensure_future(sending)  # in this context: its answers reach `call`
    either: list[asyncio.Future[Any]] = [task, taken]
    try:
        await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
    except BaseException:
        # Cut (the call's time limit, or a stop): discord.py gives its bucket back first.
        task.cancel()
        await asyncio.wait({task})
        raise
    finally:
        call.taken = None
    if task.done() or not taken.done():
        return str(task.result().id)
    _SLEEPING_ON_BUCKETS.add(task)
    task.add_done_callback(_bucket_slept_out)
    return taken.result()


async def end_bucket_sleeps() -> None:
    """Cancel the background sleeps on spent buckets (the client is closing)."""
    sleeping = {t for t in _SLEEPING_ON_BUCKETS if t.get_loop() is asyncio.get_running_loop()}
    for task in sleeping:
        task.cancel()
    if sleeping:
        await asyncio.wait(sleeping)


def _reopen_global_gate(client: discord.Client) -> None:
    """Open discord.py's global rate-limit gate again, after a call sleeping behind it was cut.

    On a global 429 discord.py closes the gate, sleeps out the wait and opens it again; a
    sleep cut by our time limit never opens it, and every later request of the client waited
    on it for ever. Private API (discord.py is pinned to 2.7.x). Opening it early costs at
    most one more 429 per destination, each of which goes back to the outbox with its wait.
    """
    gate = getattr(client.http, "_global_over", None)
    if isinstance(gate, asyncio.Event):
        gate.set()


def _release_cut_buckets(client: discord.Client) -> None:
    """Reset the route buckets whose release a cut call interrupted.

    On its way out of every request discord.py gives the route's bucket back (`_refresh`,
    which awaits even when there is nothing to wait for). When discord.py raises at once on
    an answer our limit also ends the call for (a 429 asking for more than its 30 s cap, or
    one whose body it cannot read), the cut lands in that release: the bucket stays spent
    with no reset time, and every later request on the route waited 30 s for it, past the
    limit, until a restart. Such a bucket (spent, nothing in flight or asleep on it, no
    reset time) is reset, and the requests queued on it go. Private API (discord.py is
    pinned to 2.7.x); resetting early costs at most one more 429, whose wait goes back to
    the outbox.
    """
    buckets = getattr(client.http, "_buckets", None)
    for bucket in buckets.values() if isinstance(buckets, dict) else ():
        if (
            isinstance(bucket, discord.http.Ratelimit)
            and bucket.remaining <= 0
            and bucket.outgoing == 0
            and bucket.expires is None
            and not bucket._sleeping.locked()
        ):
            bucket.reset()  # type: ignore[no-untyped-call]
            # Requests queued on it (another follower's DM opening) would otherwise wait
            # out discord.py's 30 s before they looked again.
            bucket._wake(bucket.remaining)


@contextlib.asynccontextmanager
async def discord_call(
    where: str, limit_s: float | None = None, *, client: discord.Client | None = None
) -> AsyncIterator[None]:
    """Run discord.py requests for at most `limit_s` (default ATTEMPT_LIMIT_S); every
    failure leaves as DeliveryError.

    The answers come through `response_watch`, which runs in this task, hence a context
    variable: the call in progress is the one of the task that made the request. Bot calls
    pass their `client`, so a rate-limit wait cut short does not leave it gated.
    """
    limit_s = ATTEMPT_LIMIT_S if limit_s is None else limit_s
    call: _Call | None = None
    try:
        async with asyncio.timeout(limit_s) as timeout:
            call = _Call(timeout)
            token = _CALL.set(call)
            try:
                with translated(where):
                    yield
            except (TypeError, KeyError, ValueError) as exc:
                # discord.py reads an answer as JSON only when it says application/json,
                # and takes whatever it read for a message: an HTML page from a proxy, or
                # a cut-off body, ends here, not in a bug of ours.
                if call.status is None:
                    raise
                raise call.unreadable(where) from exc
            finally:
                _CALL.reset(token)
    except TimeoutError as exc:  # only ours: translated() turned any other into DeliveryError
        assert call is not None
        if client is not None:
            if call.status == 429:
                _reopen_global_gate(client)
            _release_cut_buckets(client)
        raise call.failure(where, limit_s) from exc
