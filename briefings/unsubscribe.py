"""The pages behind every email's links (``briefings serve``).

``GET /unsubscribe?e=…&b=…&t=…`` shows a confirmation page with one button;
``POST`` to the same address unsubscribes at once. That POST is also the
RFC 8058 one-click request mail clients send (body
``List-Unsubscribe=One-Click``). ``/preferences`` with the same query shows and
saves what the reader receives: briefings and, for PRO readers, industry
priorities. A token that is not the HMAC of the address and briefing is
refused, so nobody can change someone else's subscription.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from . import deliver
from .model import Subscriber
from .store import Store

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>
<style>body{{font:17px/1.5 Helvetica,Arial,sans-serif;max-width:560px;margin:40px auto;
padding:0 20px}}button{{font:inherit;padding:10px 18px}}fieldset{{border:1px solid #ccc;
margin:0 0 20px;padding:10px 16px}}label{{display:block;margin:6px 0}}
.pro{{font-size:13px;color:#8a5a00;margin-left:6px}}select{{font:inherit;margin-right:8px}}
.saved{{background:#e8f5e9;padding:8px 12px}}</style></head>
<body><h1>{title}</h1>{body}</body></html>"""

MAX_FORM = 20_000


@dataclass(frozen=True, slots=True, kw_only=True)
class Choices:
    """What a reader may pick on the preferences page."""

    briefings: tuple[tuple[str, str, str], ...] = ()
    """(id, title, tier) of every briefing, in catalogue order."""
    industries: tuple[tuple[str, str], ...] = ()
    """(id, title) of the PRO industries."""


def preferences_form(subscriber: Subscriber, choices: Choices, action: str) -> str:
    """The preferences form of one reader, as HTML (every value escaped)."""
    pro = subscriber.tier == "pro"
    boxes = []
    for briefing_id, title, tier in choices.briefings:
        allowed = pro or tier != "pro"
        checked = " checked" if briefing_id in subscriber.briefings else ""
        disabled = "" if allowed else " disabled"
        mark = '<span class="pro">PRO</span>' if tier == "pro" else ""
        boxes.append(
            f'<label><input type="checkbox" name="briefing" value="{escape(briefing_id)}"'
            f"{checked}{disabled}> {escape(title)}{mark}</label>"
        )
    parts = [
        f'<form method="post" action="{escape(action)}">',
        "<fieldset><legend>Briefings</legend>",
        *boxes,
        "</fieldset>",
    ]
    if pro and choices.industries:
        ranks = {industry: n for n, industry in enumerate(subscriber.industries, 1)}
        count = len(choices.industries)
        parts.append("<fieldset><legend>Industries, most wanted first</legend>")
        for industry_id, title in choices.industries:
            mine = ranks.get(industry_id)
            options = ['<option value="">—</option>'] + [
                f'<option value="{n}"{" selected" if n == mine else ""}>{n}</option>'
                for n in range(1, count + 1)
            ]
            parts.append(
                f'<label><select name="rank-{escape(industry_id)}" '
                f'aria-label="Priority of {escape(title)}">{"".join(options)}</select>'
                f"{escape(title)}</label>"
            )
        parts.append("</fieldset>")
    parts.append('<button type="submit" name="action" value="save">Save</button></form>')
    return "".join(parts)


