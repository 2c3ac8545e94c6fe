"""What ``schedule --list`` shows of a job: its next run in its own zone, and what becomes of
a run missed (:class:`Upcoming`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True, kw_only=True)
class Upcoming:
    """A job's next run as ``schedule --list`` shows it, in the job's own zone."""

    id: str
    when: datetime | None
    """The next run; None for a paused job."""
    zone: str
    at_start: bool = False
    """The job is due already: it runs as soon as the scheduler starts."""
    missed: datetime | None = None
    """A run missed while the scheduler was down: made up at start, or skipped."""
    waiting: bool = False
    """Due in the running scheduler: it runs when the job in hand ends."""

    def describe(self) -> str:
        """``2026-11-23 07:00 Europe/Istanbul``, and what happens to a missed run."""
        if self.when is None:
            return "paused"
        shown = f"{self.when:%Y-%m-%d %H:%M} {self.zone}"
        if self.waiting:
            return f"{shown} (due: it runs when the job in hand ends)"
        if self.at_start and self.missed is None:
            return f"{shown} (at start)"
        if self.at_start:
            return f"{shown} (at start: the run due at {self.missed:%Y-%m-%d %H:%M} was missed)"
        if self.missed is not None:
            return (
                f"{shown} (the run due at {self.missed:%Y-%m-%d %H:%M} was missed by more "
                "than misfire_grace; it is skipped)"
            )
        return shown


def _local(moment: datetime | None, zone: ZoneInfo) -> datetime | None:
    # through UTC: a time stored as the unnormalised 02:30-05:00 reads 03:30
    return None if moment is None else moment.astimezone(UTC).astimezone(zone)
