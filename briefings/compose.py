"""Pure composition: which stories one briefing shows now, and in what order."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from .config import Briefing
from .model import Edition, Story


def edition_id(moment: datetime, timezone: str) -> str:
    """``2026-11-22-0700``: the edition's local date and time, sortable and path-safe."""
    return moment.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d-%H%M")


def relevance(story: Story, topics: Iterable[str]) -> float:
    """The story's best score among ``topics``."""
    scores = dict(story.scores)
    return max((scores.get(topic, 0.0) for topic in topics), default=0.0)


def _relevant(story: Story, briefing: Briefing) -> bool:
    if briefing.min_score is None:  # each topic's own threshold, already applied
        return any(topic in story.topics for topic in briefing.topics)
    return relevance(story, briefing.topics) >= briefing.min_score


def compose(
    briefing: Briefing, stories: Sequence[Story], *, now: datetime, timezone: str, carried: set[str]
) -> Edition:
    """The edition of ``briefing`` at ``now``.

    A story qualifies when one of its articles falls in the briefing's window,
    it is assigned one of the briefing's topics, or scores at least the
    briefing's own ``min_score`` on one when it sets one (any story
    when the briefing names none), and no earlier edition carried any of its
    articles. The most widely covered stories come first, then the most
    relevant, then the newest.
    """
    since = now - briefing.window
    chosen = []
    for story in stories:
        if not since <= story.published <= now:
            continue
        if briefing.topics and not _relevant(story, briefing):
            continue
        if carried.intersection(story.member_urls):
            continue
        chosen.append(story)
    chosen.sort(
        key=lambda s: (
            -len(s.sources),
            -relevance(s, briefing.topics or s.topics),
            -s.published.timestamp(),
            s.id,
        )
    )
    return Edition(
        briefing=briefing.id,
        title=briefing.title,
        description=briefing.description,
        edition=edition_id(now, timezone),
        generated_at=now,
        stories=tuple(chosen[: briefing.max_stories]),
    )
