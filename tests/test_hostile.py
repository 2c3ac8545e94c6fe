"""Hostile input: the corpus of tests/data/hostile/, served on 127.0.0.1, read by a real
``briefings run --once --send`` beside two good feeds.

Every case must end as its manifest (cases.toml) says: one clear line for the feed, or
safe entries. Nothing active may reach an output, no header may be forged, the good feeds'
edition must be what it is without the hostile ones, and the run must stay within bounds
of time and memory.
"""

from __future__ import annotations

import email
import email.policy
import html
import json
import os
import shutil
import sqlite3
import struct
import subprocess
import sys
import threading
import time
import tomllib
import tracemalloc
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from briefings import config as configuration
from briefings import pipeline
from briefings.fetch import FetchOptions, Request, fetch_all
from briefings.model import Subscriber

from .safety import html_problems

HOSTILE = Path(__file__).parent / "data" / "hostile"
CASES: list[dict[str, Any]] = tomllib.loads((HOSTILE / "cases.toml").read_text("utf-8"))["case"]
GOOD = ("good-a", "good-b")
SECRET = "a-secret-for-tests-only-0123456789"
MARKER = "XSS-"
TIMEOUT = 3
MAX_SECONDS = 150
"""The whole hostile run, generous for a shared 2-core machine; without the caps the
trickle alone holds it for ever and the bombs take gigabytes."""
MAX_RSS_MB = 600
EXPECTED_HEADERS = {
    "from", "to", "subject", "date", "message-id", "list-id", "list-unsubscribe",
    "list-unsubscribe-post", "auto-submitted", "precedence", "mime-version", "content-type",
}  # fmt: skip
MEASURE = (
    "import resource, sys\n"
    "from briefings.cli import main\n"
    "path = sys.argv.pop(1)\n"
    "try:\n"
    "    main()\n"
    "finally:\n"
    "    with open(path, 'w') as out:\n"
    "        out.write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))\n"
)
"""Runs the CLI and writes its peak resident memory (KiB) to the file named first."""


def gzip_bomb(gigabytes: int = 2) -> bytes:
    """A valid gzip stream of ``gigabytes`` GiB of zeros, about 1 MB per GiB on the wire.

    One fully flushed deflate segment of 1 MiB of zeros, repeated: each segment starts
    afresh, so repeating its bytes repeats its output; built in under a second.
    """
    zeros = b"\0" * (1 << 20)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    segment = deflate.compress(zeros) + deflate.flush(zlib.Z_FULL_FLUSH)
    count = gigabytes << 10
    crc = 0
    for _ in range(count):
        crc = zlib.crc32(zeros, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    trailer = struct.pack("<II", crc, (count << 20) & 0xFFFFFFFF)
    return header + segment * count + deflate.flush() + trailer


def many_items(count: int = 20_000) -> bytes:
    """A feed of ``count`` short items, dated a minute apart in 2025 (outside every window)."""
    start = datetime(2025, 1, 1, tzinfo=UTC)
    items = "".join(
        f"<item><title>Item {n}</title><link>/many/{n}</link><guid>m{n}</guid>"
        f"<pubDate>{format_datetime(start + timedelta(minutes=n))}</pubDate></item>"
        for n in range(count)
    )
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Many</title><link>/</link>'
        f"<description>d</description>{items}</channel></rss>"
    ).encode()


def deep_nesting(depth: int = 200_000) -> bytes:
    """A feed of one item whose HTML nests ``depth`` block elements (2.6 MB): what an HTML
    parser reads in time growing with the square of the depth."""
    paragraph = "<p>Traders quoted the market report at length, word for word, all day.</p>"
    markup = "<blockquote><div>" * (depth // 2) + paragraph * 10  # no teaser: no page
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Deep</title><link>/</link>'
        "<description>d</description><item><title>Deeply nested quotes</title>"
        "<link>/deep/1</link><guid>deep-1</guid><pubDate>@RECENT@</pubDate>"
        f"<description><![CDATA[{markup}]]></description></item></channel></rss>"
    ).encode()


