"""Placing an article in its story (:func:`place`) among the articles already placed
(a :class:`Neighbourhood`; :class:`MemoryIndex` keeps one in memory); clustering a
batch (:func:`cluster`); :class:`UnionFind`."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Protocol

from ..model import Article
from .features import Features, Thresholds, Vector
from .signatures import band_keys, jaccard, minhash
from .vectors import (
    _terms,
    add_to,
    event_similarity,
    inverse_frequencies,
    key_terms,
    linkage,
    summed,
    term_counts,
    tfidf,
)


class Neighbourhood(Protocol):
    """The articles already placed in stories, as :func:`place` asks about them.

    :class:`MemoryIndex` keeps them in memory; the store keeps them in SQLite.
    """

    def copies(
        self, x: Features, bands: Sequence[bytes], since: datetime, until: datetime
    ) -> set[str]:
        """Ids of articles published in ``[since, until]`` sharing one of ``bands``."""

    def sharing(self, x: Features, thresholds: Thresholds) -> set[str]:
        """Ids of articles published within ``event_window`` of ``x`` with at least
        ``shared_keys`` of its keys among their own."""

    def features(self, ids: Iterable[str]) -> dict[str, Features]:
        """The features of placed articles."""

    def story_of(self, ids: Iterable[str]) -> dict[str, str]:
        """Article id → the id of its story."""

    def members(self, story: str) -> list[str]:
        """The ids of a story's articles."""

    def summed(self, story: str) -> Vector:
        """The sum of the vectors of a story's articles (not to be changed by the caller)."""

    def add(self, x: Features, bands: Sequence[bytes], story: str) -> None:
        """Place ``x`` in ``story`` (a new one when it is ``x.id``)."""

    def merge(self, into: str, other: str) -> None:
        """Move every article of story ``other`` into story ``into``."""


def cluster(
    articles: Sequence[Article],
    *,
    thresholds: Thresholds = Thresholds(),
    regions: Mapping[str, frozenset[str]] | None = None,
) -> list[list[Article]]:
    """Group articles that report the same story; each group in input order.

    The articles are placed one at a time in order of publication, as they would
    arrive (:func:`place`), with document frequencies counted over all of them.
    ``regions`` (article id → its region topics) keeps look-alike events in
    different places apart.
    """
    regions = regions or {}
    df: Counter[str] = Counter()
    for article in articles:  # two passes: every article's counts at once would take gigabytes
        df.update(set(_terms(f"{article.title} {article.text}")))
    idf = inverse_frequencies(df, len(articles))
    index = MemoryIndex()
    for n in sorted(range(len(articles)), key=lambda i: (articles[i].published, i)):
        article = articles[n]
        features = Features(
            id=article.id,
            feed_id=article.feed_id,
            title=article.title,
            published=article.published,
            vector=tfidf(term_counts(article.title, article.text), idf, thresholds.signature_terms),
            places=regions.get(article.id, frozenset()),
            signature=minhash(f"{article.title} {article.text}", thresholds.num_perm),
        )
        features = replace(features, keys=key_terms(features.vector, df, len(articles), thresholds))
        place(features, index, thresholds)
    order = {a.id: n for n, a in enumerate(articles)}
    groups = [sorted(index.members(s), key=order.__getitem__) for s in index.stories()]
    groups.sort(key=lambda g: order[g[0]])
    by_id = {a.id: a for a in articles}
    return [[by_id[i] for i in group] for group in groups]


def place(x: Features, hood: Neighbourhood, thresholds: Thresholds = Thresholds()) -> str:
    """Put ``x`` in the story it belongs to, or in a story of its own; return the story's id.

    * **copies**: an article whose MinHash shares an LSH band with ``x``, within
      ``copy_window``, and whose estimated Jaccard similarity reaches ``copy_jaccard``,
      is a copy: ``x`` joins its story, and the stories of several copies become one;
    * **same event**: otherwise the candidates are articles of other outlets within
      ``event_window`` that share at least ``shared_keys`` of ``x``'s strongest terms and
      are similar enough (:func:`event_similarity`); ``x`` joins the candidate story with
      the best *average* similarity over all its articles, when that clears
      ``event_cosine``, so one loose pair cannot chain unrelated stories together;
    * an outlet tells an event once: ``x`` never joins, by similarity, a story that
      already has an article of its outlet;
    * then each other candidate story joins ``x``'s story when the average over every
      pair of their articles clears the bar, and they share no outlet.
    """
    bands = band_keys(x.signature, thresholds)
    found = hood.copies(
        x, bands, x.published - thresholds.copy_window, x.published + thresholds.copy_window
    )
    near = hood.sharing(x, thresholds)
    known = hood.features((found | near) - {x.id})
    stories = hood.story_of(known)
    copy_of = {
        stories[i]
        for i in found
        if i in known and jaccard(x.signature, known[i].signature) >= thresholds.copy_jaccard
    }
    similar: dict[str, float] = {}

    def similarity(other: Features) -> float:
        if other.id not in similar:
            similar[other.id] = event_similarity(x, other, thresholds)
        return similar[other.id]

    events = {
        stories[i]
        for i in near
        if i in known
        and known[i].feed_id != x.feed_id
        and similarity(known[i]) >= thresholds.event_cosine
    }
    members = {s: hood.features(hood.members(s)) for s in copy_of | events}
    if copy_of:
        story, *others = sorted(copy_of, key=_story_order)
        for other in others:
            hood.merge(story, other)
            members[story] |= members.pop(other)
    else:
        averages = {
            s: linkage([x], x.vector, list(members[s].values()), hood.summed(s), thresholds)
            for s in events
            if all(m.feed_id != x.feed_id for m in members[s].values())
        }
        best = min(averages, key=lambda s: (-averages[s], _story_order(s)), default=None)
        if best is not None and averages[best] >= thresholds.event_cosine:
            story = best
        else:
            story, members[x.id] = x.id, {}
    hood.add(x, bands, story)
    joined = members[story] | {x.id: x}
    for other in sorted(events - {story}, key=_story_order):
        if other not in members:
            continue
        theirs = members[other]
        if {m.feed_id for m in joined.values()} & {m.feed_id for m in theirs.values()}:
            continue
        average = linkage(
            list(joined.values()),
            hood.summed(story),
            list(theirs.values()),
            hood.summed(other),
            thresholds,
        )
        if average >= thresholds.event_cosine:
            hood.merge(story, other)
            joined |= members.pop(other)
    return story


