"""HTTP only: concurrency, politeness, conditional GET, timeouts, size caps,
redirects, retries and address checks.

Nothing here raises for a bad URL: every request ends as a :class:`Fetched`
whose ``status`` is ``"ok"``, ``"not_modified"`` or ``"error"`` with a one-line
reason, so that one bad feed never stops the others.

Bodies are counted as they unpack: a gzip bomb (a few megabytes on the wire,
gigabytes unpacked) is refused once ``max_bytes`` have come out of it, and no
more than that is ever held in memory.

A feed's redirects and its article links are untrusted: a request made with
``allow_private=False`` refuses any hop (the first URL and every redirect), off
its ``trusted_host``, whose host is or resolves to an address that is not public:
private, loopback, link-local, shared (100.64.0.0/10) or otherwise special,
also when wrapped in an IPv6 one. A name is resolved once, when its connection is
made, and the connection goes to the addresses checked, so a DNS answer that
changes in between (rebinding) cannot lead it elsewhere.
"""

from __future__ import annotations

import base64
import email.utils
import functools
import hashlib
import ipaddress
import queue
import re
import socket
import ssl
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

# httpx imports its command-line client when it can (click, rich and pygments: 40 ms),
# and gives a stub in its place when that import fails. None in sys.modules makes it fail.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

import httpcore  # noqa: E402
import httpx  # noqa: E402

from ..model import FeedState, Fetched  # noqa: E402

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
    """How requests are made; ``transport`` lets tests and benchmarks plug in their own
    (which keeps httpx's timeouts per socket operation, not the deadline per request)."""

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
    transport: httpx.BaseTransport | None = None
    """Requests go through it instead of a :class:`Transport` made for the call; only
    address literals are then checked, since what a name reaches is the transport's."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Request:
    """One URL to get, with what the store remembers of it."""

    url: str
    state: FeedState | None = None
    allow_private: bool = True
    """False for a feed and its links: refuse every address that is not public."""
    trusted_host: str | None = None
    """A host exempt from that refusal: the feed's own."""


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
    """Get every request concurrently; results come back in the order of ``requests``.

    ``on_done`` is called with each result as it arrives, from a fetching thread.
    """
    results: list[Fetched] = [_error(r.url, "not fetched") for r in requests]

    def done(index: int, result: Fetched) -> None:
        results[index] = result
        if on_done is not None:
            on_done(result)

    _fetch_all(requests, options, done)
    return results


def fetch_each(
    requests: Sequence[Request],
    options: FetchOptions,
    on_done: Callable[[Fetched], None],
    stop: threading.Event | None = None,
) -> None:
    """Get every request concurrently, handing each result to ``on_done`` as it arrives
    (from a fetching thread, so ``on_done`` must be thread-safe).

    Nothing is kept here, so a body is freed as soon as ``on_done`` lets go of it.
    """
    _fetch_all(requests, options, lambda _, result: on_done(result), stop)


GROW_AFTER = 0.02
"""Seconds every fetching thread must have waited on its request before another starts."""


class _Politeness:
    """At most ``per_host`` requests at a time per host, started ``delay`` seconds apart."""

    def __init__(self, per_host: int, delay: float) -> None:
        self.per_host = per_host
        self.delay = delay
        self.lock = threading.Lock()
        self.slots: dict[str, threading.Semaphore] = {}
        self.turns: dict[str, threading.Lock] = {}
        self.last: dict[str, float] = {}

    def slot(self, host: str) -> threading.Semaphore:
        with self.lock:
            found = self.slots.get(host)
            if found is None:
                found = self.slots[host] = threading.Semaphore(self.per_host)
            return found

    def wait_turn(self, host: str) -> None:
        if self.delay <= 0:
            return
        with self.lock:
            turn = self.turns.setdefault(host, threading.Lock())
        with turn:
            wait = self.last.get(host, 0.0) + self.delay - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self.last[host] = time.monotonic()