class HostileHandler(BaseHTTPRequestHandler):
    """Serves the corpus; the behaviours of cases with ``serve`` are written out here."""

    site: HostileSite

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        try:
            if path.startswith("/case/"):
                self._case(path.removeprefix("/case/"))
            elif path.startswith("/good/"):
                self._file(HOSTILE / f"{path.removeprefix('/good/')}.rss")
            elif path.startswith("/xxe/"):
                self.site.requested.append(path)  # what only an entity would ask for
                self._send(200, b"XSS-entity", {"Content-Type": "text/plain"})
            elif path == "/page.html":
                self._file(HOSTILE / "page.html", "text/html; charset=utf-8")
            else:
                self._send(404, b"not found", {"Content-Type": "text/plain"})
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up, as it should

    def _case(self, case_id: str) -> None:
        case = self.site.cases[case_id]
        serve = case.get("serve")
        if serve is None:
            kind = "text/html" if case["file"].endswith(".html") else "application/rss+xml"
            self._file(HOSTILE / case["file"], kind)
        elif serve == "gzip-bomb":
            body = self.site.bomb
            self._send(200, body, {"Content-Type": "application/rss+xml",
                                   "Content-Encoding": "gzip"})  # fmt: skip
        elif serve in ("huge-streamed", "huge-declared"):
            self._huge(declared=serve == "huge-declared")
        elif serve == "trickle":
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", "100000")
            self.end_headers()
            for byte in b"<?xml version='1.0'?><rss>" * 10:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                if self.site.stopping.wait(1.0):
                    return
        elif serve == "redirect-loop":
            self._send(302, b"", {"Location": self.path})
        elif serve == "many-items":
            self._send(200, self.site.many, {"Content-Type": "application/rss+xml"})
        elif serve == "deep-nesting":
            body = deep_nesting().replace(b"@RECENT@", self.site.recent.encode())
            self._send(200, body, {"Content-Type": "application/rss+xml"})
        else:
            raise AssertionError(f"unknown behaviour {serve!r}")

    def _huge(self, *, declared: bool) -> None:
        size = 50 * (1 << 20)
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        if declared:
            self.send_header("Content-Length", str(size))
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        head = b'<?xml version="1.0"?><rss version="2.0"><channel><title>Big</title>'
        item = b"<item><title>Filler</title><link>/big</link></item>" * 1000
        self.wfile.write(head)
        sent = len(head)
        while sent < size:
            chunk = item[: size - sent]
            self.wfile.write(chunk)
            sent += len(chunk)

    def _file(self, path: Path, kind: str = "application/rss+xml") -> None:
        body = path.read_bytes().replace(b"@RECENT@", self.site.recent.encode())
        body = body.replace(b"@BASE@", self.site.base.encode())
        body = body.replace(b"@DATA@", str(HOSTILE.resolve()).encode())
        self._send(200, body, {"Content-Type": kind})

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


@dataclass
class HostileSite:
    base: str
    cases: dict[str, dict[str, Any]]
    recent: str
    bomb: bytes
    many: bytes
    stopping: threading.Event
    requested: list[str]
    """Paths under /xxe/ that were asked for: an entity or XInclude was resolved."""

    def feed_url(self, case_id: str) -> str:
        return f"{self.base}/case/{case_id}"


@pytest.fixture(scope="module")
def hostile_site() -> Iterator[HostileSite]:
    handler = type("Handler", (HostileHandler,), {})
    httpd = _QuietServer(("127.0.0.1", 0), handler)
    site = HostileSite(
        base=f"http://127.0.0.1:{httpd.server_address[1]}",
        cases={c["id"]: c for c in CASES},
        recent=format_datetime(datetime.now(UTC) - timedelta(hours=2)),
        bomb=gzip_bomb(),
        many=many_items(),
        stopping=threading.Event(),
        requested=[],
    )
    handler.site = site
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield site
    site.stopping.set()
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def config_text(site: HostileSite, case_ids: list[str], *, good: bool = True) -> str:
    """A feeds.toml over the given cases (and the good feeds), with tight limits."""
    feeds = [
        f'[[feeds]]\nname = "Case {c}"\nid = "{c}"\nurl = "{site.feed_url(c)}"\n' for c in case_ids
    ]
    if good:
        feeds += [
            f'[[feeds]]\nname = "{g}"\nid = "{g}"\nurl = "{site.base}/good/{g}"\n' for g in GOOD
        ]
    return f"""
[settings]
database = "sqlite:///briefings.db"
output = "out"
timeout = {TIMEOUT}
retries = 0
host_delay = 0
base_url = "https://briefings.example.org"

[delivery]
method = "outbox"
base_url = "https://briefings.example.org"

{"".join(feeds)}
[briefings.caucasus]
title = "Caucasus"
topics = ["caucasus"]
schedule = "0 7 * * *"

[briefings.everything]
title = "Everything"
schedule = "0 7 * * *"
window = "2d"
max_stories = 60
"""


