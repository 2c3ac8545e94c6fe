"""Pure deduplication: canonical URLs, copies and same-event clusters.

Two levels of sameness join articles into one :class:`Story`:

* **copies**: the same text syndicated with light edits. MinHash LSH
  (datasketch) over word shingles finds them in near-linear time, and they are
  always joined;
* **same event**: different words from different outlets within
  ``event_window``. Articles become TF-IDF vectors of their title and text, so
  the rare words an event is told with (a crossing's name, a figure, a city)
  weigh most; candidates share one of their strongest words, and two clusters
  join only when their *average* similarity clears the bar, so one loose pair
  cannot chain unrelated stories together.
"""

from __future__ import annotations

import hashlib
import heapq
import math
import re
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .model import Article, Source, Story, TopicMatch
from .text import fold_words, parse_json_lines

if TYPE_CHECKING:
    from datasketch import LeanMinHash

TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "msclkid",
        "mc_cid",
        "mc_eid",
        "igshid",
        "yclid",
        "_ga",
        "ref_src",
        "cmpid",
        "ncid",
        "ito",
        "smid",
        "sr_share",
        "at_medium",
        "at_campaign",
    }
)
_SEQUEL = re.compile(r"\b(?:second|another|fresh|renewed|new round|again|latest)\b", re.I)
_STOP = frozenset(
    [
        "a",
        "about",
        "after",
        "against",
        "all",
        "also",
        "amid",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "been",
        "before",
        "being",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "during",
        "each",
        "for",
        "from",
        "had",
        "has",
        "have",
        "he",
        "her",
        "his",
        "how",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "last",
        "more",
        "most",
        "new",
        "no",
        "not",
        "of",
        "on",
        "one",
        "or",
        "other",
        "our",
        "out",
        "over",
        "said",
        "says",
        "she",
        "since",
        "so",
        "some",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "two",
        "under",
        "until",
        "up",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "will",
        "with",
        "would",
        "year",
        "years",
    ]
)


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
    num_perm: int = 96


