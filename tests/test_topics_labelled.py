"""Precision and recall floors on our own labelled set (tests/data/topics/*.jsonl)."""

from __future__ import annotations

from pathlib import Path

import pytest

from briefings import topics

LABELLED = sorted((Path(__file__).parent / "data" / "topics").glob("*.jsonl"))
STRICT = {"israel", "turkey", "caucasus"}


@pytest.fixture(scope="module")
def examples() -> list[topics.Example]:
    found: list[topics.Example] = []
    for path in LABELLED:
        batch, problems = topics.parse_examples(
            path.read_text(encoding="utf-8").splitlines(), path.name
        )
        assert problems == []
        found.extend(batch)
    return found


@pytest.fixture(scope="module")
def result(examples: list[topics.Example]) -> topics.Evaluation:
    return topics.evaluate(examples, topics.Matcher(topics.builtin_topics()))


def test_the_set_is_big_and_hard_enough(examples: list[topics.Example]) -> None:
    assert len(examples) >= 400
    assert len({e.id for e in examples}) == len(examples)
    hard = [e for e in examples if e.kind == "hard"]
    assert len(hard) >= len(examples) / 4
    assert len([e for e in examples if e.kind == "body-only"]) >= 60
    known = {t.id for t in topics.builtin_topics()}  # PRO industries are not labelled yet
    assert set().union(*(e.topics for e in examples)) <= known


@pytest.mark.parametrize(
    "topic", sorted(t.id for t in topics.builtin_topics() if t.kind in ("region", "theme"))
)
def test_floors(result: topics.Evaluation, topic: str) -> None:
    precision, recall = result.precision(topic), result.recall(topic)
    floor = (0.97, 0.95) if topic in STRICT else (0.9, 0.9)
    misses = [m.example.id for m in result.misses if topic in m.found ^ m.example.topics]
    assert precision >= floor[0], (topic, precision, misses)
    assert recall >= floor[1], (topic, recall, misses)


def test_topics_shown_only_in_the_body_are_found(examples: list[topics.Example]) -> None:
    matcher = topics.Matcher(topics.builtin_topics())
    thresholds = matcher.thresholds()
    body_only = [e for e in examples if e.kind == "body-only"]
    expected = found = 0
    for example in body_only:
        matches, _ = matcher.match(title=example.title, summary=example.summary, body=example.body)
        scores = topics.scores(matches)
        regions = {t for t in example.topics if matcher.topics[t].kind == "region"}
        expected += len(regions)
        found += sum(1 for t in regions if scores.get(t, 0) >= thresholds[t])
    assert expected >= 60
    assert found / expected >= 0.9