@dataclass
class HostileRun:
    site: HostileSite
    folder: Path
    config: configuration.Config
    result: subprocess.CompletedProcess[str]
    seconds: float
    peak_mb: float
    reference: list[tuple[str, str]]
    """(title, url) of the Caucasus edition built from the good feeds alone."""


def edition_stories(folder: Path, briefing: str) -> list[tuple[str, str]]:
    [edition] = [p for p in (folder / briefing).iterdir() if (p / "edition.json").exists()]
    document = json.loads((edition / "edition.json").read_text("utf-8"))
    return [(s["title"], s["url"]) for s in document["stories"]]


@pytest.fixture(scope="module")
def hostile_run(
    hostile_site: HostileSite, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[HostileRun]:
    # the good feeds alone, in process: what the Caucasus edition should be
    alone = tmp_path_factory.mktemp("good-alone")
    (alone / "feeds.toml").write_text(config_text(hostile_site, []), "utf-8")
    good_config = configuration.load(alone / "feeds.toml")
    store = pipeline.open_store(good_config)
    pipeline.run_once(pipeline.Run(config=good_config, store=store))
    store.close()
    reference = edition_stories(good_config.settings.output, "caucasus")

    folder = tmp_path_factory.mktemp("hostile")
    (folder / "feeds.toml").write_text(config_text(hostile_site, [c["id"] for c in CASES]), "utf-8")
    config = configuration.load(folder / "feeds.toml")
    store = pipeline.open_store(config)
    store.save_subscribers(
        [Subscriber(email="reader@example.net", briefings=("caucasus", "everything"))],
        now=datetime.now(UTC),
    )
    store.close()
    peak = folder / "peak-kib"
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", MEASURE, str(peak), "--config", str(folder / "feeds.toml"),
         "run", "--once", "--send"],
        env={**os.environ, "BRIEFINGS_SECRET": SECRET},
        capture_output=True,
        text=True,
        timeout=600,
    )  # fmt: skip
    seconds = time.monotonic() - started
    yield HostileRun(
        site=hostile_site,
        folder=folder,
        config=config,
        result=result,
        seconds=seconds,
        peak_mb=int(peak.read_text()) / 1024,
        reference=reference,
    )


