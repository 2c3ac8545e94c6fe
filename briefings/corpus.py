"""The bundled sample corpus, served as real feeds and pages on 127.0.0.1.

The corpus (``briefings/sample/*.toml``) is written by us. Items carry their
age in hours, so the feeds always look fresh: dates are fixed when the server
starts. The server speaks HTTP like a real site: RSS 2.0 or Atom feeds with
ETag and Last-Modified (answering 304 when nothing changed), and article pages
full of the boilerplate real outlets wrap around their text.
"""

from __future__ import annotations

import email.utils
import hashlib
import threading
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any

from .config import Config
from .model import Feed


@dataclass(frozen=True, slots=True, kw_only=True)
class Outlet:
    """One invented outlet of the corpus."""

    slug: str
    name: str
    description: str
    format: str
    full_text: bool
    language: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Item:
    """One invented news item, with the labels tests check against."""

    outlet: str
    id: str
    title: str
    summary: str
    author: str
    body: str
    hours_ago: float | None
    topics: tuple[str, ...]
    event: str = ""
    copy_of: str = ""
    repeat_of: str = ""

    @property
    def key(self) -> str:
        return f"{self.outlet}/{self.id}"

    @property
    def paragraphs(self) -> list[str]:
        return [" ".join(p.split()) for p in self.body.split("\n\n") if p.strip()]


@dataclass(frozen=True, slots=True, kw_only=True)
class Corpus:
    """Every outlet and item of the sample corpus."""

    outlets: tuple[Outlet, ...]
    items: tuple[Item, ...]

    def outlet(self, slug: str) -> Outlet:
        return next(o for o in self.outlets if o.slug == slug)

    def item(self, key: str) -> Item:
        return next(i for i in self.items if i.key == key)


def load_corpus() -> Corpus:
    """Read ``outlets.toml`` and every ``items-*.toml`` of the package."""
    folder = resources.files("briefings.sample")
    outlets_raw = tomllib.loads(folder.joinpath("outlets.toml").read_text(encoding="utf-8"))
    outlets = tuple(Outlet(**o) for o in outlets_raw["outlets"])
    items: list[Item] = []
    for path in sorted(folder.iterdir(), key=lambda p: p.name):
        if path.name.startswith("items-") and path.name.endswith(".toml"):
            for raw in tomllib.loads(path.read_text(encoding="utf-8"))["items"]:
                items.append(_item(raw))
    return Corpus(outlets=outlets, items=tuple(items))


def _item(raw: dict[str, Any]) -> Item:
    return Item(
        outlet=raw["outlet"],
        id=raw["id"],
        title=raw["title"],
        summary=raw["summary"],
        author=raw.get("author", ""),
        body=raw["body"],
        hours_ago=raw.get("hours_ago"),
        topics=tuple(raw.get("topics", ())),
        event=raw.get("event", ""),
        copy_of=raw.get("copy_of", ""),
        repeat_of=raw.get("repeat_of", ""),
    )


