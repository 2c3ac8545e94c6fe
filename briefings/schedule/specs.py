"""The jobs a configuration asks for (:class:`JobSpec`, :func:`job_specs`): fetch, dispatch
and one per briefing, each with the trigger and signature it is stored with."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import Any

from apscheduler.triggers.interval import IntervalTrigger

from .. import config as configuration
from ..config import Config
from .jobs import dispatch_job, edition_job, fetch_job

DISPATCH_EVERY = timedelta(minutes=1)


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
