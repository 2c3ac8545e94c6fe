"""The pages behind every email's links (``briefings serve``).

``GET /unsubscribe?e=…&b=…&t=…`` shows a confirmation page with one button;
``POST`` to the same address unsubscribes at once. That POST is also the
RFC 8058 one-click request mail clients send (body
``List-Unsubscribe=One-Click``). ``/preferences`` with the same query shows and
saves what the reader receives: briefings and, for PRO readers, industry
priorities. A token that is not the HMAC of the address and briefing is
refused, so nobody can change someone else's subscription.

``GET /view?e=…&b=…&d=…&x=…&t=…`` is a PRO reader's "View in browser" link: the PRO
web page of edition ``d``, read from the private folder, which is never served
otherwise. It needs a token over all of the address, briefing, edition and expiry
``x``, a link not yet expired, and a reader who is PRO and active now; anything else
gets 403 or 404 and no PRO content. An editor's test message (``send --to``) carries
``k=test`` and a token signed apart, which opens the page without a subscriber.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from . import deliver
from .model import Subscriber
from .store import Store

_BRIEFING_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_EDITION_ID = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}-[0-9]{4}(?:-2)?$")

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>
<style>body{{font:17px/1.5 Helvetica,Arial,sans-serif;max-width:560px;margin:40px auto;
padding:0 20px}}button{{font:inherit;padding:10px 18px}}fieldset{{border:1px solid #ccc;
margin:0 0 20px;padding:10px 16px}}label{{display:block;margin:6px 0}}
.pro{{font-size:13px;color:#8a5a00;margin-left:6px}}select{{font:inherit;margin-right:8px}}
.saved{{background:#e8f5e9;padding:8px 12px}}</style></head>
<body><h1>{title}</h1>{body}</body></html>"""

MAX_FORM = 20_000
INVALID = "<p>This link is not valid. Use the link in your email.</p>"


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


PageSource = Callable[[str, str, Subscriber], str | None]
"""The PRO web page of (briefing, edition) as one reader gets it, or None."""
_HEAD = re.compile(r"<head(?:\s[^>]*)?>", re.IGNORECASE)