class Site:
    """The corpus rendered for one moment: every path the server answers."""

    def __init__(self, corpus: Corpus, base_url: str, now: datetime) -> None:
        self.corpus = corpus
        self.base_url = base_url.rstrip("/")
        self.now = now
        self.modified = email.utils.format_datetime(now.replace(microsecond=0), usegmt=True)
        self.documents: dict[str, tuple[str, bytes]] = {}
        for outlet in corpus.outlets:
            mine = [i for i in corpus.items if i.outlet == outlet.slug]
            name = "feed.xml" if outlet.format == "rss" else "atom.xml"
            kind = "application/rss+xml" if outlet.format == "rss" else "application/atom+xml"
            body = self._rss(outlet, mine) if outlet.format == "rss" else self._atom(outlet, mine)
            self.documents[f"/{outlet.slug}/{name}"] = (f"{kind}; charset=utf-8", body.encode())
            for item in mine:
                page = self._page(outlet, item).encode()
                self.documents[f"/{outlet.slug}/{item.id}.html"] = (
                    "text/html; charset=utf-8",
                    page,
                )

    def feeds(self) -> list[Feed]:
        """A :class:`Feed` for every outlet, pointing at this site."""
        return [
            Feed(
                id=o.slug,
                name=o.name,
                url=f"{self.base_url}/{o.slug}/{'feed.xml' if o.format == 'rss' else 'atom.xml'}",
                weight=0.5 if o.slug == "mideast-roundup" else 1.0,
            )
            for o in self.corpus.outlets
        ]

    def configure(
        self, base: Config, database: Path, output: Path, private: Path | None = None
    ) -> Config:
        """``base``'s briefings and topics over this site's feeds, with its own store,
        output folder and private folder (``private`` beside ``output`` by default).

        The site is ours and on loopback, so the politeness delay between two
        page requests to one host is dropped.
        """
        settings = replace(
            base.settings,
            database=f"sqlite:///{database}",
            output=output,
            private=private or output.parent / "private",
            host_delay=0.0,
        )
        return replace(base, settings=settings, feeds=tuple(self.feeds()))

    def published(self, item: Item) -> datetime | None:
        return None if item.hours_ago is None else self.now - timedelta(hours=item.hours_ago)

    def link(self, item: Item) -> str:
        """The URL a feed gives for an item; aggregator items link to the original."""
        target = self.corpus.item(item.repeat_of) if item.repeat_of else item
        url = f"{self.base_url}/{target.outlet}/{target.id}.html"
        if item.repeat_of or item.outlet in ("levant-wire", "gulf-ledger"):
            url += "?utm_source=rss&utm_medium=feed&utm_campaign=" + item.outlet
        return url

    def _rss(self, outlet: Outlet, items: list[Item]) -> str:
        entries = []
        for item in items:
            when = self.published(item)
            date = f"<pubDate>{email.utils.format_datetime(when)}</pubDate>" if when else ""
            content = ""
            if outlet.full_text:
                html = "".join(f"<p>{escape(p)}</p>" for p in item.paragraphs)
                content = f"<content:encoded><![CDATA[{html}]]></content:encoded>"
            entries.append(
                f"<item><title>{escape(item.title)}</title><link>{escape(self.link(item))}</link>"
                f'<guid isPermaLink="false">{outlet.slug}:{item.id}</guid>{date}'
                f"<dc:creator>{escape(item.author)}</dc:creator>"
                f"<description>{escape(item.summary)}</description>{content}</item>"
            )
        return (
            '<?xml version="1.0" encoding="utf-8"?>\n'
            '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
            f"<title>{escape(outlet.name)}</title><link>{self.base_url}/{outlet.slug}/</link>"
            f"<description>{escape(outlet.description)}</description>"
            f"<language>{outlet.language}</language>{''.join(entries)}</channel></rss>\n"
        )

    def _atom(self, outlet: Outlet, items: list[Item]) -> str:
        entries = []
        for item in items:
            when = self.published(item)
            dates = (
                (f"<published>{when.isoformat()}</published><updated>{when.isoformat()}</updated>")
                if when
                else ""
            )
            content = ""
            if outlet.full_text:
                html = "".join(f"<p>{escape(p)}</p>" for p in item.paragraphs)
                content = f'<content type="html">{escape(html)}</content>'
            entries.append(
                f"<entry><id>tag:{outlet.slug}.example,2026:{item.id}</id>"
                f"<title>{escape(item.title)}</title>"
                f'<link rel="alternate" href="{escape(self.link(item))}"/>{dates}'
                f"<author><name>{escape(item.author)}</name></author>"
                f"<summary>{escape(item.summary)}</summary>{content}</entry>"
            )
        return (
            '<?xml version="1.0" encoding="utf-8"?>\n'
            f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{outlet.language}">'
            f"<title>{escape(outlet.name)}</title><subtitle>{escape(outlet.description)}</subtitle>"
            f"<id>tag:{outlet.slug}.example,2026:feed</id>"
            f'<link rel="alternate" href="{self.base_url}/{outlet.slug}/"/>'
            f"<updated>{self.now.isoformat()}</updated>{''.join(entries)}</feed>\n"
        )

    def _page(self, outlet: Outlet, item: Item) -> str:
        when = self.published(item) or self.now
        others = [i for i in self.corpus.items if i.outlet == outlet.slug and i is not item][:4]
        related = "".join(
            f'<li><a href="/{outlet.slug}/{i.id}.html">{escape(i.title)}</a></li>' for i in others
        )
        body = "\n".join(f"<p>{escape(p)}</p>" for p in item.paragraphs)
        return f"""<!doctype html>
<html lang="{outlet.language}"><head><meta charset="utf-8">
<title>{escape(item.title)} | {escape(outlet.name)}</title>
<meta property="og:title" content="{escape(item.title)}">
<meta property="og:site_name" content="{escape(outlet.name)}">
<meta property="og:description" content="{escape(item.summary)}">
<meta name="author" content="{escape(item.author)}">
<meta property="article:published_time" content="{when.isoformat()}">
<link rel="stylesheet" href="/static/site.css"><script src="/static/ads.js"></script>
</head><body>
<div class="cookie-banner" id="cookies">We use cookies to improve your experience and to show
you relevant advertising. <button>Accept all</button> <button>Manage choices</button></div>
<header class="site-header"><a class="logo" href="/{outlet.slug}/">{escape(outlet.name)}</a>
<nav class="menu"><ul><li><a href="#">Home</a></li><li><a href="#">Politics</a></li>
<li><a href="#">Economy</a></li><li><a href="#">Security</a></li><li><a href="#">Opinion</a></li>
<li><a href="#">Newsletters</a></li><li><a href="#">Subscribe</a></li></ul></nav></header>
<main><article class="story">
<h1 class="headline">{escape(item.title)}</h1>
<p class="byline">By <a rel="author" href="#">{escape(item.author)}</a> ·
<time datetime="{when.isoformat()}">{when:%d %B %Y, %H:%M} UTC</time></p>
<div class="share">Share this article: <a href="#">Email</a> <a href="#">Copy link</a></div>
<div class="article-body">
{body}
</div>
<aside class="newsletter-box"><h3>Sign up for our morning newsletter</h3>
<p>Get the stories that matter in your inbox every weekday. Enter your email address
below. You can unsubscribe at any time.</p><form><input type="email"
placeholder="Your email"><button>Sign up</button></form></aside>
<section class="author-bio"><h3>About the author</h3><p>{escape(item.author)} writes for
{escape(outlet.name)}. Before joining the paper, they reported for regional radio and
television and studied international relations.</p></section>
</article>
<aside class="related"><h2>Related stories</h2><ul>{related}</ul></aside>
<aside class="promo"><p>Support independent journalism. Become a member today for full
access to our archive and exclusive analysis.</p></aside></main>
<footer class="site-footer"><p>© 2026 {escape(outlet.name)}. All rights reserved.</p>
<ul><li><a href="#">About us</a></li><li><a href="#">Contact</a></li>
<li><a href="#">Privacy policy</a></li><li><a href="#">Terms of use</a></li></ul></footer>
</body></html>
"""


