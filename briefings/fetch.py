"""HTTP only: concurrency, politeness, conditional GET, timeouts, size caps,
redirects, retries and address checks.

Nothing here raises for a bad URL: every request ends as a :class:`Fetched`
whose ``status`` is ``"ok"``, ``"not_modified"`` or ``"error"`` with a one-line
reason, so that one bad feed never stops the others.

Bodies are counted as they unpack: a gzip bomb (a few megabytes on the wire,
gigabytes unpacked) is refused once ``max_bytes`` have come out of it, and no
more than that is ever held in memory.

Article links come from feeds, so they are untrusted: a request made with
``allow_private=False`` refuses any hop (the first URL and every redirect)
whose host resolves to a private, loopback, link-local or otherwise special
address.
"""

from __future__ import annotations

import asyncio
import email.utils
import hashlib
import ipaddress
import socket
import time
import zlib
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx

from .model import FeedState, Fetched

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.5"
)
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
ACCEPT_ENCODING = "gzip, deflate"
"""The encodings :class:`_Inflater` can undo with a cap; httpx would offer more."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FetchOptions:
    """How requests are made; ``transport`` lets tests and benchmarks plug in their own."""

    user_agent: str = "briefings/0.1"
    timeout: float = 20.0
    max_bytes: int = 5_000_000
    truncate: bool = False
    """Keep the first ``max_bytes`` of a larger body instead of failing (for pages)."""
    concurrency: int = 8
    per_host: int = 2
    host_delay: float = 0.0
    """Seconds between the starts of two requests to one host."""
    max_redirects: int = 5
    retries: int = 2
    """Further attempts after a 429 or 5xx reply."""
    backoff: float = 1.0
    max_wait: float = 30.0
    """The longest wait before a retry, whatever ``Retry-After`` asks."""
    accept: str = FEED_ACCEPT
    transport: httpx.AsyncBaseTransport | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Request:
    """One URL to get, with what the store remembers of it."""

    url: str
    state: FeedState | None = None
    allow_private: bool = True
    """False for untrusted links: refuse private, loopback and link-local addresses."""
    trusted_host: str | None = None
    """A host exempt from that refusal: the feed's own, for its article links."""


class Refused(Exception):
    """A hop whose address a request may not reach."""


def body_hash(body: bytes) -> str:
    """A short, stable fingerprint of a response body."""
    return hashlib.blake2b(body, digest_size=16).hexdigest()


def fetch_all(
    requests: Sequence[Request],
    options: FetchOptions,
    on_done: Callable[[Fetched], None] | None = None,
) -> list[Fetched]:
    """Get every request concurrently; results come back in the order of ``requests``."""
    return asyncio.run(_fetch_all(requests, options, on_done))


def fetch_each(
    requests: Sequence[Request], options: FetchOptions, on_done: Callable[[Fetched], None]
) -> None:
    """Get every request concurrently, handing each result to ``on_done`` as it arrives.

    Nothing is kept here, so a body is freed as soon as ``on_done`` lets go of it.
    """
    asyncio.run(_fetch_all(requests, options, on_done, keep=False))


class _Politeness:
    """At most ``per_host`` requests at a time per host, started ``delay`` seconds apart."""

    def __init__(self, per_host: int, delay: float) -> None:
        self.delay = delay
        self.slots: defaultdict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(per_host)
        )
        self.locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.last: dict[str, float] = {}

    async def wait_turn(self, host: str) -> None:
        if self.delay <= 0:
            return
        async with self.locks[host]:
            wait = self.last.get(host, 0.0) + self.delay - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            self.last[host] = time.monotonic()


async def _fetch_all(
    requests: Sequence[Request],
    options: FetchOptions,
    on_done: Callable[[Fetched], None] | None,
    *,
    keep: bool = True,
) -> list[Fetched]:
    limit = asyncio.Semaphore(options.concurrency)
    polite = _Politeness(options.per_host, options.host_delay)
    headers = {
        "User-Agent": options.user_agent,
        "Accept": options.accept,
        "Accept-Encoding": ACCEPT_ENCODING,
    }
    async with httpx.AsyncClient(
        headers=headers,
        follow_redirects=False,  # followed by hand, so every hop is checked
        timeout=options.timeout,
        transport=options.transport,
        limits=httpx.Limits(max_connections=options.concurrency),
    ) as client:

        async def one(request: Request) -> Fetched | None:
            host = urlsplit(request.url).hostname or ""
            async with limit, polite.slots[host]:
                result = await fetch_one(client, request, options, polite)
            if on_done is not None:
                on_done(result)
            return result if keep else None

        found = await asyncio.gather(*(one(r) for r in requests))
        return [r for r in found if r is not None]


