"""APScheduler's executor as the scheduler runs it: one thread, counting the runs handed to it
(:class:`_Executor`), and the filter on what it logs that the scheduler says itself
(:data:`_SAID`)."""

from __future__ import annotations

import logging
import threading
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor

from ..errors import BriefingsError


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
