"""Feed ingest at scale, side by side with `reader` and with feedparser alone.

Generates a corpus (default 500 feeds × 50 items: a fifth of the items carry their full text,
the rest are teasers, and a tenth are syndicated copies of another feed's item), serves it on
127.0.0.1 with ETag and Last-Modified, and measures, each in its own process:

- `briefings fetch --feeds-only` on a cold store;
- `reader` 3.26 `update_feeds(workers=N)` on the same feeds, search disabled, with 1 and 8
  worker threads (the faster is shown), from its own virtual environment (made under
  bench/.cache/ on the first run; never a project dependency);
- the floor: `feedparser.parse()` over the same bodies already in memory, in one process;
- `briefings fetch --feeds-only` again with nothing changed (every feed answers 304);
- the floor of that poll: a bare script that starts Python, imports what `briefings` must
  (click, httpx, SQLAlchemy), reads the stored validators and asks each feed in turn with one
  `httpx.Client`, storing nothing;
- and again with the server ignoring conditional GET, sending identical bodies;
- the same two polls repeated inside one long-running process, as `briefings schedule`'s
  fetch job makes them (config, lock, store, `pipeline.fetch_feeds`), timed around the
  second poll only: no Python start-up or imports.

    .venv/bin/python bench/ingest.py [--feeds 500] [--items 50] [--repeat 2]

Nothing leaves 127.0.0.1: item links point at the same local server, and pages are not fetched.
The package's bytecode is compiled first, as an installed package has it.
"""

from __future__ import annotations

import argparse
import compileall
import email.utils
import hashlib
import json
import os
import pickle
import random
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import venv
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from rich.console import Console
from rich.table import Table

from briefings import corpus

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / ".cache"
READER_VENV = CACHE / "reader-venv"
READER_SPEC = ("reader==3.26", "sgmllib3k")
SAMPLE_EVERY = 0.05
READER_ROW = "reader update_feeds()"
IN_PROCESS_304 = "briefings, repeat poll in one process (as schedule), all 304"
IN_PROCESS_SAME = "briefings, repeat poll in one process (as schedule), identical bodies"
FLOOR_304 = "304 floor: bare script, same imports, one httpx.Client GET per feed"
READER_WORKERS: dict[float, int] = {}
"""The workers of each reader run, by its wall time."""

READER_SCRIPT = """
import json, sys
from reader import make_reader

db, action = sys.argv[1], sys.argv[2]
reader = make_reader(db, search_enabled=False)
if action == "add":
    for url in open(sys.argv[3]).read().split():
        reader.add_feed(url)
else:
    reader.update_feeds(workers=int(sys.argv[3]))
    print(json.dumps({"entries": reader.get_entry_counts().total}))
reader.close()
"""

FLOOR_304_SCRIPT = """
import sqlite3, sys
import click, httpx, sqlalchemy  # what any `briefings` process loads: its CLI, HTTP and store

with sqlite3.connect(sys.argv[1]) as db:
    rows = db.execute("SELECT url, etag, last_modified FROM feeds").fetchall()
unchanged = 0
with httpx.Client() as client:
    for url, etag, modified in rows:
        headers = {"If-None-Match": etag} if etag else {}
        if modified:
            headers["If-Modified-Since"] = modified
        unchanged += client.get(url, headers=headers).status_code == 304
print(unchanged)
"""
"""The least a fresh Python process can do for the all-304 poll with the project's libraries:
start, import click, httpx and SQLAlchemy, read the validators, ask each feed once over one
pooled connection, and store nothing. ``briefings fetch`` can't go much below this."""


@dataclass(frozen=True, slots=True, kw_only=True)
class BenchFeed:
    """One generated feed: where it is served and its body."""

    slug: str
    path: str
    content_type: str
    body: bytes
    items: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Measured:
    """What one measured process used."""

    wall: float
    cpu: float
    max_rss_mb: float
    tree_mb: float
    stdout: str


def sentences() -> list[str]:
    """Every sentence of the bundled sample corpus: realistic words for generated items."""
    found = []
    for item in corpus.load_corpus().items:
        for paragraph in item.paragraphs:
            found += [s.strip() + "." for s in paragraph.split(". ") if len(s.split()) > 5]
    return found


