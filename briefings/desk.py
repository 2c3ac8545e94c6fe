"""The editors' desk (``briefings preview``): a local web app to check, fix and approve
editions before they go out.

It renders through the same :func:`pipeline.render_edition` the sender uses, with the
templates read again on every request. It answers only on loopback unless started
with an explicit host, and every request must carry the token printed at start
(a cookie once the printed address has been opened; a form field on every change),
so a page from another site cannot approve an edition.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import re
import secrets
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import cookies
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, parse_qsl, quote, urlencode, urlsplit
from zoneinfo import ZoneInfo

import jinja2

from . import compose, deliver, editing, pipeline
from . import config as configuration
from . import schedule as scheduling
from . import subscribers as subscriber_records
from .config import Briefing, Config
from .errors import BriefingsError, ConfigError, shown_url
from .model import Edition, EditionRecord, Story, Subscriber
from .store import Store

log = logging.getLogger("briefings.desk")
COOKIE = "briefings_desk"
MAX_FORM = 100_000
WHY_TERMS = 8
"""Matched terms shown per topic, strongest first."""
_EDITION = re.compile(r"^/b/([a-z0-9][a-z0-9_-]*)/([0-9A-Za-z-]+)(/[a-z]+)?$")
_BRIEFING = re.compile(r"^/b/([a-z0-9][a-z0-9_-]*)/?$")
READERS_LISTED = 500
"""Most of a briefing's subscribers offered by name in the desk's "preview as" field."""
_READER_FILES = {"email": "email.html", "web": "index.html", "text": "email.txt"}
_FILES = {
    ("web", "free"): "index.html",
    ("web", "pro"): "index.pro.html",
    ("email", "free"): "email.html",
    ("email", "pro"): "email.pro.html",
    ("text", "free"): "email.txt",
    ("text", "pro"): "email.pro.txt",
}


class InvalidConfig(ConfigError):
    """feeds.toml, read again for a request, is invalid: the desk shows its problems until
    it is fixed."""


@dataclass(slots=True, kw_only=True)
class Desk:
    """What the desk's requests share: configuration, store, token, and a lock that lets
    one change happen at a time."""

    config_path: Path
    store: Store
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    open_to_network: bool = False
    port: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    now: Any = field(default=lambda: datetime.now(UTC))

    def config(self) -> Config:
        """The configuration, read again so that edits to feeds.toml show."""
        try:
            return configuration.load(self.config_path)
        except ConfigError as exc:
            raise InvalidConfig(exc.problems) from None

    def failed_feeds(self, config: Config) -> list[dict[str, str]]:
        """The feeds of ``config`` whose last fetch failed, with the error and its local
        time: what the editor should know before trusting an edition."""
        errors = self.store.feed_errors(feed.url for feed in config.feeds)
        zone = ZoneInfo(config.settings.timezone)

        def when(moment: datetime) -> str:
            return f"{moment.astimezone(zone):%Y-%m-%d %H:%M} {zone.key}"

        return [
            {
                "name": feed.name,
                "url": shown_url(feed.url),
                "error": errors[feed.url].error,
                "when": when(errors[feed.url].checked_at),
                "since": when(errors[feed.url].since),
            }
            for feed in config.feeds
            if feed.url in errors
        ]

    def record(self, briefing: str, edition: str) -> EditionRecord:
        found = self.store.edition(briefing, edition)
        if found is None:
            raise BriefingsError(f"{briefing}: there is no edition {edition}")
        return found

    def reader(self, address: str) -> Subscriber:
        """The subscriber an editor previews an edition as, by address in any case."""
        try:
            key = subscriber_records.normal_address(address)
        except ValueError as exc:
            raise BriefingsError(f"preview as: {exc}") from None
        found = self.store.subscriber(key)
        if found is None:
            raise BriefingsError(f"preview as: there is no subscriber {key}")
        return found

    def edition(self, record: EditionRecord) -> Edition:
        """The whole edition (PRO stories in full), from the private folder."""
        return pipeline.read_edition(
            self.config(), record.briefing, record.edition, recorded=record.path
        )

    def rewrite(
        self, config: Config, briefing: Briefing, record: EditionRecord, edition: Edition
    ) -> None:
        """Write a revised edition over the old one, keeping its status: a draft's only
        in the private folder, as its build wrote it, until it is approved."""
        rendered = pipeline.render_edition(config, briefing, edition)
        _, private = pipeline.publish(config, edition, rendered, public=record.status != "draft")
        self.store.record_edition(
            edition, path=str(private), status=record.status, send_after=record.send_after
        )

    # The changes: each returns the message shown to the editor.

    def change_story(self, briefing_id: str, name: str, story_id: str, action: str) -> str:
        config = self.config()
        with pipeline.run_lock(config):
            return self._change_story(config, briefing_id, name, story_id, action)

    def _change_story(
        self, config: Config, briefing_id: str, name: str, story_id: str, action: str
    ) -> str:
        briefing = config.briefing(briefing_id)
        record = self._editable(briefing_id, name)
        edition = self.edition(record)
        choices = self.store.choices(briefing_id)
        try:
            decided = editing.decide(edition, choices, story_id, action)
        except ValueError as exc:
            raise BriefingsError(str(exc)) from None
        self.store.save_choices(briefing_id, decided, now=self.now())
        if action == "restore":
            return "Restored: it comes back at the next rebuild."
        revised = editing.revise(edition, self.store.choices(briefing_id))
        self.rewrite(config, briefing, record, revised)
        return {
            "drop": "Dropped: it stays out of this briefing's next builds.",
            "pin": "Pinned: it stays in, first, at the next builds.",
            "unpin": "Unpinned.",
            "up": "Moved up.",
            "down": "Moved down.",
        }[action]

    def save_note(self, briefing_id: str, name: str, note: str) -> str:
        config = self.config()
        with pipeline.run_lock(config):
            record = self._editable(briefing_id, name)
            text = note.replace("\r\n", "\n").strip()
            self.store.save_note(briefing_id, name, text, now=self.now())
            revised = editing.revise(
                self.edition(record), self.store.choices(briefing_id), note=text
            )
            self.rewrite(config, config.briefing(briefing_id), record, revised)
        return "Note saved."

    def rebuild(self, briefing_id: str, name: str) -> str:
        config = self.config()
        with pipeline.run_lock(config):
            self._editable(briefing_id, name)
            run = pipeline.Run(config=config, store=self.store, now=self.now())
            built = pipeline.build(run, [briefing_id], names={briefing_id: name})
        if not built:
            return "Rebuilt: no stories now, the edition is unchanged."
        return f"Rebuilt with {len(built[0].edition.stories)} stories."

    def send_test(self, briefing_id: str, name: str, address: str) -> str:
        config = self.config()
        try:
            _, to = subscriber_records.mailbox(address)
        except ValueError as exc:
            raise BriefingsError(f"test address: {exc}") from None
        report = pipeline.send_edition(
            config,
            self.store,
            briefing_id,
            senders=lambda: pipeline.make_sender(config),
            secret=deliver.secret_from_environment(),
            now=self.now(),
            to=to,
            edition_name=name,
        )
        if report.failed:
            raise BriefingsError(f"test to {to} failed: {report.failed[0][1]}")
        return f"Test sent to {to} (as a PRO reader)."

    def approve(self, briefing_id: str, name: str) -> str:
        config = self.config()
        now = self.now()
        record = scheduling.approve(config, self.store, briefing_id, name, now=now)
        if record.send_after is not None and record.send_after > now:
            zone = config.briefing(briefing_id).timezone
            local = record.send_after.astimezone(ZoneInfo(zone))
            return f"Approved: it goes out at {local:%Y-%m-%d %H:%M} {zone}."
        try:
            deliver.secret_from_environment()
        except BriefingsError as exc:
            return f"Approved, not sent from here ({exc}); briefings schedule sends it."
        threading.Thread(
            target=self._send, args=(config, briefing_id, name), name=f"send-{briefing_id}"
        ).start()
        return "Approved: sending now."

    def _send(self, config: Config, briefing_id: str, name: str) -> None:
        """Claim the edition and send it, holding the store's lock; an edition that cannot
        be claimed now stays approved for briefings schedule."""
        try:
            with pipeline.run_lock(config):
                now = self.now()
                if self.store.move_edition(
                    briefing_id, name, "sending", expected=("approved",), now=now
                ):
                    record = self.record(briefing_id, name)
                    scheduling.send_record(config, self.store, record, now=now)
        except BriefingsError as exc:
            log.error("%s %s: not sent from the desk: %s", briefing_id, name, exc)

    def _editable(self, briefing_id: str, name: str) -> EditionRecord:
        record = self.record(briefing_id, name)
        if record.status in ("sending", "sent", "failed"):
            raise BriefingsError(f"{briefing_id} {name} is {record.status}; it cannot change")
        return record


@dataclass(frozen=True, slots=True, kw_only=True)
class Why:
    """One topic of a story, as the desk explains it."""

    topic: str
    score: float
    terms: str
    """The strongest matched terms, with field and weight."""
    reason: bool
    """Whether the topic is one the briefing admits stories by."""


def story_rows(
    edition: Edition, choices: list[Any], *, reasons: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """What the desk shows of each story: the story, the editor's choice, why it is in.
    ``reasons`` are the topics the briefing takes stories by (its ``topics`` and
    ``within``): they come first in the explanation."""
    rows = []
    for story in edition.stories:
        choice = editing.choice_of(story, choices)
        pinned = choice is not None and choice.pinned
        rows.append(
            {
                "story": story,
                "choice": choice,
                "why": _why(story, reasons),
                "actions": [
                    ("up", "↑", ""),
                    ("down", "↓", ""),
                    ("unpin", "Unpin", "") if pinned else ("pin", "Pin", ""),
                    ("drop", "Drop", "danger"),
                ],
            }
        )
    return rows


def reader_notes(
    briefing: Briefing, edition: Edition, reader: Subscriber, titles: dict[str, str]
) -> list[str]:
    """What the editor should know of an edition previewed as ``reader``: whether they get
    it at all, in which rendering, and an industry weekly's choice of stories for them."""
    notes = []
    if reader.status != "active":
        notes.append(f"{reader.email} is {reader.status}: they get no edition.")
    elif briefing.id not in reader.briefings:
        notes.append(f"{reader.email} does not receive this briefing; shown as if they did.")
    if reader.tier != "pro":
        if briefing.tier == "pro" or briefing.pro_sections:
            notes.append("A free reader: PRO stories as teasers, with an upgrade block.")
        return notes
    if briefing.format != "industry":
        return notes
    picks = [i for i in reader.industries if i in briefing.topics]
    shown, order = compose.for_reader(edition, briefing, reader.industries)
    if order:
        named = ", ".join(titles.get(i, i) for i in order)
        notes.append(f"Their industries, in their order: {named} ({len(shown.stories)} stories).")
    elif picks:
        notes.append(
            "None of their industries has a story in this edition: they get its first "
            f"{len(shown.stories)} stories."
        )
    else:
        notes.append(f"No industries picked: they get the first {len(shown.stories)} stories.")
    return notes