def _fetch_all(
    requests: Sequence[Request],
    options: FetchOptions,
    done: Callable[[int, Fetched], None],
    stop: threading.Event | None = None,
) -> None:
    """Fetch in up to ``options.concurrency`` threads, each taking the next request when free.

    One thread starts; another joins only when every running one has waited on its
    current request for ``GROW_AFTER`` or longer. Servers that answer at once (a poll of
    unchanged feeds, a local mirror) are then served by one thread with no GIL hand-overs
    between threads, and slow ones still get the whole pool within a few tenths of a
    second. httpx's synchronous transport in threads, rather than its asyncio client: per
    request it costs half the CPU (no asyncio, anyio or their per-call bookkeeping), and a
    poll of unchanged feeds is mostly that per-request cost. The threads are daemons, so
    a process told to stop never waits for a slow server: once ``stop`` is set (by the
    caller, or here when the wait is interrupted) no thread starts another request.
    """
    if not requests:
        return
    stop = stop or threading.Event()
    todo: queue.SimpleQueue[tuple[int, Request]] = queue.SimpleQueue()
    for item in enumerate(requests):
        todo.put(item)
    polite = _Politeness(options.per_host, options.host_delay)
    limits = httpx.Limits(
        max_connections=options.concurrency, max_keepalive_connections=options.concurrency
    )
    crashed: list[BaseException] = []
    owned = options.transport is None
    transport = options.transport or Transport(limits=limits)
    client = _Client(
        transport=transport,
        headers=httpx.Headers(
            {
                "User-Agent": options.user_agent,
                "Accept": options.accept,
                "Accept-Encoding": ACCEPT_ENCODING,
            }
        ),
        timeout=httpx.Timeout(options.timeout).as_dict(),
    )
    waiting: list[float | None] = []  # per thread: since when it waits on a request
    drained = threading.Event()
    try:

        def work(n: int) -> None:
            try:
                while not stop.is_set():
                    try:
                        index, request = todo.get_nowait()
                    except queue.Empty:
                        break
                    waiting[n] = time.monotonic()
                    with polite.slot(_host(request.url)):
                        result = fetch_one(client, request, options, polite)
                    waiting[n] = None
                    done(index, result)
            except BaseException as exc:  # handed to the calling thread, which raises it
                crashed.append(exc)
            finally:
                drained.set()

        threads: list[threading.Thread] = []

        def start() -> None:
            waiting.append(None)
            thread = threading.Thread(
                target=work, args=(len(threads),), name=f"fetch-{len(threads)}", daemon=True
            )
            threads.append(thread)
            thread.start()

        start()
        most = min(options.concurrency, len(requests))
        while len(threads) < most and not drained.wait(GROW_AFTER):
            now = time.monotonic()
            if all(since is not None and now - since >= GROW_AFTER for since in waiting):
                start()
        for thread in threads:
            thread.join()
    except BaseException:  # Ctrl-C in the wait: no new request; those under way are left
        stop.set()
        raise
    finally:
        if owned:
            transport.close()
    if crashed:
        raise crashed[0]


@dataclass(frozen=True, slots=True)
class _Client:
    """What ``httpx.Client`` would add to each request, added directly: its default
    headers and timeouts, and the HTTP Basic credentials a URL carries. Requests go
    straight to the transport, because the client's other layers (authentication,
    redirects, cookies, event hooks) are not used here —
    redirects are followed by hand so every hop is checked — and cost a third of the CPU
    of a request answered 304."""

    transport: httpx.BaseTransport
    headers: httpx.Headers
    timeout: dict[str, float | None]

    @contextmanager
    def get(self, url: str, headers: dict[str, str]) -> Iterator[httpx.Response]:
        """A streamed GET of ``url``, closed on leaving the block."""
        merged = self.headers.copy()
        merged.update(headers)
        request = httpx.Request("GET", url, headers=merged, extensions={"timeout": self.timeout})
        if request.url.userinfo:  # what httpx.Client would send for https://user:pass@host/
            pair = f"{request.url.username}:{request.url.password}".encode()
            request.headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        response = self.transport.handle_request(request)
        response.request = request
        try:
            yield response
        finally:
            response.close()


