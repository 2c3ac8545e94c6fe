"""The plain data that flows through the pipeline.

``Feed → Entry → Article → Story → Edition``, plus a ``RunReport`` of what went
wrong on the way. Every datetime is timezone-aware UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

FetchStatus = Literal["ok", "not_modified", "error"]
Field = Literal["title", "summary", "body"]
TextSource = Literal["feed", "page", "partial"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Feed:
    """A feed named in ``feeds.toml``."""

    id: str
    name: str
    url: str
    weight: float = 1.0
    timezone: str = ""
    """The zone of the dates the feed writes without an offset; "" reads them as UTC."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedState:
    """What the store remembers of a feed for conditional GET."""

    url: str
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    wait_until: datetime | None = None
    """Not to be asked before then: the server's ``Retry-After`` at its last fetch."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Fetched:
    """The outcome of one HTTP GET (or file read) of a feed or page."""

    url: str
    status: FetchStatus
    final_url: str = ""
    body: bytes = b""
    content_type: str = ""
    etag: str | None = None
    last_modified: str | None = None
    error: str = ""
    truncated: bool = False
    """The body was longer than the size cap and only its start was kept."""
    body_hash: str | None = None
    """The fingerprint of the body as it arrived (``fetch.body_hash``). A body whose
    fingerprint is the stored one comes back ``not_modified``, without its bytes."""
    moved_to: str = ""
    """Where the URL has moved for good: the end of the permanent redirects (301, 308)
    the request began with, or ""."""
    retry_after: float | None = None
    """Seconds the server asked to be left alone (``Retry-After`` on a 429 or 503) that
    this request did not wait out; None when it asked for nothing."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """One item of a feed, sanitized, with a canonical URL and an aware date."""

    feed_id: str
    guid: str
    url: str
    canonical_url: str
    title: str
    summary: str
    content: str
    author: str
    published: datetime
    dated: bool
    """False when the feed gave no date and ``published`` is the first-seen time."""
    image: str = ""
    """The item's picture as the feed names it (Media RSS, an image enclosure), or ""."""
    elsewhere: bool = False
    """The item links to another site than its feed's (an aggregator's item): when an
    outlet's own feed carries the same article, that feed's entry is the one kept."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Page:
    """What extraction found on an article page."""

    url: str
    text: str
    title: str = ""
    author: str = ""
    site_name: str = ""
    language: str = ""
    image: str = ""
    published: datetime | None = None
    paywalled: bool = False
    """The page says its article is for subscribers only."""
    promised_words: int = 0
    """The article's length as the page declares it (JSON-LD ``wordCount``), 0 if unknown."""
    canonical: str = ""
    """The article's own URL as the page names it (``<link rel="canonical">``, else
    ``og:url``), when that is an http(s) link on the page's own site; else ""."""
    error: str = ""
    """Why extraction failed; the text is then empty."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Article:
    """An entry joined with its best text: the feed's own or the extracted page."""

    id: str
    feed_id: str
    url: str
    canonical_url: str
    title: str
    summary: str
    text: str
    author: str
    published: datetime
    text_source: TextSource
    image: str = ""
    language: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class TopicMatch:
    """One reason a topic was assigned: a term found in a field."""

    topic: str
    term: str
    field: Field
    weight: float
    source: str = ""
    """In a story: the outlet whose article the term was found in, when it is not the
    lead's (the story's headline is the lead's, so "Baku (title)" alone would mislead)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Source:
    """One outlet's copy of a story."""

    feed: str
    title: str
    url: str
    copy: bool = False
    """A later copy of another source's text (syndication with light edits), not the
    outlet's own telling."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Earlier:
    """The story an earlier edition sent that a story follows up, and why they are linked."""

    title: str
    url: str
    edition: str
    sent_at: datetime
    """When that edition was built."""
    why: str
    """What links the two, for readers and editors: "the same story: ..." or the names
    and words they share."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Story:
    """One event, told by its representative article, with every outlet's copy."""

    id: str
    title: str
    url: str
    summary: str
    published: datetime
    topics: tuple[str, ...]
    scores: tuple[tuple[str, float], ...]
    matches: tuple[TopicMatch, ...]
    sources: tuple[Source, ...]
    member_urls: tuple[str, ...]
    image: str = ""
    partial: bool = False
    """Only the feed's text was available: the page was paywalled or could not be read."""
    update: bool = False
    """An earlier edition carried this story and it is back because it changed materially,
    or it follows up a story an earlier edition carried (``earlier``)."""
    earlier: Earlier | None = None
    """What an earlier edition sent of this event, when known."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Sent:
    """One story as an earlier edition of a briefing carried it."""

    story_id: str
    title: str
    summary: str
    url: str
    published: datetime
    edition: str
    sent_at: datetime
    urls: tuple[str, ...] = ()
    """The canonical URLs of its articles then."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Edition:
    """The stories one briefing shows at one moment."""

    briefing: str
    title: str
    description: str
    edition: str
    generated_at: datetime
    stories: tuple[Story, ...]
    note: str = ""
    """The editor's note ("The Takeaway") of a weekly edition."""


EDITION_STATUSES = ("draft", "approved", "sending", "sent", "failed", "skipped")


@dataclass(frozen=True, slots=True, kw_only=True)
class EditionRecord:
    """A built edition as the store knows it: where it is and how far it has gone."""

    briefing: str
    edition: str
    generated_at: datetime
    stories: int
    path: str
    status: str = "approved"
    """draft (awaiting review), approved, sending, sent, failed, or skipped (fewer stories
    than ``min_stories``)."""
    send_after: datetime | None = None
    """An approved edition goes out at this moment at the earliest."""
    approved_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Choice:
    """An editor's decision about one story of a briefing, kept for the builds after it.

    It follows the story by its id or any of its articles' URLs, so it holds when
    more outlets join the story.
    """

    story_id: str
    urls: tuple[str, ...] = ()
    dropped: bool = False
    pinned: bool = False
    rank: int | None = None
    """The editor's position for the story; ranked stories come before the others."""
    title: str = ""
    """The story's headline when the editor chose, for the desk's list of dropped stories."""

    def concerns(self, story: Story) -> bool:
        """Whether this choice is about ``story``."""
        return story.id == self.story_id or not set(self.urls).isdisjoint(story.member_urls)


@dataclass(frozen=True, slots=True, kw_only=True)
class Subscriber:
    """Someone who receives briefings."""

    email: str
    name: str = ""
    tier: str = "free"
    briefings: tuple[str, ...] = ()
    industries: tuple[str, ...] = ()
    """PRO industry priorities, most wanted first."""
    status: str = "active"
    """active, unsubscribed or bounced."""
    left: tuple[str, ...] = ()
    """Briefings the subscriber unsubscribed from: an import does not add them back."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Failure:
    """One thing that went wrong without stopping the run."""

    stage: str
    url: str
    message: str


@dataclass(slots=True, kw_only=True)
class RunReport:
    """Counts and failures of one run; filled in by the pipeline as it goes."""

    feeds: int = 0
    feeds_not_modified: int = 0
    entries_new: int = 0
    entries_seen: int = 0
    entries_updated: int = 0
    pages_fetched: int = 0
    pages_partial: int = 0
    """Pages whose text was cut by a paywall or much shorter than promised."""
    stories: int = 0
    editions: list[str] = field(default_factory=list)
    without_news: list[str] = field(default_factory=list)
    """Briefings that had no new story, so no edition."""
    failures: list[Failure] = field(default_factory=list)
