"""Per-article work done once, and stories kept up to date as articles arrive.

When an article is first analysed, the work that holds until its text changes is
kept beside it (table ``analyses``): its lead and summary, its topic matches, its
TF-IDF vector and MinHash signature. :func:`dedupe.place` then puts it in its
story, asking the store for its neighbours (:class:`StoreIndex`: LSH bands and key
terms indexed in SQLite), and each story it touched is made again and kept (table
``stories``). A build reads a window of kept stories and never clusters again.

* Document frequencies (table ``frequencies``) count every article analysed so
  far; an article's vector uses the frequencies known when it arrives.
* An article whose text changes (a new page, an edited entry) is analysed again
  and keeps its story.
* Everything is analysed again when the topics or the clustering rules change
  (their fingerprint is in ``meta``); a story is made again when the feeds' names
  or weights, or the topics' thresholds, change.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, text
from sqlalchemy.engine import Connection

from . import dedupe, extract, topics
from .config import Config
from .model import Article, Entry, Page, Source, Story, TopicMatch
from .store import IN_CHUNK, Store, analyses, frequencies, meta, stories, story_bands, story_keys

VERSION = "4"
"""Raise it when what an analysis holds, or how it is made, changes.
3: invisible characters inside a word are ignored (:func:`text.fold`); 4: a first name
the text mostly uses as one, then calls the person by the surname, is a person's."""
STORY_VERSION = "4"
"""Raise it when what a kept story holds changes: kept stories are then made again.
2: each source says whether it is a copy; 3: a headline term is decisive; 4: a match found
in another outlet's article names that outlet (``TopicMatch.source``)."""
CHUNK = 2_000
"""Articles analysed per transaction."""
PRUNE_EVERY = 86_400.0
"""Seconds between two prunings of the band and key index."""


def fingerprint(matcher: topics.Matcher, thresholds: dedupe.Thresholds) -> str:
    """What analyses depend on: the topics and the clustering rules."""
    spec = repr((VERSION, sorted(matcher.topics.items()), thresholds))
    return hashlib.sha256(spec.encode("utf-8")).hexdigest()[:16]


def made_with(config: Config, matcher: topics.Matcher) -> str:
    """What a kept story depends on besides its articles: its form (:data:`STORY_VERSION`),
    feed names and weights, and the topics' thresholds."""
    spec = repr(
        (
            VERSION,
            STORY_VERSION,
            sorted((f.id, f.name, f.weight) for f in config.feeds),
            sorted(matcher.thresholds().items()),
        )
    )
    return hashlib.sha256(spec.encode("utf-8")).hexdigest()[:16]


def analyse(
    store: Store,
    config: Config,
    matcher: topics.Matcher,
    *,
    since: datetime,
    processes: int = 1,
    worker_start: Callable[[], None] | None = None,
) -> int:
    """Analyse each article published since ``since`` that is new or changed, place it in
    its story, and keep the stories touched; return how many articles were analysed.

    With ``processes`` over 1 and at least :data:`POOL_FROM` articles, what each article
    yields on its own (:func:`examine`) is worked out in that many forked processes
    (``worker_start`` runs first in each), one chunk ahead of the placing, which is
    sequential. The caller must have no other thread running.
    """
    thresholds = dedupe.Thresholds()
    current = fingerprint(matcher, thresholds)
    with store.engine.begin() as conn:
        if _meta(conn, "analysis") != current:
            _reset(conn, current)
    todo = store.entries_to_analyse(since)
    made = made_with(config, matcher)
    chunks = [todo[start : start + CHUNK] for start in range(0, len(todo), CHUNK)]
    workers = processes if len(todo) >= POOL_FROM else 1
    with _Examiner(matcher, thresholds, workers, worker_start) as examiner:
        for examined in examiner.each(chunks):
            with store.engine.begin() as conn:
                touched = _place(conn, examined, thresholds)
                _remake(conn, touched, config, matcher, made)
    return len(todo)


@dataclass(frozen=True, slots=True)
class Examined:
    """What one article yields on its own, before it meets the others."""

    row_id: int
    story: int | None
    """The story it is in already (it is analysed again), or ``None``."""
    article: Article
    counts: Counter[str]
    matches: tuple[TopicMatch, ...]
    places: frozenset[str]
    signature: bytes