def canonical_url(url: str) -> str:
    """One spelling per article: lowercase scheme and host, no default port,
    no fragment, no tracking parameters, remaining parameters sorted."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return url.strip()
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        return url.strip()  # no host, no web link: kept as it is, so that it settles
    if port is not None and (scheme, port) not in (("http", 80), ("https", 443)):
        host = f"{host}:{port}"
    if parts.username or parts.password:
        host = f"{parts.username or ''}{':' + parts.password if parts.password else ''}@{host}"
    query = sorted(
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith("utm_") and k.lower() not in TRACKING_PARAMS
    )
    return urlunsplit((scheme, host, parts.path or "/", urlencode(query), ""))


def cluster(
    articles: Sequence[Article],
    *,
    thresholds: Thresholds = Thresholds(),
    regions: Mapping[str, frozenset[str]] | None = None,
) -> list[list[Article]]:
    """Group articles that report the same story; each group in input order.

    ``regions`` (article id → its region topics) helps keep apart look-alike
    events in different places: two central banks' rate decisions on one day
    are not one story, so articles whose regions are disjoint need more
    similarity. An outlet tells one event once: two of its articles (other
    than copies) never join one story.
    """
    regions = regions or {}
    links = UnionFind(len(articles))
    for a, b in copy_pairs(articles, thresholds):
        links.union(a, b)
    vectors = tfidf_vectors(articles, thresholds.signature_terms)
    places = [regions.get(a.id, frozenset()) for a in articles]

    def similarity(i: int, j: int) -> float:
        return event_similarity(
            articles[i], articles[j], vectors[i], vectors[j], places[i], places[j], thresholds
        )

    members: dict[int, list[int]] = defaultdict(list)
    for index in range(len(articles)):
        members[links.find(index)].append(index)
    for _, a, b in event_pairs(articles, similarity, vectors, thresholds):
        root_a, root_b = links.find(a), links.find(b)
        if root_a == root_b:
            continue
        group_a, group_b = members[root_a], members[root_b]
        if {articles[i].feed_id for i in group_a} & {articles[j].feed_id for j in group_b}:
            continue  # an outlet tells an event once; its second article is another story
        average = sum(similarity(i, j) for i in group_a for j in group_b) / (
            len(group_a) * len(group_b)
        )
        if average >= thresholds.event_cosine:
            links.union(root_a, root_b)
            root = links.find(root_a)
            merged = members.pop(root_a) + members.pop(root_b)
            members[root] = merged
    groups: defaultdict[int, list[int]] = defaultdict(list)
    for index in range(len(articles)):
        groups[links.find(index)].append(index)
    return [[articles[i] for i in group] for group in groups.values()]


def event_similarity(
    a: Article,
    b: Article,
    vector_a: Vector,
    vector_b: Vector,
    places_a: frozenset[str],
    places_b: frozenset[str],
    thresholds: Thresholds,
) -> float:
    """Cosine of the two texts, less a penalty for disjoint regions, and one for a later
    article whose headline announces a sequel ("second", "another", "fresh")."""
    score = cosine(vector_a, vector_b)
    if places_a and places_b and not places_a & places_b:
        score -= thresholds.region_penalty
    hours = abs(a.published - b.published).total_seconds() / 3600
    later = b if b.published > a.published else a
    earlier = a if later is b else b
    if (
        hours > thresholds.grace_hours
        and _SEQUEL.search(later.title)
        and not _SEQUEL.search(earlier.title)
    ):
        score -= thresholds.sequel_penalty  # "Second tremor in two days rattles Istanbul"
    return score


def copy_pairs(articles: Sequence[Article], thresholds: Thresholds) -> list[tuple[int, int]]:
    """Pairs of near-identical texts (syndicated copies) close in time.

    Articles go through in time order and leave the LSH index once they are older than
    the copy window, so the index, and each query, stays the size of one window.
    """
    # imported here: datasketch pulls in scipy (about 1 s), which `fetch` never needs
    from datasketch import LeanMinHash, MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=thresholds.copy_jaccard, num_perm=thresholds.num_perm)
    template = MinHash(num_perm=thresholds.num_perm, hashfunc=_hash32)
    hashes: dict[int, LeanMinHash] = {}
    window: deque[int] = deque()
    pairs = []
    for index in sorted(range(len(articles)), key=lambda i: articles[i].published):
        article = articles[index]
        while window and article.published - articles[window[0]].published > (
            thresholds.copy_window
        ):
            old = window.popleft()
            lsh.remove(str(old))
            del hashes[old]
        shingles = _shingles(f"{article.title} {article.text}")
        if len(shingles) < 8:
            continue
        # one set of permutations for all: building them is most of a MinHash's cost
        minhash = MinHash(
            num_perm=thresholds.num_perm,
            hashfunc=_hash32,
            permutations=template.permutations,
            scheme=template.scheme,
        )
        minhash.update_batch(shingles)
        lean = LeanMinHash(minhash)
        for other in lsh.query(lean):
            j = int(other)
            if lean.jaccard(hashes[j]) >= thresholds.copy_jaccard:
                pairs.append((j, index))
        lsh.insert(str(index), lean)
        hashes[index] = lean
        window.append(index)
    return pairs


def _hash32(shingle: str) -> int:
    # Python's own string hash: C speed, and stable within one run, which is all MinHash needs.
    return hash(shingle) & 0xFFFFFFFF


Vector = dict[str, float]


def tfidf_vectors(articles: Sequence[Article], keep: int) -> list[Vector]:
    """One unit-length TF-IDF vector per article (title words count double), ``keep`` terms.

    Two passes over the texts instead of holding every article's word counts: at 100,000
    articles those counts would take gigabytes. Terms are shared string objects.
    """
    df: Counter[str] = Counter()
    for article in articles:
        df.update(set(_terms(f"{article.title} {article.text}")))
    total = len(articles) + 1
    idf = {term: (term, math.log(total / (n + 0.5))) for term, n in df.items()}
    del df
    damped = [0.0, *(1 + math.log(n) for n in range(1, 64))]  # 1 + log(tf), looked up
    vectors = []
    for article in articles:
        count = Counter(_terms(f"{article.title} {article.title} {article.text}"))
        weights = []
        for word, n in count.items():
            term, weight = idf[word]
            weights.append(((damped[n] if n < 64 else 1 + math.log(n)) * weight, term))
        top = heapq.nlargest(keep, weights)
        norm = math.sqrt(sum(w * w for w, _ in top)) or 1.0
        vectors.append({term: w / norm for w, term in top if w > 0})
    return vectors


def cosine(a: Vector, b: Vector) -> float:
    """Cosine similarity of two unit vectors."""
    if len(b) < len(a):
        a, b = b, a
    return sum(w * b.get(t, 0.0) for t, w in a.items())


def event_pairs(
    articles: Sequence[Article],
    similarity: Callable[[int, int], float],
    vectors: Sequence[Vector],
    thresholds: Thresholds,
) -> list[tuple[float, int, int]]:
    """Candidate same-event pairs from different outlets, most similar first."""
    postings: defaultdict[str, list[int]] = defaultdict(list)
    for index, vector in enumerate(vectors):
        for term in list(vector)[: thresholds.key_terms]:
            postings[term].append(index)
    shared: Counter[tuple[int, int]] = Counter()
    for members in postings.values():
        if len(members) > thresholds.key_df_limit:
            continue  # a word in everything says nothing about sameness
        for x, i in enumerate(members):
            for j in members[x + 1 :]:
                shared[(i, j) if i < j else (j, i)] += 1
    candidates = [pair for pair, count in shared.items() if count >= thresholds.shared_keys]
    pairs = []
    for i, j in candidates:
        a, b = articles[i], articles[j]
        if a.feed_id == b.feed_id or abs(a.published - b.published) > thresholds.event_window:
            continue
        score = similarity(i, j)
        if score >= thresholds.event_cosine:
            pairs.append((score, i, j))
    pairs.sort(key=lambda p: (-p[0], p[1], p[2]))
    return pairs


def make_story(
    members: Sequence[Article],
    *,
    weights: Mapping[str, float],
    feed_names: Mapping[str, str],
    matches_of: Callable[[Article], tuple[TopicMatch, ...]],
    thresholds: Mapping[str, float],
) -> Story:
    """One story from a cluster: the most complete original leads, the rest are sources.

    Links are canonical URLs: readers get no tracking parameters.
    """
    originals = _originals(members)
    lead = max(
        members,
        key=lambda a: (
            a.id in originals,
            weights.get(a.feed_id, 1.0),
            len(a.text),
            -a.published.timestamp(),
        ),
    )
    ordered = sorted(
        members, key=lambda a: (a is not lead, -weights.get(a.feed_id, 1.0), a.published, a.url)
    )
    sources: list[Source] = []
    seen: set[str] = set()
    for article in ordered:
        if article.canonical_url not in seen:
            seen.add(article.canonical_url)
            sources.append(
                Source(
                    feed=feed_names.get(article.feed_id, article.feed_id),
                    title=article.title,
                    url=article.canonical_url,
                )
            )
    best: dict[str, float] = {}
    matches: dict[str, tuple[TopicMatch, ...]] = {}
    for article in members:
        found = matches_of(article)
        totals: defaultdict[str, float] = defaultdict(float)
        for match in found:
            totals[match.topic] += match.weight
        for topic, score in totals.items():
            if score > best.get(topic, 0.0) or (article is lead and score >= best.get(topic, 0.0)):
                best[topic] = score
                matches[topic] = tuple(m for m in found if m.topic == topic)
    ranked = sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))
    return Story(
        id=story_id(lead.canonical_url),
        title=lead.title,
        url=lead.canonical_url,
        summary=lead.summary,
        published=max(a.published for a in members),
        topics=tuple(t for t, s in ranked if s >= thresholds.get(t, 2.0)),
        scores=tuple(ranked),
        matches=tuple(m for t, _ in ranked for m in matches[t]),
        sources=tuple(sources),
        member_urls=tuple(sorted({a.canonical_url for a in members})),
        image=lead.image,
        partial=lead.text_source == "partial",
    )


def story_id(url: str) -> str:
    """A short, stable id derived from the lead article's canonical URL."""
    return hashlib.sha1(url.encode("utf-8"), usedforsecurity=False).hexdigest()[:12]


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