async def fetch_one(
    client: httpx.AsyncClient,
    request: Request,
    options: FetchOptions,
    polite: _Politeness | None = None,
) -> Fetched:
    """Get one URL or local file; never raises for network or HTTP trouble."""
    url = request.url
    if urlsplit(url).scheme not in ("http", "https"):
        return _read_file(request, options)
    headers = {}
    if request.state is not None:
        if request.state.etag:
            headers["If-None-Match"] = request.state.etag
        if request.state.last_modified:
            headers["If-Modified-Since"] = request.state.last_modified
    attempt = 0
    while True:
        attempt += 1
        if polite is not None:
            await polite.wait_turn(urlsplit(url).hostname or "")
        try:
            async with asyncio.timeout(options.timeout):
                result, retry_after = await _follow(client, request, headers, options)
        except (TimeoutError, httpx.TimeoutException):
            return _error(url, f"timed out after {options.timeout:g}s")
        except Refused as exc:
            return _error(url, str(exc))
        except httpx.ConnectError as exc:
            return _error(url, _connect_reason(url, exc))
        except httpx.HTTPError as exc:
            return _error(url, f"request failed: {exc or type(exc).__name__}")
        if retry_after is None or attempt > options.retries:
            return result
        wait = retry_after if retry_after >= 0 else options.backoff * 2 ** (attempt - 1)
        await asyncio.sleep(min(wait, options.max_wait))


async def _follow(
    client: httpx.AsyncClient, request: Request, headers: dict[str, str], options: FetchOptions
) -> tuple[Fetched, float | None]:
    """The response at the end of the redirects, and how long to wait before a retry
    (``None``: no retry; ``-1``: back off by the default schedule)."""
    url = request.url
    for _ in range(options.max_redirects + 1):
        if not request.allow_private and urlsplit(url).hostname != request.trusted_host:
            await _check_address(url)
        async with client.stream("GET", url, headers=headers) as response:
            location = response.headers.get("Location")
            if response.is_redirect and location:
                url = urljoin(url, location)
                continue
            return await _read(request.url, response, options)
    return _error(request.url, f"more than {options.max_redirects} redirects"), None


async def _read(
    url: str, response: httpx.Response, options: FetchOptions
) -> tuple[Fetched, float | None]:
    final = str(response.url)
    if response.status_code == 304:
        # The body is empty, but reading it to its end is what lets the connection be
        # reused: an unread response closes its connection.
        await response.aread()
        return Fetched(
            url=url,
            status="not_modified",
            final_url=final,
            etag=response.headers.get("ETag"),
            last_modified=response.headers.get("Last-Modified"),
        ), None
    if response.status_code >= 400:
        error = _error(url, f"HTTP {response.status_code} {response.reason_phrase}".strip())
        if response.status_code in RETRY_STATUSES:
            return error, _retry_after(response.headers.get("Retry-After", ""))
        return error, None
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > options.max_bytes and not options.truncate:
        limit = f"{options.max_bytes:,}-byte limit"
        return _error(url, f"response of {int(declared):,} bytes is over the {limit}"), None
    try:
        inflater = _Inflater(response.headers.get("Content-Encoding", ""))
    except ValueError as exc:
        return _error(url, str(exc)), None
    chunks: list[bytes] = []
    size = 0
    truncated = False
    try:
        async for raw in response.aiter_raw():  # raw: httpx would unpack without a cap
            room = options.max_bytes - size
            chunk = inflater.feed(raw, room)
            if len(chunk) > room:
                if not options.truncate:
                    limit = f"{options.max_bytes:,}-byte limit"
                    unpacked = " unpacked" if inflater.encoding else ""
                    return _error(url, f"response is over the {limit}{unpacked}"), None
                chunks.append(chunk[:room])
                truncated = True
                break
            size += len(chunk)
            chunks.append(chunk)
        else:
            tail = inflater.flush(options.max_bytes - size)
            chunks.append(tail)
    except zlib.error as exc:
        return _error(url, f"body is not valid {inflater.encoding} data ({exc})"), None
    return Fetched(
        url=url,
        status="ok",
        final_url=final,
        body=b"".join(chunks),
        content_type=response.headers.get("Content-Type", ""),
        etag=response.headers.get("ETag"),
        last_modified=response.headers.get("Last-Modified"),
        truncated=truncated,
    ), None


