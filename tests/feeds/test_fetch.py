"""The fetcher against a real local HTTP server: validators, errors, timeouts, caps, limits."""

from __future__ import annotations

import asyncio
import email.utils
import gzip
import socket
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.feeds import fetch as fetch_module
from bot.feeds.fetch import Fetcher, parse_retry_after

UA = "Stancewatch/0.1 (+https://github.com/stancewatch)"
RSS = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'
ETAG = '"v1"'
LAST_MODIFIED = "Mon, 18 Aug 2025 09:00:00 GMT"
CHUNK = b"x" * 65_536
HUGE_CHUNKS = 4096  # 256 MiB if anyone read it all


@dataclass
class State:
    """What the server saw, for the assertions."""

    headers: list[dict[str, str]] = field(default_factory=list)
    active: int = 0
    max_active: int = 0
    loop_hits: int = 0
    chunks_sent: int = 0
    stream_done: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)


def _huge_chunks() -> Iterator[bytes]:
    for _ in range(HUGE_CHUNKS):
        yield CHUNK


def _app(state: State) -> web.Application:
    async def feed(request: web.Request) -> web.StreamResponse:
        state.headers.append(dict(request.headers))
        if request.headers.get("If-None-Match") == ETAG:
            return web.Response(status=304, headers={"ETag": ETAG})
        if request.headers.get("If-Modified-Since") == LAST_MODIFIED:
            return web.Response(status=304)
        return web.Response(
            body=RSS,
            content_type="application/rss+xml",
            headers={"ETag": ETAG, "Last-Modified": LAST_MODIFIED},
        )

    async def last_modified_only(request: web.Request) -> web.StreamResponse:
        state.headers.append(dict(request.headers))
        if request.headers.get("If-Modified-Since") == LAST_MODIFIED:
            return web.Response(status=304)
        return web.Response(body=RSS, headers={"Last-Modified": LAST_MODIFIED})

    def status(code: int, retry_after: str | None = None) -> web.Response:
        headers = {"Retry-After": retry_after} if retry_after else {}
        return web.Response(status=code, text="nope", headers=headers)

    async def too_many(request: web.Request) -> web.StreamResponse:
        return status(429, "120")

    async def unavailable(request: web.Request) -> web.StreamResponse:
        return status(503, email.utils.formatdate(time.time() + 300, usegmt=True))

    async def plain_status(request: web.Request) -> web.StreamResponse:
        return status(int(request.match_info["code"]))

    async def stall(request: web.Request) -> web.StreamResponse:
        await state.release.wait()
        return web.Response(body=RSS)

    async def drip(request: web.Request) -> web.StreamResponse:
        # One byte every 0.1 s: each read succeeds, so only an overall deadline stops it.
        resp = web.StreamResponse()
        await resp.prepare(request)
        for _ in range(200):
            if state.release.is_set():
                break
            await resp.write(b"<")
            await asyncio.sleep(0.1)
        return resp

    async def huge_chunked(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()  # no Content-Length: chunked transfer
        try:
            await resp.prepare(request)
            for chunk in _huge_chunks():
                await resp.write(chunk)
                state.chunks_sent += 1
        except (ConnectionError, RuntimeError):
            pass  # the client hung up, which is the point
        finally:
            state.stream_done.set()
        return resp

    async def huge_declared(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.content_length = 50_000_000
        await resp.prepare(request)
        try:
            await resp.write(CHUNK)
            await state.release.wait()  # the rest never comes: only the header can tell
        except (ConnectionError, RuntimeError):
            pass
        return resp

    async def loop_a(request: web.Request) -> web.StreamResponse:
        state.loop_hits += 1
        raise web.HTTPFound("/loop-b")

    async def loop_b(request: web.Request) -> web.StreamResponse:
        state.loop_hits += 1
        raise web.HTTPFound("/loop-a")

    async def moved(request: web.Request) -> web.StreamResponse:
        raise web.HTTPMovedPermanently("/feed")

    async def counted(request: web.Request) -> web.StreamResponse:
        state.active += 1
        state.max_active = max(state.max_active, state.active)
        await asyncio.sleep(0.15)
        state.active -= 1
        return web.Response(body=RSS)

    async def page(request: web.Request) -> web.StreamResponse:
        return web.Response(text="<html><body><p>Hi</p></body></html>", content_type="text/html")

    async def pdf(request: web.Request) -> web.StreamResponse:
        return web.Response(body=b"%PDF-1.7", content_type="application/pdf")

    async def to_private(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(f"http://127.0.0.2:{request.url.port}/page")

    async def to_page(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("/page")

    async def brotli(request: web.Request) -> web.StreamResponse:
        # Compressed in a way nobody asked for (aiohttp reads gzip and deflate only).
        return web.Response(body=b"\x1b\x03\x00\xf8", headers={"Content-Encoding": "br"})

    async def gzip_unlabelled(request: web.Request) -> web.StreamResponse:
        # A pre-compressed feed.xml.gz served as is, or gzipped twice by a proxy: the
        # Content-Encoding names no gzip left to undo.
        return web.Response(body=gzip.compress(RSS), content_type="application/rss+xml")

    async def mislabelled(request: web.Request) -> web.StreamResponse:
        # A server set up to say "gzip" (or "deflate") for every answer, that sends this
        # one as it is: aiohttp sends a body with its own Content-Encoding untouched.
        encoding = request.match_info["encoding"]
        return web.Response(
            body=RSS, content_type="application/rss+xml", headers={"Content-Encoding": encoding}
        )

    async def cut_short(request: web.Request) -> web.StreamResponse:
        # Promises twice the body it sends, then the connection drops.
        response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        response.content_length = 2 * len(RSS)
        await response.prepare(request)
        await response.write(RSS)
        assert request.transport is not None
        request.transport.close()
        return response

    async def gzip_bomb(request: web.Request) -> web.StreamResponse:
        return web.Response(body=gzip.compress(b" " * 5_000_000), content_type="text/xml")

    async def to_query(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(request.query["url"])

    app = web.Application()
    app.router.add_get("/feed", feed)
    app.router.add_get("/gzip-unlabelled", gzip_unlabelled)
    app.router.add_get("/gzip-bomb", gzip_bomb)
    app.router.add_get("/mislabelled/{encoding}", mislabelled)
    app.router.add_get("/cut-short", cut_short)
    app.router.add_get("/lm", last_modified_only)
    app.router.add_get("/429", too_many)
    app.router.add_get("/503", unavailable)
    app.router.add_get("/status/{code}", plain_status)
    app.router.add_get("/stall", stall)
    app.router.add_get("/drip", drip)
    app.router.add_get("/huge-chunked", huge_chunked)
    app.router.add_get("/huge-declared", huge_declared)
    app.router.add_get("/loop-a", loop_a)
    app.router.add_get("/loop-b", loop_b)
    app.router.add_get("/moved", moved)
    app.router.add_get("/counted", counted)
    app.router.add_get("/page", page)
    app.router.add_get("/pdf", pdf)
    app.router.add_get("/to-private", to_private)
    app.router.add_get("/to-page", to_page)
    app.router.add_get("/brotli", brotli)
    app.router.add_get("/to", to_query)
    return app


@asynccontextmanager
async def serve() -> AsyncIterator[tuple[TestServer, State]]:
    """A local server on 127.0.0.1 with a random port; stalled handlers are released on exit."""
    state = State()
    server = TestServer(_app(state), host="127.0.0.1")
    await server.start_server()
    try:
        yield server, state
    finally:
        state.release.set()
        await server.close()


def _fetcher(**kwargs: Any) -> Fetcher:
    options: dict[str, Any] = {"connect_timeout_s": 0.5, "read_timeout_s": 0.5} | kwargs
    return Fetcher(user_agent=UA, **options)


async def test_etag_gives_not_modified_on_second_fetch() -> None:
    async with serve() as (server, state), _fetcher() as fetcher:
        url = str(server.make_url("/feed"))
        first = await fetcher.fetch(url)
        assert first.status == "ok"
        assert first.body == RSS
        assert first.etag == ETAG
        assert first.last_modified == LAST_MODIFIED

        second = await fetcher.fetch(url, etag=first.etag)
        assert second.status == "not_modified"
        assert second.http_status == 304
        assert second.body == b""
        assert second.etag == ETAG
        assert state.headers[-1]["If-None-Match"] == ETAG


async def test_last_modified_gives_not_modified_and_keeps_validator() -> None:
    async with serve() as (server, state), _fetcher() as fetcher:
        url = str(server.make_url("/lm"))
        first = await fetcher.fetch(url)
        assert first.status == "ok"
        assert first.etag is None
        second = await fetcher.fetch(url, last_modified=first.last_modified)
        assert state.headers[-1]["If-Modified-Since"] == LAST_MODIFIED
        assert second.status == "not_modified"
        # The server did not repeat the validator; the caller still needs it next time.
        assert second.last_modified == LAST_MODIFIED


async def test_retry_after_in_seconds_on_429() -> None:
    async with serve() as (server, _), _fetcher() as fetcher:
        result = await fetcher.fetch(str(server.make_url("/429")))
    assert result.status == "error"
    assert result.http_status == 429
    assert result.retry_after_s == 120
    assert result.error == "HTTP 429 Too Many Requests"
    assert not result.permanent


async def test_retry_after_as_http_date_on_503() -> None:
    async with serve() as (server, _), _fetcher() as fetcher:
        result = await fetcher.fetch(str(server.make_url("/503")))
    assert result.status == "error"
    assert result.http_status == 503
    assert result.retry_after_s is not None
    assert 250 <= result.retry_after_s <= 300


async def test_a_body_compressed_in_a_form_not_asked_for_is_named_as_such() -> None:
    async with serve() as (server, _), _fetcher() as fetcher:
        result = await fetcher.fetch(str(server.make_url("/brotli")))
    assert result.status == "error"
    # Not aiohttp's "400, message='Can not decode content-encoding…'": the server sent 200.
    assert result.error == "the server compressed its answer as 'br', which was not asked for"


async def test_a_feed_gzipped_without_saying_so_is_read() -> None:
    # It was handed to the parser compressed: "malformed XML at line 2" at every poll.
    async with serve() as (server, _), _fetcher() as fetcher:
        result = await fetcher.fetch(str(server.make_url("/gzip-unlabelled")))
    assert (result.status, result.body) == ("ok", RSS)


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
async def test_a_feed_said_to_be_compressed_but_sent_plain_is_read(encoding: str) -> None:
    # aiohttp could not unpack it: "response body was cut off or badly encoded" at every
    # poll, until the feed was paused. Browsers and other readers show such a feed.
    async with serve() as (server, _), _fetcher() as fetcher:
        result = await fetcher.fetch(str(server.make_url(f"/mislabelled/{encoding}")))
    assert (result.status, result.error, result.body) == ("ok", None, RSS)


async def test_a_body_the_connection_cut_short_is_said_to_be_cut_off() -> None:
    # It was "cut off or badly encoded": the operator could not tell a dropped connection
    # from a server's compression fault.
    async with serve() as (server, _), _fetcher() as fetcher:
        result = await fetcher.fetch(str(server.make_url("/cut-short")))
    assert result.status == "error"
    assert result.error == (
        "response body was cut off: the connection closed before the"
        f" {2 * len(RSS)} bytes announced had arrived"
    )


async def test_an_unlabelled_gzip_body_is_capped_by_what_it_unpacks_to() -> None:
    async with serve() as (server, _), _fetcher(max_bytes=1_000_000) as fetcher:
        result = await fetcher.fetch(str(server.make_url("/gzip-bomb")))
    assert result.status == "error"
    assert result.error == "response larger than 1000000 bytes once decompressed"


def test_parse_retry_after_forms() -> None:
    now = 1_755_507_600.0  # Mon, 18 Aug 2025 09:00:00 GMT
    assert parse_retry_after("30", now) == 30
    assert parse_retry_after("Mon, 18 Aug 2025 09:02:00 GMT", now) == 120
    assert parse_retry_after("Mon, 18 Aug 2025 08:00:00 GMT", now) == 0  # past: retry now
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


def test_retry_after_in_other_scripts_digits_is_ignored_not_a_crash() -> None:
    # str.isdigit() accepts superscripts, which float() refuses: the feed's whole poll
    # would have failed on one odd header instead of backing off by its own schedule.
    assert parse_retry_after("²") is None
    assert parse_retry_after("3²") is None


async def test_gone_and_not_found_are_permanent_but_500_is_not() -> None:
    async with serve() as (server, _), _fetcher() as fetcher:
        not_found = await fetcher.fetch(str(server.make_url("/status/404")))
        gone = await fetcher.fetch(str(server.make_url("/status/410")))
        broken = await fetcher.fetch(str(server.make_url("/status/500")))
    assert (not_found.status, not_found.http_status, not_found.permanent) == ("error", 404, True)
    assert not_found.error == "HTTP 404 Not Found"
    assert (gone.http_status, gone.permanent) == (410, True)
    assert (broken.status, broken.http_status, broken.permanent) == ("error", 500, False)
    assert broken.error == "HTTP 500 Internal Server Error"
    assert broken.retry_after_s is None


async def test_stalled_server_errors_within_the_timeout() -> None:
    async with serve() as (server, _), _fetcher() as fetcher:
        start = time.monotonic()
        result = await fetcher.fetch(str(server.make_url("/stall")))
        elapsed = time.monotonic() - start
    assert result.status == "error"
    assert result.error == "timed out after 0.5 s waiting for data"
    assert 0.4 <= elapsed < 2


async def test_dripping_server_is_cut_off_by_the_overall_deadline() -> None:
    async with serve() as (server, _), _fetcher() as fetcher:
        start = time.monotonic()
        result = await fetcher.fetch(str(server.make_url("/drip")))
        elapsed = time.monotonic() - start
    assert result.status == "error"
    assert result.error == "timed out after 1.5 s in total"
    assert elapsed < 3


async def test_oversized_chunked_body_is_refused_while_streaming() -> None:
    async with serve() as (server, state), _fetcher(max_bytes=200_000) as fetcher:
        result = await fetcher.fetch(str(server.make_url("/huge-chunked")))
        assert result.status == "error"
        assert result.error == "response larger than 200000 bytes"
        assert result.body == b""
        await asyncio.wait_for(state.stream_done.wait(), 10)
    # The server stopped when we hung up: only socket buffers' worth left it, not 256 MiB.
    assert state.chunks_sent < HUGE_CHUNKS // 4


async def test_declared_content_length_over_cap_is_refused_before_reading() -> None:
    async with serve() as (server, _), _fetcher(max_bytes=1_000_000, read_timeout_s=5) as fetcher:
        start = time.monotonic()
        result = await fetcher.fetch(str(server.make_url("/huge-declared")))
        elapsed = time.monotonic() - start
    assert result.status == "error"
    assert result.error == "response larger than 1000000 bytes"
    assert elapsed < 2  # it never waited for the body the server is withholding


async def test_redirect_loop_is_an_error() -> None:
    async with serve() as (server, state), _fetcher(max_redirects=5) as fetcher:
        result = await fetcher.fetch(str(server.make_url("/loop-a")))
    assert result.status == "error"
    assert result.error == "too many redirects (max 5)"
    assert state.loop_hits <= 6


async def test_normal_redirect_is_followed() -> None:
    async with serve() as (server, _), _fetcher() as fetcher:
        result = await fetcher.fetch(str(server.make_url("/moved")))
    assert result.status == "ok"
    assert result.body == RSS


async def test_user_agent_reaches_the_server() -> None:
    async with serve() as (server, state), _fetcher() as fetcher:
        await fetcher.fetch(str(server.make_url("/feed")))
    assert state.headers[0]["User-Agent"] == UA


async def test_per_host_limit_caps_concurrency() -> None:
    async with serve() as (server, state), _fetcher(per_host_limit=2) as fetcher:
        url = str(server.make_url("/counted"))
        results = await asyncio.gather(*(fetcher.fetch(url) for _ in range(6)))
    assert all(r.status == "ok" for r in results)
    assert state.max_active == 2  # limited, yet still parallel


async def test_total_limit_caps_concurrency() -> None:
    async with serve() as (server, state), _fetcher(per_host_limit=10, total_limit=3) as fetcher:
        url = str(server.make_url("/counted"))
        results = await asyncio.gather(*(fetcher.fetch(url) for _ in range(7)))
    assert all(r.status == "ok" for r in results)
    assert state.max_active == 3


async def test_fetch_page_accepts_html_and_refuses_other_types() -> None:
    async with serve() as (server, _), _fetcher() as fetcher:
        page = await fetcher.fetch_page(str(server.make_url("/page")))
        pdf = await fetcher.fetch_page(str(server.make_url("/pdf")))
    assert page.status == "ok"
    assert b"<p>Hi</p>" in page.body
    assert pdf.status == "error"
    assert pdf.error == "not an HTML page (content type application/pdf)"


async def test_a_page_on_a_private_address_is_refused_when_only_public_ones_may_be_read() -> None:
    # Every test server is on loopback: here 127.0.0.1 plays the public internet and the
    # rest of 127/8 the private network a hostile feed item might point at.
    async with serve() as (server, _), _fetcher() as fetcher:
        fetcher.is_public = lambda address: address == "127.0.0.1"
        page = str(server.make_url("/page"))
        private = page.replace("127.0.0.1", "127.0.0.2")
        direct = await fetcher.fetch_page(private, public_only=True)
        redirected = await fetcher.fetch_page(str(server.make_url("/to-private")), public_only=True)
        allowed = await fetcher.fetch_page(str(server.make_url("/to-page")), public_only=True)
        metadata = await fetcher.fetch_page("http://169.254.169.254/latest/", public_only=True)
    for refused in (direct, redirected, metadata):
        assert (refused.status, refused.error) == ("error", "refused: not a public address")
    assert redirected.url == private  # refused at the hop, before any request was sent
    assert allowed.status == "ok" and b"<p>Hi</p>" in allowed.body


async def test_a_page_redirecting_to_a_local_file_is_not_read(tmp_path: Path) -> None:
    # A feed item's page answered "302 Location: file:///…": the public-only fetch, which
    # follows redirects itself, read the file and its text became the alert's text.
    secret = tmp_path / "notes.html"
    secret.write_text("<html><body><p>Private notes of the operator.</p></body></html>")
    async with serve() as (server, _), _fetcher() as fetcher:
        fetcher.is_public = lambda address: address == "127.0.0.1"
        to_file = server.make_url("/to").with_query(url=secret.as_uri())
        page = await fetcher.fetch_page(str(to_file), public_only=True)
    assert (page.status, page.body) == ("error", b"")
    assert page.error == "refused: redirect to a file: URL"


async def test_a_name_that_turns_private_after_the_check_is_refused_at_connect(
    monkeypatch: Any,
) -> None:
    # DNS rebinding: the name answered with a public address when it was checked, then
    # with a loopback one when the connection resolved it. The connection must not go there.
    async def answered_public(url: str, is_public: Any = None) -> bool:
        return True

    monkeypatch.setattr(fetch_module, "host_is_public", answered_public)
    async with serve() as (server, _), _fetcher() as fetcher:
        url = f"http://localhost:{server.port}/page"
        fetcher.is_public = lambda address: True  # control: the same page is reachable
        reachable = await fetcher.fetch_page(url, public_only=True)
        await fetcher.close()  # no pooled connection to reuse
        fetcher.is_public = lambda address: False  # loopback is private again
        rebound = await fetcher.fetch_page(url, public_only=True)
        as_feed = await fetcher.fetch(url)  # feeds are the admin's own URLs: not guarded
    assert reachable.status == "ok" and b"<p>Hi</p>" in reachable.body
    assert (rebound.status, rebound.error) == ("error", "refused: not a public address")
    assert as_feed.status == "ok"


async def test_connection_refused_is_an_error_not_an_exception() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with _fetcher() as fetcher:
        result = await fetcher.fetch(f"http://127.0.0.1:{port}/feed")
        odd = await fetcher.fetch("ftp://example.org/feed")
    assert result.status == "error"
    assert result.error is not None
    assert result.error.startswith("cannot connect to 127.0.0.1")
    assert (odd.status, odd.error) == ("error", "unsupported URL scheme 'ftp'")


async def test_local_file_path_and_file_url(tmp_path: Path) -> None:
    path = tmp_path / "feed.xml"
    path.write_bytes(RSS)
    async with _fetcher() as fetcher:
        by_path = await fetcher.fetch(str(path))
        by_url = await fetcher.fetch(path.as_uri())
        unchanged = await fetcher.fetch(str(path), etag=by_path.etag)
        path.write_bytes(RSS + b"\n<!-- edited -->")
        changed = await fetcher.fetch(str(path), etag=by_path.etag)
    assert (by_path.status, by_path.body) == ("ok", RSS)
    assert (by_url.status, by_url.body) == ("ok", RSS)
    assert unchanged.status == "not_modified"
    assert changed.status == "ok"
    assert changed.body.endswith(b"<!-- edited -->")


async def test_missing_and_oversized_local_files_are_errors(tmp_path: Path) -> None:
    big = tmp_path / "big.xml"
    big.write_bytes(b"x" * 2_000)
    async with _fetcher(max_bytes=1_000) as fetcher:
        missing = await fetcher.fetch(str(tmp_path / "nope.xml"))
        too_big = await fetcher.fetch(str(big))
    assert missing.status == "error"
    assert missing.error == f"file not found: {tmp_path / 'nope.xml'}"
    assert (too_big.status, too_big.error) == ("error", "file larger than 1000 bytes")


def test_fetcher_can_be_built_before_the_loop_runs() -> None:
    # The app builds its fetcher before starting the loop; the session must bind later.
    fetcher = Fetcher(user_agent=UA)

    async def use() -> str:
        async with serve() as (server, _):
            result = await fetcher.fetch(str(server.make_url("/feed")))
        await fetcher.close()
        return result.status

    assert asyncio.run(use()) == "ok"
    assert asyncio.run(use()) == "ok"  # closed, then reused on a fresh loop
