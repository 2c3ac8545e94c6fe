"""A :class:`Story` from a cluster: its lead, its sources (later copies marked) and
its topics; :func:`story_id`."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from ..model import Article, Source, Story, TopicMatch
from .signatures import _agreement, minhash


def make_story(
    members: Sequence[Article],
    *,
    weights: Mapping[str, float],
    feed_names: Mapping[str, str],
    matches_of: Callable[[Article], tuple[TopicMatch, ...]],
    thresholds: Mapping[str, float],
    signature_of: Callable[[Article], bytes] | None = None,
    length_of: Callable[[Article], int] | None = None,
    decisive: Callable[[TopicMatch], bool] | None = None,
) -> Story:
    """One story from a cluster: the most complete original leads, the rest are sources.

    ``signature_of`` and ``length_of`` give an article's MinHash signature and the
    length of its text when they are already known (the store keeps them, not the
    text); by default they come from ``article.text``. Links are canonical URLs:
    readers get no tracking parameters.
    """
    length = length_of or (lambda a: len(a.text))
    originals = _originals(members, signature_of or (lambda a: minhash(f"{a.title} {a.text}")))
    lead = max(
        members,
        key=lambda a: (
            a.id in originals,
            weights.get(a.feed_id, 1.0),
            length(a),
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
                    copy=article.id not in originals,
                )
            )
    best: dict[str, float] = {}
    matches: dict[str, tuple[TopicMatch, ...]] = {}
    decided: set[str] = set()  # a member's headline names the topic (``decisive``)
    for article in members:
        found = matches_of(article)
        if decisive is not None:
            decided.update(m.topic for m in found if decisive(m))
        totals: defaultdict[str, float] = defaultdict(float)
        for match in found:
            totals[match.topic] += match.weight
        for topic, score in totals.items():
            if score > best.get(topic, 0.0) or (article is lead and score >= best.get(topic, 0.0)):
                best[topic] = score
                source = "" if article is lead else feed_names.get(article.feed_id, article.feed_id)
                matches[topic] = tuple(
                    replace(m, source=source) if source else m for m in found if m.topic == topic
                )
    ranked = sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))
    return Story(
        id=story_id(lead.canonical_url),
        title=lead.title,
        url=lead.canonical_url,
        summary=lead.summary,
        published=max(a.published for a in members),
        topics=tuple(t for t, s in ranked if s >= thresholds.get(t, 2.0) or t in decided),
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


def _originals(members: Sequence[Article], signature_of: Callable[[Article], bytes]) -> set[str]:
    """Ids of members that are not a later copy of another member's text."""
    if len(members) < 2:
        return {a.id for a in members}
    # Each signature unpacked once: every pair is compared, and a tuple compares in a third
    # of the time of two memoryviews unpacked again for each pair.
    values = {a.id: tuple(memoryview(signature_of(a)).cast("I")) for a in members}
    return {
        article.id
        for article in members
        if not any(
            other.published < article.published and _copies(values[article.id], values[other.id])
            for other in members
            if other is not article
        )
    }


def _copies(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    """Whether two unpacked signatures estimate a Jaccard similarity of 0.5 or more."""
    return bool(a) and len(a) == len(b) and _agreement(a, b) >= 0.5
