"""The long-running scheduler (``briefings schedule``): APScheduler 3, jobs in the store.

Jobs, kept in the project's database so that a restart knows what was missed:

- ``fetch``: every feed and article page, every ``settings.fetch_interval``;
- one job per briefing, from its cron line in its own time zone: fetch, build the
  edition of that slot, and send it unless the briefing wants review;
- ``dispatch``: every minute, send editions editors approved whose ``send_at`` has come.

Each job runs once at most at a time, one job at a time, and a run missed while the
scheduler was down is made up once if it is at most ``settings.misfire_grace``
late (coalesced); a later one is skipped with a log line.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED, JobEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from . import compose as composing
from . import config as configuration
from . import deliver, pipeline
from .config import Briefing, Config
from .errors import BriefingsError, ConfigError, StoreError
from .model import EditionRecord
from .store import Store
from .store.jobs import PatientJobStore

log = logging.getLogger("briefings.schedule")
JOBS_TABLE = "scheduler_jobs"
DISPATCH_EVERY = timedelta(minutes=1)


def now() -> datetime:
    """The scheduler's clock (UTC)."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class JobSpec:
    """One job the configuration asks for. ``signature`` says when it runs: a stored job
    with the same signature keeps its next run time across restarts."""

    id: str
    func: Callable[..., None]
    trigger: Any
    args: tuple[Any, ...]
    timezone: str
    signature: str
    misfire_grace: timedelta | None


def job_specs(config: Config, *, send: bool) -> list[JobSpec]:
    """The jobs of a configuration: fetch, dispatch (when sending) and one per briefing."""
    path = str(config.path.resolve())
    grace = config.settings.misfire_grace
    interval = config.settings.fetch_interval
    specs = [
        JobSpec(
            id="fetch",
            func=fetch_job,
            trigger=IntervalTrigger(seconds=interval.total_seconds(), timezone=UTC),
            args=(path,),
            timezone=config.settings.timezone,
            signature=f"every {int(interval.total_seconds())}s",
            misfire_grace=None,
        )
    ]
    if send:
        specs.append(
            JobSpec(
                id="dispatch",
                func=dispatch_job,
                trigger=IntervalTrigger(seconds=DISPATCH_EVERY.total_seconds(), timezone=UTC),
                args=(path,),
                timezone=config.settings.timezone,
                signature=f"every {int(DISPATCH_EVERY.total_seconds())}s",
                misfire_grace=None,
            )
        )
    for briefing in config.briefings:
        specs.append(
            JobSpec(
                id=briefing.id,
                func=edition_job,
                trigger=configuration.cron_trigger(briefing.schedule, briefing.timezone),
                args=(path, briefing.id, send),
                timezone=briefing.timezone,
                signature=f"cron {briefing.schedule} {briefing.timezone} send={send}",
                misfire_grace=grace,
            )
        )
    return specs


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
        ``settings.database``, changes no job: each problem is logged."""
        stamp = _stamp(self.config.path)
        if stamp == self._seen:
            return None
        self._seen = stamp
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
                spec.func,
                spec.trigger,
                args=spec.args,
                id=spec.id,
                name=spec.signature,
                replace_existing=True,
                misfire_grace_time=grace,
                **({"next_run_time": now()} if spec.id == "fetch" else {}),
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
        when = now() + (timedelta(0) if stopping else RETRY_AFTER)
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
            edition_job,
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


class _Said(logging.Filter):
    """Drops what APScheduler logs that the scheduler says itself, in one line naming the
    job (:meth:`Scheduler._on_event`): a run missed, and the traceback of a job that raised
    one of our errors (nothing at all for a run a stop put back)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if str(record.msg).startswith("Run time of job"):
            return False
        return not (record.exc_info and isinstance(record.exc_info[1], BriefingsError))


_SAID = _Said()


