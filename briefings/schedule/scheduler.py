"""The scheduler of one configuration (:class:`Scheduler`): APScheduler 3, its jobs in the
store's database, brought in line with ``feeds.toml`` at start and when it is edited
(:meth:`Scheduler.take_up`), what ``--list`` shows, a stop that puts waiting runs back."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED, JobEvent
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger

from .. import config as configuration
from .. import schedule as package  # tests set its clock (``now``): read it there
from ..config import Config
from ..errors import BriefingsError, ConfigError
from ..store import Store
from ..store.jobs import PatientJobStore
from .executor import _SAID, _Executor
from .jobs import RETRY, RETRY_AFTER, STOPPING, Busy, Stopped, edition_job
from .listing import Upcoming, _local
from .lock import _hold, lock_path
from .specs import job_specs

log = logging.getLogger("briefings.schedule")
JOBS_TABLE = "scheduler_jobs"


def _stored(func: Callable[..., None]) -> str:
    """How the job store names a job's function: by its name on the package
    (``briefings.schedule:fetch_job``), as it did before the package had modules, so
    that stored jobs read the same whichever module defines the function."""
    return f"{package.__name__}:{func.__name__}"


class Scheduler:
    """The scheduler of one configuration, its jobs in the store's database."""

    def __init__(self, config: Config, store: Store, *, send: bool = True) -> None:
        self.config = config
        self.send = send
        self.specs = job_specs(config, send=send)
        self.executor = _Executor()
        logging.getLogger("apscheduler.executors.default").addFilter(_SAID)  # once: a set
        self.runs: list[tuple[str, str]] = []
        """(job id, outcome: executed, missed or error), in order, for reports and tests."""
        self.scheduler = BackgroundScheduler(
            jobstores={"default": PatientJobStore(engine=store.engine, tablename=JOBS_TABLE)},
            executors={"default": self.executor},
            job_defaults={"coalesce": True, "max_instances": 1},
            timezone=UTC,
        )
        self.scheduler.add_listener(
            self._on_event, EVENT_JOB_EXECUTED | EVENT_JOB_MISSED | EVENT_JOB_ERROR
        )
        self._held: int | None = None
        """The descriptor holding :func:`lock_path` while started."""
        self._seen = _stamp(config.path)
        """What ``feeds.toml`` was when last read (:meth:`take_up`)."""
        self._settling: tuple[int, int, int] | None = None
        """A change of ``feeds.toml`` seen once, taken up if it is still so at the next look."""

    def start(self) -> list[str]:
        """Start with the configuration's jobs; returns what changed in the stored jobs.

        Raises :class:`StoreError` when another scheduler runs on the same store: both
        would run every job.
        """
        self._held = _hold(lock_path(self.config))
        STOPPING.clear()
        self.scheduler.start(paused=True)
        changes = self._reconcile()
        self.scheduler.resume()
        return changes

    def prepare(self) -> list[str]:
        """Bring the stored jobs in line with the configuration without running any."""
        self.scheduler.start(paused=True)
        return self._reconcile()

    def upcoming(self, moment: datetime) -> list[Upcoming]:
        """What starting at ``moment`` would do with each job of the configuration, read
        from the stored jobs without changing them (``schedule --list``): a stored run that
        is due already runs at once, if within its misfire grace, or is skipped."""
        self.scheduler.start(paused=True)
        stored = {job.id: job for job in self.scheduler.get_jobs()}
        out = []
        for spec in self.specs:
            job = stored.get(spec.id)
            zone = ZoneInfo(spec.timezone)
            if job is None or job.name != spec.signature:
                due = (
                    moment if spec.id == "fetch" else spec.trigger.get_next_fire_time(None, moment)
                )
                if due is None or due > moment:
                    out.append(Upcoming(id=spec.id, when=_local(due, zone), zone=spec.timezone))
                else:
                    out.append(
                        Upcoming(
                            id=spec.id, when=_local(moment, zone), zone=spec.timezone, at_start=True
                        )
                    )
                continue
            due = job.next_run_time
            if due is None or due > moment:
                out.append(Upcoming(id=spec.id, when=_local(due, zone), zone=spec.timezone))
                continue
            missed = due
            following = spec.trigger.get_next_fire_time(missed, moment)
            while following is not None and following <= moment:
                missed, following = following, spec.trigger.get_next_fire_time(following, moment)
            grace = job.misfire_grace_time
            if grace is None or moment - missed <= timedelta(seconds=grace):
                out.append(
                    Upcoming(
                        id=spec.id,
                        when=_local(moment, zone),
                        zone=spec.timezone,
                        at_start=True,
                        missed=_local(missed, zone),
                    )
                )
            else:
                out.append(
                    Upcoming(
                        id=spec.id,
                        when=_local(following, zone),
                        zone=spec.timezone,
                        missed=_local(missed, zone),
                    )
                )
        return out

    def running(self, moment: datetime) -> list[Upcoming]:
        """The stored jobs as the scheduler running on this store runs them (``schedule
        --list`` beside it): its own jobs, a job put off as ``<briefing>:retry``
        included, whatever this process's configuration and ``--no-send`` would ask."""
        self.scheduler.start(paused=True)
        zones = {spec.id: spec.timezone for spec in self.specs}
        out = []
        for job in self.scheduler.get_jobs():
            zone = zones.get(job.id.removesuffix(RETRY)) or str(
                getattr(job.trigger, "timezone", "UTC")
            )
            due = job.next_run_time
            out.append(
                Upcoming(
                    id=job.id,
                    when=_local(due, ZoneInfo(zone)),
                    zone=zone,
                    waiting=due is not None and due <= moment,
                )
            )
        return out

    def jobs(self) -> list[tuple[str, datetime | None, str]]:
        """(id, next run in the job's own zone, zone name) of every job."""
        zones = {spec.id: spec.timezone for spec in self.specs}
        out = []
        for job in self.scheduler.get_jobs():
            zone = zones.get(job.id, "UTC")
            when = job.next_run_time
            out.append((job.id, when.astimezone(ZoneInfo(zone)) if when else None, zone))
        return out

    def take_up(self) -> list[str] | None:
        """Take up ``feeds.toml`` if it was edited since it was read, as a restart would:
        the jobs of briefings added, removed or rescheduled. What changed in the jobs, or
        None when the file is as it was. An invalid file, or one naming another
        ``settings.database``, changes no job: each problem is logged.

        A change is taken up at the look after the one that saw it, if the file has not
        changed in between: an editor saving it (truncate, then write) must not be caught
        half-way, when an empty file would remove every job."""
        stamp = _stamp(self.config.path)
        if stamp == self._seen:
            self._settling = None
            return None
        if stamp != self._settling:
            self._settling = stamp
            return None
        self._seen, self._settling = stamp, None
        path = self.config.path
        try:
            edited = configuration.load(path)
        except ConfigError as exc:
            for problem in exc.problems:
                log.error("%s; the jobs stay as they were", problem)
            return None
        except BriefingsError as exc:
            log.error("%s: %s; the jobs stay as they were", path, exc)
            return None
        if edited.settings.database != self.config.settings.database:
            log.error(
                "%s: settings.database changed; the jobs stay as they were until "
                "briefings schedule is restarted",
                path.name,
            )
            return None
        self.config = edited
        self.specs = job_specs(edited, send=self.send)
        return self._reconcile()

    def stop(self, *, wait: bool = True) -> None:
        """Stop; with ``wait``, after the job in hand has finished.

        Runs that fell due while it ran and wait behind it do not start: an edition's is
        put back as ``<briefing>:retry`` for its slot (see :data:`STOPPING`), which the
        next start runs while its slot is within ``misfire_grace``; a fetch or dispatch
        just waits for the next start.

        The job store is let go next: APScheduler's loop looks for due jobs once more
        after shutting down its executors, and would use up a due run without running it.
        """
        if self.scheduler.running:
            self.scheduler.pause()
            STOPPING.set()
            if wait:
                self.executor.wait_idle()
            with contextlib.suppress(KeyError):
                self.scheduler.remove_jobstore("default", shutdown=False)
            self.scheduler.shutdown(wait=wait)
            STOPPING.clear()
        if self._held is not None:
            os.close(self._held)  # closing drops the lock
            self._held = None

    def _reconcile(self) -> list[str]:
        stored = {job.id: job for job in self.scheduler.get_jobs()}
        changes = []
        for spec in self.specs:
            job = stored.pop(spec.id, None)
            grace = None if spec.misfire_grace is None else int(spec.misfire_grace.total_seconds())
            if job is not None and job.name == spec.signature:
                # the same runs, so the stored next run (maybe a missed one) is kept; a
                # trigger stored by an earlier version fired twice in the repeated hour
                kept: dict[str, Any] = {}
                if type(job.trigger) is not type(spec.trigger):
                    kept["trigger"] = spec.trigger
                if job.misfire_grace_time != grace:
                    kept["misfire_grace_time"] = grace
                if kept:
                    self.scheduler.modify_job(spec.id, **kept)
                    changes.append(f"changed {spec.id}")
                continue
            self.scheduler.add_job(
                _stored(spec.func),
                spec.trigger,
                args=spec.args,
                id=spec.id,
                name=spec.signature,
                replace_existing=True,
                misfire_grace_time=grace,
                **({"next_run_time": package.now()} if spec.id == "fetch" else {}),
            )
            changes.append(f"{'changed' if job else 'added'} {spec.id}")
        editions = {b.id for b in self.config.briefings}
        for job_id in stored:
            if job_id.endswith(RETRY) and job_id.removesuffix(RETRY) in editions:
                continue  # a put-off edition, still wanted
            self.scheduler.remove_job(job_id)
            changes.append(f"removed {job_id}")
        for change in changes:
            log.info("job %s", change)
        return changes

    def _retry(self, briefing_id: str, slot: datetime, *, stopping: bool = False) -> None:
        """Try an edition the busy store (or a stop) put off again, as job
        ``<briefing>:retry``, until its slot is more than ``misfire_grace`` late."""
        grace = self.config.settings.misfire_grace
        when = package.now() + (timedelta(0) if stopping else RETRY_AFTER)
        why = "the scheduler stopped" if stopping else "the store stayed busy"
        if when - slot > grace:
            log.error("%s: the edition due at %s was not built: %s", briefing_id, slot, why)
            return
        if stopping:
            log.warning(
                "%s: the scheduler is stopping; the edition due at %s is put back for the next "
                "start (within misfire_grace of its slot)",
                briefing_id,
                slot,
            )
        else:
            log.warning(
                "%s: the store is busy; the edition due at %s is tried again at %s",
                briefing_id,
                slot,
                when,
            )
        self.scheduler.add_job(
            _stored(edition_job),
            DateTrigger(run_date=when, timezone=UTC),
            args=(str(self.config.path.resolve()), briefing_id, self.send, slot.isoformat()),
            id=f"{briefing_id}{RETRY}",
            name=f"retry {slot.isoformat()}",
            replace_existing=True,
            misfire_grace_time=int(grace.total_seconds()),
        )

    def _on_event(self, event: JobEvent) -> None:
        if event.code == EVENT_JOB_MISSED:
            log.warning(
                "%s: the run due at %s was missed by more than misfire_grace; skipped%s",
                event.job_id,
                event.scheduled_run_time,
                ""
                if event.job_id in ("fetch", "dispatch")
                else " (the next edition carries its stories)",
            )
            self.runs.append((event.job_id, "missed"))
        elif event.code == EVENT_JOB_ERROR:
            if isinstance(event.exception, Stopped):
                self.runs.append((event.job_id, "put back"))
                if event.exception.slot is not None:
                    self._retry(event.exception.briefing, event.exception.slot, stopping=True)
                return
            log.error("%s: failed: %s", event.job_id, event.exception)
            self.runs.append((event.job_id, "error"))
            if isinstance(event.exception, Busy) and event.exception.slot is not None:
                self._retry(event.exception.briefing, event.exception.slot)
        else:
            self.runs.append((event.job_id, "executed"))


def _stamp(path: Path) -> tuple[int, int, int] | None:
    """What tells an edited file: its modification time, size and inode (None: gone)."""
    try:
        found = path.stat()
    except OSError:
        return None
    return (found.st_mtime_ns, found.st_size, found.st_ino)
