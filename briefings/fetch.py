"""HTTP only: bounded concurrency, conditional GET, timeouts, size caps, redirects.

Nothing here raises for a bad URL: every request ends as a :class:`Fetched`
whose ``status`` is ``"ok"``, ``"not_modified"`` or ``"error"`` with a one-line
reason, so that one bad feed never stops the others.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from .model import FeedState, Fetched

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.5"
)
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"


@dataclass(frozen=True, slots=True, kw_only=True)
class FetchOptions:
    """How requests are made; ``transport`` lets tests and benchmarks plug in their own."""

    user_agent: str = "briefings/0.1"
    timeout: float = 20.0
    max_bytes: int = 5_000_000
    concurrency: int = 8
    per_host: int = 2
    max_redirects: int = 5
    accept: str = FEED_ACCEPT
    transport: httpx.AsyncBaseTransport | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Request:
    """One URL to get, with what the store remembers of it."""

    url: str
    state: FeedState | None = None


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


async def _fetch_all(
    requests: Sequence[Request], options: FetchOptions, on_done: Callable[[Fetched], None] | None
) -> list[Fetched]:
    limit = asyncio.Semaphore(options.concurrency)
    per_host: defaultdict[str, asyncio.Semaphore] = defaultdict(
        lambda: asyncio.Semaphore(options.per_host)
    )
    headers = {"User-Agent": options.user_agent, "Accept": options.accept}
    async with httpx.AsyncClient(
        headers=headers,
        follow_redirects=True,
        max_redirects=options.max_redirects,
        timeout=options.timeout,
        transport=options.transport,
        limits=httpx.Limits(max_connections=options.concurrency),
    ) as client:

        async def one(request: Request) -> Fetched:
            host = urlsplit(request.url).hostname or ""
            async with limit, per_host[host]:
                result = await fetch_one(client, request, options)
            if on_done is not None:
                on_done(result)
            return result

        return list(await asyncio.gather(*(one(r) for r in requests)))


async def fetch_one(client: httpx.AsyncClient, request: Request, options: FetchOptions) -> Fetched:
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
    try:
        async with asyncio.timeout(options.timeout):
            return await _get(client, url, headers, options)
    except TimeoutError:
        return _error(url, f"timed out after {options.timeout:g}s")
    except httpx.TimeoutException:
        return _error(url, f"timed out after {options.timeout:g}s")
    except httpx.TooManyRedirects:
        return _error(url, f"more than {options.max_redirects} redirects")
    except httpx.ConnectError as exc:
        return _error(url, _connect_reason(url, exc))
    except httpx.HTTPError as exc:
        return _error(url, f"request failed: {exc or type(exc).__name__}")


async def _get(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], options: FetchOptions
) -> Fetched:
    async with client.stream("GET", url, headers=headers) as response:
        if response.status_code == 304:
            return Fetched(
                url=url,
                status="not_modified",
                final_url=str(response.url),
                etag=response.headers.get("ETag"),
                last_modified=response.headers.get("Last-Modified"),
            )
        if response.status_code >= 400:
            return _error(url, f"HTTP {response.status_code} {response.reason_phrase}".strip())
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > options.max_bytes:
            return _error(
                url,
                f"response of {int(declared):,} bytes is over the {options.max_bytes:,}-byte limit",
            )
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > options.max_bytes:
                return _error(url, f"response is over the {options.max_bytes:,}-byte limit")
            chunks.append(chunk)
        return Fetched(
            url=url,
            status="ok",
            final_url=str(response.url),
            body=b"".join(chunks),
            content_type=response.headers.get("Content-Type", ""),
            etag=response.headers.get("ETag"),
            last_modified=response.headers.get("Last-Modified"),
        )


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