class _Executor(ThreadPoolExecutor):  # type: ignore[misc]  # APScheduler has no types
    """APScheduler's pool of one thread, counting the runs handed to it that have not
    ended (the one running and those waiting behind it), listeners included."""

    def __init__(self) -> None:
        super().__init__(1)
        self._pending = 0
        self._settled = threading.Condition()

    def wait_idle(self) -> None:
        """Wait until every run handed over has ended and its listeners have run."""
        with self._settled:
            self._settled.wait_for(lambda: self._pending == 0)

    def _do_submit_job(self, job: Any, run_times: Any) -> None:
        with self._settled:
            self._pending += 1
        try:
            super()._do_submit_job(job, run_times)
        except BaseException:
            self._ended()
            raise

    def _run_job_success(self, job_id: str, events: Any) -> None:
        try:
            super()._run_job_success(job_id, events)
        finally:
            self._ended()

    def _run_job_error(self, job_id: str, exc: BaseException, traceback: Any = None) -> None:
        try:
            super()._run_job_error(job_id, exc, traceback)
        finally:
            self._ended()

    def _ended(self) -> None:
        with self._settled:
            self._pending -= 1
            self._settled.notify_all()


def _stamp(path: Path) -> tuple[int, int, int] | None:
    """What tells an edited file: its modification time, size and inode (None: gone)."""
    try:
        found = path.stat()
    except OSError:
        return None
    return (found.st_mtime_ns, found.st_size, found.st_ino)


def lock_path(config: Config) -> Path:
    """The file a running scheduler holds locked, beside the store's run lock."""
    run = pipeline.lock_path(config)
    return run.with_name(run.name.removesuffix(".lock") + ".schedule.lock")


def holder(config: Config) -> str | None:
    """The pid of the ``briefings schedule`` running on this store (``"unknown"`` when it
    wrote none), or None when none runs. Creates nothing."""
    try:
        handle = os.open(lock_path(config), os.O_RDONLY)
    except OSError:
        return None  # never started here, or unreadable: as good as none
    try:
        fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return os.pread(handle, 32, 0).decode("ascii", "replace").strip() or "unknown"
    finally:
        os.close(handle)  # closing drops a lock taken
    return None


def _hold(path: Path) -> int:
    """Lock ``path`` for as long as this process keeps the returned descriptor open."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StoreError(f"{path}: cannot create the lock file: {exc.strerror}") from None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(handle, 32, 0).decode("ascii", "replace").strip()
        os.close(handle)
        raise StoreError(
            f"{path}: another briefings schedule (pid {holder or 'unknown'}) runs on this "
            "database; stop it first"
        ) from None
    os.ftruncate(handle, 0)
    os.pwrite(handle, f"{os.getpid()}\n".encode(), 0)
    return handle


def last_slot(briefing: Briefing, moment: datetime, *, within: timedelta) -> datetime:
    """The latest scheduled time of ``briefing`` at or before ``moment`` (looking back at
    most ``within``), or ``moment`` itself when there is none."""
    trigger = configuration.cron_trigger(briefing.schedule, briefing.timezone)
    found = None
    previous = None
    candidate = trigger.get_next_fire_time(None, moment - within)
    while candidate is not None and candidate <= moment:
        found = candidate
        previous = candidate
        # In UTC: a second added to a local time in the hour repeated when summer time ends
        # lands in its first pass, and the trigger would give the same slot for ever.
        after = previous.astimezone(UTC) + timedelta(seconds=1)
        candidate = trigger.get_next_fire_time(previous, after)
    return found or moment


class Busy(StoreError):
    """Another command held the store's lock for longer than ``settings.lock_wait``."""

    def __init__(self, message: str, *, briefing: str = "", slot: datetime | None = None):
        super().__init__(message)
        self.briefing = briefing
        self.slot = slot
        """The edition's slot, for an edition job: it is tried again (see ``RETRY_AFTER``)."""


class Stopped(Busy):
    """A run that fell due while another ran, not started because the scheduler is
    stopping; an edition's is put back for its slot."""


