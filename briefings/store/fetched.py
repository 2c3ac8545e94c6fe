"""What a fetch brings: feeds' validators and errors, and new and changed entries
(:class:`FeedUpdate`), with their sightings."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, insert, or_, select, text, update
from sqlalchemy.engine import Connection

from ..model import Entry, FeedState
from .base import _SIGHTING, _STALE, IN_CHUNK, StoreBase
from .rows import _entry_row
from .schema import UTCDateTime, aliases, entries, feeds

_SAVE_FEED = text(
    "INSERT INTO feeds (url, etag, last_modified, body_hash, checked_at, error) "
    "VALUES (:url, :etag, :last_modified, :body_hash, :checked_at, '') "
    "ON CONFLICT (url) DO UPDATE SET etag = excluded.etag, "
    "last_modified = excluded.last_modified, body_hash = excluded.body_hash, "
    "checked_at = excluded.checked_at, error = '', failing_since = NULL, wait_until = NULL"
).bindparams(bindparam("checked_at", type_=UTCDateTime()))
_FEED_ERROR = text(
    "INSERT INTO feeds (url, checked_at, error, failing_since, wait_until) "
    "VALUES (:url, :checked_at, :error, :checked_at, :wait_until) "
    "ON CONFLICT (url) DO UPDATE SET checked_at = excluded.checked_at, error = excluded.error, "
    "failing_since = COALESCE(feeds.failing_since, excluded.checked_at), "
    "wait_until = excluded.wait_until"
).bindparams(
    bindparam("checked_at", type_=UTCDateTime()), bindparam("wait_until", type_=UTCDateTime())
)
SEEN_EVERY = timedelta(days=1)
"""How stale ``entries.last_seen`` may be before a fetch that lists the entry updates it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedUpdate:
    """What one fetch of a feed brought: new validators and entries, or an error."""

    url: str
    state: FeedState | None
    """None when the fetch failed: the validators are kept."""
    error: str = ""
    entries: tuple[Entry, ...] = ()
    wait_until: datetime | None = None
    """For a failed fetch: not to ask again before then (the server's ``Retry-After``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedTrouble:
    """A feed whose last fetch failed: the error, when, and since when every fetch has."""

    error: str
    checked_at: datetime
    since: datetime
    """The first failed fetch after the last that worked (or that the store knows of)."""


class FetchedFeeds(StoreBase):
    """Feeds' validators and errors, and the entries their fetches bring."""

    def feed_states(self, urls: Iterable[str]) -> dict[str, FeedState]:
        """What conditional GET needs for each known feed URL."""
        wanted = list(urls)
        with self.engine.connect() as conn:
            rows = conn.execute(select(feeds).where(feeds.c.url.in_(wanted))).all()
        return {
            r.url: FeedState(
                url=r.url,
                etag=r.etag,
                last_modified=r.last_modified,
                body_hash=r.body_hash,
                wait_until=r.wait_until,
            )
            for r in rows
        }

    def feed_errors(self, urls: Iterable[str]) -> dict[str, FeedTrouble]:
        """The feeds among ``urls`` whose last fetch failed, by URL."""
        wanted = list(urls)
        query = select(feeds.c.url, feeds.c.error, feeds.c.checked_at, feeds.c.failing_since).where(
            feeds.c.url.in_(wanted), feeds.c.error != ""
        )
        with self.engine.connect() as conn:
            return {
                r.url: FeedTrouble(
                    error=r.error, checked_at=r.checked_at, since=r.failing_since or r.checked_at
                )
                for r in conn.execute(query)
                if r.checked_at
            }

    def save_feeds(self, updates: Sequence[FeedUpdate], *, checked_at: datetime) -> tuple[int, int]:
        """Record a batch of fetched feeds and store their entries, in one transaction;
        return (new entries, updated entries).

        A feed that failed keeps its validators and gets its error; the others get
        their new validators and body hash, and their error is cleared.
        """
        good = [
            {
                "url": u.url,
                "etag": u.state.etag,
                "last_modified": u.state.last_modified,
                "body_hash": u.state.body_hash,
                "checked_at": checked_at,
            }
            for u in updates
            if u.state is not None
        ]
        failed = [
            {"url": u.url, "checked_at": checked_at, "error": u.error, "wait_until": u.wait_until}
            for u in updates
            if u.state is None
        ]
        with self.engine.begin() as conn:
            if good:
                conn.execute(_SAVE_FEED, good)
            if failed:
                conn.execute(_FEED_ERROR, failed)
            return self._add_entries(conn, [e for u in updates for e in u.entries], checked_at)

    def add_entries(self, new: Sequence[Entry], *, seen_at: datetime) -> tuple[int, int]:
        """Store entries not seen before (by canonical URL); return (new, updated).

        An entry its own feed brings again with a changed headline or text is
        updated in place, so the story shows the latest headline. An outlet's own entry
        replaces an aggregator's link to the same article (:attr:`Entry.elsewhere`).
        """
        with self.engine.begin() as conn:
            return self._add_entries(conn, new, seen_at)

    def _add_entries(
        self, conn: Connection, new: Sequence[Entry], seen_at: datetime
    ) -> tuple[int, int]:
        if not new:
            return 0, 0
        # Entries of several feeds may share a URL: the first stored owns it, and only
        # the owner's own copy may update it. A link whose page named another URL as the
        # article's (an alias) is that article. An outlet's own entry comes before an
        # aggregator's link to it (``elsewhere``, or an alias through another site), and
        # takes it over when it comes later: the story then names the outlet.
        linked = list({e.canonical_url for e in new})
        aliased: dict[str, str] = {}
        offsite: set[str] = set()
        for chunk in range(0, len(linked), IN_CHUNK):
            query = select(aliases).where(aliases.c.url.in_(linked[chunk : chunk + IN_CHUNK]))
            for row in conn.execute(query):
                aliased[row.url] = row.canonical_url
                if row.offsite:
                    offsite.add(row.url)
        # (article, feed) of the articles a feed links to on their own site
        direct = {
            (aliased.get(e.canonical_url, e.canonical_url), e.feed_id)
            for e in new
            if not e.elsewhere and e.canonical_url not in offsite
        }
        if aliased:
            new = [
                replace(e, canonical_url=aliased.get(e.canonical_url, e.canonical_url)) for e in new
            ]
        by_url: dict[str, list[Entry]] = {}
        for entry in new:
            by_url.setdefault(entry.canonical_url, []).append(entry)
        for url, found in by_url.items():
            found.sort(key=lambda e: (url, e.feed_id) not in direct)  # stable: feeds' order
        urls = list(by_url)
        known: dict[str, Any] = {}
        reached: set[tuple[str, str]] = set()
        """(canonical URL, feed) of articles a feed reached through another site's link."""
        for chunk in range(0, len(urls), IN_CHUNK):
            part = urls[chunk : chunk + IN_CHUNK]
            query = select(
                entries.c.canonical_url,
                entries.c.feed_id,
                entries.c.title,
                entries.c.summary,
                entries.c.content,
                entries.c.elsewhere,
            ).where(entries.c.canonical_url.in_(part))
            known |= {row.canonical_url: row for row in conn.execute(query)}
            query = select(aliases.c.canonical_url, aliases.c.feed_id).where(
                aliases.c.canonical_url.in_(part), aliases.c.offsite.is_(True)
            )
            reached |= {(row.canonical_url, row.feed_id) for row in conn.execute(query)}
        fresh = [found[0] for url, found in by_url.items() if url not in known]
        if fresh:
            conn.execute(insert(entries), [_entry_row(e, seen_at) for e in fresh])
        listed = list(known)
        for chunk in range(0, len(listed), IN_CHUNK):
            # still listed by a feed, so kept by prune; written at most once a day an entry
            conn.execute(
                update(entries)
                .where(
                    entries.c.canonical_url.in_(listed[chunk : chunk + IN_CHUNK]),
                    or_(
                        entries.c.last_seen.is_(None),
                        entries.c.last_seen < seen_at - SEEN_EVERY,
                    ),
                )
                .values(last_seen=seen_at)
            )
        changed = []
        taken = []
        for url, row in known.items():
            if row.elsewhere or (url, row.feed_id) in reached:
                # The owner reached it through another site (an aggregator): a feed that
                # links to it on its own site, the outlet's, takes it over.
                outlet = next(
                    (
                        e
                        for e in by_url[url]
                        if e.feed_id != row.feed_id and (url, e.feed_id) in direct
                    ),
                    None,
                )
                if outlet is not None:
                    kept = _entry_row(outlet, seen_at)
                    del kept["canonical_url"], kept["first_seen"]
                    taken.append({"key": url, "updated_at": seen_at} | kept)
                    continue
            own = next((e for e in by_url[url] if e.feed_id == row.feed_id), None)
            if own is not None and (own.title, own.summary, own.content) != (
                row.title,
                row.summary,
                row.content,
            ):
                changed.append(
                    {
                        "key": url,
                        "title": own.title,
                        "summary": own.summary,
                        "content": own.content,
                        "image": own.image,
                        "updated_at": seen_at,
                    }
                )
        if changed:
            # the keys other than "key" name the columns to set
            conn.execute(
                update(entries).where(entries.c.canonical_url == bindparam("key")), changed
            )
        if taken:
            conn.execute(update(entries).where(entries.c.canonical_url == bindparam("key")), taken)
        if changed or taken:
            conn.execute(_STALE, [{"url": c["key"]} for c in changed + taken])
        seen = {(e.canonical_url, e.feed_id) for e in new}
        conn.execute(_SIGHTING, [{"canonical_url": u, "feed_id": f} for u, f in seen])
        return len(fresh), len(changed) + len(taken)
