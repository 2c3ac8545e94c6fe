"""Pure composition: which stories one briefing shows now, and in what order."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from rapidfuzz import fuzz

from .config import Briefing, cron_trigger
from .model import Choice, Edition, Story

NEW_HEADLINE = 60.0
"""Below this similarity (0-100, word order ignored) a headline counts as materially new."""
NEW_OUTLETS = 2
"""This many outlets that joined a story since it was sent make it an update."""


def edition_id(moment: datetime, timezone: str) -> str:
    """``2026-11-22-0700``: the edition's local date and time, sortable and path-safe. In
    the hour that repeats when summer time ends, the second pass is ``2026-10-25-0100-2``:
    an hourly briefing has two editions there. A time the clocks skip in spring
    (``02:30``, set in a cron line, fired at ``03:30``) is named as the clocks read it."""
    # through UTC: astimezone() to the zone a time already has would keep 02:30 as it is
    local = moment.astimezone(UTC).astimezone(ZoneInfo(timezone))
    return local.strftime("%Y-%m-%d-%H%M") + ("-2" if local.fold else "")


def window_start(end: datetime, window: timedelta, timezone: str) -> datetime:
    """Where a ``window`` ending at ``end`` begins: that long before on the clocks of
    ``timezone`` or in elapsed time, whichever is earlier. A 24-hour window at 07:00 thus
    reaches back to 07:00 the day before across the 25-hour day when summer time ends; on
    the 23-hour day the hour it shares with the day before is left to the memory of what
    was sent."""
    local = end.astimezone(ZoneInfo(timezone))
    return min(end - window, (local - window).astimezone(UTC))


CATCH_UP = timedelta(days=7)
"""How much further back than its own window a scheduled edition reaches to cover the
slots that made no edition since the briefing's last one (:func:`catch_up`)."""


def first_missed(
    briefing: Briefing, slot: datetime, last_built: datetime | None
) -> datetime | None:
    """The first slot of ``briefing`` after its last edition (built at ``last_built``) and
    before ``slot``: one that made no edition, missed by the scheduler or without news.
    None when there is none."""
    if last_built is None or last_built >= slot:
        return None
    trigger = cron_trigger(briefing.schedule, briefing.timezone)
    first: datetime | None = trigger.get_next_fire_time(
        None, last_built + timedelta(microseconds=1)
    )
    return first if first is not None and first < slot else None


def catch_up(briefing: Briefing, slot: datetime, missed: datetime) -> datetime:
    """Where the window of the edition of ``slot`` opens to cover the slots from ``missed``
    (:func:`first_missed`) that made no edition: where the window of ``missed`` would have
    opened, and at most :data:`CATCH_UP` before its own."""
    opens = window_start(missed, briefing.window, briefing.timezone)
    return max(opens, window_start(slot, briefing.window + CATCH_UP, briefing.timezone))


def relevance(story: Story, topics: Iterable[str]) -> float:
    """The story's best score among ``topics``."""
    scores = dict(story.scores)
    return max((scores.get(topic, 0.0) for topic in topics), default=0.0)


def _relevant(story: Story, briefing: Briefing) -> bool:
    if briefing.min_score is None:  # each topic's own threshold, already applied
        return any(topic in story.topics for topic in briefing.topics)
    return relevance(story, briefing.topics) >= briefing.min_score


def is_update(story: Story, carried: Mapping[str, str]) -> bool:
    """Whether a story an earlier edition carried has changed enough to be sent again.

    ``carried`` maps each canonical URL already sent to the headline it was sent under.
    The story is an update when its headline is materially new, or when at least
    two outlets have told it in their own words since: a later copy of a text the story
    holds (syndication) adds nothing to what was sent.
    """
    sent_titles = {carried[url] for url in story.member_urls if url in carried}
    if not sent_titles:
        return False
    if all(fuzz.token_sort_ratio(story.title, old) < NEW_HEADLINE for old in sent_titles):
        return True
    new_outlets = {s.feed for s in story.sources if s.url not in carried and not s.copy}
    return len(new_outlets) >= NEW_OUTLETS