def examine(
    items: Sequence[tuple[int, Entry, Page | None, int | None]],
    matcher: topics.Matcher,
    thresholds: dedupe.Thresholds,
) -> list[Examined]:
    """Each stored entry's best article, its term counts, topic matches, region topics and
    MinHash signature."""
    limits = matcher.thresholds()
    done = []
    for row_id, entry, page, story in items:
        article = extract.best_article(entry, page, article_id=str(row_id))
        found = matcher.match(title=article.title, summary=article.summary, body=article.text)[0]
        done.append(
            Examined(
                row_id=row_id,
                story=story,
                article=article,
                counts=dedupe.term_counts(article.title, article.text),
                matches=found,
                places=frozenset(
                    topic
                    for topic, score in topics.scores(found).items()
                    if score >= limits[topic] and matcher.topics[topic].kind == "region"
                ),
                signature=dedupe.minhash(f"{article.title} {article.text}", thresholds.num_perm),
            )
        )
    return done


POOL_FROM = 500
"""Articles from which they are examined in worker processes: below, forking and sending
them costs more than it saves."""
_PARTS = 4
"""Tasks a chunk is cut into per worker process."""
_examining: tuple[topics.Matcher, dedupe.Thresholds] | None = None
"""In a worker process: what :func:`_examine_part` examines with."""


