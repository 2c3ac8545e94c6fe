"""Articles past their feed: extracted pages, an article's identity (an entry moved to the
URL its page names, an alias kept), and the entries read back for extraction and analysis."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, insert, or_, select, text, update
from sqlalchemy.engine import Connection

from ..model import Entry, Page
from .base import _SIGHTING, _STALE, StoreBase
from .rows import _entry, _page
from .schema import (
    aliases,
    analyses,
    carried,
    entries,
    pages,
    sightings,
    stories,
    story_bands,
    story_keys,
)


class Articles(StoreBase):
    """Pages and identities of stored entries, and the entries the later stages read."""

    def entries_without_page(
        self, *, shorter_than: int, since: datetime, retry_before: datetime
    ) -> list[Entry]:
        """Entries since ``since`` whose feed text is short and whose page is not cached.

        A page that failed is tried again once its failure is older than ``retry_before``.
        """
        query = (
            select(entries)
            .outerjoin(pages, pages.c.url == entries.c.canonical_url)
            .where(
                entries.c.published >= since,
                or_(
                    pages.c.url.is_(None),
                    and_(pages.c.error != "", pages.c.fetched_at < retry_before),
                ),
            )
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        found = [_entry(r) for r in rows]
        return [
            e
            for e in found
            if len(e.content or e.summary) < shorter_than
            and e.url.startswith(("http://", "https://"))
        ]

    def save_page(
        self, canonical_url: str, page: Page | None, *, fetched_at: datetime, error: str = ""
    ) -> None:
        row: dict[str, Any] = {"url": canonical_url, "fetched_at": fetched_at, "error": error}
        if page is not None:
            row |= {
                "text": page.text,
                "title": page.title,
                "author": page.author,
                "site_name": page.site_name,
                "language": page.language,
                "image": page.image,
                "published": page.published,
                "paywalled": page.paywalled,
                "promised_words": page.promised_words,
            }
        with self.engine.begin() as conn:
            conn.execute(pages.delete().where(pages.c.url == canonical_url))
            conn.execute(insert(pages).values(**row))
            conn.execute(_STALE, {"url": canonical_url})

    def identify(self, canonical_url: str, found: str, link: str, *, offsite: bool) -> str:
        """Record that the entry stored under ``canonical_url`` is the article at ``found``
        (the canonical form of what its page names as its own URL, ``link``); return the
        canonical URL it is stored under now. ``offsite``: the entry's link is on another
        site than the article (an aggregator's).

        With no entry at ``found``, the entry moves there and links to ``link``. An entry
        of another feed there is the same article: one of them is dropped, and its feed
        becomes a sighting of the other. The one dropped is this one, unless the other
        came from another site and this one did not: the outlet's own feed keeps the
        article. An entry of the same feed there is another item: nothing changes.
        The feed's link is kept as an alias, so that the feed's next fetch finds the
        article.
        """
        if found == canonical_url:
            return canonical_url
        with self.engine.begin() as conn:
            row = conn.execute(
                select(entries).where(entries.c.canonical_url == canonical_url)
            ).first()
            if row is None:
                return canonical_url
            there = conn.execute(
                select(entries.c.id, entries.c.feed_id, entries.c.elsewhere).where(
                    entries.c.canonical_url == found
                )
            ).first()
            if there is not None and there.feed_id == row.feed_id:
                return canonical_url  # two items of one feed: a login or consent page
            moved = {"old": canonical_url, "new": found}
            if there is None:
                conn.execute(
                    update(entries)
                    .where(entries.c.id == row.id)
                    .values(canonical_url=found, url=link)
                )
            else:
                self._drop_entry(conn, row.id)
                conn.execute(_SIGHTING, {"canonical_url": found, "feed_id": row.feed_id})
                reached = conn.execute(
                    select(aliases.c.url).where(
                        aliases.c.canonical_url == found,
                        aliases.c.feed_id == there.feed_id,
                        aliases.c.offsite.is_(True),
                    )
                ).first()
                if (reached is not None or there.elsewhere) and not (offsite or row.elsewhere):
                    # The one there came through another site (an aggregator), and this
                    # one is the outlet's own: it keeps the article, with this one's
                    # headline and text.
                    taken = {
                        c: getattr(row, c)
                        for c in ("feed_id", "guid", "title", "summary", "content", "author")
                    } | {
                        "published": row.published,
                        "dated": row.dated,
                        "image": row.image,
                        "elsewhere": False,
                    }
                    conn.execute(
                        update(entries)
                        .where(entries.c.id == there.id)
                        .values(**taken, url=link, updated_at=row.first_seen)
                    )
            conn.execute(_STALE, {"url": found})  # its kept story holds the old link
            conn.execute(pages.delete().where(pages.c.url == canonical_url))
            conn.execute(
                text(
                    "INSERT INTO sightings (canonical_url, feed_id) SELECT :new, feed_id "
                    "FROM sightings WHERE canonical_url = :old "
                    "ON CONFLICT (canonical_url, feed_id) DO NOTHING"
                ),
                moved,
            )
            conn.execute(sightings.delete().where(sightings.c.canonical_url == canonical_url))
            conn.execute(carried.update().where(carried.c.url == canonical_url).values(url=found))
            conn.execute(
                aliases.update().where(aliases.c.canonical_url == canonical_url),
                {"canonical_url": found},
            )
            conn.execute(
                text(
                    "INSERT INTO aliases (url, canonical_url, feed_id, offsite) "
                    "VALUES (:old, :new, :feed, :offsite) ON CONFLICT (url) DO UPDATE SET "
                    "canonical_url = excluded.canonical_url, offsite = excluded.offsite"
                ),
                moved | {"feed": row.feed_id, "offsite": offsite},
            )
        return found

    @staticmethod
    def _drop_entry(conn: Connection, entry_id: int) -> None:
        """Forget one entry and its analysis; the others of its story are analysed again,
        so that the story is made again without it."""
        story = conn.execute(
            select(analyses.c.story).where(analyses.c.entry_id == entry_id)
        ).scalar()
        conn.execute(analyses.delete().where(analyses.c.entry_id == entry_id))
        conn.execute(story_bands.delete().where(story_bands.c.entry_id == entry_id))
        conn.execute(story_keys.delete().where(story_keys.c.entry_id == entry_id))
        conn.execute(entries.delete().where(entries.c.id == entry_id))
        if story is not None:
            others = conn.execute(
                analyses.update().where(analyses.c.story == story).values(stale=True)
            ).rowcount
            if not others:
                conn.execute(stories.delete().where(stories.c.id == story))

    def entries_since(self, since: datetime) -> list[tuple[int, Entry, Page | None]]:
        """(row id, entry, extracted page or None) of every entry published since ``since``."""
        query = _with_pages().where(entries.c.published >= since)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(entries.c.published, entries.c.id)).all()
        return [(r.id, _entry(r), _page(r)) for r in rows]

    def to_analyse(self, since: datetime) -> bool:
        """Whether an entry published since ``since`` has no analysis yet or a stale one."""
        query = (
            select(entries.c.id)
            .outerjoin(analyses, analyses.c.entry_id == entries.c.id)
            .where(
                entries.c.published >= since,
                or_(analyses.c.entry_id.is_(None), analyses.c.stale.is_(True)),
            )
            .limit(1)
        )
        with self.engine.connect() as conn:
            return conn.execute(query).first() is not None

    def entries_to_analyse(
        self, since: datetime
    ) -> list[tuple[int, Entry, Page | None, int | None]]:
        """Like :meth:`entries_since`, for the entries with no analysis yet or a stale one;
        the last item is the story a stale one is in."""
        query = (
            _with_pages()
            .add_columns(analyses.c.story)
            .outerjoin(analyses, analyses.c.entry_id == entries.c.id)
            .where(
                entries.c.published >= since,
                or_(analyses.c.entry_id.is_(None), analyses.c.stale.is_(True)),
            )
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(entries.c.published, entries.c.id)).all()
        return [(r.id, _entry(r), _page(r), r.story) for r in rows]


def _with_pages() -> Any:
    """Entries with the columns of their extracted page, when there is one."""
    return select(
        entries,
        pages.c.text.label("page_text"),
        pages.c.title.label("page_title"),
        pages.c.author.label("page_author"),
        pages.c.site_name,
        pages.c.language,
        pages.c.image.label("page_image"),
        pages.c.published.label("page_published"),
        pages.c.url.label("page_url"),
        pages.c.error.label("page_error"),
        pages.c.paywalled,
        pages.c.promised_words,
    ).outerjoin(pages, pages.c.url == entries.c.canonical_url)
