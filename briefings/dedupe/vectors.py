"""Term counts, TF-IDF vectors and key terms; the event similarity of two articles
and the average linkage of two groups of them."""

from __future__ import annotations

import functools
import heapq
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence

from ..text import fold_words
from .features import Features, Thresholds, Vector

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


def _terms(text: str) -> list[str]:
    return [w for w in fold_words(text) if w not in _STOP and (len(w) > 2 or w.isdigit())]


def term_counts(title: str, text: str) -> Counter[str]:
    """The article's words for TF-IDF (title words count double)."""
    return Counter(_terms(f"{title} {title} {text}"))


def inverse_frequencies(df: Mapping[str, int], documents: int) -> Callable[[str], float]:
    """term → its inverse document frequency among ``documents``."""
    total = documents + 1
    return lambda term: math.log(total / (df.get(term, 0) + 0.5))


_DAMPED = [0.0, *(1 + math.log(n) for n in range(1, 64))]  # 1 + log(tf), looked up


def tfidf(counts: Mapping[str, int], idf: Callable[[str], float], keep: int) -> Vector:
    """A unit-length TF-IDF vector of the ``keep`` strongest terms, strongest first."""
    weights = [
        ((_DAMPED[n] if n < 64 else 1 + math.log(n)) * idf(term), term)
        for term, n in counts.items()
    ]
    top = heapq.nlargest(keep, weights)
    norm = math.sqrt(sum(w * w for w, _ in top)) or 1.0
    return {term: w / norm for w, term in top if w > 0}


def key_terms(
    vector: Vector, df: Mapping[str, int], documents: int, thresholds: Thresholds = Thresholds()
) -> tuple[str, ...]:
    """The ``key_terms`` strongest terms of ``vector`` that are not too common: a word in
    everything says nothing about sameness."""
    limit = max(thresholds.key_df_limit, thresholds.key_df_share * documents)
    return tuple(t for t in list(vector)[: thresholds.key_terms] if df.get(t, 0) <= limit)


def cosine(a: Vector, b: Vector) -> float:
    """Cosine similarity of two unit vectors (the dot product of their shared terms: ``fsum``
    adds them exactly, so the result never depends on the order a set lists them in)."""
    return math.fsum([a[t] * b[t] for t in a.keys() & b.keys()])


_SEQUEL = re.compile(r"\b(?:second|another|fresh|renewed|new round|again|latest)\b", re.I)


def event_similarity(a: Features, b: Features, thresholds: Thresholds) -> float:
    """Cosine of the two texts, less a penalty for disjoint regions, and one for a later
    article whose headline announces a sequel ("second", "another", "fresh")."""
    return cosine(a.vector, b.vector) - _penalty(a, b, thresholds)


def linkage(
    a: Sequence[Features],
    a_sum: Vector,
    b: Sequence[Features],
    b_sum: Vector,
    thresholds: Thresholds,
) -> float:
    """The average :func:`event_similarity` over every pair of an article of ``a`` and one
    of ``b``, given each group's :func:`summed` vector. Cosines of unit vectors add up, so
    their sum is the dot product of the two sums: one product instead of one per pair."""
    penalties = sum(_penalty(x, y, thresholds) for x in a for y in b)
    return (cosine(a_sum, b_sum) - penalties) / (len(a) * len(b))


def summed(group: Iterable[Features]) -> Vector:
    """The sum of the vectors of ``group``."""
    total: Vector = {}
    for member in group:
        add_to(total, member.vector)
    return total


def add_to(total: Vector, vector: Vector) -> None:
    """Add ``vector`` to ``total`` in place."""
    get = total.get
    for term, weight in vector.items():
        total[term] = get(term, 0.0) + weight


def _penalty(a: Features, b: Features, thresholds: Thresholds) -> float:
    penalty = 0.0
    if a.places and b.places and not a.places & b.places:
        penalty += thresholds.region_penalty
    hours = abs(a.published - b.published).total_seconds() / 3600
    later = b if b.published > a.published else a
    earlier = a if later is b else b
    if hours > thresholds.grace_hours and _sequel(later.title) and not _sequel(earlier.title):
        penalty += thresholds.sequel_penalty  # "Second tremor in two days rattles Istanbul"
    return penalty


@functools.lru_cache(maxsize=1 << 16)
def _sequel(title: str) -> bool:
    return _SEQUEL.search(title) is not None
