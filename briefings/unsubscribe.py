"""The unsubscribe endpoint behind every email's links (``briefings serve``).

``GET /unsubscribe?e=…&b=…&t=…`` shows a confirmation page with one button;
``POST`` to the same address unsubscribes at once. That POST is also the
RFC 8058 one-click request mail clients send (body
``List-Unsubscribe=One-Click``). A token that is not the HMAC of the address
and briefing is refused, so nobody can unsubscribe someone else.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from . import deliver
from .store import Store

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>
<style>body{{font:17px/1.5 Helvetica,Arial,sans-serif;max-width:560px;margin:40px auto;
padding:0 20px}}button{{font:inherit;padding:10px 18px}}</style></head>
<body><h1>{title}</h1>{body}</body></html>"""


class _Handler(BaseHTTPRequestHandler):
    store: Store
    secret: bytes
    now: Callable[[], datetime]
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        found = self._request()
        if found is None:
            return
        email, briefing, _ = found
        form = (
            f"<p>Stop sending <strong>{escape(briefing)}</strong> to "
            f'<strong>{escape(email)}</strong>?</p><form method="post" action="'
            f'{escape(self.path)}"><button type="submit">Unsubscribe</button></form>'
        )
        self._page(200, "Unsubscribe", form)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(min(length, 10_000))
        found = self._request()
        if found is None:
            return
        email, briefing, _ = found
        if not self.store.unsubscribe(email, briefing, now=self.now()):
            self._page(404, "Not found", "<p>There is no such subscriber.</p>")
            return
        self._page(
            200,
            "Unsubscribed",
            f"<p>{escape(email)} will get no more {escape(briefing)} emails.</p>",
        )

    def _request(self) -> tuple[str, str, str] | None:
        parts = urlsplit(self.path)
        if parts.path != "/unsubscribe":
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
                "<p>This unsubscribe link is not valid. Use the link in your email.</p>",
            )
            return None
        return email, briefing, token

    def _page(self, status: int, title: str, body: str) -> None:
        data = PAGE.format(title=escape(title), body=body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def server(
    store: Store, secret: bytes, *, host: str = "127.0.0.1", port: int = 8080
) -> ThreadingHTTPServer:
    """An HTTP server answering unsubscribe links; call ``serve_forever`` on it."""
    handler: type[_Handler] = type("UnsubscribeHandler", (_Handler,), {})
    handler.store = store
    handler.secret = secret
    handler.now = staticmethod(lambda: datetime.now(UTC))
    return ThreadingHTTPServer((host, port), handler)


@contextmanager
def running(store: Store, secret: bytes, *, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve on a free port for the duration of the block; yields the base URL."""
    httpd = server(store, secret, host=host, port=0)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()