def _why(story: Story, reasons: Sequence[str]) -> list[Why]:
    scores = dict(story.scores)
    out = []
    for topic in story.topics:
        terms = [m for m in story.matches if m.topic == topic]
        seen: dict[str, float] = {}
        for match in terms:
            where = f"{match.field}, {match.source}" if match.source else match.field
            key = f"{match.term} ({where})"
            seen[key] = seen.get(key, 0.0) + match.weight
        ranked = sorted(seen.items(), key=lambda kv: -kv[1])
        listed = ", ".join(f"{k} {v:g}" for k, v in ranked[:WHY_TERMS])
        if len(ranked) > WHY_TERMS:
            listed += f", and {len(ranked) - WHY_TERMS} more"
        out.append(
            Why(
                topic=topic,
                score=scores.get(topic, 0.0),
                terms=listed or "no terms recorded",
                reason=topic in reasons,
            )
        )
    order = {topic: index for index, topic in enumerate(reasons)}
    return sorted(out, key=lambda why: order.get(why.topic, len(order)))  # stable


class _Handler(BaseHTTPRequestHandler):
    desk: Desk
    pages: jinja2.Environment
    protocol_version = "HTTP/1.1"

    # Checks shared by every request.

    def _trusted(self) -> bool:
        desk = self.desk
        if not desk.open_to_network:
            client = ipaddress.ip_address(self.client_address[0])
            host = (self.headers.get("Host") or "").lower()
            allowed = {f"{name}:{desk.port}" for name in ("127.0.0.1", "localhost", "[::1]")}
            if not client.is_loopback or host not in allowed:
                self._page(403, "base.html", message="This desk answers only on this computer.")
                return False
        return True

    def _has_cookie(self) -> bool:
        jar = cookies.SimpleCookie(self.headers.get("Cookie") or "")
        morsel = jar.get(COOKIE)
        return morsel is not None and hmac.compare_digest(morsel.value, self.desk.token)

    # Requests.

    def do_GET(self) -> None:
        if not self._trusted():
            return
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        given = query.get("token", [""])[0]
        if given:
            if not hmac.compare_digest(given, self.desk.token):
                self._page(403, "base.html", message="Wrong token.", error=True)
                return
            kept = [
                (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "token"
            ]
            self.send_response(303)  # the same address without the token: view, tier stay
            self.send_header(
                "Location", (parts.path or "/") + (f"?{urlencode(kept)}" if kept else "")
            )
            self.send_header(
                "Set-Cookie",
                f"{COOKIE}={self.desk.token}; Path=/; HttpOnly; SameSite=Strict",
            )
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if not self._has_cookie():
            self._page(
                403,
                "base.html",
                message="Open the address briefings preview printed: it carries the desk's token.",
                error=True,
            )
            return
        try:
            self._get(parts.path, query)
        except InvalidConfig as exc:
            self._page(
                500,
                "base.html",
                message=f"{self.desk.config_path.name} has problems. Fix them and reload "
                "this page: the desk reads the file on every request, so no restart is needed.",
                problems=exc.problems,
                error=True,
            )
        except BriefingsError as exc:
            self._page(404, "base.html", message=str(exc), error=True)

    def _get(self, path: str, query: dict[str, list[str]]) -> None:
        desk = self.desk
        if path == "/":
            config = desk.config()
            rows = [
                {"briefing": b, "editions": desk.store.editions_of(b.id, limit=5)}
                for b in config.briefings
            ]
            self._page(
                200,
                "index.html",
                rows=rows,
                failed_feeds=desk.failed_feeds(config),
                message=_flash(query),
            )
            return
        found = _BRIEFING.match(path)
        if found:
            latest = desk.store.editions_of(found[1], limit=1)
            if not latest:
                raise BriefingsError(f"{found[1]}: no edition has been built yet")
            self._redirect(f"/b/{found[1]}/{latest[0].edition}")
            return
        found = _EDITION.match(path)
        if not found:
            raise BriefingsError(f"{path}: nothing here")
        briefing_id, name, tail = found[1], found[2], found[3] or ""
        config = desk.config()
        briefing = config.briefing(briefing_id)
        record = desk.record(briefing_id, name)
        edition = desk.edition(record)
        view = _one_of(query, "view", ("email", "web", "text"))
        tier = _one_of(query, "tier", ("free", "pro"))
        wanted = query.get("as", [""])[0].strip()
        reader, not_found = None, ""
        if wanted:
            try:
                reader = desk.reader(wanted)
            except BriefingsError as exc:
                not_found = str(exc)
        if tail == "/render":
            if not_found:
                raise BriefingsError(not_found)
            if reader is not None:  # as the sender renders this reader's message
                made = pipeline.reader_files(config, briefing, edition, reader, sent=view != "web")
                body = made[_READER_FILES[view]]
            else:
                files = pipeline.render_edition(config, briefing, edition, sent=view != "web")
                body = files.files[_FILES[(view, tier)]]
            kind = "text/plain" if view == "text" else "text/html"
            self._send(200, body.encode(), f"{kind}; charset=utf-8", preview=True)
            return
        if tail:
            raise BriefingsError(f"{path}: nothing here")
        history = desk.store.editions_of(briefing_id, limit=50)
        older = [r for r in history if r.generated_at < record.generated_at]
        previous = desk.edition(older[0]) if older else None
        choices = desk.store.choices(briefing_id)
        zone = ZoneInfo(briefing.timezone)
        titles = {t.id: t.title for t in pipeline.topic_matcher(config).topics.values()}
        self._page(
            200,
            "edition.html",
            briefing=briefing,
            record=record,
            edition=edition,
            base=f"/b/{briefing_id}/{name}",
            token=desk.token,
            editable=record.status not in ("sending", "sent", "failed"),
            stories=story_rows(edition, choices, reasons=(*briefing.topics, *briefing.within)),
            dropped=[c for c in choices if c.dropped],
            changes=editing.diff(edition, previous),
            failed_feeds=desk.failed_feeds(config),
            previous=previous,
            view=view,
            tier=tier,
            width=375 if query.get("width", [""])[0] == "375" else 600,
            built_local=f"{record.generated_at.astimezone(zone):%Y-%m-%d %H:%M} {zone.key}",
            send_after_local=(
                f"{record.send_after.astimezone(zone):%Y-%m-%d %H:%M} {zone.key}"
                if record.send_after
                else ""
            ),
            reader=reader,
            reader_notes=reader_notes(briefing, edition, reader, titles) if reader else [],
            readers=[
                s.email for s in desk.store.list_subscribers(briefing=briefing_id, status="active")
            ][:READERS_LISTED],
            keep=f"&as={quote(reader.email)}" if reader else "",
            message=not_found or _flash(query),
            error=bool(not_found) or query.get("error", [""])[0] == "1",
        )

    def do_POST(self) -> None:
        if not self._trusted():
            return
        given_length = (self.headers.get("Content-Length") or "0").strip()
        if not re.fullmatch(r"[0-9]{1,9}", given_length):  # -1 would read until the client hangs up
            self.close_connection = True
            self._page(400, "base.html", message="Bad Content-Length.", error=True)
            return
        length = int(given_length)
        if length > MAX_FORM:
            self.close_connection = True  # the unread body is no next request
            self._page(413, "base.html", message="Form too large.", error=True)
            return
        form = parse_qs(self.rfile.read(length).decode("utf-8", "replace")) if length else {}
        given = form.get("token", [""])[0]
        origin = self.headers.get("Origin")
        same_origin = origin is None or _netloc(origin) == self.headers.get("Host")
        if not (given and hmac.compare_digest(given, self.desk.token) and same_origin):
            self._page(403, "base.html", message="Missing or wrong desk token.", error=True)
            return
        found = _EDITION.match(urlsplit(self.path).path)
        if not found or not found[3]:
            self._page(404, "base.html", message="Nothing here.", error=True)
            return
        briefing_id, name, verb = found[1], found[2], found[3][1:]
        back = f"/b/{briefing_id}/{name}"
        desk = self.desk
        try:
            with desk.lock:
                if verb == "story":
                    message = desk.change_story(
                        briefing_id, name, form.get("story", [""])[0], form.get("action", [""])[0]
                    )
                elif verb == "note":
                    message = desk.save_note(briefing_id, name, form.get("note", [""])[0])
                elif verb == "rebuild":
                    message = desk.rebuild(briefing_id, name)
                elif verb == "test":
                    message = desk.send_test(briefing_id, name, form.get("to", [""])[0])
                elif verb == "approve":
                    message = desk.approve(briefing_id, name)
                else:
                    raise BriefingsError(f"unknown change {verb!r}")
        except BriefingsError as exc:
            self._redirect(f"{back}?msg={quote(str(exc))}&error=1")
            return
        self._redirect(f"{back}?msg={quote(message)}")

    # Answers.

    def _page(self, status: int, template: str, **values: Any) -> None:
        values.setdefault("message", "")
        values.setdefault("error", False)
        values.setdefault("problems", [])
        body = self.pages.get_template(template).render(**values).encode()
        self._send(status, body, "text/html; charset=utf-8")

    def _redirect(self, location: str) -> None:
        self.send_response(303)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _send(self, status: int, body: bytes, kind: str, *, preview: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "same-origin")  # Origin stays on our own forms
        if preview:  # the edition itself, shown in the desk's own frame
            self.send_header("Content-Security-Policy", "script-src 'none'; frame-ancestors 'self'")
        else:
            self.send_header(
                "Content-Security-Policy",
                "default-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'",
            )
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s %s", self.address_string(), format % args)


def _flash(query: dict[str, list[str]]) -> str:
    return query.get("msg", [""])[0][:500]


def _one_of(query: dict[str, list[str]], key: str, allowed: tuple[str, ...]) -> str:
    value = query.get(key, [""])[0]
    return value if value in allowed else allowed[0]


def server(desk: Desk, *, host: str = "127.0.0.1", port: int = 8000) -> ThreadingHTTPServer:
    """The desk's HTTP server; call ``serve_forever`` on it."""
    pages = jinja2.Environment(
        loader=jinja2.PackageLoader("briefings", "desk_templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    pages.filters["count"] = _count
    handler: type[_Handler] = type("DeskHandler", (_Handler,), {"desk": desk, "pages": pages})
    httpd = ThreadingHTTPServer((host, port), handler)
    desk.port = int(httpd.server_address[1])
    return httpd


def _count(number: int, one: str, many: str) -> str:
    """``1 story``, ``2 stories``: the desk templates' ``count`` filter."""
    return f"{number} {one if number == 1 else many}"


def _netloc(url: str) -> str | None:
    """The host and port of ``url``; None when urllib cannot parse it."""
    try:
        return urlsplit(url).netloc
    except ValueError:
        return None
