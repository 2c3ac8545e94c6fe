"""A failed request as a :class:`Fetched`: its reason on one line without control
characters (:func:`_error`), and what a connection error means (:func:`_connect_reason`)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import httpx

from ..model import Fetched


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