class _Examiner:
    """Examines chunks of articles, in forked worker processes when there are several."""

    def __init__(
        self,
        matcher: topics.Matcher,
        thresholds: dedupe.Thresholds,
        processes: int,
        worker_start: Callable[[], None] | None,
    ) -> None:
        self.matcher = matcher
        self.thresholds = thresholds
        self.processes = processes
        self.pool: ProcessPoolExecutor | None = None
        if processes > 1:
            dedupe.prepare(thresholds)  # datasketch imported once, here, not in each worker
            self.pool = ProcessPoolExecutor(
                processes,
                mp_context=multiprocessing.get_context("fork"),
                initializer=_start_worker,
                initargs=(worker_start, matcher, thresholds),
            )

    def submit(
        self, chunk: Sequence[tuple[int, Entry, Page | None, int | None]]
    ) -> Callable[[], list[Examined]]:
        """Start examining ``chunk``; the function returned waits for the result."""
        if self.pool is None:
            return lambda: examine(chunk, self.matcher, self.thresholds)
        size = max(1, -(-len(chunk) // (self.processes * _PARTS)))
        parts = [
            self.pool.submit(_examine_part, chunk[start : start + size])
            for start in range(0, len(chunk), size)
        ]
        return lambda: [x for part in parts for x in part.result()]

    def each(
        self, chunks: Sequence[Sequence[tuple[int, Entry, Page | None, int | None]]]
    ) -> Iterator[list[Examined]]:
        """Each chunk examined, in turn; the next one is under way while the caller works."""
        waiting = [self.submit(chunk) for chunk in chunks[:1]]
        for n in range(len(chunks)):
            result = waiting.pop()
            if n + 1 < len(chunks):
                waiting.append(self.submit(chunks[n + 1]))
            yield result()

    def __enter__(self) -> _Examiner:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)


def _start_worker(
    start: Callable[[], None] | None, matcher: topics.Matcher, thresholds: dedupe.Thresholds
) -> None:
    global _examining
    if start is not None:
        start()
    _examining = (matcher, thresholds)


def _examine_part(items: Sequence[tuple[int, Entry, Page | None, int | None]]) -> list[Examined]:
    assert _examining is not None, "not in a worker process"
    return examine(items, *_examining)


def stories_since(
    store: Store, config: Config, matcher: topics.Matcher, *, since: datetime
) -> list[Story]:
    """The kept stories with an article published since ``since``, without their matches
    (:func:`with_matches` adds them to the few an edition shows)."""
    made = made_with(config, matcher)
    moment = since.timestamp()
    with store.engine.begin() as conn:
        stale = conn.execute(
            select(stories.c.id).where(stories.c.published >= moment, stories.c.made != made)
        ).scalars()
        _remake(conn, {str(i) for i in stale}, config, matcher, made)
        rows = conn.execute(
            select(stories.c.story_id, stories.c.body)
            .where(stories.c.published >= moment)
            .order_by(stories.c.published, stories.c.id)
        ).all()
    return [_story(row.story_id, row.body) for row in rows]


def with_matches(store: Store, found: Sequence[Story]) -> list[Story]:
    """``found`` with each story's topic matches, read from the store."""
    ids = [s.id for s in found]
    matches: dict[str, str] = {}
    with store.engine.connect() as conn:
        for start in range(0, len(ids), IN_CHUNK):
            query = select(stories.c.story_id, stories.c.matches).where(
                stories.c.story_id.in_(ids[start : start + IN_CHUNK])
            )
            matches |= {row.story_id: row.matches for row in conn.execute(query)}
    return [
        story if story.id not in matches else _replace_matches(story, matches[story.id])
        for story in found
    ]


def frequencies_of(store: Store, terms: Iterable[str]) -> tuple[dict[str, int], int]:
    """The document frequencies of ``terms`` among the articles analysed so far, and how
    many those are."""
    wanted = list(terms)
    df: dict[str, int] = {}
    with store.engine.connect() as conn:
        for start in range(0, len(wanted), IN_CHUNK):
            query = select(frequencies.c.term, frequencies.c.df).where(
                frequencies.c.term.in_(wanted[start : start + IN_CHUNK])
            )
            df |= {row.term: row.df for row in conn.execute(query)}
        documents = int(_meta(conn, "documents") or 0)
    return df, documents


def prune(store: Store, *, before: datetime, now: datetime) -> bool:
    """Forget the band and key index of articles published before ``before``: no new
    article can be their copy or tell their event any more. Done at most once a day (it
    reads the whole index); whether it was done."""
    with store.engine.begin() as conn:
        last = _meta(conn, "pruned")
        if last is not None and now.timestamp() - float(last) < PRUNE_EVERY:
            return False
        moment = before.timestamp()
        conn.execute(delete(story_bands).where(story_bands.c.published < moment))
        conn.execute(delete(story_keys).where(story_keys.c.published < moment))
        _set_meta(conn, "pruned", str(now.timestamp()))
    return True


class StoreIndex:
    """The articles already placed, as :func:`dedupe.place` asks about them: those stored
    before in SQLite, those of this chunk in memory until :meth:`flush` writes them.

    Lives for one transaction; ``touched`` collects the stories to make again.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.touched: set[str] = set()
        self.rows: dict[str, dict[str, Any]] = {}
        """Article id → the rest of its analysis row, written when it is placed."""
        self._local = dedupe.MemoryIndex()
        self._bands: dict[str, Sequence[bytes]] = {}
        """Articles placed in this chunk (not yet in SQLite) → their band keys."""
        self._stored: dict[str, dedupe.Features] = {}
        self._members: dict[str, list[str]] = {}
        """Members of the stories asked about, kept up to date as they grow and merge."""
        self._sums: dict[str, dedupe.Vector] = {}
        """Their summed vectors, likewise."""

    def copies(
        self, x: dedupe.Features, bands: Sequence[bytes], since: datetime, until: datetime
    ) -> set[str]:
        if not bands:
            return set()
        found = _rows(self.conn, _COPIES, bands, since.timestamp(), until.timestamp())
        return {str(i) for (i,) in found} | self._local.copies(x, bands, since, until)

    def sharing(self, x: dedupe.Features, thresholds: dedupe.Thresholds) -> set[str]:
        if not x.keys:
            return set()
        window = thresholds.event_window
        found = _rows(
            self.conn,
            _SHARING,
            x.keys,
            (x.published - window).timestamp(),
            (x.published + window).timestamp(),
            thresholds.shared_keys,
        )
        return {str(i) for (i,) in found} | self._local.sharing(x, thresholds)

    def features(self, ids: Iterable[str]) -> dict[str, dedupe.Features]:
        wanted = list(ids)
        here = self._local.features(i for i in wanted if i in self._bands)
        missing = [int(i) for i in wanted if i not in self._bands and i not in self._stored]
        for start in range(0, len(missing), IN_CHUNK):
            found = _rows(self.conn, _FEATURES, missing[start : start + IN_CHUNK])
            for entry_id, feed_id, title, published, vector, places, signature in found:
                self._stored[str(entry_id)] = dedupe.Features(
                    id=str(entry_id),
                    feed_id=feed_id,
                    title=title,
                    published=datetime.fromtimestamp(published, UTC),
                    vector=dict(_unpack(vector)),
                    places=frozenset(p for p in places.split(",") if p),
                    signature=bytes(signature),
                )
        return here | {i: self._stored[i] for i in wanted if i in self._stored}

    def story_of(self, ids: Iterable[str]) -> dict[str, str]:
        wanted = list(ids)
        found = self._local.story_of(i for i in wanted if i in self._bands)
        stored = [int(i) for i in wanted if i not in self._bands]
        for start in range(0, len(stored), IN_CHUNK):
            part = stored[start : start + IN_CHUNK]
            found |= {str(i): str(story) for i, story in _rows(self.conn, _STORY_OF, part)}
        return found

    def members(self, story: str) -> list[str]:
        found = self._members.get(story)
        if found is None:
            query = select(analyses.c.entry_id).where(analyses.c.story == int(story))
            stored = [str(i) for i in self.conn.execute(query).scalars()]
            found = self._members[story] = stored + self._local.members(story)
        return list(found)

    def summed(self, story: str) -> dedupe.Vector:
        found = self._sums.get(story)
        if found is None:
            members = self.features(self.members(story))
            if len(members) == 1:  # its article's own vector, not a copy to keep up to date
                return next(iter(members.values())).vector
            found = self._sums[story] = dedupe.summed(members.values())
        return found

    def add(self, x: dedupe.Features, bands: Sequence[bytes], story: str) -> None:
        self._local.add(x, bands, story)
        self._bands[x.id] = bands
        self.touched.add(story)
        if story in self._members:
            self._members[story].append(x.id)
        if story in self._sums:
            dedupe.add_to(self._sums[story], x.vector)

    def merge(self, into: str, other: str) -> None:
        self.conn.execute(
            analyses.update().where(analyses.c.story == int(other)).values(story=int(into))
        )
        self._local.merge(into, other)
        self.touched |= {into, other}
        moved = self._members.pop(other, None)
        if moved is not None and into in self._members:
            self._members[into] += moved
        else:
            self._members.pop(into, None)
        theirs = self._sums.pop(other, None)
        if theirs is not None and into in self._sums:
            dedupe.add_to(self._sums[into], theirs)
        else:
            self._sums.pop(into, None)

    def refresh(self, x: dedupe.Features, bands: Sequence[bytes], story: str) -> None:
        """Keep the new analysis of an article already placed; it stays in ``story``."""
        self.conn.execute(
            analyses.update().where(analyses.c.entry_id == int(x.id)).values(**self._row(x))
        )
        self.conn.execute(delete(story_bands).where(story_bands.c.entry_id == int(x.id)))
        self.conn.execute(delete(story_keys).where(story_keys.c.entry_id == int(x.id)))
        self._index([(x, bands)])
        self._stored.pop(x.id, None)
        self._sums.pop(story, None)  # its vector changed
        self.touched.add(story)

    def flush(self) -> None:
        """Write the articles placed in this chunk, each with the story it ended in."""
        placed = self._local.features(self._bands)
        if not placed:
            return
        stories_of = self._local.story_of(placed)
        self.conn.execute(
            insert(analyses),
            [
                {**self._row(x), "entry_id": int(x.id), "story": int(stories_of[x.id])}
                for x in placed.values()
            ],
        )
        self._index([(x, self._bands[x.id]) for x in placed.values()])

    def _row(self, x: dedupe.Features) -> dict[str, Any]:
        return {
            **self.rows[x.id],
            "stale": False,
            "published": x.published.timestamp(),
            "feed_id": x.feed_id,
            "title": x.title,
            "places": ",".join(sorted(x.places)),
            "vector": _pack([[t, round(w, 5)] for t, w in x.vector.items()]),
            "signature": x.signature,
        }

    def _index(self, placed: Sequence[tuple[dedupe.Features, Sequence[bytes]]]) -> None:
        """Index the bands and keys of ``placed`` (up to 59 rows an article), written as plain
        tuples: a third of the time SQLAlchemy's per-row parameter processing takes."""
        bands = [(b, int(x.id), x.published.timestamp()) for x, found in placed for b in found]
        keys = [(k, int(x.id), x.published.timestamp()) for x, _ in placed for k in x.keys]
        if bands:
            self.conn.exec_driver_sql(_ADD_BAND, bands)
        if keys:
            self.conn.exec_driver_sql(_ADD_KEY, keys)


# The questions asked for every article placed, sent as they are: SQLAlchemy's statement
# compiler costs more than these small queries take in SQLite.
_COPIES = (
    "SELECT DISTINCT entry_id FROM story_bands WHERE band IN ({}) AND published BETWEEN ? AND ?"
)
_SHARING = (
    "SELECT entry_id FROM story_keys WHERE key IN ({}) AND published BETWEEN ? AND ? "
    "GROUP BY entry_id HAVING COUNT(*) >= ?"
)
_FEATURES = (
    "SELECT entry_id, feed_id, title, published, vector, places, signature FROM analyses "
    "WHERE entry_id IN ({})"
)
_STORY_OF = "SELECT entry_id, story FROM analyses WHERE entry_id IN ({})"
_ADD_BAND = "INSERT INTO story_bands (band, entry_id, published) VALUES (?, ?, ?)"
_ADD_KEY = "INSERT INTO story_keys (key, entry_id, published) VALUES (?, ?, ?)"
_COUNT = text(
    "INSERT INTO frequencies (term, df) VALUES (:term, :df) "
    "ON CONFLICT (term) DO UPDATE SET df = df + excluded.df"
)


def _rows(conn: Connection, sql: str, listed: Sequence[Any], *more: Any) -> list[Any]:
    """The rows of ``sql`` with its ``IN ({})`` list holding ``listed`` and its other
    placeholders ``more``."""
    statement = sql.format(", ".join("?" * len(listed)))
    return list(conn.exec_driver_sql(statement, (*listed, *more)))


def _place(
    conn: Connection,
    examined: Sequence[Examined],
    thresholds: dedupe.Thresholds,
) -> set[str]:
    """Place one chunk of examined articles, in order of publication; the stories touched."""
    new = [x.counts for x in examined if x.story is None]
    df, documents = _count_terms(conn, new, {t for x in examined for t in x.counts})
    idf = dedupe.inverse_frequencies(df, documents)
    index = StoreIndex(conn)
    for x in sorted(examined, key=lambda x: (x.article.published, x.row_id)):
        article = x.article
        vector = dedupe.tfidf(x.counts, idf, thresholds.signature_terms)
        features = dedupe.Features(
            id=article.id,
            feed_id=article.feed_id,
            title=article.title,
            published=article.published,
            vector=vector,
            places=x.places,
            signature=x.signature,
            keys=dedupe.key_terms(vector, df, documents, thresholds),
        )
        index.rows[article.id] = {
            "summary": article.summary,
            "author": article.author,
            "image": article.image,
            "text_source": article.text_source,
            "length": len(article.text),
            "matches": _pack([[m.topic, m.term, m.field, m.weight] for m in x.matches]),
        }
        if x.story is None:
            dedupe.place(features, index, thresholds)
        else:
            index.refresh(features, dedupe.band_keys(features.signature, thresholds), str(x.story))
    index.flush()
    return index.touched


def _count_terms(
    conn: Connection, new: Sequence[Counter[str]], wanted: set[str]
) -> tuple[dict[str, int], int]:
    """Count the terms of ``new`` articles; the document frequencies of ``wanted`` terms
    and the number of articles counted so far."""
    counted: Counter[str] = Counter()
    for found in new:
        counted.update(found.keys())
    if counted:
        conn.execute(_COUNT, [{"term": t, "df": n} for t, n in counted.items()])
    documents = int(_meta(conn, "documents") or 0) + len(new)
    _set_meta(conn, "documents", str(documents))
    terms = list(wanted)
    df: dict[str, int] = {}
    for start in range(0, len(terms), IN_CHUNK):
        query = select(frequencies.c.term, frequencies.c.df).where(
            frequencies.c.term.in_(terms[start : start + IN_CHUNK])
        )
        df |= {row.term: row.df for row in conn.execute(query)}
    return df, documents


def _remake(
    conn: Connection, touched: set[str], config: Config, matcher: topics.Matcher, made: str
) -> None:
    """Make the ``touched`` stories again from their articles' analyses."""
    if not touched:
        return
    ids = sorted(int(s) for s in touched)
    members: defaultdict[int, list[Any]] = defaultdict(list)
    for start in range(0, len(ids), IN_CHUNK):
        part = ids[start : start + IN_CHUNK]
        conn.execute(delete(stories).where(stories.c.id.in_(part)))
        query = text(
            "SELECT a.entry_id, a.story, a.published, a.feed_id, a.title, a.summary, a.author, "
            "a.image, a.text_source, a.length, a.signature, a.matches, e.url, e.canonical_url "
            "FROM analyses a JOIN entries e ON e.id = a.entry_id WHERE a.story IN :ids"
        ).bindparams(bindparam("ids", expanding=True))
        for row in conn.execute(query, {"ids": part}):
            members[row.story].append(row)
    weights = {f.id: f.weight for f in config.feeds}
    names = {f.id: f.name for f in config.feeds}
    limits = matcher.thresholds()
    made_rows = []
    for story_key, rows in members.items():
        story = _make(rows, weights, names, limits, matcher.decisive)
        made_rows.append(
            {
                "id": story_key,
                "story_id": story.id,
                "published": story.published.timestamp(),
                "made": made,
                "body": _story_json(story),
                "matches": json.dumps(
                    [
                        [m.topic, m.term, m.field, m.weight, *([m.source] if m.source else [])]
                        for m in story.matches
                    ]
                ),
            }
        )
    if made_rows:
        conn.execute(insert(stories), made_rows)


def _make(
    rows: Sequence[Any],
    weights: dict[str, float],
    names: dict[str, str],
    limits: dict[str, float],
    decisive: Callable[[TopicMatch], bool],
) -> Story:
    """One story from its articles' analysis rows."""
    by_id = {str(row.entry_id): row for row in rows}
    return dedupe.make_story(
        [_article(row) for row in rows],
        weights=weights,
        feed_names=names,
        matches_of=lambda a: _matches(by_id[a.id].matches),
        thresholds=limits,
        decisive=decisive,
        signature_of=lambda a: by_id[a.id].signature,
        length_of=lambda a: by_id[a.id].length,
    )


def _article(row: Any) -> Article:
    return Article(
        id=str(row.entry_id),
        feed_id=row.feed_id,
        url=row.url,
        canonical_url=row.canonical_url,
        title=row.title,
        summary=row.summary,
        text="",
        author=row.author,
        published=datetime.fromtimestamp(row.published, UTC),
        text_source=row.text_source,
        image=row.image,
    )


def _matches(raw: str | bytes) -> tuple[TopicMatch, ...]:
    found = _unpack(raw) if isinstance(raw, bytes) else json.loads(raw)
    # [topic, term, field, weight], and in a story the outlet when it is not the lead's
    return tuple(
        TopicMatch(topic=topic, term=term, field=field, weight=weight, source=source)
        for topic, term, field, weight, source in (
            row if len(row) == 5 else [*row, ""] for row in found
        )
    )


def _pack(value: Any) -> bytes:
    """Compact JSON, deflated: an article's vector and matches take a third of the room."""
    return zlib.compress(json.dumps(value, separators=(",", ":")).encode("utf-8"), 1)


def _unpack(raw: bytes) -> Any:
    return json.loads(zlib.decompress(raw))


def _story_json(story: Story) -> str:
    return json.dumps(
        [
            story.title,
            story.url,
            story.summary,
            story.published.timestamp(),
            story.topics,
            story.scores,
            [[s.feed, s.title, s.url, s.copy] for s in story.sources],
            story.member_urls,
            story.image,
            story.partial,
        ],
        ensure_ascii=False,
    )


def _story(story_id: str, body: str) -> Story:
    title, url, summary, published, found, scores, sources, urls, image, partial = json.loads(body)
    return Story(
        id=story_id,
        title=title,
        url=url,
        summary=summary,
        published=datetime.fromtimestamp(published, UTC),
        topics=tuple(found),
        scores=tuple((topic, score) for topic, score in scores),
        matches=(),
        sources=tuple(Source(feed=f, title=t, url=u, copy=c) for f, t, u, c in sources),
        member_urls=tuple(urls),
        image=image,
        partial=partial,
    )


def _replace_matches(story: Story, raw: str) -> Story:
    return replace(story, matches=_matches(raw))


def _meta(conn: Connection, key: str) -> str | None:
    found = conn.execute(select(meta.c.value).where(meta.c.key == key)).scalar()
    return None if found is None else str(found)


def _set_meta(conn: Connection, key: str, value: str) -> None:
    conn.execute(meta.delete().where(meta.c.key == key))
    conn.execute(insert(meta).values(key=key, value=value))


def _reset(conn: Connection, current: str) -> None:
    """Forget every analysis and kept story: the topics or the rules changed."""
    for table in (analyses, story_bands, story_keys, frequencies, stories):
        conn.execute(delete(table))
    _set_meta(conn, "documents", "0")
    _set_meta(conn, "analysis", current)
