"""``briefings schedule``: every briefing run on its schedule until stopped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from .. import config as configuration
from .. import pipeline
from ..errors import BriefingsError
from .console import _fail, err, errors_to_exit
from .sending import _can_send


@click.command()
@click.option("--list", "listing", is_flag=True, help="Print each job and its next run, then exit.")
@click.option("--no-send", is_flag=True, help="Build editions but send nothing.")
@click.pass_obj
def schedule(config_path: Path, listing: bool, no_send: bool) -> None:
    """Run every briefing on its schedule until stopped.

    SIGTERM, SIGHUP or Ctrl-C stops it once the job in hand is done; a second one stops it
    at once.
    Jobs live in the database: after a restart, an edition missed by at most
    settings.misfire_grace runs once; jobs of briefings no longer in the
    configuration are dropped.
    """
    import logging
    import signal
    import threading

    from .. import schedule as scheduling

    # running unattended, its warnings (a run skipped or put off) are all it can tell
    said = logging.getLogger("briefings")
    said.setLevel(min(said.getEffectiveLevel(), logging.WARNING))
    with errors_to_exit():
        config = configuration.load(config_path)
        if not no_send and not listing:
            _can_send(config)
        store = pipeline.open_store(config)
    service = scheduling.Scheduler(config, store, send=not no_send)
    try:
        if listing:
            pid = scheduling.holder(config)
            if pid is not None:
                err.print(f"briefings schedule (pid {pid}) runs on this database: its jobs")
            listed = service.running if pid is not None else service.upcoming
            upcoming = sorted(listed(scheduling.now()), key=lambda u: u.id)
            if not upcoming:
                return
            width = max(len(u.id) for u in upcoming)
            for job in upcoming:
                click.echo(f"{job.id:<{width}}  {job.describe()}")
            return
        stop = threading.Event()
        signals: list[int] = []

        def on_signal(number: int, _frame: Any) -> None:
            signals.append(number)
            if len(signals) > 1:
                err.print("stopping now; the job in hand is abandoned (the store stays consistent)")
                import os

                os._exit(1)
            stop.set()

        # SIGHUP too: the terminal it was started from closed; its default would end the
        # process mid-job, with no word in the log
        for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(number, on_signal)
        ended: list[str] = []
        others = threading.excepthook

        def on_thread_error(args: threading.ExceptHookArgs) -> None:
            # APScheduler's own thread ended (a job-store write failed): no job would run
            # again, so the process ends too, for its service manager to restart it
            if args.thread is None or args.thread.name != "APScheduler":
                others(args)
                return
            error = args.exc_value
            ended.append(
                str(error)
                if isinstance(error, BriefingsError)
                else f"{args.exc_type.__name__}: {str(error).splitlines()[0] if error else ''}"
            )
            stop.set()

        threading.excepthook = on_thread_error
        with errors_to_exit():
            changes = service.start()
        err.print(
            f"Scheduling {len(service.specs)} jobs"
            + (f" ({', '.join(changes)})" if changes else "")
            + "; SIGTERM or Ctrl-C stops"
        )
        while not stop.wait(1.0):
            changed = service.take_up()
            if changed is not None:
                err.print(f"{config_path.name} changed: {', '.join(changed) or 'no job changed'}")
        if ended:
            err.print("stopping: the scheduler's thread ended; waiting for the job in hand")
        else:
            err.print("stopping: waiting for the job in hand to finish (again to abandon it)")
        service.stop(wait=True)
        if ended:
            _fail([f"the scheduler stopped: {ended[0]}"], 1)
    finally:
        service.stop(wait=False)
        store.close()
