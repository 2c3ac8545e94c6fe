"""Floors on two held-out labelled sets (tests/data/topics-heldout/), written after the
gazetteer was tuned on tests/data/topics/.

``first.jsonl`` (165 short wire items) was measured before the fixes it prompted; the fixes
address general causes, not its sentences. ``second.jsonl`` (60 items) was written before
those fixes and not measured until they were made. Both label the PRO industries too.
The floors sit a little below what the matcher reaches, so that a regression fails.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from briefings import topics

HELDOUT = Path(__file__).parent / "data" / "topics-heldout"
KINDS = {t.id: t.kind for t in topics.builtin_topics()}
STRICT = {"israel", "turkey", "caucasus"}


def load(name: str) -> list[topics.Example]:
    found, problems = topics.parse_examples(
        (HELDOUT / name).read_text(encoding="utf-8").splitlines(), name
    )
    assert problems == []
    return found


@pytest.fixture(scope="module")
def matcher() -> topics.Matcher:
    return topics.Matcher(topics.builtin_topics())


@pytest.fixture(scope="module")
def first(matcher: topics.Matcher) -> topics.Evaluation:
    return topics.evaluate(load("first.jsonl"), matcher)


@pytest.fixture(scope="module")
def second(matcher: topics.Matcher) -> topics.Evaluation:
    return topics.evaluate(load("second.jsonl"), matcher)


def micro(result: topics.Evaluation, kind: str) -> tuple[float, float]:
    """Precision and recall over every topic of one kind, counted together."""
    counts = [c for t, c in result.counts.items() if KINDS[t] == kind]
    tp, fp, fn = (sum(c[i] for c in counts) for i in range(3))
    return tp / (tp + fp), tp / (tp + fn)


def test_the_sets_cover_every_topic_and_the_hard_cases() -> None:
    first, second = load("first.jsonl"), load("second.jsonl")
    assert len(first) >= 150 and len(second) >= 50
    ids = [e.id for e in first + second]
    assert len(set(ids)) == len(ids)
    assert set().union(*(e.topics for e in first)) == set(KINDS)  # every region, theme, industry
    assert set().union(*(e.topics for e in second)) <= set(KINDS)
    for examples in (first, second):
        assert len([e for e in examples if e.kind == "hard"]) >= len(examples) / 4
        assert len([e for e in examples if not e.topics]) >= 10  # homonyms, passing mentions


@pytest.mark.parametrize("topic", sorted(t for t, k in KINDS.items() if k == "region"))
def test_first_set_region_floors(first: topics.Evaluation, topic: str) -> None:
    precision, recall = first.precision(topic), first.recall(topic)
    floor = (0.9, 0.75) if topic in STRICT else (0.85, 0.7)
    misses = [m.example.id for m in first.misses if topic in m.found ^ m.example.topics]
    assert precision >= floor[0], (topic, precision, misses)
    assert recall >= floor[1], (topic, recall, misses)


@pytest.mark.parametrize(
    ("kind", "floor"), [("region", (0.95, 0.9)), ("theme", (0.9, 0.6)), ("industry", (0.85, 0.6))]
)
def test_first_set_floors_by_kind(
    first: topics.Evaluation, kind: str, floor: tuple[float, float]
) -> None:
    precision, recall = micro(first, kind)
    assert precision >= floor[0], (kind, precision)
    assert recall >= floor[1], (kind, recall)


@pytest.mark.parametrize(
    ("kind", "floor"), [("region", (0.9, 0.9)), ("theme", (0.9, 0.5)), ("industry", (0.9, 0.7))]
)
def test_second_set_floors_by_kind(
    second: topics.Evaluation, kind: str, floor: tuple[float, float]
) -> None:
    precision, recall = micro(second, kind)
    assert precision >= floor[0], (kind, precision)
    assert recall >= floor[1], (kind, recall)


def test_stories_about_no_region_rarely_get_one(
    first: topics.Evaluation, second: topics.Evaluation
) -> None:
    """Turkey the bird, Georgia the state, Iran-Contra, an Israeli-born chef abroad."""
    for result, allowed in ((first, 2), (second, 2)):
        wrong = [
            m.example.id
            for m in result.misses
            if not any(KINDS[t] == "region" for t in m.example.topics)
            and any(KINDS[t] == "region" for t in m.found)
        ]
        assert len(wrong) <= allowed, wrong