def chosen(
    form: dict[str, list[str]], subscriber: Subscriber, choices: Choices
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The briefings and industry priorities a submitted form asks for.

    Unknown ids are ignored, and a free reader cannot pick a PRO briefing or
    industries; industries keep the order of their ranks (ties by catalogue order).
    What the reader cannot change (a free reader's PRO briefing, shown disabled and so
    never posted) stays as it is.
    """
    pro = subscriber.tier == "pro"
    wanted = set(form.get("briefing", []))
    briefings = tuple(
        b
        for b, _, tier in choices.briefings
        if (b in wanted if pro or tier != "pro" else b in subscriber.briefings)
    )
    if not pro:
        return briefings, subscriber.industries
    ranked = []
    for order, (industry_id, _) in enumerate(choices.industries):
        value = form.get(f"rank-{industry_id}", [""])[0]
        if value.isdigit():
            ranked.append((int(value), order, industry_id))
    return briefings, tuple(industry for _, _, industry in sorted(ranked))


class _Handler(BaseHTTPRequestHandler):
    store: Store
    secret: bytes
    choices: Choices
    now: Callable[[], datetime]
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        found = self._request()
        if found is None:
            return
        path, email, briefing = found
        if path == "/preferences":
            self._preferences(email, saved=False)
            return
        form = (
            f"<p>Stop sending <strong>{escape(briefing)}</strong> to "
            f'<strong>{escape(email)}</strong>?</p><form method="post" action="'
            f'{escape(self.path)}"><button type="submit">Unsubscribe</button></form>'
            f'<p><a href="{escape(self.path.replace("/unsubscribe?", "/preferences?", 1))}">'
            "Choose what you receive instead</a></p>"
        )
        self._page(200, "Unsubscribe", form)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(length, MAX_FORM)) if length else b""
        found = self._request()
        if found is None:
            return
        path, email, briefing = found
        if path == "/preferences":
            subscriber = self.store.subscriber(email)
            if subscriber is None:
                self._page(404, "Not found", "<p>There is no such subscriber.</p>")
                return
            form = parse_qs(body.decode("utf-8", "replace"))
            briefings, industries = chosen(form, subscriber, self.choices)
            self.store.set_preferences(
                email, briefings=briefings, industries=industries, now=self.now()
            )
            self._preferences(email, saved=True)
            return
        if not self.store.unsubscribe(email, briefing, now=self.now()):
            self._page(404, "Not found", "<p>There is no such subscriber.</p>")
            return
        self._page(
            200,
            "Unsubscribed",
            f"<p>{escape(email)} will get no more {escape(briefing)} emails.</p>",
        )

    def _preferences(self, email: str, *, saved: bool) -> None:
        subscriber = self.store.subscriber(email)
        if subscriber is None:
            self._page(404, "Not found", "<p>There is no such subscriber.</p>")
            return
        note = '<p class="saved" role="status">Saved.</p>' if saved else ""
        intro = f"<p>What <strong>{escape(subscriber.email)}</strong> receives:</p>"
        if subscriber.status == "bounced":
            intro += "<p>Mail to this address bounced; write to us to start again.</p>"
        self._page(
            200,
            "Your briefings",
            note + intro + preferences_form(subscriber, self.choices, self.path),
        )

    def _request(self) -> tuple[str, str, str] | None:
        parts = urlsplit(self.path)
        if parts.path not in ("/unsubscribe", "/preferences"):
            self._page(404, "Not found", "<p>Nothing here.</p>")
            return None
        query = parse_qs(parts.query)
        email, briefing, token = (query.get(k, [""])[0] for k in ("e", "b", "t"))
        if not (email and briefing and token) or not deliver.verify(
            self.secret, email, briefing, token
        ):
            self._page(
                403,
                "Link not valid",
                "<p>This link is not valid. Use the link in your email.</p>",
            )
            return None
        return parts.path, email, briefing

    def _page(self, status: int, title: str, body: str) -> None:
        data = PAGE.format(title=escape(title), body=body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Frame-Options", "DENY")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def server(
    store: Store,
    secret: bytes,
    *,
    choices: Choices = Choices(),
    host: str = "127.0.0.1",
    port: int = 8080,
) -> ThreadingHTTPServer:
    """An HTTP server answering unsubscribe and preferences links; call ``serve_forever``."""
    handler: type[_Handler] = type("SubscriberPagesHandler", (_Handler,), {})
    handler.store = store
    handler.secret = secret
    handler.choices = choices
    handler.now = staticmethod(lambda: datetime.now(UTC))
    return ThreadingHTTPServer((host, port), handler)


@contextmanager
def running(
    store: Store, secret: bytes, *, choices: Choices = Choices(), host: str = "127.0.0.1"
) -> Iterator[str]:
    """Serve on a free port for the duration of the block; yields the base URL."""
    httpd = server(store, secret, choices=choices, host=host, port=0)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()
