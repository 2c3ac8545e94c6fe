"""Cron lines: a briefing's ``schedule`` → an APScheduler ``CronTrigger``, weekdays counted
from Sunday as in crontab.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .checker import _Checker

_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_DAY_NAMES = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")


def cron_trigger(line: str, timezone: str) -> Any:
    """An APScheduler ``CronTrigger`` for a standard cron line.

    APScheduler 3 counts weekdays from Monday = 0 and cannot wrap a range past
    Sunday, while cron counts from Sunday = 0 (and 7): the weekday field is
    spelled out as names first, so ``1-5`` is Monday to Friday and ``sun-thu``
    works, as in crontab.
    """
    from apscheduler.triggers.cron import CronTrigger

    fields = line.split()
    if len(fields) != 5:
        raise ValueError("expected 5 fields (minute hour day month weekday), e.g. '0 7 * * *'")
    minute, hour, day, month, weekday = fields
    return CronTrigger(
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=_weekdays(weekday),
        timezone=timezone,
    )


def _weekdays(field: str) -> str:
    """A cron weekday field (Sunday = 0 or 7, names, ranges, steps) as a list of names."""
    if field in ("*", "?"):
        return "*"
    days: list[int] = []
    for part in field.lower().split(","):
        span, _, step_text = part.partition("/")
        step = int(step_text) if step_text.isdigit() and int(step_text) > 0 else None
        if step_text and step is None:
            raise ValueError(f"bad step in weekday field {field!r}")
        if span == "*":
            first, last = 0, 6
        else:
            low, _, high = span.partition("-")
            first = _weekday_number(low, field)
            last = _weekday_number(high, field) if high else (6 if step else first)
        if last < first:
            last += 7
        days.extend(d % 7 for d in range(first, last + 1, step or 1))
    return ",".join(_WEEKDAYS[d] for d in sorted(set(days)))


def _weekday_number(text: str, field: str) -> int:
    if text.isdigit() and int(text) <= 7:
        return int(text) % 7 if int(text) != 7 else 7
    if text in _WEEKDAYS:
        return _WEEKDAYS.index(text)
    if text in _DAY_NAMES:
        return _DAY_NAMES.index(text)
    raise ValueError(f"bad weekday {text!r} in {field!r} (use 0-7 or sun..sat)")


def _check_cron(checker: _Checker, line: str, timezone: str, where: str) -> None:
    try:
        trigger = cron_trigger(line, timezone)
    except ValueError as exc:
        checker.add(where, f"bad cron line {line!r}: {exc}")
        return
    if trigger.get_next_fire_time(None, datetime.now(UTC)) is None:
        checker.add(where, f"bad cron line {line!r}: it never fires (no such date)")