def make_corpus(
    *, feeds: int, items: int, full_share: float, copy_share: float, base_url: str, seed: int
) -> list[BenchFeed]:
    """Generate ``feeds`` feeds of ``items`` items each, deterministically from ``seed``."""
    rng = random.Random(seed)
    pool = sentences()
    now = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)
    originals: list[list[dict[str, str]]] = []
    for f in range(feeds):
        slug = f"outlet-{f:03d}"
        mine = []
        for n in range(items):
            words = rng.choice(pool).rstrip(".").split()
            title = " ".join(words[: rng.randint(6, 12)]) + f" ({rng.randrange(10_000)})"
            published = now - timedelta(seconds=rng.uniform(0, 3 * 86400))
            item = {
                "id": f"{slug}-{n}",
                "title": title,
                "link": f"{base_url}/{slug}/news/{n}.html",
                "author": f"Reporter {rng.randrange(400)}",
                "published": published.isoformat(),
                "summary": " ".join(rng.choices(pool, k=rng.randint(1, 3))),
                "content": "",
            }
            if rng.random() < full_share:
                paragraphs = [
                    " ".join(rng.choices(pool, k=rng.randint(2, 5)))
                    for _ in range(rng.randint(5, 10))
                ]
                paragraphs[1] = (
                    f'<a href="/{slug}/topics/{rng.randrange(50)}">Read more</a>: '
                    f"<strong>{escape(paragraphs[1])}</strong>"
                )
                item["content"] = "".join(
                    f"<p>{p if p.startswith('<a') else escape(p)}</p>" for p in paragraphs
                )
            mine.append(item)
        originals.append(mine)
    result = []
    for f, mine in enumerate(originals):
        slug = f"outlet-{f:03d}"
        final = list(mine)
        for n in range(items):
            if feeds > 1 and rng.random() < copy_share:
                other = rng.choice([o for o in range(feeds) if o != f][:50] or [0])
                copy = dict(rng.choice(originals[other]))
                copy["link"] += f"?utm_source=rss&utm_medium={slug}"
                copy["id"] = f"{slug}-copy-{n}"
                final[n] = copy
        atom = f % 10 >= 7  # three feeds in ten are Atom
        body = _atom(slug, final, base_url, now) if atom else _rss(slug, final, base_url, now)
        name = "atom.xml" if atom else "feed.xml"
        kind = "application/atom+xml" if atom else "application/rss+xml"
        result.append(
            BenchFeed(
                slug=slug,
                path=f"/{slug}/{name}",
                content_type=f"{kind}; charset=utf-8",
                body=body.encode(),
                items=len(final),
            )
        )
    return result


def _rss(slug: str, items: list[dict[str, str]], base_url: str, now: datetime) -> str:
    parts = []
    for item in items:
        when = email.utils.format_datetime(datetime.fromisoformat(item["published"]))
        content = (
            f"<content:encoded><![CDATA[{item['content']}]]></content:encoded>"
            if item["content"]
            else ""
        )
        parts.append(
            f"<item><title>{escape(item['title'])}</title><link>{escape(item['link'])}</link>"
            f'<guid isPermaLink="false">{item["id"]}</guid><pubDate>{when}</pubDate>'
            f"<dc:creator>{escape(item['author'])}</dc:creator>"
            f"<description>{escape('<p>' + escape(item['summary']) + '</p>')}</description>"
            f"{content}</item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
        f"<title>Outlet {slug}</title><link>{base_url}/{slug}/</link>"
        f"<description>News from {slug}</description><language>en</language>"
        f"<lastBuildDate>{email.utils.format_datetime(now)}</lastBuildDate>"
        f"{''.join(parts)}</channel></rss>\n"
    )


def _atom(slug: str, items: list[dict[str, str]], base_url: str, now: datetime) -> str:
    parts = []
    for item in items:
        content = (
            f'<content type="html">{escape(item["content"])}</content>' if item["content"] else ""
        )
        parts.append(
            f"<entry><id>tag:{slug}.example,2026:{item['id']}</id>"
            f"<title>{escape(item['title'])}</title>"
            f'<link rel="alternate" href="{escape(item["link"])}"/>'
            f"<published>{item['published']}</published><updated>{item['published']}</updated>"
            f"<author><name>{escape(item['author'])}</name></author>"
            f"<summary>{escape(item['summary'])}</summary>{content}</entry>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">'
        f"<title>Outlet {slug}</title><id>tag:{slug}.example,2026:feed</id>"
        f'<link rel="alternate" href="{base_url}/{slug}/"/>'
        f"<updated>{now.isoformat()}</updated>{''.join(parts)}</feed>\n"
    )


