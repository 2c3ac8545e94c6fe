"""Sending editions: what ``dispatch`` sends and when (approved, stopped half-way, to be
tried again), one edition to its subscribers (:func:`send_record`), and approving a
draft (:func:`approve`, :func:`send_after`)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from .. import deliver, pipeline
from ..config import Briefing, Config
from ..errors import BriefingsError
from ..model import EditionRecord
from ..store import Store

log = logging.getLogger("briefings.schedule")
RESUME_WITHIN = timedelta(days=1)
"""How old an edition whose sending stopped half-way may be for dispatch to finish it."""
RETRY_DELAYS = (
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(minutes=45),
    timedelta(hours=2),
)
"""How long ``dispatch`` waits before each new try of an edition whose send found no
mail server (down, refusing, a login refused): five tries over about three hours."""


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
