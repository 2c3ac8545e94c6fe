"""Canonical URLs and clustering of the sample corpus's duplicate clusters."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from briefings import dedupe
from briefings.model import Article, TopicMatch

from .conftest import NOW


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        (
            "HTTPS://Example.ORG/News/a?utm_source=rss&utm_medium=feed#comments",
            "https://example.org/News/a",
        ),
        ("http://example.org:80/a?b=2&a=1&fbclid=xyz", "http://example.org/a?a=1&b=2"),
        ("https://example.org:8443/a", "https://example.org:8443/a"),
        ("https://example.org", "https://example.org/"),
        ("https://example.org/a?id=7&gclid=1&mc_cid=2", "https://example.org/a?id=7"),
        ("https://example.org./a?q=", "https://example.org/a?q="),
    ],
)
def test_canonical_url(url: str, canonical: str) -> None:
    assert dedupe.canonical_url(url) == canonical


def article(index: int, title: str, text: str, *, feed: str = "f", hours: float = 0.0) -> Article:
    return Article(
        id=str(index),
        feed_id=feed,
        url=f"https://{feed}.example/{index}",
        canonical_url=f"https://{feed}.example/{index}",
        title=title,
        summary="",
        text=text,
        author="",
        published=NOW - timedelta(hours=hours),
        text_source="feed",
    )


WIRE = (
    "Azerbaijan and Turkey signed an agreement in Baku on Monday to build a second gas "
    "pipeline across the Caspian region, officials said, with construction due to start "
    "next spring and first deliveries expected within three years of the signing."
)


def test_copies_join_across_outlets_but_not_across_months() -> None:
    edited = WIRE.replace("officials said", "ministers said") + " Additional reporting by A."
    articles = [
        article(0, "Baku and Ankara sign pipeline deal", WIRE, feed="wire"),
        article(1, "Pipeline deal signed in Baku", edited, feed="paper", hours=-2),
        article(2, "Baku and Ankara sign pipeline deal", WIRE, feed="other", hours=24 * 90),
    ]
    groups = dedupe.cluster(articles)
    assert sorted(len(g) for g in groups) == [1, 2]


def test_sample_corpus_clusters_match_their_labels(sample_stories: dict[str, object]) -> None:
    labels: dict[str, str] = sample_stories["labels"]  # type: ignore[assignment]
    groups: list[list[Article]] = sample_stories["groups"]  # type: ignore[assignment]
    predicted = {a.id: n for n, group in enumerate(groups) for a in group}
    tp = fp = fn = 0
    for a, b in itertools.combinations(predicted, 2):
        same_label, same_group = labels[a] == labels[b], predicted[a] == predicted[b]
        tp += same_label and same_group
        fp += same_group and not same_label
        fn += same_label and not same_group
    assert tp >= 40  # the corpus holds over 40 same-story pairs
    assert tp / (tp + fp) >= 0.95
    assert tp / (tp + fn) >= 0.9


def test_make_story_leads_with_original_and_orders_sources() -> None:
    copy = WIRE + " Additional reporting by B."
    members = [
        article(0, "Copy headline", copy, feed="paper", hours=1),
        article(1, "Wire headline", WIRE, feed="wire", hours=3),
        article(2, "Aggregator", copy, feed="aggregator", hours=0.5),
    ]
    match = TopicMatch(topic="caucasus", term="Baku", field="title", weight=3.0)
    story = dedupe.make_story(
        members,
        weights={"paper": 2.0, "wire": 1.0, "aggregator": 0.5},
        feed_names={"paper": "Paper", "wire": "Wire", "aggregator": "Agg"},
        matches_of=lambda a: (match,) if a.id == "1" else (),
        thresholds={"caucasus": 2.0},
    )
    assert story.title == "Wire headline"  # the original, not the heavier outlet's copy
    assert [s.feed for s in story.sources] == ["Wire", "Paper", "Agg"]
    assert [s.copy for s in story.sources] == [False, True, True]
    assert story.topics == ("caucasus",)
    assert story.published == NOW - timedelta(hours=0.5)
    assert story.id == dedupe.story_id(members[1].canonical_url)


def test_a_decisive_headline_term_gives_the_story_its_topic() -> None:
    members = [article(0, "OPEC+ extends cuts", WIRE, feed="wire", hours=1)]
    match = TopicMatch(topic="energy", term="OPEC", field="title", weight=3.0)
    made = {
        rule: dedupe.make_story(
            members,
            weights={"wire": 1.0},
            feed_names={"wire": "Wire"},
            matches_of=lambda a: (match,),
            thresholds={"energy": 4.0},
            decisive=rule,
        ).topics
        for rule in (None, lambda m: m.field == "title")
    }
    assert list(made.values()) == [(), ("energy",)]


def test_union_find() -> None:
    links = dedupe.UnionFind(4)
    links.union(0, 1)
    links.union(2, 3)
    links.union(1, 3)
    assert len({links.find(i) for i in range(4)}) == 1


def test_empty_and_tiny_inputs() -> None:
    assert dedupe.cluster([]) == []
    one = article(0, "t", "x")
    assert dedupe.cluster([one]) == [[one]]


def _vector(seed: int) -> dedupe.Vector:
    terms = [f"t{(seed * 7 + k * 3) % 23}" for k in range(5)]
    return {t: 1 / (1 + n + seed % 3) for n, t in enumerate(dict.fromkeys(terms))}


@given(
    st.lists(
        st.tuples(st.sampled_from(["add", "merge", "ask"]), st.integers(0, 30), st.integers(0, 30)),
        max_size=60,
    )
)
def test_summed_vectors_stay_true_as_stories_grow_and_merge(
    steps: list[tuple[str, int, int]],
) -> None:
    index = dedupe.MemoryIndex()
    placed = 0
    for action, a, b in steps:
        stories = index.stories()
        if action == "add" or not stories:
            x = dedupe.Features(
                id=str(placed), feed_id="f", title="t", published=NOW, vector=_vector(a)
            )
            index.add(x, [], stories[b % len(stories)] if stories and a % 2 else x.id)
            placed += 1
        elif action == "merge" and len(stories) > 1:
            into, other = stories[a % len(stories)], stories[b % len(stories)]
            if into != other:
                index.merge(into, other)
        else:
            index.summed(stories[a % len(stories)])  # caches it, to be kept up to date
    for story in index.stories():
        expected = dedupe.summed(index.features(index.members(story)).values())
        got = index.summed(story)
        assert got.keys() == expected.keys()
        assert all(abs(got[t] - expected[t]) < 1e-9 for t in got)


def test_cosine_of_unit_vectors() -> None:
    a = {"quake": 0.8, "istanbul": 0.6}
    assert dedupe.cosine(a, a) == pytest.approx(1.0)
    assert dedupe.cosine(a, {"quake": 1.0}) == pytest.approx(0.8)
    assert dedupe.cosine(a, {"ankara": 1.0}) == 0.0
    assert dedupe.cosine({}, a) == 0.0


@pytest.mark.parametrize(
    "amp",
    [
        "https://ankara.example/2026/11/border-deal/amp/",
        "https://ankara.example/amp/2026/11/border-deal/",
        "https://ankara.example/2026/11/border-deal/?amp=1",
        "https://ankara.example/2026/11/border-deal/?amp",
        "https://ankara.example/2026/11/border-deal/?outputType=amp",
        "https://ankara.example/2026/11/border-deal.amp",
    ],
)
def test_an_amp_link_is_the_article_it_renders(amp: str) -> None:
    # Aggregators and social feeds link to an outlet's AMP page. As another URL it was
    # another article: "also covered by" named the aggregator, and it counted as a new
    # outlet that makes a story already sent come back as an update.
    assert dedupe.canonical_url(amp) == dedupe.canonical_url(
        "https://ankara.example/2026/11/border-deal" + ("" if amp.endswith(".amp") else "/")
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://ankara.example/energy/ampere-battery-plant/",
        "https://ankara.example/a?amp=0",
        "https://ankara.example/example.ampl",
        "https://ankara.example/sports/amp-up-the-league/",
    ],
)
def test_words_that_begin_with_amp_are_kept(url: str) -> None:
    assert dedupe.canonical_url(url) == url


def test_a_match_from_another_outlets_article_names_that_outlet() -> None:
    # The headline shown is the lead's; a term found only in another outlet's headline
    # must say whose it is, or "Baku (title)" reads as if the shown headline had it.
    members = [
        article(0, "Pipeline deal signed", WIRE, feed="wire", hours=3),
        article(1, "Baku signs pipeline deal", WIRE + " Reporting by P.", feed="paper", hours=1),
    ]
    baku = TopicMatch(topic="caucasus", term="Baku", field="title", weight=3.0)
    pipeline = TopicMatch(topic="energy", term="pipeline", field="title", weight=3.0)
    story = dedupe.make_story(
        members,
        weights={"wire": 1.0, "paper": 1.0},
        feed_names={"wire": "Wire", "paper": "Paper"},
        matches_of=lambda a: (pipeline,) if a.id == "0" else (baku, pipeline),
        thresholds={"caucasus": 2.0, "energy": 2.0},
    )
    assert story.title == "Pipeline deal signed"
    by_topic = {m.topic: m for m in story.matches}
    assert by_topic["caucasus"].source == "Paper"
    assert by_topic["energy"].source == ""  # the lead has it as much as anyone: its own
