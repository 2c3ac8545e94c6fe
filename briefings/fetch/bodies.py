"""Reading a body: an HTTP response's, unpacked with a cap as it arrives and hashed
(:func:`_read`, :class:`_Inflater`, :func:`body_hash`), whether and when to retry it
(``Retry-After``), and a local file's (:func:`_read_file`)."""

from __future__ import annotations

import email.utils
import hashlib
import zlib
from datetime import UTC, datetime
from pathlib import Path

import httpx

from ..model import Fetched
from .failures import _error
from .options import FetchOptions, Request

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
ACCEPT_ENCODING = "gzip, deflate"
"""The encodings :class:`_Inflater` can undo with a cap; httpx would offer more."""


def body_hash(body: bytes) -> str:
    """A short, stable fingerprint of a response body."""
    return hashlib.blake2b(body, digest_size=16).hexdigest()


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
