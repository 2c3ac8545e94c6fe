"""Pairwise precision and recall floors of clustering on our labelled set (tests/data/stories)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from briefings import dedupe, pipeline

LABELLED = sorted((Path(__file__).parent / "data" / "stories").glob("*.jsonl"))


@pytest.fixture(scope="module")
def labelled() -> tuple[list[dedupe.Article], dict[str, str], list[dict[str, str]]]:
    lines = [line for path in LABELLED for line in path.read_text(encoding="utf-8").splitlines()]
    articles, labels, problems = dedupe.parse_labelled(lines, "stories")
    assert problems == []
    return articles, labels, [json.loads(line) for line in lines if line.strip()]


def test_the_set_has_what_the_issue_asks(
    labelled: tuple[list[dedupe.Article], dict[str, str], list[dict[str, str]]],
) -> None:
    _, labels, raw = labelled
    sizes = Counter(labels.values())
    multi = [c for c, n in sizes.items() if n >= 2]
    assert len(multi) >= 60
    assert all(2 <= sizes[c] <= 5 for c in multi)
    kinds = Counter(item["kind"] for item in raw)
    assert kinds["singleton"] >= 60
    assert kinds["hard-negative"] >= 30


def test_pairwise_floors(
    labelled: tuple[list[dedupe.Article], dict[str, str], list[dict[str, str]]],
) -> None:
    articles, labels, _ = labelled
    groups, _ = pipeline.cluster_articles(articles, pipeline.topic_matcher(None))
    result = dedupe.score_pairs(groups, labels)
    merges = [[labels[a.id] for a in g] for g in result.wrong_merges]
    splits = [[labels[a.id] for a in g][:1] for g in result.splits]
    assert result.precision >= 0.97, merges
    assert result.recall >= 0.92, splits


def test_hard_negatives_stay_apart(
    labelled: tuple[list[dedupe.Article], dict[str, str], list[dict[str, str]]],
) -> None:
    articles, _, raw = labelled
    hard = {item["id"] for item in raw if item["kind"] == "hard-negative"}
    groups, _ = pipeline.cluster_articles(articles, pipeline.topic_matcher(None))
    joined = [
        [a.id for a in group]
        for group in groups
        if len(group) > 1 and any(a.id in hard for a in group)
    ]
    assert joined == []
