"""The store: SQLAlchemy 2 Core over SQLite by default; the schema lives here.

It remembers what was fetched (validators for conditional GET), every entry
once (keyed by canonical URL), extracted pages (so a page is fetched once),
and which URLs each briefing has already carried.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, create_engine, event, func, insert, select, update
from sqlalchemy.engine import Engine, ExceptionContext
from sqlalchemy.exc import SQLAlchemyError

from ..errors import StoreError
from ..model import Subscriber
from .articles import Articles
from .base import IN_CHUNK as IN_CHUNK
from .editors import EditorsChoices
from .fetched import SEEN_EVERY as SEEN_EVERY
from .fetched import FeedUpdate as FeedUpdate
from .fetched import FetchedFeeds
from .ledger import PRUNED as PRUNED
from .ledger import DeliveryLedger
from .lifecycle import EditionLifecycle
from .rows import _subscriber
from .schema import MIGRATIONS as MIGRATIONS
from .schema import SCHEMA_VERSION as SCHEMA_VERSION
from .schema import NewerSchema, upgrade
from .schema import UTCDateTime as UTCDateTime
from .schema import aliases as aliases
from .schema import analyses as analyses
from .schema import carried as carried
from .schema import choices as choices
from .schema import deliveries as deliveries
from .schema import editions as editions
from .schema import entries as entries
from .schema import feeds as feeds
from .schema import frequencies as frequencies
from .schema import meta as meta
from .schema import metadata as metadata
from .schema import notes as notes
from .schema import pages as pages
from .schema import sightings as sightings
from .schema import stories as stories
from .schema import story_bands as story_bands
from .schema import story_keys as story_keys
from .schema import subscribers as subscribers

_HINTS = (
    (
        ("database is locked", "database table is locked"),
        "the database is locked by another program; close it (or wait for it) and try again",
    ),
    (
        ("readonly", "read-only"),
        "the database is read-only; make the file and its folder writable, or set "
        "settings.database to a writable place",
    ),
    (
        ("database or disk is full", "no space"),
        "the disk holding the database is full; free some space and run again",
    ),
    (
        ("unable to open database", "disk i/o error"),
        "cannot open or write the database file; check that its folder exists and is "
        "writable, and that the disk works",
    ),
)
"""Database failures a user can fix: what SQLite says, and what to tell them."""


class Store(FetchedFeeds, Articles, EditionLifecycle, EditorsChoices, DeliveryLedger):
    """One database; every method is a short transaction. Failures a user can fix
    (locked, read-only, disk full) raise :class:`StoreError` naming the file."""

    def __init__(self, url: str) -> None:
        self.url = url
        try:
            self.engine: Engine = create_engine(url)
            if url.startswith("sqlite"):
                event.listen(self.engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "handle_error", self._explain)
            with self.engine.begin() as conn:
                upgrade(conn)
        except NewerSchema as newer:
            self.engine.dispose()
            raise StoreError(
                f"{self.where}: the database is at schema version {newer.version}, newer than "
                f"this briefings knows (version {SCHEMA_VERSION}); upgrade briefings, or restore "
                "a backup made before the newer version ran"
            ) from None
        except SQLAlchemyError as exc:
            raise StoreError(
                f"{self.where}: cannot open the database: {exc.__class__.__name__}: "
                f"{str(exc).splitlines()[0]}"
            ) from None

    @property
    def where(self) -> str:
        """The database file, or the URL of a server database."""
        return (
            self.url.removeprefix("sqlite:///") if self.url.startswith("sqlite:///") else self.url
        )

    def _explain(self, context: ExceptionContext) -> None:
        """Turn the database failures a user can fix into one :class:`StoreError` line."""
        reason = str(context.original_exception).lower()
        for marks, hint in _HINTS:
            if any(mark in reason for mark in marks):
                raise StoreError(f"{self.where}: {hint}") from None

    def close(self) -> None:
        self.engine.dispose()

    def save_subscribers(
        self,
        found: Sequence[Subscriber],
        *,
        now: datetime,
        given: Mapping[str, Collection[str]] | None = None,
    ) -> tuple[int, int]:
        """Add new subscribers and update known ones (by address); (added, updated). A known
        subscriber the source changes nothing of is left alone and counts in neither.

        ``given`` names, per lowercased address, the fields the source gave (name,
        tier, briefings, industries, status); a known subscriber keeps the others.
        Without it every field is given. A known subscriber's status only ever moves
        away from active, and briefings they unsubscribed from are not added back: an
        import never resubscribes anyone.
        """
        added = updated = 0
        with self.engine.begin() as conn:
            for item in found:
                key = item.email.lower()
                fields = set(_FIELDS if given is None else given.get(key, _FIELDS))
                row = conn.execute(
                    select(subscribers).where(subscribers.c.email_key == key)
                ).first()
                if row is None:
                    left = set(item.left)
                    conn.execute(
                        insert(subscribers).values(
                            email_key=key,
                            email=item.email,
                            name=item.name,
                            tier=item.tier,
                            briefings=";".join(b for b in item.briefings if b not in left),
                            industries=";".join(item.industries),
                            status=item.status,
                            unsubscribed_from=";".join(item.left),
                            updated_at=now,
                        )
                    )
                    added += 1
                    continue
                left = {b for b in row.unsubscribed_from.split(";") if b} | set(item.left)
                values: dict[str, Any] = {"email": item.email, "updated_at": now}
                if "name" in fields:
                    values["name"] = item.name
                if "tier" in fields:
                    values["tier"] = item.tier
                if "briefings" in fields:
                    values["briefings"] = ";".join(b for b in item.briefings if b not in left)
                if "industries" in fields:
                    values["industries"] = ";".join(item.industries)
                if "status" in fields and item.status != "active" and row.status == "active":
                    values["status"] = item.status
                values["unsubscribed_from"] = ";".join(sorted(left))
                if all(getattr(row, k) == v for k, v in values.items() if k != "updated_at"):
                    continue  # the same again: an import run twice changes nothing
                conn.execute(
                    update(subscribers).where(subscribers.c.email_key == key).values(**values)
                )
                updated += 1
        return added, updated

    def remove_subscriber(self, email: str) -> bool:
        """Forget a subscriber entirely; False if there was none."""
        with self.engine.begin() as conn:
            gone = conn.execute(
                subscribers.delete().where(subscribers.c.email_key == email.strip().lower())
            ).rowcount
        return bool(gone)

    def set_status(self, email: str, status: str, *, now: datetime) -> bool:
        """Mark a subscriber active, unsubscribed or bounced; False if there was none."""
        with self.engine.begin() as conn:
            found = conn.execute(
                update(subscribers)
                .where(subscribers.c.email_key == email.strip().lower())
                .values(status=status, updated_at=now)
            ).rowcount
        return bool(found)

    def list_subscribers(
        self, *, briefing: str | None = None, status: str | None = None
    ) -> list[Subscriber]:
        """Subscribers in address order, of one briefing or status when given."""
        query = select(subscribers).order_by(subscribers.c.email_key)
        if status is not None:
            query = query.where(subscribers.c.status == status)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        found = [_subscriber(r) for r in rows]
        return [s for s in found if briefing is None or briefing in s.briefings]

    def subscriber(self, email: str) -> Subscriber | None:
        """One subscriber by address (any case), or None."""
        query = select(subscribers).where(subscribers.c.email_key == email.strip().lower())
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return _subscriber(row) if row else None

    def set_preferences(
        self,
        email: str,
        *,
        briefings: Sequence[str],
        industries: Sequence[str],
        now: datetime,
    ) -> bool:
        """Replace what a subscriber receives; False if there is none.

        No briefing left means unsubscribed; choosing some again reactivates an
        unsubscribed reader (never a bounced one).
        """
        key = email.strip().lower()
        with self.engine.begin() as conn:
            row = conn.execute(select(subscribers).where(subscribers.c.email_key == key)).first()
            if row is None:
                return False
            status = row.status
            if not briefings:
                status = "unsubscribed" if status == "active" else status
            elif status == "unsubscribed":
                status = "active"
            left = {b for b in row.unsubscribed_from.split(";") if b}
            dropped = {b for b in row.briefings.split(";") if b} - set(briefings)
            conn.execute(
                update(subscribers)
                .where(subscribers.c.email_key == key)
                .values(
                    briefings=";".join(briefings),
                    unsubscribed_from=";".join(sorted((left | dropped) - set(briefings))),
                    industries=";".join(industries),
                    status=status,
                    updated_at=now,
                )
            )
        return True

    def unsubscribe(self, email: str, briefing: str, *, now: datetime) -> bool:
        """Take ``briefing`` off a subscriber's list (all of them: unsubscribed)."""
        key = email.strip().lower()
        with self.engine.begin() as conn:
            row = conn.execute(select(subscribers).where(subscribers.c.email_key == key)).first()
            if row is None:
                return False
            kept = [b for b in row.briefings.split(";") if b and b != briefing]
            left = {b for b in row.unsubscribed_from.split(";") if b} | {briefing}
            conn.execute(
                update(subscribers)
                .where(subscribers.c.email_key == key)
                .values(
                    briefings=";".join(kept),
                    unsubscribed_from=";".join(sorted(left)),
                    status=row.status if kept else "unsubscribed",
                    updated_at=now,
                )
            )
        return True

    def prune(
        self, *, before: datetime, now: datetime, every: timedelta | None = None
    ) -> dict[str, int] | None:
        """Forget what no build, repeat check or resumed send can need any more, in one
        transaction; rows deleted per table. With ``every``, only if the last pruning is
        at least that old (None when it is not).

        * entries published before ``before`` and not listed by a feed since (a feed that
          still lists one would bring it back as new), with their analyses, index rows,
          pages and sightings, and the kept stories left with no article;
        * what editions carried before ``before``;
        * the delivery ledger of editions built before ``before`` that are sent or
          skipped: their lines become one :data:`PRUNED` line, so that ``send`` knows the
          ledger is gone. Editions still sending or failed keep theirs.

        Editions, subscribers, editors' choices and notes, and feeds are kept.
        """
        done: dict[str, int] = {}
        old = select(entries.c.id).where(
            entries.c.published < before,
            func.coalesce(entries.c.last_seen, entries.c.first_seen) < before,
        )
        gone_url = entries.c.canonical_url
        with self.engine.begin() as conn:
            last = conn.execute(select(meta.c.value).where(meta.c.key == "store_pruned")).scalar()
            if every is not None and last is not None and now - _moment(last) < every:
                return None
            conn.execute(meta.delete().where(meta.c.key == "store_pruned"))
            conn.execute(insert(meta).values(key="store_pruned", value=now.isoformat()))
            ids = list(conn.execute(old).scalars())
            for table in (analyses, story_bands, story_keys):
                done[table.name] = 0
            done["entries"] = 0
            for start in range(0, len(ids), IN_CHUNK):
                part = ids[start : start + IN_CHUNK]
                done["analyses"] += conn.execute(
                    analyses.delete().where(analyses.c.entry_id.in_(part))
                ).rowcount
                done["story_bands"] += conn.execute(
                    story_bands.delete().where(story_bands.c.entry_id.in_(part))
                ).rowcount
                done["story_keys"] += conn.execute(
                    story_keys.delete().where(story_keys.c.entry_id.in_(part))
                ).rowcount
                done["entries"] += conn.execute(
                    entries.delete().where(entries.c.id.in_(part))
                ).rowcount
            done["stories"] = conn.execute(
                stories.delete().where(stories.c.id.not_in(select(analyses.c.story)))
            ).rowcount
            done["pages"] = conn.execute(
                pages.delete().where(
                    pages.c.fetched_at < before, pages.c.url.not_in(select(gone_url))
                )
            ).rowcount
            done["sightings"] = conn.execute(
                sightings.delete().where(sightings.c.canonical_url.not_in(select(gone_url)))
            ).rowcount
            done["carried"] = conn.execute(
                carried.delete().where(carried.c.sent_at < before)
            ).rowcount
            finished = conn.execute(
                select(editions.c.briefing, editions.c.edition).where(
                    editions.c.generated_at < before, editions.c.status.in_(("sent", "skipped"))
                )
            ).all()
            done["deliveries"] = 0
            for briefing, edition in finished:
                ledger = and_(deliveries.c.briefing == briefing, deliveries.c.edition == edition)
                lines = conn.execute(
                    deliveries.delete().where(ledger, deliveries.c.email_key != PRUNED)
                ).rowcount
                if lines:
                    done["deliveries"] += lines
                    conn.execute(
                        insert(deliveries)
                        .prefix_with("OR IGNORE", dialect="sqlite")
                        .values(
                            briefing=briefing,
                            edition=edition,
                            email_key=PRUNED,
                            status="pruned",
                            updated_at=now,
                        )
                    )
        return done

    def vacuum(self) -> None:
        """Rewrite a SQLite file to hold only its rows: what :meth:`prune` freed is given
        back to the disk. Needs free space as large as the file, and the file to itself."""
        if not self.url.startswith("sqlite"):
            return
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM")
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    def counts(self) -> dict[str, int]:
        """Row counts of the main tables, for reports and tests."""
        with self.engine.connect() as conn:
            return {
                t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in (feeds, entries, pages, editions)
            }


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _moment(stamp: str) -> datetime:
    """An ISO time kept in ``meta``, aware."""
    found = datetime.fromisoformat(stamp)
    return found if found.tzinfo else found.replace(tzinfo=UTC)


_FIELDS = ("name", "tier", "briefings", "industries", "status")
