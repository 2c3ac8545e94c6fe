"""Keeping the database small: pruning what nothing can need any more, vacuuming, and
the row counts reports show."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import and_, func, insert, select

from ..errors import StoreError
from .base import IN_CHUNK, StoreBase
from .ledger import PRUNED
from .schema import (
    aliases,
    analyses,
    carried,
    deliveries,
    editions,
    entries,
    feeds,
    meta,
    pages,
    sent_stories,
    sightings,
    stories,
    story_bands,
    story_keys,
)


class Maintenance(StoreBase):
    """Pruning, vacuuming and counting rows."""

    def prune(
        self, *, before: datetime, now: datetime, every: timedelta | None = None
    ) -> dict[str, int] | None:
        """Forget what no build, repeat check or resumed send can need any more, in one
        transaction; rows deleted per table. With ``every``, only if the last pruning is
        at least that old (None when it is not).

        * entries published before ``before`` and not listed by a feed since (a feed that
          still lists one would bring it back as new), with their analyses, index rows,
          pages, sightings and aliases (the links that led to them), and the kept
          stories left with no article;
        * what editions carried before ``before``, and the stories they sent;
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
            done["aliases"] = conn.execute(
                aliases.delete().where(aliases.c.canonical_url.not_in(select(gone_url)))
            ).rowcount
            done["carried"] = conn.execute(
                carried.delete().where(carried.c.sent_at < before)
            ).rowcount
            done["sent_stories"] = conn.execute(
                sent_stories.delete().where(sent_stories.c.sent_at < before)
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
        back to the disk. Needs free space as large as the file both beside it and in
        SQLite's temporary folder (:class:`StoreError` naming the one short of it before
        anything starts), and the file to itself."""
        if not self.url.startswith("sqlite"):
            return
        if self.url.startswith("sqlite:///") and self.url != "sqlite:///:memory:":
            _room_to_vacuum(Path(self.url.removeprefix("sqlite:///")))
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


def _room_to_vacuum(database: Path) -> None:
    """Refuse a vacuum that would fill a disk: SQLite copies the rows to a temporary
    file, then writes them back through the write-ahead log beside the database."""
    size = sum(p.stat().st_size for p in (database, Path(f"{database}-wal")) if p.exists())
    beside, temporary = database.parent, _temporary_folder()
    if temporary.stat().st_dev == beside.stat().st_dev:
        checks = [(beside, 2 * size, "beside it and for its temporary copy", "")]
    else:
        checks = [
            (beside, size, "beside it", ""),
            (
                temporary,
                size,
                "for its temporary copy",
                "set SQLITE_TMPDIR to a folder with room, or ",
            ),
        ]
    for folder, needed, what, other in checks:
        free = shutil.disk_usage(folder).free
        if free < needed:
            raise StoreError(
                f"{database}: cannot vacuum: it needs about {needed / 1e6:,.1f} MB free {what}, "
                f"and {folder} has {free / 1e6:,.1f} MB; {other}free some space there"
            )


def _temporary_folder() -> Path:
    """Where SQLite puts its temporary files: the first writable folder of
    ``SQLITE_TMPDIR``, ``TMPDIR``, ``/var/tmp``, ``/usr/tmp``, ``/tmp``, else ``.``."""
    for name in (os.environ.get("SQLITE_TMPDIR"), os.environ.get("TMPDIR")):
        if name and os.path.isdir(name) and os.access(name, os.W_OK | os.X_OK):
            return Path(name)
    for name in ("/var/tmp", "/usr/tmp", "/tmp"):
        if os.path.isdir(name) and os.access(name, os.W_OK | os.X_OK):
            return Path(name)
    return Path(".")


def _moment(stamp: str) -> datetime:
    """An ISO time kept in ``meta``, aware."""
    found = datetime.fromisoformat(stamp)
    return found if found.tzinfo else found.replace(tzinfo=UTC)