class _Inflater:
    """Undoes a ``Content-Encoding`` (none, gzip or deflate), never giving out more than
    the room it is asked for plus one byte, so a bomb is caught before it unpacks."""

    def __init__(self, header: str) -> None:
        self.started = False
        self.encoding = header.strip().lower()
        if self.encoding in ("", "identity"):
            self.encoding = ""
            self.decoder = None
        elif self.encoding in ("gzip", "x-gzip"):
            self.decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif self.encoding == "deflate":
            self.decoder = zlib.decompressobj(zlib.MAX_WBITS)
        else:
            raise ValueError(f"unsupported Content-Encoding {header!r} (asked for gzip or none)")

    def feed(self, data: bytes, room: int) -> bytes:
        if self.decoder is None:
            return data
        zlib_header = len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0
        if self.encoding == "deflate" and not self.started and not zlib_header:
            self.decoder = zlib.decompressobj(-zlib.MAX_WBITS)  # raw deflate: no header
        self.started = self.started or bool(data)
        return self.decoder.decompress(data, max(room, 0) + 1)

    def flush(self, room: int) -> bytes:
        return b"" if self.decoder is None else self.decoder.flush()[: max(room, 0)]


def _retry_after(value: str) -> float:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date); -1 if none."""
    value = value.strip()
    if value.isdigit():
        return float(value)
    if value:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return -1.0
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max(0.0, (when - datetime.now(UTC)).total_seconds())
    return -1.0


async def _check_address(url: str) -> None:
    """Raise :class:`Refused` when ``url``'s host is, or resolves to, a special address."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, parts.port or 443, type=socket.SOCK_STREAM)
        except OSError:
            return  # the request itself will report the DNS failure
        addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    for address in addresses:
        kind = _special(address)
        if kind:
            raise Refused(
                f"refused: {host} is a {kind} address ({address}); links from feeds may reach "
                "it only on the feed's own host, or with settings.allow_private_networks = true"
            )


def _special(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_private:
        return "private"
    if address.is_multicast or address.is_reserved or address.is_unspecified:
        return "reserved"
    return ""


def _read_file(request: Request, options: FetchOptions) -> Fetched:
    path = Path(request.url)
    try:
        stat = path.stat()
        stamp = str(stat.st_mtime_ns)
        if request.state is not None and request.state.last_modified == stamp:
            return Fetched(
                url=request.url, status="not_modified", final_url=request.url, last_modified=stamp
            )
        if stat.st_size > options.max_bytes:
            return _error(
                request.url,
                f"file of {stat.st_size:,} bytes is over the {options.max_bytes:,}-byte limit",
            )
        body = path.read_bytes()
    except OSError as exc:
        return _error(request.url, f"cannot read file: {exc.strerror or exc}")
    return Fetched(
        url=request.url, status="ok", final_url=request.url, body=body, last_modified=stamp
    )


def _connect_reason(url: str, exc: httpx.ConnectError) -> str:
    text = " ".join(str(e) for e in _causes(exc))
    host = urlsplit(url).hostname
    if any(
        s in text
        for s in (
            "Name or service not known",
            "nodename nor servname",
            "Temporary failure in name resolution",
            "No address associated",
            "getaddrinfo failed",
        )
    ):
        return f"could not resolve host {host!r}"
    if "refused" in text.lower() or any(
        isinstance(e, ConnectionRefusedError) for e in _causes(exc)
    ):
        return f"connection refused by {host}"
    return f"could not connect to {host}: {str(exc) or type(exc).__name__}"


def _causes(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain and len(chain) < 8:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _error(url: str, reason: str) -> Fetched:
    return Fetched(url=url, status="error", error=reason)
