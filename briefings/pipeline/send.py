"""Sending an edition to its subscribers, each exactly once."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from ..config import Briefing, Config
from ..errors import BriefingsError, ConfigError
from ..model import (
    Edition,
    Subscriber,
)
from ..store import PRUNED, Store
from .editions import read_edition, render_edition
from .stages import (
    composing,
    deliver,
    render,
    topic_matcher,
)


@dataclass(slots=True, kw_only=True)
class SendReport:
    """What one sending of one edition did."""

    briefing: str
    edition: str = ""
    sent: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    already: int = 0
    in_doubt: list[str] = field(default_factory=list)
    """Messages a stopped run was sending: held back, as they may have gone out."""
    prepared: int = 0
    skipped_reason: str = ""


def send_edition(
    config: Config,
    store: Store,
    briefing_id: str,
    *,
    senders: Callable[[], deliver.Sender],
    secret: bytes,
    connections: int = 1,
    now: datetime,
    to: str | None = None,
    dry_run: bool = False,
    resend: bool = False,
    edition_name: str | None = None,
) -> SendReport:
    """Send the latest edition of a briefing to its active subscribers, each once.

    The ledger records every message as *sending* before it goes and *sent* or
    *failed* after, each in its own transaction; a run that stops half-way and
    starts again sends only what is left. A message caught in flight by the stop
    is held back as *in doubt* rather than risk sending it twice (with several
    ``connections``, up to one per connection); ``resend`` clears the ledger.
    ``to`` sends one test message and records nothing. ``senders`` makes one
    sender per connection. ``edition_name`` picks an edition other than the latest.

    A message is marked *sending* only once its connection is open and logged in;
    one that never left (no connection, a refused login) is unmarked, and the run
    stops with a :class:`deliver.DeliveryError`. A message that cannot be made (a
    control character in a name) fails its subscriber only.

    Through SMTP, nothing is sent (a test neither) without a base URL: the links would be
    relative, which means nothing in a mailbox (:class:`ConfigError`).

    A draft is not sent (but a test message is); the edition's status goes to
    *sending*, then *sent* when every message is sent or failed for good, or *failed*
    when some are left (no connection) or in doubt.
    """
    if not dry_run and config.delivery.method == "smtp" and config.unlinked_mail():
        raise ConfigError([config.unlinked_mail()])
    briefing = config.briefing(briefing_id)
    report = SendReport(briefing=briefing_id)
    if edition_name is None:
        latest = store.latest_edition(briefing_id)
        if latest is None:
            raise BriefingsError(f"{briefing_id}: no edition has been built yet (run build first)")
        edition_name = latest[0]
    record_of = store.edition(briefing_id, edition_name)
    if record_of is None:
        raise BriefingsError(f"{briefing_id}: there is no edition {edition_name}")
    report.edition = edition_name
    if record_of.status == "draft" and to is None and not dry_run:
        raise BriefingsError(
            f"{briefing_id} {edition_name}: a draft awaiting review; approve it first "
            f"(briefings approve {briefing_id}, or the desk)"
        )
    edition = read_edition(config, briefing_id, edition_name, recorded=record_of.path)
    if to is None and len(edition.stories) < briefing.min_stories:
        report.skipped_reason = (
            f"{len(edition.stories)} stories, fewer than min_stories = {briefing.min_stories}"
        )
        if not dry_run:
            store.move_edition(
                briefing_id, edition_name, "skipped", expected=("approved", "sending"), now=now
            )
        return report
    if to is not None:
        recipients = [Subscriber(email=to, tier="pro", briefings=(briefing_id,))]
    else:
        recipients = store.list_subscribers(briefing=briefing_id, status="active")
    if resend and to is None and not dry_run:
        store.forget_deliveries(briefing_id, report.edition)
    ledger = {} if to is not None else store.ledger(briefing_id, report.edition)
    if PRUNED in ledger:
        raise BriefingsError(
            f"{briefing_id} {edition_name}: sent long ago, and who got it was pruned from the "
            "store (settings.retention); --resend sends it to every subscriber again"
        )
    bodies = _Bodies(config, briefing, edition)
    tz = briefing.timezone
    record = to is None
    lock = threading.Lock()
    local = threading.local()
    opened: list[deliver.Sender] = []
    stop = threading.Event()  # a connection failed: send nothing more

    def deliver_one(email: str, message: deliver.Prepared) -> None:
        if stop.is_set():
            return
        try:
            sender = getattr(local, "sender", None)
            if sender is None:
                sender = local.sender = senders()
                with lock:
                    opened.append(sender)
            sender.open()  # connected and logged in before the message counts as in flight
            if record:
                store.mark_delivery(briefing_id, report.edition, email, "sending", now=now)
            try:
                outcome = sender.send(message)
            except deliver.NotSent:
                if record:  # it never left: a later run sends it
                    store.forget_deliveries(briefing_id, report.edition, email)
                raise
        except deliver.DeliveryError:
            stop.set()
            raise
        if record:
            store.mark_delivery(
                briefing_id, report.edition, email, outcome.status, now=now, error=outcome.error
            )
        with lock:
            if outcome.status == "sent":
                report.sent += 1
            else:
                report.failed.append((email, outcome.error))

    def refuse(email: str, error: str) -> None:
        """A message that cannot be made fails its subscriber only."""
        if record and not dry_run:
            store.mark_delivery(briefing_id, report.edition, email, "failed", now=now, error=error)
        with lock:
            report.failed.append((email, error))

    workers = max(1, connections)
    slots = threading.Semaphore(workers * 2)  # build messages only a little ahead of sending
    tracked = record and not dry_run
    if tracked:
        store.move_edition(
            briefing_id,
            edition_name,
            "sending",
            expected=("approved", "sending", "sent", "failed"),
            now=now,
        )
    finished = False
    try:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="send") as pool:
            pending = []
            for subscriber in recipients:
                if stop.is_set():
                    break
                state = ledger.get(subscriber.email.lower())
                if state in ("sent", "failed"):
                    report.already += 1
                    continue
                if state == "sending":
                    report.in_doubt.append(subscriber.email)
                    continue
                html, text = bodies.of(subscriber)
                try:
                    message = deliver.message(
                        edition=edition,
                        briefing=briefing,
                        subscriber=subscriber,
                        html=html,
                        text=text,
                        delivery=config.delivery,
                        secret=secret,
                        timezone=tz,
                        now=now,
                        test=to is not None,
                    )
                except deliver.DeliveryError as exc:
                    refuse(subscriber.email, str(exc).removeprefix(f"{subscriber.email}: "))
                    continue
                report.prepared += 1
                if dry_run:
                    continue
                slots.acquire()
                job = pool.submit(deliver_one, subscriber.email, message)
                job.add_done_callback(lambda _: slots.release())
                pending.append(job)
            for job in pending:
                job.result()  # a crash in a worker is a crash of the run
        finished = not report.in_doubt
    finally:
        for sender in opened:
            sender.close()
        if tracked:
            # sent: everyone was tried, and each message is sent or failed for good; failed:
            # some are left (no connection) or in doubt, and a later send takes them up
            store.move_edition(
                briefing_id,
                edition_name,
                "sent" if finished else "failed",
                expected=("sending",),
                now=now,
            )
    return report


class _Bodies:
    """The email bodies a subscriber gets (:func:`reader_files`), rendered once per tier and
    industry order."""

    def __init__(self, config: Config, briefing: Briefing, edition: Edition) -> None:
        self.config, self.briefing, self.edition = config, briefing, edition
        self.env = render.environment(config.settings.templates)
        self.titles = {t.id: t.title for t in topic_matcher(config).topics.values()}
        self.cache: dict[tuple[str, ...], tuple[str, str]] = {}

    def of(self, subscriber: Subscriber) -> tuple[str, str]:
        tier, order = reader_order(self.edition, self.briefing, subscriber)
        key = (tier, *order)
        if key not in self.cache:
            files = reader_files(
                self.config,
                self.briefing,
                self.edition,
                subscriber,
                sent=True,
                env=self.env,
                titles=self.titles,
            )
            self.cache[key] = (files["email.html"], files["email.txt"])
        return self.cache[key]


def reader_order(
    edition: Edition, briefing: Briefing, subscriber: Subscriber
) -> tuple[str, tuple[str, ...]]:
    """The rendering a subscriber gets (``free`` or ``pro``) and, of an industry weekly, the
    order of their industries (:func:`compose.for_reader`; empty without picks that have
    news)."""
    tier = "pro" if subscriber.tier == "pro" else "free"
    picks = subscriber.industries if tier == "pro" else ()
    return tier, composing.for_reader(edition, briefing, picks)[1]


def reader_files(
    config: Config,
    briefing: Briefing,
    edition: Edition,
    subscriber: Subscriber,
    *,
    sent: bool,
    env: Any = None,
    titles: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """What one subscriber gets of an edition: ``email.html``, ``email.txt`` and
    ``index.html``, free or PRO by their tier, an industry weekly in their industries'
    order. ``sent`` renders for a mailbox (the email), else for the browser (the web page).
    The sender and the desk's "preview as" both render through here; the personal links
    are still placeholders."""
    tier, order = reader_order(edition, briefing, subscriber)
    files = render_edition(
        config, briefing, edition, env=env, titles=titles, order=order, sent=sent
    )
    made = files.private if tier == "pro" else files.public
    suffix = ".pro" if tier == "pro" else ""
    return {name: made[name.replace(".", f"{suffix}.", 1)] for name in FILES}


FILES = ("email.html", "email.txt", "index.html")
"""The files of one reader's rendering, named as the free ones are."""


def make_sender(config: Config) -> deliver.Sender:
    """The sender ``[delivery]`` asks for; with several connections, each gets its share
    of ``rate``."""
    if config.delivery.method == "outbox":
        return deliver.OutboxSender(
            config.delivery.outbox, dkim=deliver.dkim_settings(config.delivery)
        )
    share = replace(
        config.delivery, rate=config.delivery.rate / max(1, config.delivery.connections)
    )
    return deliver.SmtpSender(share, dkim=deliver.dkim_settings(config.delivery))
