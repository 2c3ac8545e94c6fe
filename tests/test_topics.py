"""Topic matching: folding, word boundaries, context rules, user topics, the corpus."""

from __future__ import annotations

from typing import Any

import pytest

from briefings import topics
from briefings.config import UserTopic
from briefings.text import fold


@pytest.fixture(scope="module")
def matcher() -> topics.Matcher:
    return topics.Matcher(topics.builtin_topics())


def score(
    matcher: topics.Matcher, title: str = "", summary: str = "", body: str = ""
) -> dict[str, float]:
    found, _ = matcher.match(title=title, summary=summary, body=body)
    return topics.scores(found)


def test_builtin_topics_are_all_there() -> None:
    ids = {t.id for t in topics.builtin_topics()}
    assert ids >= {
        "israel",
        "palestine",
        "turkey",
        "caucasus",
        "central-asia",
        "iran",
        "iraq",
        "syria",
        "lebanon",
        "gulf",
        "egypt",
        "security",
        "energy",
        "business-tech",
    }
    for topic in topics.builtin_topics():
        assert len(topic.terms) >= 20, topic.id


def test_fold() -> None:
    assert fold("Erdoğan'ın  ANKARA'da") == " erdogan in ankara da "
    assert fold("Azərbaycan, İlham Əliyev") == " azerbaycan ilham eliyev "
    assert fold("Türkiye—Straße") == " turkiye strasse "


@pytest.mark.parametrize(
    ("title", "topic"),
    [
        ("Erdoğan meets Aliyev", "turkey"),
        ("Erdogan meets Aliyev", "caucasus"),
        ("Ankara'da yeni dönem", "turkey"),
        ("TÜRKİYE and Greece hold talks", "turkey"),
        ("Knesset passes budget", "israel"),
        ("Stepanakert residents return", "caucasus"),
        ("Tbilisi protest enters third week", "caucasus"),
        ("Protesters gather in Georgia's capital Tbilisi", "caucasus"),
    ],
)
def test_matches(matcher: topics.Matcher, title: str, topic: str) -> None:
    assert score(matcher, title=title).get(topic, 0) >= topics.DEFAULT_MIN_SCORE


@pytest.mark.parametrize(
    ("title", "body", "topic"),
    [
        (
            "How to roast a turkey for Thanksgiving",
            "Brine the turkey overnight, then roast the turkey with stuffing and gravy.",
            "turkey",
        ),
        (
            "Georgia lawmakers pass budget in Atlanta",
            "The Georgia House in Atlanta approved the budget; Gov. Kemp is expected to sign it.",
            "caucasus",
        ),
        (
            "Bulldogs beat Auburn",
            "The University of Georgia Bulldogs won at Athens, Georgia.",
            "caucasus",
        ),
        (
            "Armenia, Quindío coffee harvest up",
            "Growers around Armenia in Colombia's coffee region expect a record year.",
            "caucasus",
        ),
        ("Cold turkey", "He quit smoking cold turkey.", "turkey"),
        ("Turkeys", "Turkeyfest draws crowds.", "turkey"),
        ("Irangate documents released", "", "iran"),
    ],
)
def test_hard_negatives(matcher: topics.Matcher, title: str, body: str, topic: str) -> None:
    found, _ = matcher.match(title=title, summary="", body=body)
    assert topics.scores(found).get(topic, 0) < topics.DEFAULT_MIN_SCORE, found


def test_cancelled_matches_say_why(matcher: topics.Matcher) -> None:
    _, cancelled = matcher.match(title="Roast turkey recipe", summary="", body="")
    assert any(c.topic == "turkey" and "roast" in c.reason for c in cancelled)


def test_body_only_topic_needs_more_than_a_passing_mention(matcher: topics.Matcher) -> None:
    passing = score(matcher, title="Markets close higher", body="Shares rose. Israel was quiet.")
    assert passing.get("israel", 0) < topics.DEFAULT_MIN_SCORE
    substantive = score(
        matcher,
        title="Markets close higher",
        body="The Tel Aviv exchange rose as the Bank of Israel held rates.",
    )
    assert substantive.get("israel", 0) >= topics.DEFAULT_MIN_SCORE


def test_matches_record_term_and_field(matcher: topics.Matcher) -> None:
    found, _ = matcher.match(title="Baku hosts talks", summary="", body="Talks in Baku and Baku.")
    baku = [m for m in found if m.topic == "caucasus" and m.term == "Baku"]
    assert {(m.field, m.weight) for m in baku} == {("title", 3.0), ("body", 1.5)}


def test_user_topic_terms_prefixes_and_exclusions() -> None:
    water = UserTopic(
        id="water",
        title="Water",
        description="",
        terms=("Euphrates", "dam*"),
        exclude=("Hoover Dam",),
    )
    matcher = topics.Matcher([topics.user_topic(water)])
    assert score(matcher, title="Dams on the Euphrates").get("water") == 6.0
    assert "water" not in score(matcher, title="Euphrates and the Hoover Dam")
    assert score(matcher, title="New dams").get("water") == 3.0
    assert "water" not in score(matcher, title="Amsterdam")  # a prefix still starts a word


def test_sample_corpus_labels(sample_corpus: Any, matcher: topics.Matcher) -> None:
    """Every corpus item's expected topics are found, and hard negatives are not."""
    hits = misses = false = 0
    for item in sample_corpus.items:
        if item.repeat_of:
            continue
        found = {
            t
            for t, s in score(matcher, item.title, item.summary, item.body).items()
            if s >= topics.DEFAULT_MIN_SCORE
        }
        for topic in ("israel", "turkey", "caucasus"):
            expected = topic in item.topics
            hits += expected and topic in found
            misses += expected and topic not in found
            false += topic in found and not expected
    assert hits / (hits + misses) >= 0.9
    assert hits / (hits + false) >= 0.9
