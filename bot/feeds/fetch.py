"""Polite HTTP fetching of feeds and article pages: conditional GET, timeouts, caps, limits.

Every failure comes back as a `FetchResult` with status "error"; nothing here raises for
network problems, so one bad feed never stops a poll cycle.
"""

from __future__ import annotations

import asyncio
import email.utils
import ipaddress
import os
import re
import socket
import time
import urllib.parse
import urllib.request
import zlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC
from types import TracebackType
from typing import Literal

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.http_exceptions import ContentEncodingError

from bot.logs import redact_urls

# What a feed reader asks for; "*/*" last because many servers mislabel feeds as text/html.
FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.5"
)
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class FetchResult:
    """The outcome of one fetch: a body, "not modified", or an error in one sentence."""

    url: str
    status: Literal["ok", "not_modified", "error"]
    body: bytes = b""
    etag: str | None = None
    last_modified: str | None = None
    http_status: int | None = None
    retry_after_s: float | None = None  # from Retry-After (seconds or HTTP date) on 429/503
    error: str | None = None  # one clear sentence for logs and admins
    permanent: bool = False  # 404/410: a hint to back off harder
    location: str | None = None  # where a redirect points, when redirects are not followed
    content_type: str | None = None  # the Content-Type header: it may name the body's charset
    final_url: str | None = None  # where followed redirects led (None: no redirect)
    moved_permanently: bool = False  # one of them was a 301 or 308
    # No connection was made (the name did not resolve, the host was refused or out of
    # reach, the connection timed out): what every feed meets when this machine is offline.
    unreachable: bool = False


_REDIRECTS = (301, 302, 303, 307, 308)
# aiohttp's words for a body in a compression it cannot read ("brotli (br)", "zstandard (zstd)").
_UNREADABLE_ENCODING = re.compile(r"Can not decode content-encoding: ([\w-]+)(?: \((\w+)\))?")


def is_public_address(address: str) -> bool:
    """True for an address on the public internet (not loopback, private, link-local …)."""
    try:
        return ipaddress.ip_address(address.split("%")[0]).is_global
    except ValueError:
        return False


async def host_is_public(
    url: str, is_public: Callable[[str], bool] = is_public_address
) -> bool | None:
    """Whether every address of the URL's host is public; None when the name does not resolve.

    A name that resolves to both (split-horizon DNS) counts as private: that is the case a
    hostile link would use.
    """
    host = (urllib.parse.urlsplit(url).hostname or "").strip("[]")
    if not host:
        return None
    try:
        ipaddress.ip_address(host)
        addresses = [host]
    except ValueError:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, None, type=socket.SOCK_STREAM
            )
        except OSError:
            return None  # the request itself will fail and say why
        addresses = [str(info[4][0]) for info in infos]
    return bool(addresses) and all(is_public(a) for a in addresses)


class NotPublicAddressError(OSError):
    """A host resolved, at connect time, to an address a public-only fetch may not reach."""


class PublicOnlyResolver(AbstractResolver):
    """Resolves names like the default resolver, but refuses any that reach a private address.

    `fetch_page(public_only=True)` checks a host before each request, but the connection
    resolves the name again: a DNS answer that changes in between (rebinding) would slip
    through. With this resolver on the connection itself, the address that is checked is
    the address that is dialled.
    """

    def __init__(self, is_public: Callable[[str], bool]) -> None:
        self._inner = aiohttp.DefaultResolver()
        self._is_public = is_public

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """The host's addresses, or NotPublicAddressError when any of them is not public."""
        results = await self._inner.resolve(host, port, family)
        # All or nothing, as in `host_is_public`: a name that also answers with a private
        # address is the case a hostile link would use.
        if not results or not all(self._is_public(r["host"]) for r in results):
            raise NotPublicAddressError(f"{host} resolves to an address that is not public")
        return results

    async def close(self) -> None:
        """Release the wrapped resolver."""
        await self._inner.close()


