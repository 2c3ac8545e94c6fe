"""An editor's changes to an edition, and what changed since the last one (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from .compose import editor_order
from .model import Choice, Edition, Story

ACTIONS = ("drop", "restore", "pin", "unpin", "up", "down")


def choice_of(story: Story, choices: Sequence[Choice]) -> Choice | None:
    """The editor's standing choice about ``story``, if any."""
    return next((c for c in choices if c.concerns(story)), None)


def revise(edition: Edition, choices: Sequence[Choice], *, note: str | None = None) -> Edition:
    """``edition`` with the editor's choices applied to its own stories: dropped ones
    left out, pinned ones first, then ranked ones in order. ``note`` replaces the
    editor's note when given."""
    kept = []
    for story in edition.stories:
        choice = choice_of(story, choices)
        if choice is None or not choice.dropped:
            kept.append((story, choice))
    kept.sort(key=lambda pair: editor_order(pair[1]))
    return replace(
        edition,
        stories=tuple(story for story, _ in kept),
        note=edition.note if note is None else note,
    )


def decide(edition: Edition, choices: Sequence[Choice], story_id: str, action: str) -> list[Choice]:
    """The choices to save after ``action`` on one story of ``edition``.

    ``up`` and ``down`` rank every story of the edition in its new order.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}; use one of {', '.join(ACTIONS)}")
    by_id = {story.id: story for story in edition.stories}
    story = by_id.get(story_id)
    existing = {c.story_id: c for c in choices}
    if story is None:  # a dropped story, no longer in the edition
        choice = existing.get(story_id)
        if choice is None or action != "restore":
            raise ValueError(f"no story {story_id!r} in edition {edition.edition}")
        return [replace(choice, dropped=False)]
    current = choice_of(story, choices) or Choice(story_id=story.id)
    current = replace(current, story_id=story.id, urls=story.member_urls, title=story.title)
    if action in ("drop", "restore"):
        return [replace(current, dropped=action == "drop", pinned=False)]
    if action in ("pin", "unpin"):
        return [replace(current, pinned=action == "pin")]
    order = [s.id for s in edition.stories]
    at = order.index(story_id)
    to = max(0, min(len(order) - 1, at + (-1 if action == "up" else 1)))
    order.insert(to, order.pop(at))
    changed = []
    for rank, sid in enumerate(order):
        other = by_id[sid]
        base = choice_of(other, choices) or Choice(story_id=sid)
        changed.append(
            replace(base, story_id=sid, urls=other.member_urls, title=other.title, rank=rank)
        )
    return changed


@dataclass(frozen=True, slots=True, kw_only=True)
class Diff:
    """How an edition differs from the one before it."""

    new: tuple[Story, ...] = ()
    dropped: tuple[Story, ...] = ()
    """In the previous edition, not in this one."""
    updated: tuple[Story, ...] = ()
    """In both, with a new headline or more outlets; or back as an update of an earlier one."""


def _same(a: Story, b: Story) -> bool:
    return a.id == b.id or not set(a.member_urls).isdisjoint(b.member_urls)


def diff(current: Edition, previous: Edition | None) -> Diff:
    """What is new, gone and updated in ``current`` against ``previous``."""
    before = previous.stories if previous is not None else ()
    new: list[Story] = []
    updated: list[Story] = []
    for story in current.stories:
        match = next((old for old in before if _same(story, old)), None)
        if match is None:
            (updated if story.update else new).append(story)
        elif story.title != match.title or len(story.sources) > len(match.sources):
            updated.append(story)
    dropped = [old for old in before if not any(_same(old, s) for s in current.stories)]
    return Diff(new=tuple(new), dropped=tuple(dropped), updated=tuple(updated))
