"""Rows ↔ models: an :class:`Entry` as the row it is stored as, and the entries, pages,
subscribers and edition records read back from rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..model import EditionRecord, Entry, Page, Subscriber


def _entry_row(entry: Entry, seen_at: datetime) -> dict[str, Any]:
    return {
        "canonical_url": entry.canonical_url,
        "feed_id": entry.feed_id,
        "guid": entry.guid,
        "url": entry.url,
        "title": entry.title,
        "summary": entry.summary,
        "content": entry.content,
        "author": entry.author,
        "published": entry.published,
        "dated": entry.dated,
        "first_seen": seen_at,
        "last_seen": seen_at,
        "image": entry.image,
        "elsewhere": entry.elsewhere,
    }


def _edition_record(row: Any) -> EditionRecord:
    return EditionRecord(
        briefing=row.briefing,
        edition=row.edition,
        generated_at=row.generated_at,
        stories=row.stories,
        path=row.path,
        status=row.status,
        send_after=row.send_after,
        approved_at=row.approved_at,
    )


def _subscriber(row: Any) -> Subscriber:
    return Subscriber(
        email=row.email,
        name=row.name,
        tier=row.tier,
        briefings=tuple(b for b in row.briefings.split(";") if b),
        industries=tuple(i for i in row.industries.split(";") if i),
        status=row.status,
        left=tuple(b for b in row.unsubscribed_from.split(";") if b),
    )


def _entry(row: Any) -> Entry:
    return Entry(
        feed_id=row.feed_id,
        guid=row.guid,
        url=row.url,
        canonical_url=row.canonical_url,
        title=row.title,
        summary=row.summary,
        content=row.content,
        author=row.author,
        published=row.published,
        dated=row.dated,
        image=row.image,
        elsewhere=row.elsewhere,
    )


def _page(row: Any) -> Page | None:
    if row.page_url is None:
        return None
    return Page(
        url=row.canonical_url,
        text=row.page_text,
        title=row.page_title or "",
        author=row.page_author or "",
        site_name=row.site_name or "",
        language=row.language or "",
        image=row.page_image or "",
        published=row.page_published,
        paywalled=bool(row.paywalled),
        promised_words=row.promised_words or 0,
        error=row.page_error or "",
    )
