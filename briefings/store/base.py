"""What every part of :class:`~briefings.store.Store` shares: the engine and URL it
opened (:class:`StoreBase`), the size of ``IN (…)`` lists, and the statements that both
storing entries and identifying articles write."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Engine

_SIGHTING = text(
    "INSERT INTO sightings (canonical_url, feed_id) VALUES (:canonical_url, :feed_id) "
    "ON CONFLICT (canonical_url, feed_id) DO NOTHING"
)
_STALE = text(
    "UPDATE analyses SET stale = 1 "
    "WHERE entry_id IN (SELECT id FROM entries WHERE canonical_url = :url)"
)
"""An article whose text changed is analysed again (it keeps its story)."""
IN_CHUNK = 500
"""URLs per ``IN (…)`` list: well under SQLite's limit on bound parameters."""


class StoreBase:
    """The attributes :class:`~briefings.store.Store` sets when it opens the database,
    which each of its parts (the classes it is made of) uses."""

    url: str
    engine: Engine
