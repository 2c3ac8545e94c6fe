"""The scheduler's jobs in the database: APScheduler's SQLAlchemy job store, made to wait
while another program holds the database rather than fail."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from apscheduler.job import Job
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from sqlalchemy.exc import OperationalError

from ..errors import StoreError

log = logging.getLogger("briefings.schedule")
T = TypeVar("T")
WAIT = 1.0
"""Seconds between two tries of a statement that found the database locked."""


class PatientJobStore(SQLAlchemyJobStore):  # type: ignore[misc]
    """Jobs in one table of the store. A statement that finds the database locked for
    longer than the store's busy timeout (a ``prune --vacuum`` of a big file, another
    program) is tried again every second until it goes through: APScheduler's thread
    ends on a failed update, and the process would live on running no job."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._waiting = threading.Lock()
        self._said = False

    def _patiently(self, statement: Callable[[], T]) -> T:
        while True:
            try:
                result = statement()
            except (StoreError, OperationalError) as exc:
                if "locked" not in str(exc):
                    raise
                with self._waiting:
                    if not self._said:
                        said = str(exc).split(";")[0]  # the file, and that it is locked
                        log.warning("%s; the scheduler waits until it is free", said)
                        self._said = True
                time.sleep(WAIT)
                continue
            with self._waiting:
                if self._said:
                    log.warning("the database is free again; the scheduler goes on")
                    self._said = False
            return result

    def start(self, scheduler: Any, alias: str) -> None:
        """Make the jobs table if it is missing. Two processes starting at once
        (``schedule`` beside ``schedule --list``) both found it missing, and the second
        ended with 'table scheduler_jobs already exists': it now finds the table made."""
        try:
            self._patiently(lambda: super(PatientJobStore, self).start(scheduler, alias))
        except OperationalError as exc:
            if "already exists" not in str(exc):
                raise
            super().start(scheduler, alias)

    def lookup_job(self, job_id: str) -> Job | None:
        return self._patiently(lambda: super(PatientJobStore, self).lookup_job(job_id))

    def get_due_jobs(self, now: datetime) -> list[Job]:
        return self._patiently(lambda: super(PatientJobStore, self).get_due_jobs(now))

    def get_next_run_time(self) -> datetime | None:
        found: datetime | None = self._patiently(
            lambda: super(PatientJobStore, self).get_next_run_time()
        )
        return found

    def get_all_jobs(self) -> list[Job]:
        return self._patiently(lambda: super(PatientJobStore, self).get_all_jobs())

    def add_job(self, job: Job) -> None:
        self._patiently(lambda: super(PatientJobStore, self).add_job(job))

    def update_job(self, job: Job) -> None:
        self._patiently(lambda: super(PatientJobStore, self).update_job(job))

    def remove_job(self, job_id: str) -> None:
        self._patiently(lambda: super(PatientJobStore, self).remove_job(job_id))

    def remove_all_jobs(self) -> None:
        self._patiently(lambda: super(PatientJobStore, self).remove_all_jobs())
