"""Pure deduplication: canonical URLs, copies and same-event clusters.

Two levels of sameness join articles into one :class:`Story`:

* **copies** — the same text syndicated with light edits: MinHash LSH
  (datasketch) over word shingles finds them in near-linear time;
* **same event** — different words from different outlets within
  ``event_window``: candidates share a distinctive name in their titles or
  leads, and are joined when their titles and leads are similar enough.

Clusters are the connected components of those links (union-find).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from datasketch import MinHash, MinHashLSH
from rapidfuzz import fuzz

from .model import Article, Source, Story, TopicMatch

TRACKING_PARAMS = frozenset({
    "fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid", "yclid", "_ga",
    "ref_src", "cmpid", "ncid", "ito", "smid", "sr_share", "at_medium", "at_campaign",
})
_WORDS = re.compile(r"[^\W_]+")
_NAME = re.compile(r"\b[A-ZÀ-ÖØ-ÞĀ-ſƏ][\w'’-]*[\w]")
_STOP = frozenset("""a an and are as at be by for from has have in into is it its of on or
that the this to was were will with after over amid says said new""".split())


@dataclass(frozen=True, slots=True, kw_only=True)
class Thresholds:
    """Knobs of clustering, tuned on the labelled corpus."""

    copy_jaccard: float = 0.5
    copy_window: timedelta = timedelta(days=4)
    event_window: timedelta = timedelta(hours=36)
    event_title: float = 55.0
    event_lead: float = 45.0
    event_names: float = 0.3
    name_df_limit: int = 40
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
    if port is not None and not (scheme, port) in (("http", 80), ("https", 443)):
        host = f"{host}:{port}"
    if parts.username or parts.password:
        host = f"{parts.username or ''}{':' + parts.password if parts.password else ''}@{host}"
    query = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                   if not k.lower().startswith("utm_") and k.lower() not in TRACKING_PARAMS)
    return urlunsplit((scheme, host, parts.path or "/", urlencode(query), ""))


def cluster(articles: Sequence[Article], *, thresholds: Thresholds = Thresholds()
            ) -> list[list[Article]]:
    """Group articles that report the same story; each group in input order."""
    links = UnionFind(len(articles))
    for a, b in copy_pairs(articles, thresholds):
        links.union(a, b)
    for a, b in event_pairs(articles, thresholds):
        links.union(a, b)
    groups: defaultdict[int, list[int]] = defaultdict(list)
    for index in range(len(articles)):
        groups[links.find(index)].append(index)
    return [[articles[i] for i in members] for members in groups.values()]


def copy_pairs(articles: Sequence[Article], thresholds: Thresholds) -> list[tuple[int, int]]:
    """Pairs of near-identical texts (syndicated copies) close in time."""
    lsh = MinHashLSH(threshold=thresholds.copy_jaccard, num_perm=thresholds.num_perm)
    hashes: list[MinHash | None] = []
    pairs = []
    for index, article in enumerate(articles):
        shingles = _shingles(f"{article.title} {article.text}")
        if len(shingles) < 8:
            hashes.append(None)
            continue
        minhash = MinHash(num_perm=thresholds.num_perm)
        minhash.update_batch(shingles)
        for other in lsh.query(minhash):
            j = int(other)
            close = abs(articles[j].published - article.published) <= thresholds.copy_window
            other_hash = hashes[j]
            if close and other_hash is not None and (
                    minhash.jaccard(other_hash) >= thresholds.copy_jaccard):
                pairs.append((j, index))
        lsh.insert(str(index), minhash)
        hashes.append(minhash)
    return pairs


def event_pairs(articles: Sequence[Article], thresholds: Thresholds) -> list[tuple[int, int]]:
    """Pairs that tell the same event in different words within the event window."""
    names = [_names(a) for a in articles]
    by_name: defaultdict[str, list[int]] = defaultdict(list)
    for index, found in enumerate(names):
        for name in found:
            by_name[name].append(index)
    candidates: set[tuple[int, int]] = set()
    for members in by_name.values():
        if len(members) > thresholds.name_df_limit:
            continue  # a name in everything (a country) says nothing about sameness
        for x, i in enumerate(members):
            for j in members[x + 1:]:
                candidates.add((i, j))
    titles = [_content_words(a.title) for a in articles]
    leads = [_content_words(_lead(a)) for a in articles]
    pairs = []
    for i, j in sorted(candidates):
        a, b = articles[i], articles[j]
        if a.feed_id == b.feed_id or abs(a.published - b.published) > thresholds.event_window:
            continue
        shared = len(names[i] & names[j]) / max(1, min(len(names[i]), len(names[j])))
        if shared < thresholds.event_names:
            continue
        title = fuzz.token_set_ratio(titles[i], titles[j])
        lead = fuzz.token_set_ratio(leads[i], leads[j])
        if title >= thresholds.event_title or lead >= thresholds.event_lead + 20 or (
                title >= thresholds.event_title - 15 and lead >= thresholds.event_lead):
            pairs.append((i, j))
    return pairs


def make_story(members: Sequence[Article], *, weights: Mapping[str, float],
               feed_names: Mapping[str, str],
               matches_of: Callable[[Article], tuple[TopicMatch, ...]],
               min_score: float) -> Story:
    """One story from a cluster: the most complete original leads, the rest are sources."""
    originals = _originals(members)
    lead = max(members, key=lambda a: (
        a.id in originals, weights.get(a.feed_id, 1.0), len(a.text), -a.published.timestamp()))
    ordered = sorted(members, key=lambda a: (
        a is not lead, -weights.get(a.feed_id, 1.0), a.published, a.url))
    sources: list[Source] = []
    seen: set[str] = set()
    for article in ordered:
        if article.canonical_url not in seen:
            seen.add(article.canonical_url)
            sources.append(Source(feed=feed_names.get(article.feed_id, article.feed_id),
                                  title=article.title, url=article.url))
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
        id=story_id(lead.canonical_url), title=lead.title, url=lead.url, summary=lead.summary,
        published=max(a.published for a in members),
        topics=tuple(t for t, s in ranked if s >= min_score),
        scores=tuple(ranked), matches=tuple(m for t, _ in ranked for m in matches[t]),
        sources=tuple(sources), member_urls=tuple(sorted({a.canonical_url for a in members})),
        image=lead.image)


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
            for other in members if other is not article)
        if not copied:
            originals.add(article.id)
    return originals


def _shingles(text: str, size: int = 3) -> set[bytes]:
    words = [w.casefold() for w in _WORDS.findall(text)]
    return {" ".join(words[i:i + size]).encode("utf-8")
            for i in range(max(0, len(words) - size + 1))}


def _lead(article: Article) -> str:
    text = article.summary or article.text
    return " ".join(text.split()[:60])


def _content_words(text: str) -> str:
    return " ".join(w for w in (w.casefold() for w in _WORDS.findall(text)) if w not in _STOP)


def _names(article: Article) -> frozenset[str]:
    """Capitalised words of the title and lead: the people and places a story is about."""
    text = f"{article.title} {_lead(article)}"
    return frozenset(
        _bare(m.group(0)).replace("’", "'").split("'")[0] for m in _NAME.finditer(text)
        if m.group(0).casefold() not in _STOP)


def _bare(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.replace("ı", "i").replace("ə", "e"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