def _story_order(story: str) -> tuple[int, str]:
    """Oldest story first: ids are article ids, numeric in the store."""
    return (int(story), story) if story.isdigit() else (1 << 62, story)


class MemoryIndex:
    """A :class:`Neighbourhood` in memory, for one batch of articles placed in time order."""

    def __init__(self) -> None:
        self._features: dict[str, Features] = {}
        self._story: dict[str, str] = {}
        self._members: dict[str, list[str]] = {}
        self._sums: dict[str, Vector] = {}
        """Summed vectors of the stories asked about, kept up to date as they grow."""
        self._bands: defaultdict[bytes, list[str]] = defaultdict(list)
        self._postings: defaultdict[str, tuple[list[datetime], list[str]]] = defaultdict(
            lambda: ([], [])
        )

    def stories(self) -> list[str]:
        return list(self._members)

    def copies(
        self, x: Features, bands: Sequence[bytes], since: datetime, until: datetime
    ) -> set[str]:
        return {
            i
            for band in bands
            for i in self._bands.get(band, ())
            if since <= self._features[i].published <= until
        }

    def sharing(self, x: Features, thresholds: Thresholds) -> set[str]:
        since, until = x.published - thresholds.event_window, x.published + thresholds.event_window
        shared: Counter[str] = Counter()
        for key in x.keys:
            if key in self._postings:
                times, ids = self._postings[key]
                shared.update(ids[bisect_left(times, since) : bisect_right(times, until)])
        return {i for i, n in shared.items() if n >= thresholds.shared_keys}

    def features(self, ids: Iterable[str]) -> dict[str, Features]:
        return {i: self._features[i] for i in ids}

    def story_of(self, ids: Iterable[str]) -> dict[str, str]:
        return {i: self._story[i] for i in ids}

    def members(self, story: str) -> list[str]:
        return list(self._members.get(story, ()))

    def summed(self, story: str) -> Vector:
        found = self._sums.get(story)
        if found is None:
            members = self.members(story)
            if len(members) == 1:  # most stories: their article's own vector, not a copy
                return self._features[members[0]].vector
            found = self._sums[story] = summed(self.features(members).values())
        return found

    def add(self, x: Features, bands: Sequence[bytes], story: str) -> None:
        self._features[x.id] = x
        self._story[x.id] = story
        self._members.setdefault(story, []).append(x.id)
        if story in self._sums:
            add_to(self._sums[story], x.vector)
        for band in bands:
            self._bands[band].append(x.id)
        for key in x.keys:
            times, ids = self._postings[key]
            at = bisect_right(times, x.published)
            times.insert(at, x.published)
            ids.insert(at, x.id)

    def merge(self, into: str, other: str) -> None:
        moved = self._members.pop(other, [])
        for i in moved:
            self._story[i] = into
        if moved:
            self._members.setdefault(into, []).extend(moved)
        theirs = self._sums.pop(other, None)
        if theirs is not None and into in self._sums:
            add_to(self._sums[into], theirs)
        else:
            self._sums.pop(into, None)


class UnionFind:
    """Disjoint sets over ``0..n-1`` with path halving."""

    def __init__(self, size: int) -> None:
        self.parent = list(range(size))

    def find(self, item: int) -> int:
        while self.parent[item] != item:
            self.parent[item] = self.parent[self.parent[item]]
            item = self.parent[item]
        return item

    def union(self, a: int, b: int) -> None:
        root_a, root_b = self.find(a), self.find(b)
        if root_a != root_b:
            self.parent[max(root_a, root_b)] = min(root_a, root_b)