def measure(command: list[str]) -> Measured:
    """Run ``command`` to its end; its wall and CPU time (children included) and memory.

    ``max_rss_mb`` is the kernel's peak RSS of the largest process; ``tree_mb`` the
    largest sum of PSS over the process and its children, sampled every 50 ms.
    """
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, text=True)
        done = threading.Event()
        peak = [0.0]

        def sample() -> None:
            while not done.wait(SAMPLE_EVERY):
                peak[0] = max(peak[0], _tree_pss_mb(process.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        done.set()
        sampler.join()
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}):\n{stderr}")
    return Measured(
        wall=wall,
        cpu=usage.ru_utime + usage.ru_stime,
        max_rss_mb=usage.ru_maxrss / 1024,
        tree_mb=peak[0],
        stdout=stdout,
    )


def _tree_pss_mb(pid: int) -> float:
    total = 0
    todo = [pid]
    while todo:
        current = todo.pop()
        try:
            for line in Path(f"/proc/{current}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
                    break
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
    return total / 1024


def reader_python() -> Path:
    """The Python of reader's own virtual environment, made on first use."""
    python = READER_VENV / "bin" / "python"
    if not python.exists():
        print(f"making {READER_VENV} with {' '.join(READER_SPEC)} …", file=sys.stderr)
        venv.create(READER_VENV, with_pip=True)
        pip = [str(python), "-m", "pip", "install", "-q"]
        subprocess.run([*pip, "-U", "pip"], check=True)
        subprocess.run([*pip, *READER_SPEC], check=True)
    return python


def write_config(folder: Path, base_url: str, feeds: list[BenchFeed]) -> Path:
    """A feeds.toml over the generated feeds, with the shipped catalogue of briefings."""
    catalogue = (ROOT / "feeds.toml").read_text(encoding="utf-8")
    briefings = catalogue[catalogue.index("[briefings.") :]
    listed = "".join(
        f'[[feeds]]\nid = "{f.slug}"\nname = "Outlet {f.slug}"\nurl = "{base_url}{f.path}"\n\n'
        for f in feeds
    )
    path = folder / "feeds.toml"
    path.write_text(
        f'[settings]\ndatabase = "sqlite:///{folder / "briefings.db"}"\n'
        f'timezone = "Europe/Istanbul"\n\n{listed}{briefings}'
    )
    return path


def floor(bodies_file: Path) -> None:
    """In a child process: parse every body with feedparser, print time and entries as JSON."""
    import resource

    import feedparser

    bodies = pickle.loads(bodies_file.read_bytes())
    for flags in ({}, {"sanitize_html": False, "resolve_relative_uris": False}):
        before = resource.getrusage(resource.RUSAGE_SELF)
        started = time.perf_counter()
        entries = sum(len(feedparser.parse(body, **flags).entries) for body in bodies)
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_SELF)
        cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        print(json.dumps({"wall": wall, "cpu": cpu, "entries": entries, "flags": bool(flags)}))


class FeedHandler(BaseHTTPRequestHandler):
    """The bench's feed server: ``corpus``'s document handler with each document's ETag
    and headers worked out once, not on every request. It shares the two cores with the
    client, so its own cost per request shows in the client's wall time."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out at once, not 40 ms apart
    served: corpus.Served
    prepared: dict[str, tuple[str, bytes, bytes, bytes]]
    """path → (ETag, 200 head, body, 304 head)."""

    def do_GET(self) -> None:
        found = self.prepared.get(self.path.split("?", 1)[0])
        if found is None:
            self.send_error(404)
            return
        etag, head, body, not_modified = found
        if self.served.conditional and (
            self.headers.get("If-None-Match") == etag
            or (
                self.headers.get("If-None-Match") is None
                and self.headers.get("If-Modified-Since") == self.served.modified
            )
        ):
            self.wfile.write(not_modified)
            return
        self.wfile.write(head + body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class FeedServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64
    """socketserver's default backlog is 5: eight clients connecting at once could overflow
    it, and a dropped handshake is retried a second later."""


@contextmanager
def serve_feeds(modified: datetime) -> Iterator[tuple[corpus.Served, type[FeedHandler]]]:
    """Serve ``prepare``d feeds on 127.0.0.1 with ETag and Last-Modified, as
    ``corpus.serve_documents`` does; ``conditional`` may be switched while it runs."""
    stamp = email.utils.format_datetime(modified.replace(microsecond=0), usegmt=True)
    served = corpus.Served(base_url="", modified=stamp)
    handler = type("Handler", (FeedHandler,), {"served": served, "prepared": {}})
    server = FeedServer(("127.0.0.1", 0), handler)
    served.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="feed-server", daemon=True)
    thread.start()
    try:
        yield served, handler
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def prepare(handler: type[FeedHandler], feeds: list[BenchFeed]) -> None:
    """Each feed's ETag and ready-made response heads (200 and 304)."""
    for f in feeds:
        etag = '"' + hashlib.sha1(f.body, usedforsecurity=False).hexdigest()[:16] + '"'
        common = f"ETag: {etag}\r\nLast-Modified: {handler.served.modified}\r\n"
        head = (
            f"HTTP/1.1 200 OK\r\nContent-Type: {f.content_type}\r\n{common}"
            f"Content-Length: {len(f.body)}\r\n\r\n"
        )
        not_modified = f"HTTP/1.1 304 Not Modified\r\n{common}Content-Length: 0\r\n\r\n"
        handler.prepared[f.path] = (etag, head.encode(), f.body, not_modified.encode())