def _originals(members: Sequence[Article]) -> set[str]:
    """Ids of members that are not a later copy of another member's text."""
    if len(members) < 2:
        return {a.id for a in members}
    shingles = {a.id: _shingles(f"{a.title} {a.text}") for a in members}
    originals = set()
    for article in members:
        mine = shingles[article.id]
        copied = any(
            other.published < article.published
            and len(mine & shingles[other.id]) / max(1, len(mine | shingles[other.id])) >= 0.5
            for other in members
            if other is not article
        )
        if not copied:
            originals.add(article.id)
    return originals


def _shingles(text: str, size: int = 3) -> set[str]:
    words = fold_words(text)
    return {" ".join(words[i : i + size]) for i in range(max(0, len(words) - size + 1))}


def _terms(text: str) -> list[str]:
    return [w for w in fold_words(text) if w not in _STOP and (len(w) > 2 or w.isdigit())]


@dataclass(frozen=True, slots=True, kw_only=True)
class PairScore:
    """Pairwise agreement of predicted clusters with labelled ones."""

    true_pairs: int
    false_pairs: int
    missed_pairs: int
    wrong_merges: tuple[tuple[Article, ...], ...]
    """Predicted clusters that join articles of different labelled clusters."""
    splits: tuple[tuple[Article, ...], ...]
    """Labelled clusters whose articles ended in different predicted clusters."""

    @property
    def precision(self) -> float:
        total = self.true_pairs + self.false_pairs
        return self.true_pairs / total if total else 1.0

    @property
    def recall(self) -> float:
        total = self.true_pairs + self.missed_pairs
        return self.true_pairs / total if total else 1.0


