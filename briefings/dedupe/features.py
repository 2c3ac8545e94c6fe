"""What clustering works on: its knobs (:class:`Thresholds`), an article's
:class:`Features` and their TF-IDF :data:`Vector`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True, kw_only=True)
class Thresholds:
    """Knobs of clustering, tuned on the labelled corpus."""

    copy_jaccard: float = 0.5
    copy_window: timedelta = timedelta(days=4)
    event_window: timedelta = timedelta(hours=36)
    event_cosine: float = 0.15
    region_penalty: float = 0.1
    grace_hours: float = 6.0
    sequel_penalty: float = 0.1
    signature_terms: int = 100
    key_terms: int = 40
    shared_keys: int = 2
    """Candidates share at least this many of their strongest terms."""
    key_df_limit: int = 50
    key_df_share: float = 0.0005
    """A key term more than ``key_df_limit`` articles, and more than this share of all
    articles, carry is too common to make two articles candidates."""
    num_perm: int = 96


Vector = dict[str, float]
"""A unit TF-IDF vector, strongest term first."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Features:
    """What clustering needs of one article; computed once, when the article is stored."""

    id: str
    feed_id: str
    title: str
    published: datetime
    vector: Vector
    places: frozenset[str] = frozenset()
    """The article's region topics: look-alike events in different places stay apart."""
    signature: bytes = b""
    """MinHash of its word shingles, four bytes a value; empty when too short to compare."""
    keys: tuple[str, ...] = ()
    """Its strongest terms that are not too common: candidates share some of them."""