class _Handler(BaseHTTPRequestHandler):
    store: Store
    secret: bytes
    choices: Choices
    private: Path | None
    pages: PageSource | None
    base_url: str
    now: Callable[[], datetime]
    protocol_version = "HTTP/1.1"
    head = False

    def do_HEAD(self) -> None:
        """What GET would answer, without the body: mail scanners check links with HEAD,
        and it changes nothing, as GET does not."""
        self.head = True
        try:
            self.do_GET()
        finally:
            self.head = False  # the connection may carry a GET next

    def do_GET(self) -> None:
        if urlsplit(self.path).path == "/view":
            self._view()
            return
        found = self._request()
        if found is None:
            return
        path, email, briefing = found
        if path == "/preferences":
            self._preferences(email, saved=False)
            return
        here = self._relative()
        form = (
            f"<p>Stop sending <strong>{escape(self._title(briefing))}</strong> to "
            f'<strong>{escape(email)}</strong>?</p><form method="post" action="'
            f'{escape(here)}"><button type="submit">Unsubscribe</button></form>'
            f'<p><a href="{escape(here.replace("unsubscribe?", "preferences?", 1))}">'
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
            f"<p>{escape(email)} will get no more {escape(self._title(briefing))} emails.</p>",
        )

    def _relative(self) -> str:
        """This page's address relative to itself (``unsubscribe?e=…``): behind a web server
        at a base URL with a path (``https://example.org/news``), ``/unsubscribe`` would
        lead to the site's root."""
        parts = urlsplit(self.path)
        return parts.path.rsplit("/", 1)[-1] + (f"?{parts.query}" if parts.query else "")

    def _title(self, briefing: str) -> str:
        """The briefing's title as readers know it; its id when it has left the catalogue."""
        return next((title for b, title, _ in self.choices.briefings if b == briefing), briefing)

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
            note + intro + preferences_form(subscriber, self.choices, self._relative()),
        )

    def _view(self) -> None:
        """A PRO reader's own link to the PRO web page of one edition."""
        query = parse_qs(urlsplit(self.path).query)
        email, briefing, edition, expires, token, kind = (
            query.get(k, [""])[0] for k in ("e", "b", "d", "x", "t", "k")
        )
        test = kind == "test"  # an editor's test message (send --to): no subscriber needed
        if not (
            email
            and token
            and _BRIEFING_ID.match(briefing)
            and _EDITION_ID.match(edition)
            and expires.isdigit()
            and len(expires) <= 12
            and deliver.verify_view(
                self.secret, email, briefing, edition, int(expires), token, test=test
            )
        ):
            self._page(
                403, "Link not valid", "<p>This link is not valid. Use the link in your email.</p>"
            )
            return
        if int(expires) < self.now().timestamp():
            self._page(
                403,
                "Link expired",
                "<p>This link has expired. The editions are in the archive.</p>",
            )
            return
        reader = (
            Subscriber(email=email, tier="pro", briefings=(briefing,))
            if test
            else self.store.subscriber(email)
        )
        if reader is None or reader.tier != "pro" or reader.status != "active":
            self._page(403, "PRO members only", "<p>This page is for PRO members.</p>")
            return
        page = self._pro_page(briefing, edition, reader)
        if page is None:
            self._page(404, "Not found", "<p>There is no such edition.</p>")
            return
        personal = deliver.unsubscribe_url(self.base_url, self.secret, reader.email, briefing)
        links = {
            deliver.UNSUBSCRIBE: personal,
            deliver.PREFERENCES: personal.replace("/unsubscribe?", "/preferences?", 1),
        }
        for placeholder, link in links.items():
            page = page.replace(placeholder, escape(link))
        if self.base_url and "<base " not in page:
            # written for its folder: its relative links (archive, pictures) lead to the
            # public edition beside it, not to /view
            folder = escape(f"{self.base_url}/{briefing}/{edition}/")
            page = _HEAD.sub(lambda head: f'{head.group(0)}<base href="{folder}">', page, count=1)
        data = page.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "private, no-store")
        # the address carries the reader's token: never hand it on to the articles' sites
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("X-Robots-Tag", "noindex, nofollow")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Security-Policy", "script-src 'none'; frame-ancestors 'none'")
        self.end_headers()
        if not self.head:
            self.wfile.write(data)

    def _pro_page(self, briefing: str, edition: str, reader: Subscriber) -> str | None:
        if self.pages is not None:
            return self.pages(briefing, edition, reader)
        path = (self.private / briefing / edition / "index.pro.html") if self.private else None
        try:
            return path.read_text(encoding="utf-8") if path else None
        except (OSError, UnicodeDecodeError):
            return None

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
            self._page(403, "Link not valid", INVALID)
            return None
        return parts.path, email, briefing

    def _page(self, status: int, title: str, body: str) -> None:
        data = PAGE.format(title=escape(title), body=body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("X-Frame-Options", "DENY")
        self.end_headers()
        if not self.head:
            self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def server(
    store: Store,
    secret: bytes,
    *,
    choices: Choices = Choices(),
    private: Path | None = None,
    pages: PageSource | None = None,
    base_url: str = "",
    host: str = "127.0.0.1",
    port: int = 8080,
) -> ThreadingHTTPServer:
    """An HTTP server answering unsubscribe and preferences links, and PRO readers' view
    links to the PRO web pages in ``private`` (``settings.private``), or as ``pages`` makes
    them for each reader; ``base_url`` starts the personal links put in those pages. Call
    ``serve_forever``."""
    handler: type[_Handler] = type("SubscriberPagesHandler", (_Handler,), {})
    handler.store = store
    handler.secret = secret
    handler.choices = choices
    handler.private = private
    handler.pages = staticmethod(pages) if pages is not None else None
    handler.base_url = base_url
    handler.now = staticmethod(lambda: datetime.now(UTC))
    return ThreadingHTTPServer((host, port), handler)


@contextmanager
def running(
    store: Store,
    secret: bytes,
    *,
    choices: Choices = Choices(),
    private: Path | None = None,
    pages: PageSource | None = None,
    base_url: str = "",
    host: str = "127.0.0.1",
) -> Iterator[str]:
    """Serve on a free port for the duration of the block; yields the base URL."""
    httpd = server(
        store,
        secret,
        choices=choices,
        private=private,
        pages=pages,
        base_url=base_url,
        host=host,
        port=0,
    )
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()
