"""The trigger of a briefing's cron line, kept apart from :mod:`.cron` so that loading a
configuration does not import APScheduler; stored jobs name it when pickled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from apscheduler.triggers.cron import CronTrigger

LONGEST_SKIP = timedelta(hours=2)
"""The most the clocks of any zone have skipped at once in spring (an hour nearly always)."""


class CronLine(CronTrigger):  # type: ignore[misc]  # APScheduler has no types
    """A ``CronTrigger`` that fires as crontab does across daylight-saving changes.

    In the hour repeated when summer time ends it skips the second pass unless its hour
    field starts with ``*`` (``30 * * * *`` runs in both passes; ``30 1 * * *``, a daily,
    runs once). APScheduler fired both: a daily briefing at 01:30 went out twice that night.

    A time the clocks skip in spring (``30 2 * * *`` when 02:00 becomes 03:00) fires an
    hour later on them, at 03:30, whenever it is asked: APScheduler gave 03:30 when asked
    the day before, but the next day's 02:30 when asked at 03:20 (a scheduler started
    then). Fire times are given as the zone's clocks read them (03:30, not 02:30-05:00)."""

    def get_next_fire_time(self, previous: datetime | None, now: datetime) -> datetime | None:
        """The next fire time after ``previous`` at or after ``now``, as crontab fires."""
        found = self._once(previous, now)
        back = now - LONGEST_SKIP
        if previous is None and found is not None and _offset(back, self) != _offset(now, self):
            # the clocks changed since ``back``: a skipped time after ``now`` is found
            # only from before the change
            early = self._once(None, back)
            while early is not None and early < now and early < found:
                early = self._once(early, early)
            if early is not None and now <= early < found:
                found = early
        return None if found is None else found.astimezone(UTC).astimezone(self.timezone)

    def _once(self, previous: datetime | None, now: datetime) -> datetime | None:
        found: datetime | None = super().get_next_fire_time(previous, now)
        hours = str(self.fields[CronTrigger.FIELD_NAMES.index("hour")])
        while found is not None and found.fold and not hours.startswith("*"):
            later = found.astimezone(UTC) + timedelta(seconds=1)
            found = super().get_next_fire_time(found, later)
        return found


def _offset(moment: datetime, trigger: CronTrigger) -> timedelta | None:
    return moment.astimezone(trigger.timezone).utcoffset()