def fetch_one(
    client: _Client,
    request: Request,
    options: FetchOptions,
    polite: _Politeness | None = None,
) -> Fetched:
    """Get one URL or local file; never raises for network or HTTP trouble."""
    url = request.url
    if not url.lower().startswith(("http://", "https://")):
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
            polite.wait_turn(_host(url))
        _deadline.at = time.monotonic() + options.timeout
        try:
            result, retry_after = _follow(client, request, headers, options)
        except (TimeoutError, httpx.TimeoutException):
            return _error(url, f"timed out after {options.timeout:g}s")
        except Refused as exc:
            return _error(url, str(exc))
        except (httpx.InvalidURL, ValueError) as exc:  # urllib's parsers raise ValueError
            return _error(url, f"invalid URL: {exc}")
        except httpx.ConnectError as exc:
            return _error(url, _connect_reason(url, exc))
        except httpx.HTTPError as exc:
            return _error(url, f"request failed: {exc or type(exc).__name__}")
        finally:
            _deadline.at = None
            _guard.on = False
        if retry_after is None:
            return result
        if attempt > options.retries:
            return replace(result, retry_after=retry_after) if retry_after > 0 else result
        if retry_after > options.max_wait:
            # Waiting the most allowed and asking again would only be refused again, and
            # would hold a fetching thread that long.
            asked = _span(retry_after)
            return replace(
                result,
                error=f"{result.error}; not retried: the server asks for a wait of {asked}",
                retry_after=retry_after,
            )
        wait = retry_after if retry_after >= 0 else options.backoff * 2 ** (attempt - 1)
        time.sleep(min(wait, options.max_wait))


def _span(seconds: float) -> str:
    """``seconds`` for a reader: ``45s``, ``20 min``, ``3 h``, ``2 days``."""
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172_800:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86_400:.0f} days"


class _Deadline(threading.local):
    at: float | None = None
    """When the request this thread is making must be done (``time.monotonic()``)."""


_deadline = _Deadline()


def _within(timeout: float | None) -> float | None:
    """``timeout`` for one socket operation, cut to what is left of the request's time."""
    if _deadline.at is None:
        return timeout
    left = _deadline.at - time.monotonic()
    if left <= 0:
        raise httpcore.ReadTimeout("the request's time is up")
    return left if timeout is None else min(timeout, left)


class _Guard(threading.local):
    on: bool = False
    """Whether the hop this thread is making may reach only public addresses."""


