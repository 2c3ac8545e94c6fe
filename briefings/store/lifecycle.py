"""Editions' records and their status (built → approved → sending → sent, or failed and
tried again), and what each edition carried, for the repeat check and follow-ups."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import and_, insert, or_, select, update

from ..model import Edition, EditionRecord, Sent
from .base import StoreBase
from .rows import _edition_record
from .schema import carried, editions, sent_stories


class EditionLifecycle(StoreBase):
    """The editions built, where each is in its lifecycle, and what each carried."""

    def carried(
        self, briefing: str, *, since: datetime, besides: str | None = None
    ) -> dict[str, str]:
        """Canonical URL → headline, for what editions of ``briefing`` carried since ``since``
        (all but edition ``besides``, the one being rebuilt).

        When a URL was sent more than once, the latest headline wins.
        """
        query = (
            select(carried.c.url, carried.c.title)
            .where(carried.c.briefing == briefing, carried.c.sent_at >= since)
            .order_by(carried.c.sent_at)
        )
        if besides is not None:
            query = query.where(carried.c.edition != besides)
        with self.engine.connect() as conn:
            return {row.url: row.title for row in conn.execute(query)}

    def sent(self, briefing: str, *, since: datetime, besides: str | None = None) -> list[Sent]:
        """The stories editions of ``briefing`` carried since ``since`` (all but edition
        ``besides``, the one being rebuilt), oldest first, each with its URLs then."""
        query = (
            select(sent_stories)
            .where(sent_stories.c.briefing == briefing, sent_stories.c.sent_at >= since)
            .order_by(sent_stories.c.sent_at, sent_stories.c.story_id)
        )
        urls = select(carried.c.edition, carried.c.story_id, carried.c.url).where(
            carried.c.briefing == briefing, carried.c.sent_at >= since
        )
        if besides is not None:
            query = query.where(sent_stories.c.edition != besides)
            urls = urls.where(carried.c.edition != besides)
        with self.engine.connect() as conn:
            held: dict[tuple[str, str], list[str]] = {}
            for row in conn.execute(urls):
                held.setdefault((row.edition, row.story_id), []).append(row.url)
            return [
                Sent(
                    story_id=row.story_id,
                    title=row.title,
                    summary=row.summary,
                    url=row.url,
                    published=row.published,
                    edition=row.edition,
                    sent_at=row.sent_at,
                    urls=tuple(held.get((row.edition, row.story_id), ())),
                )
                for row in conn.execute(query)
            ]

    def record_edition(
        self,
        edition: Edition,
        *,
        path: str,
        status: str = "approved",
        send_after: datetime | None = None,
    ) -> None:
        """Remember an edition, every URL it carried and each story as it went out, in one
        transaction.

        A rebuilt edition that an editor has approved stays approved.
        """
        rows = [
            {
                "briefing": edition.briefing,
                "edition": edition.edition,
                "story_id": story.id,
                "url": url,
                "title": story.title,
                "sent_at": edition.generated_at,
            }
            for story in edition.stories
            for url in story.member_urls
        ]
        told = [
            {
                "briefing": edition.briefing,
                "edition": edition.edition,
                "story_id": story.id,
                "title": story.title,
                "summary": story.summary,
                "url": story.url,
                "published": story.published,
                "sent_at": edition.generated_at,
            }
            for story in edition.stories
        ]
        with self.engine.begin() as conn:
            before = conn.execute(
                select(editions.c.status, editions.c.approved_at, editions.c.send_after).where(
                    editions.c.briefing == edition.briefing, editions.c.edition == edition.edition
                )
            ).first()
            approved_at = None
            if (
                before is not None
                and before.status == "approved"
                and status in ("draft", "approved")
            ):
                status, approved_at = "approved", before.approved_at
                send_after = send_after or before.send_after
            conn.execute(
                editions.delete().where(
                    editions.c.briefing == edition.briefing, editions.c.edition == edition.edition
                )
            )
            conn.execute(
                carried.delete().where(
                    carried.c.briefing == edition.briefing, carried.c.edition == edition.edition
                )
            )
            conn.execute(
                insert(editions).values(
                    briefing=edition.briefing,
                    edition=edition.edition,
                    generated_at=edition.generated_at,
                    stories=len(edition.stories),
                    path=path,
                    status=status,
                    send_after=send_after,
                    approved_at=approved_at,
                )
            )
            conn.execute(
                sent_stories.delete().where(
                    sent_stories.c.briefing == edition.briefing,
                    sent_stories.c.edition == edition.edition,
                )
            )
            if rows:
                conn.execute(insert(carried), rows)
            if told:
                conn.execute(insert(sent_stories), told)

    def edition(self, briefing: str, edition: str) -> EditionRecord | None:
        """One edition's record, or None."""
        query = select(editions).where(
            editions.c.briefing == briefing, editions.c.edition == edition
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return _edition_record(row) if row else None

    def editions_of(self, briefing: str, *, limit: int = 20) -> list[EditionRecord]:
        """The newest editions of a briefing, newest first."""
        query = (
            select(editions)
            .where(editions.c.briefing == briefing)
            .order_by(editions.c.generated_at.desc(), editions.c.id.desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [_edition_record(row) for row in conn.execute(query)]

    def move_edition(
        self,
        briefing: str,
        edition: str,
        status: str,
        *,
        expected: Sequence[str],
        send_after: datetime | None = None,
        now: datetime,
    ) -> bool:
        """Move an edition to ``status`` if it is in one of ``expected``; whether it moved.

        One conditional update: of two processes racing for the same edition, one wins.
        """
        values: dict[str, Any] = {"status": status}
        if status == "approved":
            values |= {"approved_at": now, "send_after": send_after}
        with self.engine.begin() as conn:
            moved = conn.execute(
                update(editions)
                .where(
                    editions.c.briefing == briefing,
                    editions.c.edition == edition,
                    editions.c.status.in_(expected),
                )
                .values(**values)
            ).rowcount
        return bool(moved)

    def due_editions(self, now: datetime) -> list[EditionRecord]:
        """Editions an editor approved whose time to go out has come, oldest first.

        Editions built without review (by ``build`` or ``run --once``) are sent by whoever
        built them, or not at all: they are never picked up here.
        """
        query = (
            select(editions)
            .where(
                editions.c.status == "approved",
                editions.c.approved_at.is_not(None),
                or_(editions.c.send_after.is_(None), editions.c.send_after <= now),
            )
            .order_by(editions.c.generated_at)
        )
        with self.engine.connect() as conn:
            return [_edition_record(row) for row in conn.execute(query)]

    def plan_retry(
        self, briefing: str, edition: str, *, now: datetime, delays: Sequence[timedelta]
    ) -> tuple[int, datetime | None]:
        """Count a send of a *failed* edition that found no connection, and set when to
        try again: ``now`` plus the delay for this attempt, or never once ``delays`` are
        used up. (attempts so far, next try or None)."""
        key = and_(editions.c.briefing == briefing, editions.c.edition == edition)
        with self.engine.begin() as conn:
            done = conn.execute(select(editions.c.attempts).where(key)).scalar() or 0
            attempts = done + 1
            retry_at = now + delays[done] if done < len(delays) else None
            conn.execute(
                update(editions)
                .where(key, editions.c.status == "failed")
                .values(attempts=attempts, retry_at=retry_at)
            )
        return attempts, retry_at

    def retry_editions(self, now: datetime, since: datetime) -> list[EditionRecord]:
        """Failed editions built since ``since`` whose next try (:meth:`plan_retry`) has
        come, oldest first."""
        query = (
            select(editions)
            .where(
                editions.c.status == "failed",
                editions.c.retry_at.is_not(None),
                editions.c.retry_at <= now,
                editions.c.generated_at >= since,
            )
            .order_by(editions.c.generated_at)
        )
        with self.engine.connect() as conn:
            return [_edition_record(row) for row in conn.execute(query)]

    def stranded_editions(self, since: datetime) -> list[EditionRecord]:
        """Editions built since ``since`` still marked *sending*, oldest first: a caller
        holding the run lock knows that their sender stopped half-way."""
        query = (
            select(editions)
            .where(editions.c.status == "sending", editions.c.generated_at >= since)
            .order_by(editions.c.generated_at)
        )
        with self.engine.connect() as conn:
            return [_edition_record(row) for row in conn.execute(query)]

    def latest_edition(self, briefing: str) -> tuple[str, Path] | None:
        """The id and folder of the newest edition built for ``briefing``."""
        query = (
            select(editions.c.edition, editions.c.path)
            .where(editions.c.briefing == briefing)
            .order_by(editions.c.generated_at.desc(), editions.c.id.desc())
            .limit(1)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return (row.edition, Path(row.path)) if row else None
