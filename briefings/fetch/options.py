"""What a fetch is asked: :class:`FetchOptions` (how requests are made), :class:`Request`
(one URL and what the store remembers of it) and the ``Accept`` headers of feeds and pages."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from ..model import FeedState

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.5"
)
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"


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