STOPPING = threading.Event()
"""Set while a scheduler stops: runs still waiting for the executor end at once."""
RESUME_WITHIN = timedelta(days=1)
RETRY_DELAYS = (
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(minutes=45),
    timedelta(hours=2),
)
"""How long ``dispatch`` waits before each new try of an edition whose send found no
mail server (down, refusing, a login refused): five tries over about three hours."""
"""How old an edition whose sending stopped half-way may be for dispatch to finish it."""
RETRY = ":retry"
"""The suffix of the job that tries a put-off edition again."""
RETRY_AFTER = timedelta(minutes=1)
"""How soon an edition job that found the store busy is tried again, within its grace."""


@contextmanager
def _run(
    config_path: str, *, briefing: str = "", slot: datetime | None = None
) -> Iterator[pipeline.Run]:
    """One job's run, holding the store's lock (as ``run``, ``build`` and ``send`` do)."""
    config = configuration.load(Path(config_path))
    with contextlib.ExitStack() as held:
        try:
            held.enter_context(pipeline.run_lock(config))
        except StoreError as exc:
            raise Busy(str(exc), briefing=briefing, slot=slot) from None
        store = pipeline.open_store(config)
        try:
            yield pipeline.Run(config=config, store=store, now=now())
        finally:
            store.close()


def fetch_job(config_path: str) -> None:
    """Fetch every feed and the pages of new entries, and place the new articles in their
    stories, so that an edition's build finds them ready."""
    if STOPPING.is_set():
        raise Stopped("the scheduler is stopping")
    with _run(config_path) as run:
        pipeline.fetch_feeds(run)
        pipeline.fetch_pages(run)
        pipeline.analyse(run)
        report = run.report
        log.info(
            "fetch: %d feeds, %d new entries, %d failures",
            report.feeds,
            report.entries_new,
            len(report.failures),
        )


def edition_job(config_path: str, briefing_id: str, send: bool, slot: str = "") -> None:
    """Fetch, build this briefing's edition of the current slot (or of ``slot``, an ISO
    time, when a busy store put it off), and send it unless it waits for review."""
    config = configuration.load(Path(config_path))
    briefing = config.briefing(briefing_id)
    due = (
        datetime.fromisoformat(slot)
        if slot
        else last_slot(briefing, now(), within=config.settings.misfire_grace + timedelta(minutes=1))
    )
    if STOPPING.is_set():
        raise Stopped("the scheduler is stopping", briefing=briefing_id, slot=due)
    with _run(config_path, briefing=briefing_id, slot=due) as run:
        name = composing.edition_id(due, briefing.timezone)
        pipeline.fetch_feeds(run)
        pipeline.fetch_pages(run)
        built = pipeline.build(
            run, [briefing_id], names={briefing_id: name}, slots={briefing_id: due}
        )
        if not built:
            log.info("%s %s: no edition (no new stories)", briefing_id, name)
            return
        if briefing.review:
            log.info("%s %s: draft built, waiting for review", briefing_id, name)
            return
        log.info("%s %s: built", briefing_id, name)
        if send and run.store.move_edition(
            briefing_id, name, "sending", expected=("approved",), now=run.now
        ):
            record = run.store.edition(briefing_id, name)
            assert record is not None
            send_record(run.config, run.store, record, now=run.now)


def dispatch_job(config_path: str) -> None:
    """Send every approved edition whose time has come."""
    if STOPPING.is_set():
        raise Stopped("the scheduler is stopping")
    with _run(config_path) as run:
        dispatch(run.config, run.store, now=run.now)