@dataclass(slots=True, kw_only=True)
class Served:
    """A running document server: its base URL and whether it honours conditional GET.

    ``conditional`` may be switched while the server runs.
    """

    base_url: str
    modified: str
    conditional: bool = True


class _Handler(BaseHTTPRequestHandler):
    documents: dict[str, tuple[str, bytes]]
    served: Served
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out at once, not 40 ms apart

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        found = self.documents.get(path)
        if found is None:
            self._send(404, "text/plain; charset=utf-8", b"not found\n", {})
            return
        kind, body = found
        etag = '"' + hashlib.sha1(body, usedforsecurity=False).hexdigest()[:16] + '"'
        modified = self.served.modified
        headers = {"ETag": etag, "Last-Modified": modified}
        if self.served.conditional and (
            self.headers.get("If-None-Match") == etag
            or (
                self.headers.get("If-None-Match") is None
                and self.headers.get("If-Modified-Since") == modified
            )
        ):
            self._send(304, "", b"", headers)
            return
        self._send(200, kind, body, headers)

    def _send(self, status: int, kind: str, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        if kind:
            self.send_header("Content-Type", kind)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve_documents(
    documents: dict[str, tuple[str, bytes]],
    *,
    modified: datetime,
    conditional: bool = True,
) -> Iterator[Served]:
    """Serve ``path → (content type, body)`` on 127.0.0.1 on a free port.

    Every document has an ETag (a hash of its body) and ``modified`` as its
    Last-Modified. With ``conditional=False`` the server ignores If-None-Match
    and If-Modified-Since and always sends the whole body. ``documents`` may be
    filled once the base URL is known.
    """
    stamp = email.utils.format_datetime(modified.replace(microsecond=0), usegmt=True)
    served = Served(base_url="", modified=stamp, conditional=conditional)
    handler: type[_Handler] = type(
        "DocumentHandler", (_Handler,), {"documents": documents, "served": served}
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    served.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="document-server", daemon=True)
    thread.start()
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextmanager
def serve(corpus: Corpus | None = None, *, now: datetime | None = None) -> Iterator[Site]:
    """Serve the corpus on 127.0.0.1 on a free port for the duration of the block."""
    documents: dict[str, tuple[str, bytes]] = {}
    moment = now or datetime.now(UTC)
    with serve_documents(documents, modified=moment) as served:
        site = Site(corpus or load_corpus(), served.base_url, moment)
        documents.update(site.documents)
        yield site