def stored(run: HostileRun, query: str, *args: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(run.folder / "briefings.db") as db:
        rows = db.execute(query, args).fetchall()
    db.close()
    return rows


def test_the_run_finishes_in_bounded_time_and_memory(hostile_run: HostileRun) -> None:
    assert hostile_run.result.returncode == 0, hostile_run.result.stderr
    assert "Traceback" not in hostile_run.result.stderr
    assert hostile_run.seconds < MAX_SECONDS
    assert hostile_run.peak_mb < MAX_RSS_MB  # the bomb alone unpacks to 2,048 MiB


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_each_case_ends_as_the_manifest_says(hostile_run: HostileRun, case: dict[str, Any]) -> None:
    url = hostile_run.site.feed_url(case["id"])
    lines = [
        line.strip()
        for line in hostile_run.result.stderr.splitlines()
        if line.strip().startswith(f"feed {url}:")
    ]
    if "error" in case:
        assert len(lines) == 1, hostile_run.result.stderr
        assert case["error"] in lines[0]
    else:
        assert lines == []  # no problem reported for a feed that was read
    if "entries" in case:
        [(count,)] = stored(
            hostile_run, "SELECT count(*) FROM entries WHERE feed_id = ?", case["id"]
        )
        assert count == case["entries"]


def test_the_good_feeds_edition_is_unharmed(hostile_run: HostileRun) -> None:
    assert hostile_run.reference  # the good feeds make an edition of their own
    assert edition_stories(hostile_run.config.settings.output, "caucasus") == hostile_run.reference
    for feed in GOOD:
        [(count,)] = stored(hostile_run, "SELECT count(*) FROM entries WHERE feed_id = ?", feed)
        assert count == 2


def output_files(run: HostileRun) -> list[Path]:
    files = [p for p in run.config.settings.output.rglob("*") if p.is_file()]
    files += list(run.config.delivery.outbox.glob("*.eml"))
    return files


def test_nothing_active_reaches_any_output(hostile_run: HostileRun) -> None:
    files = output_files(hostile_run)
    hostile_titles = ("Port workers strike", "Ferry service resumes", "Tariffs rise")
    everything = "".join(p.read_text("utf-8") for p in files if p.suffix == ".html")
    for title in hostile_titles:
        assert title in everything  # the hostile stories are in the outputs, made safe
    for path in files:
        text = path.read_text("utf-8")
        if path.suffix == ".eml":
            message = email.message_from_string(text, policy=email.policy.default)
            plain, html = (message.get_body((kind,)) for kind in ("plain", "html"))
            assert plain is not None and html is not None
            text = plain.get_content() + html.get_content()
            assert not html_problems(html.get_content()), path
        assert MARKER not in text, (path, text[text.find(MARKER) - 200 : text.find(MARKER) + 50])
        if path.suffix == ".html":
            assert not html_problems(text), path
    web = next(p for p in files if p.name == "index.html" and p.parent.parent.name == "everything")
    assert "&lt;script&gt;alert(&#39;title-as-text&#39;)&lt;/script&gt;" in web.read_text("utf-8")


BROWSER_HOOK = """<script>(() => {
  const ran = [];
  for (const name of ["alert", "confirm", "prompt", "open", "print"])
    window[name] = (...args) => { ran.push(`${name}(${args.join(",")})`); };
  addEventListener("load", () => setTimeout(() => {
    const all = [...document.querySelectorAll("*")];
    document.title = "RESULT" + JSON.stringify({
      ran, location: String(location),
      scripts: document.scripts.length - 1,
      frames: document.querySelectorAll("iframe, frame, object, embed").length,
      handlers: all.filter(e => [...e.attributes].some(a => a.name.startsWith("on"))).length,
      loaded: performance.getEntriesByType("resource").map(e => e.name),
    });
  }, 500));
})();</script>"""
"""Put first in each page served to Chromium: records what a page runs, loads and holds."""


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed")
def test_nothing_runs_or_loads_in_a_browser(hostile_run: HostileRun, tmp_path: Path) -> None:
    # The static checks read the HTML as this test's parser does; a browser reads it as
    # readers' browsers do. Every host but 127.0.0.1 is unresolvable to it.
    pages: dict[str, str] = {}
    for path in output_files(hostile_run):
        if path.suffix == ".html":
            pages[f"/{path.parent.name}-{path.name}"] = path.read_text("utf-8")
        elif path.suffix == ".eml":
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            body = message.get_body(("html",))
            assert body is not None
            pages[f"/{path.stem}.html"] = body.get_content()
    served: list[str] = []

    class Pages(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            served.append(self.path)
            page = pages.get(self.path, "")
            data = page.replace("<head>", "<head>" + BROWSER_HOOK, 1).encode() if page else b""
            self.send_response(200 if page else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = _QuietServer(("127.0.0.1", 0), Pages)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    origin = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        for name in sorted(pages):
            done = subprocess.run(
                ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", f"--user-data-dir={tmp_path / 'profile'}",
                 "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                 "--virtual-time-budget=3000", "--dump-dom", origin + name],
                capture_output=True, text=True, timeout=120, check=True,
            )  # fmt: skip
            title = done.stdout.split("<title>RESULT", 1)[1].split("</title>", 1)[0]
            seen = json.loads(html.unescape(title))
            assert seen["ran"] == [] and seen["location"] == origin + name, (name, seen)
            assert (seen["scripts"], seen["frames"], seen["handlers"]) == (0, 0, 0), (name, seen)
            for url in seen["loaded"]:  # pictures of stories, from the hostile site itself
                assert url.startswith((origin, hostile_run.site.base)), (name, url)
                assert MARKER not in url
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()
    assert len(pages) >= 6 and all(MARKER not in path for path in served)


def test_no_header_can_be_forged(hostile_run: HostileRun) -> None:
    messages = sorted(hostile_run.config.delivery.outbox.glob("*.eml"))
    assert len(messages) == 2  # one per briefing for the one reader
    for path in messages:
        raw = path.read_bytes()
        head = raw.split(b"\r\n\r\n", 1)[0]
        assert b"Bcc" not in head and b"victim" not in head
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert {name.lower() for name in message} == EXPECTED_HEADERS
        assert message.get_all("To") == ["reader@example.net"]
        for part in message.iter_parts():
            assert set(part.keys()) == {"Content-Type", "Content-Transfer-Encoding"}


def test_stored_entries_are_plain_one_line_text_with_web_links(hostile_run: HostileRun) -> None:
    rows = stored(hostile_run, "SELECT feed_id, guid, url, title, summary, author FROM entries")
    assert len(rows) > 500
    for feed_id, guid, url, title, summary, author in rows:
        assert url.startswith(("http://127.0.0.1:", f"{hostile_run.site.base}/")), url
        for text in (guid, title, author):
            assert text == " ".join(text.split()), (feed_id, text)  # one line each
        for text in (guid, title, summary, author):
            assert not any(ord(c) < 32 and c not in "\n\t" for c in text), (feed_id, text)
            assert "\ufffe" not in text and "\uffff" not in text
            assert MARKER not in text
    titles = {title for feed_id, _, _, title, _, _ in rows if feed_id == "headers"}
    assert "Tariffs rise Bcc: evil@example.com Subject: you won body" in titles
    [(link,)] = stored(hostile_run, "SELECT url FROM entries WHERE title = 'Relative links'")
    assert link == f"{hostile_run.site.base}/case/markup/relative.html"  # the feed's own URL
    duplicates = stored(
        hostile_run, "SELECT title FROM entries WHERE feed_id = 'duplicates' ORDER BY title"
    )
    assert duplicates == [("First with the id",), ("Second with the id",), ("Third with the id",)]


def test_no_external_entity_is_fetched_or_read(hostile_run: HostileRun) -> None:
    assert hostile_run.site.requested == []
    [(title, summary)] = stored(
        hostile_run, "SELECT title, summary FROM entries WHERE feed_id = 'xxe-local'"
    )
    assert title.startswith("Customs data") and summary.startswith("Officials said")
    assert MARKER not in title + summary  # in secret.txt, and the answer to every /xxe/ path


def test_dates_far_off_are_kept_or_replaced(hostile_run: HostileRun) -> None:
    rows = dict(
        (title, (published, dated))
        for title, published, dated in stored(
            hostile_run, "SELECT title, published, dated FROM entries WHERE feed_id = 'dates'"
        )
    )
    assert rows["Dated at the epoch"] == ("1970-01-01 00:00:00.000000", 1)
    for title in ("Dated in 2090", "Dated nonsense"):
        published, dated = rows[title]
        assert dated == 0 and published.startswith(str(datetime.now(UTC).year))


def test_the_hostile_page_gives_text_only(hostile_run: HostileRun) -> None:
    [(text, image)] = stored(
        hostile_run,
        "SELECT text, image FROM pages WHERE url = ?",
        f"{hostile_run.site.base}/page.html",
    )
    assert "container terminal" in text
    assert image == ""  # its og:image was a javascript: link
    assert MARKER not in text


def test_a_gzip_bomb_never_unpacks_in_memory(hostile_site: HostileSite) -> None:
    tracemalloc.start()
    try:
        [result] = fetch_all(
            [Request(url=hostile_site.feed_url("gzip-bomb"))], FetchOptions(max_bytes=3_000_000)
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.error == "response is over the 3,000,000-byte limit unpacked"
    assert peak < 10_000_000  # the body read so far and one network chunk, not 64 MiB chunks


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ('[briefings."../../etc"]\ntitle = "x"\nschedule = "0 7 * * *"', "briefings.../../etc"),
        ('[[feeds]]\nname = "x"\nid = "../../etc"\nurl = "feed.xml"', "feeds[0].id"),
        ('[[feeds]]\nname = "../../etc"\nurl = "feed.xml"', None),
        ('[topics."../x"]\ntitle = "x"\nterms = ["a"]', "topics.../x"),
        ('[briefings."a/b"]\ntitle = "x"\nschedule = "0 7 * * *"', "briefings.a/b"),
    ],
)
def test_ids_that_climb_out_of_the_output_folder_are_refused(
    tmp_path: Path, table: str, key: str | None
) -> None:
    (tmp_path / "feeds.toml").write_text(table + "\n", "utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "briefings.cli", "--config", str(tmp_path / "feeds.toml"), "check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if key is None:  # a name is only slugged into an id: "etc", which stays inside
        assert result.returncode == 0, result.stderr
        return
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"error: feeds.toml: {key}:")
    assert "invalid id" in line