def poll(config_path: Path, rounds: int) -> None:
    """In a child process: poll every feed ``rounds`` times as ``briefings schedule``'s
    fetch job does, and print the last poll's time (wall and CPU) as JSON."""
    import resource

    from briefings import config as configuration
    from briefings import pipeline

    def cpu() -> float:
        mine = resource.getrusage(resource.RUSAGE_SELF)
        workers = resource.getrusage(resource.RUSAGE_CHILDREN)
        return mine.ru_utime + mine.ru_stime + workers.ru_utime + workers.ru_stime

    for _ in range(rounds):
        started, before = time.perf_counter(), cpu()
        config = configuration.load(config_path)
        with pipeline.run_lock(config):
            store = pipeline.open_store(config)
            try:
                run = pipeline.Run(config=config, store=store)
                pipeline.fetch_feeds(run)
            finally:
                store.close()
        wall, used = time.perf_counter() - started, cpu() - before
    print(json.dumps({"wall": wall, "cpu": used, "unchanged": run.report.feeds_not_modified}))


def briefings_fetch(config: Path) -> list[str]:
    return [sys.executable, "-m", "briefings.cli", "--config", str(config), "fetch", "--feeds-only"]


def stored(config: Path) -> int:
    with sqlite3.connect(config.parent / "briefings.db") as db:
        return int(db.execute("SELECT count(*) FROM entries").fetchone()[0])


