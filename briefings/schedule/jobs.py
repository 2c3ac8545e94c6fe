"""What the scheduler runs: the jobs (:func:`fetch_job`, :func:`edition_job`,
:func:`dispatch_job`), each holding the store's lock, the slot an edition is built for
(:func:`last_slot`), and how a busy store or a stop puts a run off (:class:`Busy`,
:class:`Stopped`, :data:`STOPPING`)."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from .. import compose as composing
from .. import config as configuration
from .. import pipeline
from .. import schedule as package  # tests set its clock (``now``): read it there
from ..config import Briefing
from ..errors import StoreError
from .sending import dispatch, send_record

log = logging.getLogger("briefings.schedule")


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
            yield pipeline.Run(config=config, store=store, now=package.now())
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
        else last_slot(
            briefing, package.now(), within=config.settings.misfire_grace + timedelta(minutes=1)
        )
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
