"""The store: SQLAlchemy 2 Core over SQLite by default.

It remembers what was fetched (validators for conditional GET), every entry
once (keyed by canonical URL), extracted pages (so a page is fetched once),
and which URLs each briefing has already carried.

:class:`Store` opens the database, bringing its schema up to date (:mod:`.schema`), and
turns the failures a user can fix into one line. Its methods come from one class per area:
what fetches bring (:mod:`.fetched`), pages and identities of articles (:mod:`.articles`),
editions and their status (:mod:`.lifecycle`), editors' choices and notes (:mod:`.editors`),
the delivery ledger (:mod:`.ledger`), subscribers (:mod:`.subscriptions`), and pruning
(:mod:`.maintenance`). Rows become models in :mod:`.rows`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, ExceptionContext
from sqlalchemy.exc import SQLAlchemyError

from ..errors import StoreError
from .articles import Articles
from .base import IN_CHUNK as IN_CHUNK
from .editors import EditorsChoices
from .fetched import SEEN_EVERY as SEEN_EVERY
from .fetched import FeedTrouble as FeedTrouble
from .fetched import FeedUpdate as FeedUpdate
from .fetched import FetchedFeeds
from .ledger import PRUNED as PRUNED
from .ledger import DeliveryLedger
from .lifecycle import EditionLifecycle
from .maintenance import Maintenance
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
from .schema import sent_stories as sent_stories
from .schema import sightings as sightings
from .schema import stories as stories
from .schema import story_bands as story_bands
from .schema import story_keys as story_keys
from .schema import subscribers as subscribers
from .subscriptions import Subscriptions

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


class Store(
    FetchedFeeds,
    Articles,
    EditionLifecycle,
    EditorsChoices,
    DeliveryLedger,
    Subscriptions,
    Maintenance,
):
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


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    # first: making a new file WAL needs its lock, which another process may hold a moment
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
