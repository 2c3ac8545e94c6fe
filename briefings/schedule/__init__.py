"""The long-running scheduler (``briefings schedule``): APScheduler 3, jobs in the store.

Jobs, kept in the project's database so that a restart knows what was missed:

- ``fetch``: every feed and article page, every ``settings.fetch_interval``;
- one job per briefing, from its cron line in its own time zone: fetch, build the
  edition of that slot, and send it unless the briefing wants review;
- ``dispatch``: every minute, send editions editors approved whose ``send_at`` has come.

Each job runs once at most at a time, one job at a time, and a run missed while the
scheduler was down is made up once if it is at most ``settings.misfire_grace``
late (coalesced); a later one is skipped with a log line.

The modules: :mod:`.scheduler` (the :class:`Scheduler`), :mod:`.specs` (the jobs a
configuration asks for), :mod:`.jobs` (what they run), :mod:`.sending` (dispatch, sending
and approving editions), :mod:`.listing` (what ``--list`` shows), :mod:`.lock` (one
scheduler per store) and :mod:`.executor` (APScheduler's executor and log filter). Every
name is importable from ``briefings.schedule``, and the scheduler's clock is this
package's :func:`now`. Every module logs as ``briefings.schedule``.
"""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    """The scheduler's clock (UTC). Every module of the package reads it here, so that a
    test setting ``briefings.schedule.now`` sets it for all of them."""
    return datetime.now(UTC)


from .jobs import RETRY as RETRY  # noqa: E402
from .jobs import RETRY_AFTER as RETRY_AFTER  # noqa: E402
from .jobs import STOPPING as STOPPING  # noqa: E402
from .jobs import Busy as Busy  # noqa: E402
from .jobs import Stopped as Stopped  # noqa: E402
from .jobs import dispatch_job as dispatch_job  # noqa: E402
from .jobs import edition_job as edition_job  # noqa: E402
from .jobs import fetch_job as fetch_job  # noqa: E402
from .jobs import last_slot as last_slot  # noqa: E402
from .listing import Upcoming as Upcoming  # noqa: E402
from .lock import holder as holder  # noqa: E402
from .lock import lock_path as lock_path  # noqa: E402
from .scheduler import JOBS_TABLE as JOBS_TABLE  # noqa: E402
from .scheduler import Scheduler as Scheduler  # noqa: E402
from .sending import RESUME_WITHIN as RESUME_WITHIN  # noqa: E402
from .sending import RETRY_DELAYS as RETRY_DELAYS  # noqa: E402
from .sending import approve as approve  # noqa: E402
from .sending import dispatch as dispatch  # noqa: E402
from .sending import send_after as send_after  # noqa: E402
from .sending import send_record as send_record  # noqa: E402
from .specs import DISPATCH_EVERY as DISPATCH_EVERY  # noqa: E402
from .specs import JobSpec as JobSpec  # noqa: E402
from .specs import job_specs as job_specs  # noqa: E402
