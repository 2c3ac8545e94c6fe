"""The trigger of a briefing's cron line, kept apart from :mod:`.cron` so that loading a
configuration does not import APScheduler; stored jobs name it when pickled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from apscheduler.triggers.cron import CronTrigger


class CronLine(CronTrigger):  # type: ignore[misc]  # APScheduler has no types
    """A ``CronTrigger`` that, as crontab, skips the second pass of the hour repeated when
    summer time ends unless its hour field starts with ``*`` (``30 * * * *`` runs in both
    passes; ``30 1 * * *``, a daily, runs once). APScheduler fired both: a daily briefing at
    01:30 went out twice that night."""

    def get_next_fire_time(self, previous: datetime | None, now: datetime) -> datetime | None:
        """The next fire time after ``previous`` at or after ``now``, as crontab fires."""
        found: datetime | None = super().get_next_fire_time(previous, now)
        hours = str(self.fields[CronTrigger.FIELD_NAMES.index("hour")])
        while found is not None and found.fold and not hours.startswith("*"):
            later = found.astimezone(UTC) + timedelta(seconds=1)
            found = super().get_next_fire_time(found, later)
        return found
