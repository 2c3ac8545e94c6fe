"""One request to its end: :class:`_Client` (what ``httpx.Client`` would add) and
:func:`fetch_one`, with its retries and the redirects it follows by hand, each hop checked."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING
from urllib.parse import urljoin

import httpx

from ..model import Fetched
from .addresses import Refused, _check_literal, _host
from .bodies import _read, _read_file
from .failures import _connect_reason, _error
from .options import FetchOptions, Request
from .transport import _deadline, _guard

if TYPE_CHECKING:
    from .pool import _Politeness


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