def run_once(
    args: argparse.Namespace, feeds: list[BenchFeed], served: corpus.Served
) -> dict[str, tuple[Measured, int]]:
    """One round of every measurement, on fresh stores."""
    rows: dict[str, tuple[Measured, int]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        folder = Path(tmp)
        config = write_config(folder, served.base_url, feeds)
        served.conditional = True
        first = measure(briefings_fetch(config))
        rows["briefings fetch, cold store"] = (first, stored(config))
        if not args.skip_reader:
            python = str(reader_python())
            script = folder / "reader_bench.py"
            script.write_text(READER_SCRIPT)
            urls = folder / "urls.txt"
            urls.write_text("\n".join(served.base_url + f.path for f in feeds))
            tried = []
            for workers in args.reader_workers:
                db = str(folder / f"reader-{workers}.sqlite")
                subprocess.run([python, str(script), db, "add", str(urls)], check=True)
                done = measure([python, str(script), db, "update", str(workers)])
                count = json.loads(done.stdout.splitlines()[-1])["entries"]
                tried.append((done, count))
                READER_WORKERS[done.wall] = workers
            rows[READER_ROW] = min(tried, key=lambda found: found[0].wall)
        bodies = folder / "bodies.pickle"
        bodies.write_bytes(pickle.dumps([f.body for f in feeds]))
        child = measure([sys.executable, __file__, "_floor", str(bodies)])
        for line in child.stdout.splitlines():
            found = json.loads(line)
            label = "floor: feedparser.parse()" + (
                ", briefings' flags" if found["flags"] else ", defaults"
            )
            rows[label] = (
                Measured(
                    wall=found["wall"],
                    cpu=found["cpu"],
                    max_rss_mb=child.max_rss_mb,
                    tree_mb=child.tree_mb,
                    stdout="",
                ),
                found["entries"],
            )
        rows["briefings fetch, all 304"] = (measure(briefings_fetch(config)), stored(config))
        script = folder / "floor_304.py"
        script.write_text(FLOOR_304_SCRIPT)
        child = measure([sys.executable, str(script), str(folder / "briefings.db")])
        assert int(child.stdout.split()[-1]) == len(feeds), child.stdout
        rows[FLOOR_304] = (child, stored(config))
        served.conditional = False
        rows["briefings fetch, identical bodies"] = (
            measure(briefings_fetch(config)),
            stored(config),
        )
        for conditional, label in ((True, IN_PROCESS_304), (False, IN_PROCESS_SAME)):
            served.conditional = conditional
            child = measure([sys.executable, __file__, "_poll", str(config)])
            found = json.loads(child.stdout.splitlines()[-1])
            assert found["unchanged"] == len(feeds), found
            rows[label] = (
                Measured(
                    wall=found["wall"],
                    cpu=found["cpu"],
                    max_rss_mb=child.max_rss_mb,
                    tree_mb=child.tree_mb,
                    stdout="",
                ),
                stored(config),
            )
        served.conditional = True
    return rows


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "_floor":
        floor(Path(sys.argv[2]))
        return
    if len(sys.argv) == 3 and sys.argv[1] == "_poll":
        poll(Path(sys.argv[2]), rounds=2)
        return
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--full", type=float, default=0.2, help="share of full-text items")
    parser.add_argument("--copies", type=float, default=0.1, help="share of syndicated copies")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=2, help="rounds; the best is shown")
    parser.add_argument(
        "--reader-workers",
        type=int,
        nargs="+",
        default=[1, 8],
        help="reader's update_feeds(workers=N) to try; its fastest is shown",
    )
    parser.add_argument("--skip-reader", action="store_true")
    args = parser.parse_args()
    # Bytecode as an installed package has it (pip compiles it at install; an editable
    # install writes it on first import unless PYTHONDONTWRITEBYTECODE is set): otherwise
    # every measured process compiles briefings' sources again, 40 ms each.
    compileall.compile_dir(ROOT / "briefings", quiet=1)
    with serve_feeds(datetime(2026, 11, 22, tzinfo=UTC)) as (served, handler):
        feeds = make_corpus(
            feeds=args.feeds,
            items=args.items,
            full_share=args.full,
            copy_share=args.copies,
            base_url=served.base_url,
            seed=args.seed,
        )
        prepare(handler, feeds)
        size = sum(len(f.body) for f in feeds)
        items = sum(f.items for f in feeds)
        rounds = [run_once(args, feeds, served) for _ in range(args.repeat)]
    best = {
        label: min((r[label] for r in rounds), key=lambda found: found[0].wall)
        for label in rounds[0]
    }
    show(best, items=items, feeds=len(feeds), size=size, rounds=len(rounds))


def show(
    best: dict[str, tuple[Measured, int]], *, items: int, feeds: int, size: int, rounds: int
) -> None:
    console = Console(highlight=False, width=200)
    console.print(
        f"corpus: {feeds} feeds, {items:,} items, {size / 1e6:.1f} MB of feed XML; "
        f"best of {rounds} rounds; {os.cpu_count()} CPUs"
    )
    reader = best[READER_ROW][0] if READER_ROW in best else None
    if reader is not None:
        console.print(
            f"reader: search disabled, fastest with update_feeds(workers="
            f"{READER_WORKERS[reader.wall]}) of those tried"
        )
    floor_row = best.get("floor: feedparser.parse(), defaults")
    first = best["briefings fetch, cold store"][0]
    table = Table()
    for column in (
        "run",
        "wall (s)",
        "CPU (s)",
        "max RSS (MB)",
        "tree PSS (MB)",
        "entries stored",
        "items/s",
        "× reader",
        "× floor",
        "× first run",
    ):
        table.add_column(column, justify="left" if column == "run" else "right")
    for label, (m, count) in best.items():
        table.add_row(
            label,
            f"{m.wall:.2f}",
            f"{m.cpu:.2f}",
            f"{m.max_rss_mb:.0f}",
            f"{m.tree_mb:.0f}",
            f"{count:,}",
            f"{items / m.wall:,.0f}",
            f"{m.wall / reader.wall:.2f}" if reader else "",
            f"{m.wall / floor_row[0].wall:.2f}" if floor_row else "",
            f"{m.wall / first.wall:.3f}" if label.startswith(("briefings", "304")) else "",
        )
    console.print(table)


if __name__ == "__main__":
    main()