def compose(
    briefing: Briefing,
    stories: Sequence[Story],
    *,
    now: datetime,
    timezone: str,
    carried: Mapping[str, str],
    choices: Sequence[Choice] = (),
    edition: str | None = None,
    slot: datetime | None = None,
    opens: datetime | None = None,
) -> Edition:
    """The edition of ``briefing`` at ``now``.

    A story qualifies when one of its articles falls in the briefing's window
    (:func:`window_start`), which ends at ``now`` and is counted back from ``slot``, the
    scheduled time of an edition built late, else from ``now``; ``opens``, when given,
    opens it earlier, for an edition that covers slots which made none (:func:`catch_up`);
    it is assigned one of the briefing's topics, or scores at least the
    briefing's own ``min_score`` on one when it sets one (any story
    when the briefing names none), and no earlier edition within the briefing's
    ``repeat_window`` carried any of its articles, unless it is an update
    (:func:`is_update`). ``carried`` maps the URLs sent within that window to
    their headlines. The most widely covered stories come first, then the most
    relevant, then the newest.

    An editor's ``choices`` come last: a dropped story is left out, a pinned one is
    kept whatever the rules above say (if it is among ``stories``) and comes first,
    and ranked stories come before unranked ones in the editor's order. ``edition``
    keeps the id of an edition being rebuilt.

    An industry weekly keeps ``max_stories`` stories of each of its industries, so that a
    PRO reader's picks fill their own edition; :func:`for_reader` takes what one reader
    gets, ``max_stories`` in all.
    """
    since = window_start(slot or now, briefing.window, timezone)
    if opens is not None:
        since = min(since, opens)
    chosen = []
    decided = {}
    for story in stories:
        choice = next((c for c in choices if c.concerns(story)), None)
        if choice is not None:
            if choice.dropped:
                continue
            decided[story.id] = choice
            if choice.pinned:
                chosen.append(story)
                continue
        if not since <= story.published <= now:
            continue
        if briefing.topics and not _relevant(story, briefing):
            continue
        if briefing.within and not set(briefing.within) & set(story.topics):
            continue
        if any(url in carried for url in story.member_urls):
            if not is_update(story, carried):
                continue
            story = replace(story, update=True)
        chosen.append(story)
    chosen.sort(
        key=lambda s: (
            -len(s.sources),
            -relevance(s, briefing.topics or s.topics),
            -s.published.timestamp(),
            s.id,
        )
    )
    chosen.sort(key=lambda s: editor_order(decided.get(s.id)))
    pinned = [s for s in chosen if s.id in decided and decided[s.id].pinned]
    others = [s for s in chosen if s not in pinned]
    room = max(0, briefing.max_stories - len(pinned))
    kept = {s.id for s in pinned + others[:room]}
    if briefing.format == "industry":
        for topic in briefing.topics:
            kept.update([s.id for s in others if topic in s.topics][:room])
    return Edition(
        briefing=briefing.id,
        title=briefing.title,
        description=briefing.description,
        edition=edition or edition_id(now, timezone),
        generated_at=now,
        stories=tuple(s for s in chosen if s.id in kept),
    )


def for_reader(
    edition: Edition, briefing: Briefing, industries: Sequence[str]
) -> tuple[Edition, tuple[str, ...]]:
    """An industry weekly as one reader gets it, and the order of its sections.

    ``industries`` are a PRO reader's picks: the reader gets ``max_stories`` stories of
    those industries, taken from each in turn, best first, and the sections in the
    reader's order. With no pick among the briefing's topics, or no story of this
    edition in them, the reader gets the edition's first ``max_stories`` stories in the
    briefing's order, as the web page and free readers do: an empty email helps nobody.
    Other formats are returned as they are.
    """
    if briefing.format != "industry":
        return edition, ()
    picks = tuple(dict.fromkeys(i for i in industries if i in briefing.topics))
    queues = [[s for s in edition.stories if pick in s.topics] for pick in picks]
    if not any(queues):
        return replace(edition, stories=edition.stories[: briefing.max_stories]), ()
    taken: set[str] = set()
    while len(taken) < briefing.max_stories and any(queues):
        for queue in queues:
            while queue and queue[0].id in taken:
                queue.pop(0)
            if queue and len(taken) < briefing.max_stories:
                taken.add(queue.pop(0).id)
    return replace(edition, stories=tuple(s for s in edition.stories if s.id in taken)), picks


def editor_order(choice: Choice | None) -> tuple[int, float]:
    """Pinned stories first, then ranked ones by rank, then the rest (a stable sort)."""
    if choice is None:
        return (1, float("inf"))
    rank = float("inf") if choice.rank is None else float(choice.rank)
    return (0 if choice.pinned else 1, rank)
