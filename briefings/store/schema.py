"""The database's schema: its tables and column types, ``SCHEMA_VERSION``, and the
migrations that bring an older database to it (:func:`upgrade`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    insert,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import Connection

SCHEMA_VERSION = 14
# Each step brings a database from the version before it to its own; create_all makes new
# databases at the newest version directly.
MIGRATIONS: dict[int, tuple[str, ...]] = {
    2: (
        "ALTER TABLE pages ADD COLUMN paywalled BOOLEAN NOT NULL DEFAULT 0",
        "ALTER TABLE pages ADD COLUMN promised_words INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE entries ADD COLUMN updated_at DATETIME",
    ),
    3: (
        "ALTER TABLE editions ADD COLUMN status VARCHAR NOT NULL DEFAULT 'approved'",
        "ALTER TABLE editions ADD COLUMN send_after DATETIME",
        "ALTER TABLE editions ADD COLUMN approved_at DATETIME",
    ),
    4: (),  # the kept stories: new tables only, which create_all makes
    5: ("ALTER TABLE subscribers ADD COLUMN unsubscribed_from TEXT NOT NULL DEFAULT ''",),
    6: ("ALTER TABLE entries ADD COLUMN image VARCHAR NOT NULL DEFAULT ''",),
    7: ("ALTER TABLE entries ADD COLUMN last_seen DATETIME",),
    8: (),  # aliases: a new table only
    9: ("ALTER TABLE choices ADD COLUMN title TEXT NOT NULL DEFAULT ''",),
    10: ("ALTER TABLE entries ADD COLUMN elsewhere BOOLEAN NOT NULL DEFAULT 0",),
    11: (
        "ALTER TABLE editions ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE editions ADD COLUMN retry_at DATETIME",
    ),
    12: (
        "ALTER TABLE feeds ADD COLUMN failing_since DATETIME",
        # a feed failing now has failed since its last fetch at least
        "UPDATE feeds SET failing_since = checked_at WHERE error != '' AND failing_since IS NULL",
    ),
    13: ("ALTER TABLE feeds ADD COLUMN wait_until DATETIME",),
    14: (),  # what editions sent of each story (sent_stories): a new table only
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, whatever the backend keeps."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


metadata = MetaData()
meta = Table("meta", metadata, Column("key", String, primary_key=True), Column("value", String))
feeds = Table(
    "feeds",
    metadata,
    Column("url", String, primary_key=True),
    Column("etag", String),
    Column("last_modified", String),
    Column("body_hash", String),
    Column("checked_at", UTCDateTime),
    Column("error", Text),
    # the first of the failed fetches since the last that worked; NULL while it works
    Column("failing_since", UTCDateTime),
    # not to be asked before then: the Retry-After of its last answer; NULL: any time
    Column("wait_until", UTCDateTime),
)
entries = Table(
    "entries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("canonical_url", String, nullable=False, unique=True),
    Column("feed_id", String, nullable=False),
    Column("guid", String, nullable=False),
    Column("url", String, nullable=False),
    Column("title", Text, nullable=False),
    Column("summary", Text, nullable=False),
    Column("content", Text, nullable=False),
    Column("author", String, nullable=False),
    Column("published", UTCDateTime, nullable=False),
    Column("dated", Boolean, nullable=False),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime),
    Column("image", String, nullable=False, default=""),
    # the last fetch that listed it (a day old at most while listed); None before schema 7
    Column("last_seen", UTCDateTime),
    Column("elsewhere", Boolean, nullable=False, default=False, server_default=text("0")),
    Index("ix_entries_published", "published"),
    Index("ix_entries_feed_guid", "feed_id", "guid"),
)
sightings = Table(
    "sightings",
    metadata,
    Column("canonical_url", String, nullable=False),
    Column("feed_id", String, nullable=False),
    UniqueConstraint("canonical_url", "feed_id"),
)
aliases = Table(
    "aliases",
    metadata,
    Column("url", String, primary_key=True),
    Column("canonical_url", String, nullable=False),
    Column("feed_id", String, nullable=False),
    Column("offsite", Boolean, nullable=False, default=False),
)
"""A feed's link (canonical form) whose page showed it to be the article at
``canonical_url``: an aggregator's redirect (``offsite``: the link is on another site),
a link with extra parameters."""
pages = Table(
    "pages",
    metadata,
    Column("url", String, primary_key=True),
    Column("fetched_at", UTCDateTime, nullable=False),
    Column("error", Text, nullable=False, default=""),
    Column("text", Text, nullable=False, default=""),
    Column("title", Text, nullable=False, default=""),
    Column("author", String, nullable=False, default=""),
    Column("site_name", String, nullable=False, default=""),
    Column("language", String, nullable=False, default=""),
    Column("image", String, nullable=False, default=""),
    Column("published", UTCDateTime),
    Column("paywalled", Boolean, nullable=False, default=False),
    Column("promised_words", Integer, nullable=False, default=0),
)
editions = Table(
    "editions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("briefing", String, nullable=False),
    Column("edition", String, nullable=False),
    Column("generated_at", UTCDateTime, nullable=False),
    Column("stories", Integer, nullable=False),
    Column("path", String, nullable=False),
    Column("status", String, nullable=False, default="approved"),
    Column("send_after", UTCDateTime),
    Column("approved_at", UTCDateTime),
    # sends that failed for want of a connection, and when the scheduler tries again
    Column("attempts", Integer, nullable=False, default=0, server_default=text("0")),
    Column("retry_at", UTCDateTime),
    UniqueConstraint("briefing", "edition"),
)
choices = Table(
    "choices",
    metadata,
    Column("briefing", String, nullable=False),
    Column("story_id", String, nullable=False),
    Column("urls", Text, nullable=False, default=""),
    Column("dropped", Boolean, nullable=False, default=False),
    Column("pinned", Boolean, nullable=False, default=False),
    Column("rank", Integer),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("title", Text, nullable=False, default=""),
    UniqueConstraint("briefing", "story_id"),
)
notes = Table(
    "notes",
    metadata,
    Column("briefing", String, nullable=False),
    Column("edition", String, nullable=False),
    Column("text", Text, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("briefing", "edition"),
)
carried = Table(
    "carried",
    metadata,
    Column("briefing", String, nullable=False),
    Column("edition", String, nullable=False),
    Column("story_id", String, nullable=False),
    Column("url", String, nullable=False),
    Column("title", Text, nullable=False),
    Column("sent_at", UTCDateTime, nullable=False),
    Column("score", Float, nullable=False, default=0.0),
    Index("ix_carried_briefing_url", "briefing", "url"),
)
sent_stories = Table(
    "sent_stories",
    metadata,
    Column("briefing", String, nullable=False),
    Column("edition", String, nullable=False),
    Column("story_id", String, nullable=False),
    Column("title", Text, nullable=False),
    Column("summary", Text, nullable=False),
    Column("url", String, nullable=False),
    Column("published", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime, nullable=False),
    Index("ix_sent_stories_briefing_sent_at", "briefing", "sent_at"),
)
"""Each story an edition carried, as it went out: what a follow-up is linked to."""


analyses = Table(
    "analyses",
    metadata,
    Column("entry_id", Integer, primary_key=True),
    Column("story", Integer, nullable=False),
    Column("stale", Boolean, nullable=False, default=False),
    Column("published", Float, nullable=False),  # seconds since the epoch, UTC
    Column("feed_id", String, nullable=False),
    Column("title", Text, nullable=False),
    Column("summary", Text, nullable=False),
    Column("author", String, nullable=False),
    Column("image", String, nullable=False),
    Column("text_source", String, nullable=False),
    Column("length", Integer, nullable=False),
    Column("places", Text, nullable=False),
    Column("vector", LargeBinary, nullable=False),  # deflated JSON
    Column("signature", LargeBinary, nullable=False),
    Column("matches", LargeBinary, nullable=False),  # deflated JSON
    Index("ix_analyses_story", "story"),
)
"""What each article's text yielded, computed once: its lead, topic matches, TF-IDF
vector and MinHash signature, and the story it was placed in."""
story_bands = Table(
    "story_bands",
    metadata,
    Column("band", LargeBinary, primary_key=True),
    Column("entry_id", Integer, primary_key=True),
    Column("published", Float, nullable=False),
    sqlite_with_rowid=False,  # the table is its own index on (band, entry_id)
)
story_keys = Table(
    "story_keys",
    metadata,
    Column("key", String, primary_key=True),
    Column("published", Float, primary_key=True),
    Column("entry_id", Integer, primary_key=True),
    sqlite_with_rowid=False,  # the table is its own index on (key, published)
)
frequencies = Table(
    "frequencies",
    metadata,
    Column("term", String, primary_key=True),
    Column("df", Integer, nullable=False),
)
stories = Table(
    "stories",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("story_id", String, nullable=False),
    Column("published", Float, nullable=False),
    Column("made", String, nullable=False),
    Column("body", Text, nullable=False),
    Column("matches", Text, nullable=False),
    Index("ix_stories_published", "published"),
    Index("ix_stories_story_id", "story_id"),
)
"""Stories as their articles arrive: a build reads these instead of clustering again."""


deliveries = Table(
    "deliveries",
    metadata,
    Column("briefing", String, nullable=False),
    Column("edition", String, nullable=False),
    Column("email_key", String, nullable=False),
    Column("status", String, nullable=False),  # sending, sent, failed
    Column("error", Text, nullable=False, default=""),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("briefing", "edition", "email_key"),
)
subscribers = Table(
    "subscribers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("email", String, nullable=False),
    Column("email_key", String, nullable=False, unique=True),
    Column("name", String, nullable=False, default=""),
    Column("tier", String, nullable=False, default="free"),
    Column("briefings", Text, nullable=False, default=""),
    Column("industries", Text, nullable=False, default=""),
    Column("status", String, nullable=False, default="active"),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("unsubscribed_from", Text, nullable=False, default="", server_default=""),
)


class NewerSchema(Exception):
    """A database a newer version of briefings made: left untouched."""

    def __init__(self, version: int) -> None:
        super().__init__(version)
        self.version = version


def upgrade(conn: Connection) -> None:
    """Make the tables a new database lacks and bring an older one to ``SCHEMA_VERSION``;
    :class:`NewerSchema` for a database a newer briefings made.

    A database at ``SCHEMA_VERSION`` is only read. Otherwise all of it is one transaction
    that holds SQLite's write lock from the start, so an upgrade cut short leaves the
    database as it was, and processes opening a database at once make or migrate it once:
    the others wait for it, then find it done."""
    if _version(conn) == SCHEMA_VERSION:
        return
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    fresh = not inspect(conn).has_table("entries")
    metadata.create_all(conn)
    found = conn.execute(select(meta.c.value).where(meta.c.key == "schema")).first()
    version = SCHEMA_VERSION if fresh or found is None else int(found[0])
    if version > SCHEMA_VERSION:
        raise NewerSchema(version)
    for step in range(version + 1, SCHEMA_VERSION + 1):
        for statement in MIGRATIONS[step]:
            if not _already_there(conn, statement):
                conn.execute(text(statement))
    conn.execute(meta.delete().where(meta.c.key == "schema"))
    conn.execute(insert(meta).values(key="schema", value=str(SCHEMA_VERSION)))


def _version(conn: Connection) -> int | None:
    """The schema version the database records; None when it records none."""
    if not inspect(conn).has_table("meta"):
        return None
    found = conn.execute(select(meta.c.value).where(meta.c.key == "schema")).scalar()
    return None if found is None else int(found)


def _already_there(conn: Any, statement: str) -> bool:
    """Whether an ``ALTER TABLE t ADD COLUMN c`` migration finds ``c`` there already (a table
    that ``create_all`` has just made at the newest version)."""
    words = statement.split()
    if words[:2] != ["ALTER", "TABLE"] or words[3:5] != ["ADD", "COLUMN"]:
        return False
    return words[5] in {column["name"] for column in inspect(conn).get_columns(words[2])}
