"""The long-running scheduler (``briefings schedule``); see :mod:`.scheduler`."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    """The scheduler's clock (UTC). Every module of the package reads it here, so that a
    test setting ``briefings.schedule.now`` sets it for all of them."""
    return datetime.now(UTC)


from .scheduler import DISPATCH_EVERY as DISPATCH_EVERY  # noqa: E402
from .scheduler import JOBS_TABLE as JOBS_TABLE  # noqa: E402
from .scheduler import RESUME_WITHIN as RESUME_WITHIN  # noqa: E402
from .scheduler import RETRY as RETRY  # noqa: E402
from .scheduler import RETRY_AFTER as RETRY_AFTER  # noqa: E402
from .scheduler import RETRY_DELAYS as RETRY_DELAYS  # noqa: E402
from .scheduler import STOPPING as STOPPING  # noqa: E402
from .scheduler import Busy as Busy  # noqa: E402
from .scheduler import JobSpec as JobSpec  # noqa: E402
from .scheduler import Scheduler as Scheduler  # noqa: E402
from .scheduler import Stopped as Stopped  # noqa: E402
from .scheduler import Upcoming as Upcoming  # noqa: E402
from .scheduler import approve as approve  # noqa: E402
from .scheduler import dispatch as dispatch  # noqa: E402
from .scheduler import dispatch_job as dispatch_job  # noqa: E402
from .scheduler import edition_job as edition_job  # noqa: E402
from .scheduler import fetch_job as fetch_job  # noqa: E402
from .scheduler import holder as holder  # noqa: E402
from .scheduler import job_specs as job_specs  # noqa: E402
from .scheduler import last_slot as last_slot  # noqa: E402
from .scheduler import lock_path as lock_path  # noqa: E402
from .scheduler import send_after as send_after  # noqa: E402
from .scheduler import send_record as send_record  # noqa: E402