def dispatch(config: Config, store: Store, *, now: datetime) -> list[pipeline.SendReport]:
    """Send the editions editors approved that are due, each claimed first so that no
    other process sends it too; finish those whose sending stopped half-way; and try
    again those whose send found no mail server, when :data:`RETRY_DELAYS` say.

    Every sender holds the store's lock, as the caller must: an edition still marked
    *sending* is one whose process ended mid-send (killed, or the machine went down). If
    it was built in the last :data:`RESUME_WITHIN`, the subscribers its ledger has no line
    for get it now; those whose message was in flight are held back, in doubt, as
    ``send`` does.
    """
    reports = []
    known = {b.id for b in config.briefings}
    for record in store.stranded_editions(now - RESUME_WITHIN):
        if record.briefing not in known:
            continue
        log.warning(
            "%s %s: its sending stopped half-way (the process ended); sending to the rest",
            record.briefing,
            record.edition,
        )
        reports.append(send_record(config, store, record, now=now))
    for record in store.due_editions(now):
        if record.briefing not in known:
            continue
        if not store.move_edition(
            record.briefing, record.edition, "sending", expected=("approved",), now=now
        ):
            continue  # another process took it
        reports.append(send_record(config, store, record, now=now))
    for record in store.retry_editions(now, now - RESUME_WITHIN):
        if record.briefing not in known:
            continue
        if not store.move_edition(
            record.briefing, record.edition, "sending", expected=("failed",), now=now
        ):
            continue
        log.info("%s %s: trying again to send it", record.briefing, record.edition)
        reports.append(send_record(config, store, record, now=now))
    return reports


def send_record(
    config: Config, store: Store, record: EditionRecord, *, now: datetime
) -> pipeline.SendReport:
    """Send one edition to its subscribers, logging the outcome."""
    try:
        report = pipeline.send_edition(
            config,
            store,
            record.briefing,
            senders=lambda: pipeline.make_sender(config),
            connections=config.delivery.connections,
            secret=deliver.secret_from_environment(),
            now=now,
            edition_name=record.edition,
        )
    except BriefingsError as exc:
        store.move_edition(
            record.briefing, record.edition, "failed", expected=("sending",), now=now
        )
        if not isinstance(exc, deliver.DeliveryError):  # no mail server: try again later
            log.error("%s %s: not sent: %s", record.briefing, record.edition, exc)
            raise
        attempts, retry_at = store.plan_retry(
            record.briefing, record.edition, now=now, delays=RETRY_DELAYS
        )
        then = (
            f"trying again at {retry_at:%H:%M} UTC (attempt {attempts + 1} of "
            f"{len(RETRY_DELAYS) + 1})"
            if retry_at is not None
            else f"given up after {attempts} attempts; send it with `briefings send`"
        )
        log.error("%s %s: not sent: %s; %s", record.briefing, record.edition, exc, then)
        raise
    log.info(
        "%s %s: sent %d, failed %d, in doubt %d",
        record.briefing,
        record.edition,
        report.sent,
        len(report.failed),
        len(report.in_doubt),
    )
    return report


def send_after(briefing: Briefing, record: EditionRecord) -> datetime | None:
    """When an approved edition may go out: ``send_at`` on the edition's local date."""
    if briefing.send_at is None:
        return None
    zone = ZoneInfo(briefing.timezone)
    local = record.generated_at.astimezone(zone)
    hour, minute = briefing.send_at
    return local.replace(hour=hour, minute=minute, second=0, microsecond=0).astimezone(UTC)


def approve(
    config: Config, store: Store, briefing_id: str, edition: str | None, *, now: datetime
) -> EditionRecord:
    """Approve a draft (the latest when ``edition`` is None); returns the approved record."""
    briefing = config.briefing(briefing_id)
    if edition is None:
        latest = store.editions_of(briefing_id, limit=1)
        if not latest:
            raise BriefingsError(f"{briefing_id}: no edition has been built yet")
        edition = latest[0].edition
    record = store.edition(briefing_id, edition)
    if record is None:
        raise BriefingsError(f"{briefing_id}: there is no edition {edition}")
    if record.status != "draft":
        raise BriefingsError(f"{briefing_id} {edition}: already {record.status}, not a draft")
    pipeline.publish_approved(config, briefing_id, edition)  # all of it, or not approved
    store.move_edition(
        briefing_id,
        edition,
        "approved",
        expected=("draft",),
        send_after=send_after(briefing, record),
        now=now,
    )
    approved = store.edition(briefing_id, edition)
    assert approved is not None
    return approved