class _Refused(Exception):
    """A response we chose not to accept (too big, wrong type); its message is the error."""


class _NotCompressed(Exception):
    """The body would not unpack in the Content-Encoding the server named (gzip, deflate)."""


def _secs(value: float) -> str:
    """Format seconds for messages: 10 → "10", 0.5 → "0.5"."""
    return f"{value:g}"


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    # ASCII only: str.isdigit() also accepts "²", which float() refuses.
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT; some servers omit the zone
        when = when.replace(tzinfo=UTC)
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


class Fetcher:
    """Fetches feeds and pages with one shared aiohttp session and per-host limits."""

    def __init__(
        self,
        *,
        user_agent: str,
        connect_timeout_s: float = 5,
        read_timeout_s: float = 10,
        max_bytes: int = 5_000_000,
        max_redirects: int = 5,
        per_host_limit: int = 2,
        total_limit: int = 32,
    ) -> None:
        self.user_agent = user_agent
        self.connect_timeout_s = connect_timeout_s
        self.read_timeout_s = read_timeout_s
        # The read timeout restarts with every byte, so a server dripping one byte at a time
        # could hold a request forever; this overall deadline bounds it.
        self.deadline_s = connect_timeout_s + 2 * read_timeout_s
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.per_host_limit = per_host_limit
        self.total_limit = total_limit
        # Which addresses count as public for `fetch_page(public_only=True)`; tests, whose
        # servers are all on loopback, give their own.
        self.is_public: Callable[[str], bool] = is_public_address
        self._session: aiohttp.ClientSession | None = None
        # Public-only page fetches get their own session, whose connections resolve names
        # through `PublicOnlyResolver` (and never from the feed session's DNS cache).
        self._public_session: aiohttp.ClientSession | None = None
        # Made lazily, like the session, so they belong to the loop that runs the fetches.
        self._host_slots: dict[str, asyncio.Semaphore] = {}
        self._total_slots: asyncio.Semaphore | None = None

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP session; a later fetch opens a new one."""
        self._host_slots.clear()
        self._total_slots = None
        for session in (self._session, self._public_session):
            if session is not None:
                await session.close()
        self._session = self._public_session = None

    async def fetch(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        """Fetch a feed (URL or local path), conditionally when a validator is given."""
        headers = {"Accept": FEED_ACCEPT}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        result = await self._get(url, headers, etag, last_modified, html_only=False)
        if result.status == "not_modified" and not (etag or last_modified):
            result = await self._revalidated(url, headers)
        return self._unpacked(result)

    async def _revalidated(self, url: str, headers: dict[str, str]) -> FetchResult:
        """The feed asked for again past any cache, after a 304 to a request without
        validators; an error if the answer is 304 again.

        Such a 304 says nothing about what we have (we have nothing): a cache that stored
        one answers it to everyone. Taken as "unchanged", the feed showed as healthy and was
        never read. `no-cache` asks caches to check with the server first.
        """
        fresh = {**headers, "Cache-Control": "no-cache", "Pragma": "no-cache"}
        result = await self._get(url, fresh, None, None, html_only=False)
        if result.status != "not_modified":
            return result
        return FetchResult(
            url,
            "error",
            http_status=304,
            error="HTTP 304 Not Modified to a request without validators"
            " (a cache in front of the feed answers it to every request)",
        )

    def _unpacked(self, result: FetchResult) -> FetchResult:
        """A feed body still gzipped after the transport's decoding, unpacked within the cap.

        A pre-compressed `feed.xml.gz` served without `Content-Encoding`, or a proxy that
        compresses twice, reached the parser as binary: "malformed XML" at every poll. The
        cap applies to what it unpacks to, so a small body cannot swell past it.
        """
        if result.status != "ok" or not result.body.startswith(_GZIP_MAGIC):
            return result
        try:
            body = zlib.decompressobj(wbits=31).decompress(result.body, self.max_bytes + 1)
        except zlib.error:
            return result  # not gzip after all: the parser says what it is
        if len(body) > self.max_bytes:
            error = f"response larger than {self.max_bytes} bytes once decompressed"
            return replace(result, status="error", body=b"", error=error)
        return replace(result, body=body)

    async def fetch_page(self, url: str, *, public_only: bool = False) -> FetchResult:
        """Fetch an article's HTML page for full-text extraction.

        `public_only`: refuse a page (or a redirect) on a loopback, private or link-local
        address. A feed's links are someone else's input: without this, an item linking to
        169.254.169.254 or an intranet page would have the bot fetch it and post its text.
        """
        headers = {"Accept": PAGE_ACCEPT}
        if not public_only:
            return await self._get(url, headers, None, None, html_only=True)
        for _ in range(self.max_redirects + 1):
            if await host_is_public(url, self.is_public) is False:
                return FetchResult(url, "error", error="refused: not a public address")
            result = await self._get(
                url, headers, None, None, html_only=True, follow=False, public_only=True
            )
            if result.location is None:
                return result
            url = result.location  # each hop is checked again before it is fetched
            scheme = urllib.parse.urlsplit(url).scheme.lower()
            if scheme not in ("http", "https"):
                # A "Location: file:///…" would otherwise be read from this machine's disk
                # (`_get` reads local paths, for local feeds) and posted as the article.
                return FetchResult(url, "error", error=f"refused: redirect to a {scheme}: URL")
        return FetchResult(url, "error", error=f"too many redirects (max {self.max_redirects})")

    async def _get(
        self,
        url: str,
        headers: dict[str, str],
        etag: str | None,
        last_modified: str | None,
        *,
        html_only: bool,
        follow: bool = True,
        public_only: bool = False,
    ) -> FetchResult:
        try:
            parts = urllib.parse.urlsplit(url)
        except ValueError as exc:  # e.g. an unbalanced "[" from a password pasted unencoded
            return FetchResult(url, "error", error=f"invalid URL: {exc}")
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https"):
            # One-letter schemes are Windows drive letters ("C:\feeds\x.xml"), i.e. paths.
            if scheme in ("", "file") or len(scheme) == 1:
                return await asyncio.to_thread(self._read_file, url, etag, last_modified)
            return FetchResult(url, "error", error=f"unsupported URL scheme '{scheme}'")
        host = (parts.hostname or "").lower()
        if self._total_slots is None:
            self._total_slots = asyncio.Semaphore(self.total_limit)
        slot = self._host_slots.setdefault(host, asyncio.Semaphore(self.per_host_limit))
        # Host slot first: a burst for one slow host then waits without holding total slots
        # that other hosts could use.
        async with slot, self._total_slots:
            try:
                async with asyncio.timeout(self.deadline_s):
                    try:
                        return await self._request(
                            url, headers, etag, last_modified, html_only, follow, public_only
                        )
                    except _NotCompressed:
                        # Servers set to say "gzip" for every answer send some uncompressed;
                        # browsers show them. Asked again and taken as sent, the body is the
                        # feed (a gzipped one is unpacked by `_unpacked`, within the cap).
                        return await self._request(
                            url,
                            headers,
                            etag,
                            last_modified,
                            html_only,
                            follow,
                            public_only,
                            decompress=False,
                        )
            except aiohttp.TooManyRedirects:
                return FetchResult(
                    url, "error", error=f"too many redirects (max {self.max_redirects})"
                )
            except aiohttp.ConnectionTimeoutError:
                msg = f"connection timed out after {_secs(self.connect_timeout_s)} s"
                return FetchResult(url, "error", error=msg, unreachable=True)
            except aiohttp.ServerTimeoutError:
                msg = f"timed out after {_secs(self.read_timeout_s)} s waiting for data"
                return FetchResult(url, "error", error=msg)
            except TimeoutError:
                msg = f"timed out after {_secs(self.deadline_s)} s in total"
                return FetchResult(url, "error", error=msg)
            except (aiohttp.ClientError, OSError, ValueError) as exc:
                return FetchResult(
                    url, "error", error=_describe(exc, host), unreachable=_unreachable(exc)
                )

    def _session_now(self, public_only: bool = False) -> aiohttp.ClientSession:
        # Created here, not in __init__, so it binds to the loop that actually runs fetches.
        if public_only:
            if self._public_session is None or self._public_session.closed:
                resolver = PublicOnlyResolver(lambda address: self.is_public(address))
                self._public_session = self._new_session(
                    aiohttp.TCPConnector(
                        limit=self.total_limit,
                        limit_per_host=self.per_host_limit,
                        resolver=resolver,
                        use_dns_cache=False,
                    )
                )
            return self._public_session
        if self._session is None or self._session.closed:
            self._session = self._new_session(
                aiohttp.TCPConnector(limit=self.total_limit, limit_per_host=self.per_host_limit)
            )
        return self._session

    def _new_session(self, connector: aiohttp.TCPConnector) -> aiohttp.ClientSession:
        timeout = aiohttp.ClientTimeout(
            total=None,
            connect=self.connect_timeout_s,
            sock_connect=self.connect_timeout_s,
            sock_read=self.read_timeout_s,
        )
        return aiohttp.ClientSession(
            timeout=timeout,
            connector=connector,
            headers={"User-Agent": self.user_agent},
            trust_env=False,
        )

    async def _request(
        self,
        url: str,
        headers: dict[str, str],
        etag: str | None,
        last_modified: str | None,
        html_only: bool,
        follow: bool = True,
        public_only: bool = False,
        decompress: bool = True,
    ) -> FetchResult:
        session = self._session_now(public_only)
        async with session.get(
            url,
            headers=headers,
            allow_redirects=follow,
            max_redirects=self.max_redirects,
            auto_decompress=decompress,
        ) as resp:
            code = resp.status
            new_etag = resp.headers.get("ETag")
            new_modified = resp.headers.get("Last-Modified")
            if code == 304:
                # Keep the validators we sent when the server does not repeat them.
                return FetchResult(
                    url,
                    "not_modified",
                    etag=new_etag or etag,
                    last_modified=new_modified or last_modified,
                    http_status=code,
                )
            location = resp.headers.get("Location")
            if not follow and code in _REDIRECTS and location:
                resp.close()
                return FetchResult(
                    url,
                    "error",
                    http_status=code,
                    error=f"HTTP {code} redirect",
                    location=urllib.parse.urljoin(url, location),
                )
            if code >= 300:
                retry = None
                if code in (429, 503):
                    retry = parse_retry_after(resp.headers.get("Retry-After"))
                resp.close()  # drop the connection rather than download an error page
                return FetchResult(
                    url,
                    "error",
                    http_status=code,
                    retry_after_s=retry,
                    error=f"HTTP {code} {resp.reason or ''}".rstrip(),
                    permanent=code in (404, 410),
                )
            try:
                if html_only:
                    _check_html(resp.headers.get("Content-Type"))
                body = await self._read_capped(resp)
            except _Refused as exc:
                resp.close()
                return FetchResult(url, "error", http_status=code, error=str(exc))
            return FetchResult(
                url,
                "ok",
                body=body,
                etag=new_etag,
                last_modified=new_modified,
                http_status=code,
                content_type=resp.headers.get("Content-Type"),
                final_url=str(resp.url) if resp.history else None,
                moved_permanently=any(step.status in (301, 308) for step in resp.history),
            )

    async def _read_capped(self, resp: aiohttp.ClientResponse) -> bytes:
        # Refuse early on an honest Content-Length, then count while streaming for the
        # servers that send none (or lie): a huge body is never held in memory whole.
        too_big = f"response larger than {self.max_bytes} bytes"
        if resp.content_length is not None and resp.content_length > self.max_bytes:
            raise _Refused(too_big)
        parts: list[bytes] = []
        size = 0
        try:
            async for chunk in resp.content.iter_chunked(_CHUNK):
                size += len(chunk)
                if size > self.max_bytes:
                    raise _Refused(too_big)
                parts.append(chunk)
        except aiohttp.ClientPayloadError as exc:
            if isinstance(exc.__cause__, ContentEncodingError):
                raise _NotCompressed from exc
            raise _Refused(_cut_off(resp.content_length)) from exc
        return b"".join(parts)

    def _read_file(self, url: str, etag: str | None, last_modified: str | None) -> FetchResult:
        """Read a local feed with the same size cap; mtime and size stand in for validators."""
        path = url
        if url.lower().startswith("file:"):
            path = urllib.request.url2pathname(urllib.parse.urlsplit(url).path)
        try:
            with open(path, "rb") as handle:
                stat = os.fstat(handle.fileno())
                file_etag = f'"{stat.st_size:x}-{stat.st_mtime_ns:x}"'
                file_modified = email.utils.formatdate(stat.st_mtime, usegmt=True)
                if (etag and etag == file_etag) or (
                    not etag and last_modified and last_modified == file_modified
                ):
                    return FetchResult(
                        url, "not_modified", etag=file_etag, last_modified=file_modified
                    )
                body = handle.read(self.max_bytes + 1)
        except FileNotFoundError:
            return FetchResult(url, "error", error=f"file not found: {path}", permanent=True)
        except IsADirectoryError:
            return FetchResult(url, "error", error=f"not a file: {path}", permanent=True)
        except OSError as exc:
            return FetchResult(url, "error", error=f"cannot read {path}: {exc.strerror or exc}")
        if len(body) > self.max_bytes:
            return FetchResult(url, "error", error=f"file larger than {self.max_bytes} bytes")
        return FetchResult(url, "ok", body=body, etag=file_etag, last_modified=file_modified)


def _check_html(content_type: str | None) -> None:
    """Refuse a page that is plainly not HTML (a PDF, an image): extraction would be noise."""
    if content_type is None:
        return
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind and kind not in _HTML_TYPES:
        raise _Refused(f"not an HTML page (content type {kind})")


def _cut_off(announced: int | None) -> str:
    """The error for a body the connection ended before it was whole."""
    if announced is None:
        return "response body was cut off: the connection closed before its last chunk"
    return (
        "response body was cut off: the connection closed before the"
        f" {announced} bytes announced had arrived"
    )


def _unreachable(exc: BaseException) -> bool:
    """True when no connection was made: DNS failed, or the host refused or was out of reach.

    A refusal of our own (a private address for a public-only fetch) is not one: the
    network worked.
    """
    return isinstance(exc, aiohttp.ClientConnectorError) and not isinstance(
        exc.os_error, NotPublicAddressError
    )


def _describe(exc: BaseException, host: str) -> str:
    """One sentence for a transport failure, without a traceback or a URL's secrets."""
    return redact_urls(_sentence(exc, host))


def _sentence(exc: BaseException, host: str) -> str:
    if isinstance(exc, aiohttp.ClientConnectorError) and isinstance(
        exc.os_error, NotPublicAddressError
    ):
        return "refused: not a public address"
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return f"cannot resolve host {host}"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"cannot connect to {host}: {exc.os_error.strerror or exc.os_error}"
    if isinstance(exc, aiohttp.InvalidURL | aiohttp.NonHttpUrlRedirectClientError):
        return f"invalid URL: {exc}"
    encoding = _UNREADABLE_ENCODING.search(str(exc))
    if isinstance(exc, aiohttp.ClientResponseError) and encoding:
        # aiohttp reports it as a "400" of its own; the server had answered 200.
        name = encoding.group(2) or encoding.group(1)
        return f"the server compressed its answer as {name!r}, which was not asked for"
    if isinstance(exc, aiohttp.ClientPayloadError):
        return "response body was cut off or badly encoded"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "server closed the connection before answering"
    return f"request failed: {type(exc).__name__}: {exc}"