_guard = _Guard()


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read and write ends at the deadline of the request using
    it: httpx's timeouts count per socket operation, so a server sending a byte a second
    would otherwise never time out, in its headers or its body.

    ``refusal`` is why a guarded hop may not use it ("" when its address is public): a
    pooled connection a trusted hop opened to a private address is not lent to one that
    is not trusted."""

    def __init__(self, stream: httpcore.NetworkStream, refusal: str = "") -> None:
        self.stream = stream
        self.refusal = refusal

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self.stream.read(max_bytes, _within(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if self.refusal and _guard.on:
            raise Refused(self.refusal)
        self.stream.write(buffer, _within(timeout))

    def close(self) -> None:
        self.stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        return _DeadlineStream(
            self.stream.start_tls(ssl_context, server_hostname, _within(timeout)), self.refusal
        )

    def get_extra_info(self, info: str) -> Any:
        return self.stream.get_extra_info(info)


Resolver = Callable[[str, int], Sequence[str]]
"""What a host name and port resolve to: addresses as text, in the order to try them."""


def resolve(host: str, port: int) -> list[str]:
    """The addresses the system's resolver gives for ``host``, each once."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class _CheckingBackend(httpcore.NetworkBackend):
    """Connects as ``backend`` does, to the addresses ``resolver`` gives, checked first
    when the hop is guarded, and with connections that keep to the deadline.

    httpcore would resolve the name again itself; connecting to the checked address
    leaves no second answer to differ. TLS still names the host: httpcore gives
    ``start_tls`` the URL's host for SNI and the certificate check."""

    def __init__(self, backend: httpcore.NetworkBackend, resolver: Resolver) -> None:
        self.backend = backend
        self.resolver = resolver

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            found = self.resolver(host, port)
        except (OSError, UnicodeError) as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        if not found:
            raise httpcore.ConnectError(f"no address associated with {host}")
        addresses = [ipaddress.ip_address(a) for a in found]
        if _guard.on:
            for address in addresses:
                if kind := _special(address):
                    raise Refused(_refusal(host, kind, address))
        failure: Exception | None = None
        for address in addresses:  # as socket.create_connection does: the first that answers
            try:
                stream = self.backend.connect_tcp(
                    str(address), port, _within(timeout), local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
                continue
            kind = _special(address)
            return _DeadlineStream(stream, _refusal(host, kind, address) if kind else "")
        assert failure is not None
        raise failure

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        return _DeadlineStream(
            self.backend.connect_unix_socket(path, _within(timeout), socket_options)
        )

    def sleep(self, seconds: float) -> None:
        self.backend.sleep(seconds)


class Transport(httpx.HTTPTransport):
    """httpx's transport, connecting to addresses it checks as it connects, its
    connections given the deadline of the request using them.

    ``resolver`` and ``network`` (httpcore's socket backend by default) let tests resolve
    names without DNS and connect where they allow. httpx does not take a network
    backend, so it is set on the pool it made; a test (``test_trickled_headers_time_out``)
    fails if a new httpx stops honouring it.
    """

    def __init__(
        self,
        *,
        limits: httpx.Limits | None = None,
        resolver: Resolver = resolve,
        network: httpcore.NetworkBackend | None = None,
        verify: ssl.SSLContext | None = None,
    ) -> None:
        super().__init__(limits=limits or httpx.Limits(), verify=verify or _tls_context())
        pool = self._pool
        pool._network_backend = _CheckingBackend(network or pool._network_backend, resolver)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """httpx's default TLS settings, made once a process: loading the certificate store
    takes 25 ms, a twentieth of a poll of 500 unchanged feeds."""
    return httpx.create_ssl_context()


def _follow(
    client: _Client, request: Request, headers: dict[str, str], options: FetchOptions
) -> tuple[Fetched, float | None]:
    """The response at the end of the redirects, and how long to wait before a retry
    (``None``: no retry; ``-1``: back off by the default schedule)."""
    url = request.url
    moved = ""
    """Where the permanent redirects (301, 308) the request began with lead."""
    permanent = True
    for _ in range(options.max_redirects + 1):
        _guard.on = not request.allow_private and _host(url) != request.trusted_host
        if _guard.on:
            _check_literal(url)
        with client.get(url, headers) as response:
            location = response.headers.get("Location")
            if response.is_redirect and location:
                url = urljoin(url, location)
                permanent = permanent and response.status_code in (301, 308)
                moved = url if permanent else moved
                continue
            result, retry_after = _read(request, response, options)
            if moved and result.status != "error":
                result = replace(result, moved_to=moved)
            return result, retry_after
    return _error(request.url, f"more than {options.max_redirects} redirects"), None


def _read(
    request: Request, response: httpx.Response, options: FetchOptions
) -> tuple[Fetched, float | None]:
    url = request.url
    final = str(response.url)
    if response.status_code == 304:
        # The body is empty, but reading it to its end is what lets the connection be
        # reused: an unread response closes its connection.
        response.read()
        return _not_modified(url, final, response), None
    if 300 <= response.status_code < 400:
        # A redirect _follow could not follow: its body is no answer, and an empty body
        # would read as "not a feed: empty response".
        if response.headers.get("Location", "").strip():
            status = f"HTTP {response.status_code} {response.reason_phrase}".strip()
            return _error(url, status), None
        return _error(url, f"HTTP {response.status_code} without a Location header"), None
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
    digest = hashlib.blake2b(digest_size=16)
    size = 0
    truncated = False
    try:
        for raw in response.iter_raw():  # raw: httpx would unpack without a cap
            room = options.max_bytes - size
            chunk = inflater.feed(raw, room)
            if len(chunk) > room:
                if not options.truncate:
                    limit = f"{options.max_bytes:,}-byte limit"
                    unpacked = " unpacked" if inflater.encoding else ""
                    return _error(url, f"response is over the {limit}{unpacked}"), None
                chunk = chunk[:room]
                chunks.append(chunk)
                digest.update(chunk)
                truncated = True
                break
            size += len(chunk)
            chunks.append(chunk)
            digest.update(chunk)
        else:
            tail = inflater.flush(options.max_bytes - size)
            chunks.append(tail)
            digest.update(tail)
    except zlib.error as exc:
        return _error(url, f"body is not valid {inflater.encoding} data ({exc})"), None
    hashed = digest.hexdigest()
    if request.state is not None and hashed == request.state.body_hash and not truncated:
        # The same body as last time: nothing to parse. Hashed as it arrived, in this
        # thread (hashlib lets go of the GIL), so the caller never sees or joins it.
        return _not_modified(url, final, response, body_hash=hashed), None
    return Fetched(
        url=url,
        status="ok",
        final_url=final,
        body=b"".join(chunks),
        body_hash=hashed,
        content_type=response.headers.get("Content-Type", ""),
        etag=response.headers.get("ETag"),
        last_modified=response.headers.get("Last-Modified"),
        truncated=truncated,
    ), None


def _not_modified(
    url: str, final: str, response: httpx.Response, *, body_hash: str | None = None
) -> Fetched:
    return Fetched(
        url=url,
        status="not_modified",
        final_url=final,
        body_hash=body_hash,
        etag=response.headers.get("ETag"),
        last_modified=response.headers.get("Last-Modified"),
    )


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


def _check_literal(url: str) -> None:
    """Raise :class:`Refused` when ``url``'s host is a special address written out
    (``127.0.0.1``, ``[::1]``, ``2130706433``): refused before any transport is asked.
    A name is checked by :class:`Transport` as it connects."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        infos = socket.getaddrinfo(
            host, parts.port or 80, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST
        )
    except (OSError, UnicodeError):
        return  # a name, or no host: the request itself will say what is wrong
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if kind := _special(address):
            raise Refused(_refusal(host, kind, address))


def _refusal(host: str, kind: str, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    return (
        f"refused: {host} is a {kind} address ({address}); a feed and its links may "
        "reach one only on the feed's own host, or with "
        "settings.allow_private_networks = true"
    )


_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_PROTOCOL_ASSIGNMENTS = ipaddress.IPv4Network("192.0.0.0/24")
"""IANA's, not reachable on the internet; Oracle Cloud's old metadata address is in it."""


def _special(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    """What kind of address a link from a feed may not reach; "" for a public one.

    An IPv6 address that carries an IPv4 one (mapped, 6to4, NAT64) is judged by the IPv4
    one, so ``[2002:a9fe:a9fe::]`` is 169.254.169.254 and a DNS64 network's addresses of
    public sites stay public. Anything else not globally reachable (100.64.0.0/10, where
    Alibaba Cloud answers metadata requests) is refused too.
    """
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF)
        if embedded is not None:
            return _special(embedded)
        if address.is_site_local:
            return "non-public"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_private:
        return "private"
    if address.is_multicast or address.is_reserved or address.is_unspecified:
        return "reserved"
    if not address.is_global or address in _PROTOCOL_ASSIGNMENTS:
        return "non-public"
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


def _host(url: str) -> str:
    """The host of ``url``, or "" when it has none or cannot be parsed."""
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
MAX_REASON = 300
"""The longest error reason: a server's words (its reason phrase, a status line that
h11 quotes) are in it, and go to a terminal."""


def _error(url: str, reason: str) -> Fetched:
    """A failed request, its ``reason`` on one line of at most :data:`MAX_REASON`
    characters, without control characters (a server's escape sequences would otherwise
    reach the terminal that prints it)."""
    reason = " ".join(_CONTROL.sub(" ", reason).split())
    if len(reason) > MAX_REASON:
        reason = reason[: MAX_REASON - 2].rstrip() + " …"
    return Fetched(url=url, status="error", error=reason)
