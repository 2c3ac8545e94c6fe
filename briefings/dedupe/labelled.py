"""Labelled examples of stories: reading them (:func:`parse_labelled`) and scoring
predicted clusters against them (:func:`score_pairs`)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..model import Article
from ..text import parse_json_lines
from .urls import canonical_url


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
