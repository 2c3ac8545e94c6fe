"""The ``[briefings.ID]`` tables → :class:`Briefing`: topics, schedule and time zone, windows,
format and tier, subject line and theme.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .checker import _Checker, _hint
from .cron import _check_cron
from .keys import BRIEFING
from .tables import (
    Briefing,
    Theme,
)
from .values import _ID, _choice, _unknown_zone, parse_duration

FORMATS = ("daily", "minute", "weekly", "industry")
TIERS = ("free", "pro")
_COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3}){1,2}$")


def _briefings(
    checker: _Checker, raw: Any, known_topics: set[str], timezone: str
) -> tuple[Briefing, ...]:
    briefings = []
    for briefing_id, item in checker.table(raw, "briefings").items():
        prefix = f"briefings.{briefing_id}."
        if not _ID.match(briefing_id):
            checker.add(f"briefings.{briefing_id}", "invalid id (use a-z, 0-9, '-' and '_')")
        values = checker.typed(checker.table(item, f"briefings.{briefing_id}"), BRIEFING, prefix)
        topics = checker.strings(values["topics"], prefix + "topics")
        for index, topic in enumerate(topics):
            if topic not in known_topics:
                checker.add(
                    f"{prefix}topics[{index}]",
                    f"unknown topic {topic!r}{_hint(topic, known_topics)}",
                )
        zone = values["timezone"] or timezone
        if values["timezone"]:
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError):
                checker.add(prefix + "timezone", _unknown_zone(zone, "Asia/Jerusalem"))
                zone = timezone
        schedule = values["schedule"] or ""
        given = isinstance(item, dict) and "schedule" in item  # a missing one is said once
        if values["schedule"] is not None and given:
            _check_cron(checker, schedule, zone, prefix + "schedule")
        send_at = _clock_time(checker, values["send_at"], prefix + "send_at")
        window = timedelta(hours=24)
        try:
            window = parse_duration(values["window"])
        except ValueError as exc:
            checker.add(prefix + "window", str(exc))
        repeat_window = timedelta(days=7)
        try:
            repeat_window = parse_duration(values["repeat_window"])
        except ValueError as exc:
            checker.add(prefix + "repeat_window", str(exc))
        if values["min_score"] is not None and values["min_score"] <= 0:
            checker.add(prefix + "min_score", "must be greater than zero")
        if values["max_stories"] <= 0:
            checker.add(prefix + "max_stories", "must be greater than zero")
        if values["min_stories"] < 0:
            checker.add(
                prefix + "min_stories", f"must not be negative, got {values['min_stories']}"
            )
        briefings.append(
            Briefing(
                id=briefing_id,
                title=values["title"] or briefing_id,
                description=values["description"],
                topics=topics,
                schedule=schedule,
                window=window,
                repeat_window=repeat_window,
                max_stories=values["max_stories"],
                min_score=None if values["min_score"] is None else float(values["min_score"]),
                format=_choice(checker, values["format"], FORMATS, prefix + "format"),
                tier=_choice(checker, values["tier"], TIERS, prefix + "tier"),
                pro_sections=_pro_sections(checker, values, topics, prefix),
                within=_known(checker, values["within"], known_topics, prefix + "within"),
                subject=_subject(checker, values["subject"], prefix + "subject"),
                min_stories=values["min_stories"],
                theme=_theme(checker, values["theme"], prefix + "theme"),
                timezone=zone,
                review=values["review"],
                send_at=send_at,
            )
        )
    return tuple(briefings)


def _clock_time(checker: _Checker, text: str, where: str) -> tuple[int, int] | None:
    """``HH:MM`` as (hour, minute); None for an empty value."""
    if not text:
        return None
    found = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", text.strip())
    if found is None:
        checker.add(where, f"bad time {text!r} (use HH:MM, e.g. '07:30')")
        return None
    return int(found[1]), int(found[2])


def _subject(checker: _Checker, template: str, where: str) -> str:
    try:
        # {title.__class__…} would reach into the program: only the three names, as they are
        fields = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
        if fields - {"title", "date", "count"}:
            raise KeyError(sorted(fields - {"title", "date", "count"})[0])
        line = template.format(title="T", date=datetime(2026, 5, 14, tzinfo=UTC), count=3)
    except (KeyError, IndexError, ValueError, AttributeError) as exc:
        checker.add(
            where,
            f"bad subject template {template!r}: {exc!r} (use {{title}}, "
            "{date:%a %d %b} and {count})",
        )
        default: str = BRIEFING["subject"].default
        return default
    if "\n" in line or "\r" in line:
        checker.add(where, "a subject cannot contain a line break")
    return template


def _known(checker: _Checker, raw: Any, known: set[str], where: str) -> tuple[str, ...]:
    found = checker.strings(raw, where)
    for index, topic in enumerate(found):
        if topic not in known:
            checker.add(f"{where}[{index}]", f"unknown topic {topic!r}{_hint(topic, known)}")
    return found


def _pro_sections(
    checker: _Checker, values: Mapping[str, Any], topics: tuple[str, ...], prefix: str
) -> tuple[str, ...]:
    sections = checker.strings(values["pro_sections"], prefix + "pro_sections")
    for index, topic in enumerate(sections):
        if topics and topic not in topics:
            checker.add(
                f"{prefix}pro_sections[{index}]", f"{topic!r} is not one of this briefing's topics"
            )
    return sections


def _theme(checker: _Checker, raw: Mapping[str, Any], where: str) -> Theme:
    values = {}
    for key, value in raw.items():
        if key not in ("masthead", "accent", "logo"):
            checker.add(
                f"{where}.{key}", f"unknown key{_hint(key, ('masthead', 'accent', 'logo'))}"
            )
        elif not isinstance(value, str):
            checker.add(f"{where}.{key}", f"expected a string, got {value!r}")
        elif key != "logo" and not _COLOUR.match(value):
            checker.add(f"{where}.{key}", f"bad colour {value!r} (use #rgb or #rrggbb)")
        else:
            values[key] = value
    return Theme(**values)
