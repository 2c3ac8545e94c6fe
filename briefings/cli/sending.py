"""``briefings send`` and ``briefings approve``: an edition sent to its subscribers under the
run lock, and a draft approved (and sent, unless its send_at is later).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from .. import config as configuration
from .. import pipeline
from .. import subscribers as subscriber_records
from ..errors import ConfigError
from .console import err, errors_to_exit
from .group import _known_briefings, _opened


@click.command()
@click.argument("briefing_id")
@click.option("--dry-run", is_flag=True, help="Prepare every message, send none.")
@click.option(
    "--to",
    "to",
    help="Send one test message to this address (or Name <address>); nothing is recorded.",
)
@click.option("--resend", is_flag=True, help="Send to everyone again, even those already sent.")
@click.pass_obj
def send(config_path: Path, briefing_id: str, dry_run: bool, to: str | None, resend: bool) -> None:
    """Send a briefing's latest edition to its subscribers.

    Each subscriber gets it exactly once, however often this is run.
    """
    with errors_to_exit():
        config = configuration.load(config_path)
        _known_briefings(config, (briefing_id,))
        _send(config, [briefing_id], dry_run=dry_run, to=to, resend=resend)


def _send(
    config: configuration.Config,
    briefing_ids: Sequence[str],
    *,
    dry_run: bool = False,
    to: str | None = None,
    resend: bool = False,
    edition_name: str | None = None,
) -> None:
    from .. import deliver

    secret = deliver.secret_from_environment()
    if to is not None:
        try:
            _, to = subscriber_records.mailbox(to)
        except ValueError as exc:
            raise ConfigError([f"--to: {exc}"]) from None
    with pipeline.run_lock(config):
        _send_locked(
            config,
            briefing_ids,
            secret=secret,
            dry_run=dry_run,
            to=to,
            resend=resend,
            edition_name=edition_name,
        )


def _can_send(config: configuration.Config) -> None:
    """Stop, before anything changes, a command that would send but cannot: no secret,
    or no base URL for the links of mail sent through SMTP."""
    from .. import deliver

    deliver.secret_from_environment()
    if config.delivery.method == "smtp" and config.unlinked_mail():
        raise ConfigError([config.unlinked_mail()])


def _send_locked(
    config: configuration.Config,
    briefing_ids: Sequence[str],
    *,
    secret: bytes,
    dry_run: bool,
    to: str | None,
    resend: bool,
    edition_name: str | None,
) -> None:
    store = pipeline.open_store(config)
    problems = 0
    try:
        for briefing_id in briefing_ids:
            report = pipeline.send_edition(
                config,
                store,
                briefing_id,
                senders=lambda: pipeline.make_sender(config),
                connections=config.delivery.connections,
                secret=secret,
                now=datetime.now(UTC),
                to=to,
                dry_run=dry_run,
                resend=resend,
                edition_name=edition_name,
            )
            if report.skipped_reason:
                click.echo(f"{briefing_id}: not sent: {report.skipped_reason}")
                continue
            verb = "would send" if dry_run else "sent"
            count = report.prepared if dry_run else report.sent
            click.echo(
                f"{briefing_id} {report.edition}: {verb} {count}, already sent "
                f"{report.already}, failed {len(report.failed)}, in doubt "
                f"{len(report.in_doubt)}"
            )
            for email, error in report.failed:
                err.print(f"  failed {email}: {error}", markup=False, soft_wrap=True)
            for email in report.in_doubt:
                err.print(
                    f"  in doubt {email}: a stopped run was sending it; --resend sends it again",
                    markup=False,
                    soft_wrap=True,
                )
            problems += len(report.failed)
    finally:
        store.close()
    if problems:
        sys.exit(1)


@click.command()
@click.argument("briefing_id")
@click.option("--edition", default=None, help="Edition id; the latest by default.")
@click.option("--no-send", is_flag=True, help="Approve only; briefings schedule sends it.")
@click.pass_obj
def approve(config_path: Path, briefing_id: str, edition: str | None, no_send: bool) -> None:
    """Approve a draft edition for sending.

    It goes out now, or at the briefing's send_at if that is later.
    """
    from .. import schedule as scheduling

    with errors_to_exit():
        config = configuration.load(config_path)
        _known_briefings(config, (briefing_id,))
        if not no_send:
            _can_send(config)  # before anything changes
        now = datetime.now(UTC)
        with _opened(config) as store:
            record = scheduling.approve(config, store, briefing_id, edition, now=now)
            if record.send_after is not None and record.send_after > now:
                zone = config.briefing(briefing_id).timezone
                local = record.send_after.astimezone(ZoneInfo(zone))
                click.echo(
                    f"{briefing_id} {record.edition}: approved; it goes out at "
                    f"{local:%Y-%m-%d %H:%M} {zone} (briefings schedule sends it)"
                )
                return
            if no_send:
                click.echo(f"{briefing_id} {record.edition}: approved")
                return
        from .. import deliver

        secret = deliver.secret_from_environment()
        # claimed and sent under the run lock, as every sender does: an edition marked
        # sending while no sender holds the lock is one the scheduler finishes as stranded
        with pipeline.run_lock(config):
            with _opened(config) as store:
                claimed = store.move_edition(
                    briefing_id, record.edition, "sending", expected=("approved",), now=now
                )
            if not claimed:
                click.echo(f"{briefing_id} {record.edition}: approved; already being sent")
                return
            click.echo(f"{briefing_id} {record.edition}: approved; sending now")
            try:
                _send_locked(
                    config,
                    [briefing_id],
                    secret=secret,
                    dry_run=False,
                    to=None,
                    resend=False,
                    edition_name=record.edition,
                )
            finally:
                # sending moves it on to sent or failed; still sending means it never started
                with _opened(config) as store:
                    store.move_edition(
                        briefing_id,
                        record.edition,
                        "approved",
                        expected=("sending",),
                        send_after=record.send_after,
                        now=now,
                    )