def score_pairs(groups: Sequence[Sequence[Article]], labels: Mapping[str, str]) -> PairScore:
    """Compare predicted ``groups`` with ``labels`` (article id → labelled cluster)."""
    predicted = {a.id: n for n, group in enumerate(groups) for a in group}
    by_label: defaultdict[str, list[Article]] = defaultdict(list)
    for group in groups:
        for article in group:
            by_label[labels[article.id]].append(article)
    true_pairs = false_pairs = 0
    for group in groups:
        counts = Counter(labels[a.id] for a in group)
        same = sum(n * (n - 1) // 2 for n in counts.values())
        true_pairs += same
        false_pairs += len(group) * (len(group) - 1) // 2 - same
    labelled_pairs = sum(len(m) * (len(m) - 1) // 2 for m in by_label.values())
    return PairScore(
        true_pairs=true_pairs,
        false_pairs=false_pairs,
        missed_pairs=labelled_pairs - true_pairs,
        wrong_merges=tuple(tuple(g) for g in groups if len({labels[a.id] for a in g}) > 1),
        splits=tuple(tuple(m) for m in by_label.values() if len({predicted[a.id] for a in m}) > 1),
    )


def parse_labelled(
    lines: Iterable[str], filename: str
) -> tuple[list[Article], dict[str, str], list[str]]:
    """JSON Lines of labelled items → articles, their cluster labels, one problem per bad line.

    Each line: ``{"id", "cluster", "feed", "published", "title", "summary", "body"}``.
    """
    labels: dict[str, str] = {}

    def article(raw: dict[str, Any]) -> Article:
        missing = [k for k in ("id", "cluster", "feed", "published", "title") if k not in raw]
        if missing:
            raise ValueError(f"missing {', '.join(missing)}")
        published = datetime.fromisoformat(str(raw["published"]))
        if published.tzinfo is None:
            raise ValueError("'published' needs a UTC offset")
        item_id = str(raw["id"])
        if item_id in labels:
            raise ValueError(f"duplicate id {item_id!r}")
        labels[item_id] = str(raw["cluster"])
        url = str(raw.get("url") or f"https://{raw['feed']}.example/{item_id}")
        return Article(
            id=item_id,
            feed_id=str(raw["feed"]),
            url=url,
            canonical_url=canonical_url(url),
            title=str(raw["title"]),
            summary=str(raw.get("summary", "")),
            text=str(raw.get("body") or raw.get("summary", "")),
            author="",
            published=published.astimezone(UTC),
            text_source="feed",
        )

    articles, problems = parse_json_lines(lines, filename, article)
    return articles, labels, problems
