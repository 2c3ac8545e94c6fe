"""Building every briefing of the shipped catalogue from a store of a week's articles.

Fills a SQLite store with synthetic articles from 500 outlets over the last 7 days (default
100,000; sentences of the sample corpus, so the region's topics match), through the store's
own `add_entries`, in batches of 5,000, each followed by the analysis `briefings fetch` does
after storing (lead, topics, MinHash, TF-IDF, placing each article in its story); both are
timed. A tenth are syndicated copies of an earlier article and a fifth retell an earlier
article's event. Then runs `briefings build` (every briefing of feeds.toml) in its own process
and reports its wall and CPU time and its peak memory.

    .venv/bin/python bench/build.py [--articles 100000] [--repeat 2]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table

from briefings import config as configuration
from briefings import dedupe, pipeline
from briefings.model import Entry

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import ROOT, measure, sentences

OUTLETS = 500
BATCH = 5_000


def synthetic(count: int, *, now: datetime, seed: int = 12) -> list[Entry]:
    """``count`` entries over the 7 days before ``now``, oldest first."""
    rng = random.Random(seed)
    pool = sentences()
    made: list[Entry] = []
    for n in range(count):
        roll = rng.random()
        outlet = f"outlet-{rng.randrange(OUTLETS):03d}"
        if made and roll < 0.1:  # a syndicated copy, lightly edited
            original = made[rng.randrange(max(0, len(made) - 3000), len(made))]
            words = original.content.split()
            for _ in range(4):
                words[rng.randrange(len(words))] = rng.choice(pool).split()[0]
            title, content = original.title, " ".join(words)
            published = original.published + timedelta(hours=rng.uniform(0.2, 6))
        elif made and roll < 0.3:  # the same event, told again
            original = made[rng.randrange(max(0, len(made) - 3000), len(made))]
            kept = original.content.split(". ")[:3]
            title = " ".join(original.title.split()[:5] + rng.choice(pool).split()[:4])
            content = ". ".join(kept + rng.choices(pool, k=rng.randint(3, 6)))
            published = original.published + timedelta(hours=rng.uniform(0.5, 30))
        else:
            title = " ".join(rng.choice(pool).rstrip(".").split()[: rng.randint(7, 12)])
            content = " ".join(rng.choices(pool, k=rng.randint(6, 12)))
            published = now - timedelta(seconds=rng.uniform(0, 7 * 86400))
        published = min(published, now - timedelta(minutes=1))
        url = f"https://{outlet}.example/news/{n}"
        made.append(
            Entry(
                feed_id=outlet,
                guid=url,
                url=url,
                canonical_url=dedupe.canonical_url(url),
                title=title,
                summary="",
                content=content,
                author="",
                published=published,
                dated=True,
            )
        )
    return sorted(made, key=lambda e: e.published)


def write_config(folder: Path, processes: int = 0) -> Path:
    """The shipped catalogue of briefings over 500 outlets, with a store in ``folder``."""
    catalogue = (ROOT / "feeds.toml").read_text(encoding="utf-8")
    briefings = catalogue[catalogue.index("[briefings.") :]
    listed = "".join(
        f'[[feeds]]\nid = "outlet-{n:03d}"\nname = "Outlet {n}"\n'
        f'url = "https://outlet-{n:03d}.example/feed.xml"\n\n'
        for n in range(OUTLETS)
    )
    path = folder / "feeds.toml"
    path.write_text(
        f'[settings]\ndatabase = "sqlite:///{folder / "briefings.db"}"\noutput = "out"\n'
        f'timezone = "Europe/Istanbul"\nprocesses = {processes}\n\n{listed}{briefings}'
    )
    return path


def fill(config_path: Path, count: int, now: datetime) -> tuple[float, float]:
    """Store ``count`` synthetic entries in batches, each followed by the analysis a fetch
    does (lead, topics, MinHash, TF-IDF, placing in stories); the seconds each took."""
    config = configuration.load(config_path)
    store = pipeline.open_store(config)
    made = synthetic(count, now=now)
    storing = analysing = 0.0
    for start in range(0, len(made), BATCH):
        started = time.perf_counter()
        store.add_entries(made[start : start + BATCH], seen_at=now)
        storing += time.perf_counter() - started
        started = time.perf_counter()
        pipeline.analyse(pipeline.Run(config=config, store=store, now=now))
        analysing += time.perf_counter() - started
    store.close()
    return storing, analysing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=2, help="builds; the best is shown")
    parser.add_argument(
        "--processes", type=int, default=0, help="settings.processes (0: one per core)"
    )
    parser.add_argument("--fill", metavar="FEEDS_TOML", help=argparse.SUPPRESS)
    parser.add_argument("--now", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fill:  # the child that fills the store, so that its memory is not ours
        print(json.dumps(fill(Path(args.fill), args.articles, datetime.fromisoformat(args.now))))
        return
    console = Console(highlight=False, width=160)
    now = datetime.now(UTC).replace(microsecond=0)
    with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp:
        config_path = write_config(Path(tmp), args.processes)
        # A child fills the store: a build forked from a process that holds the filled data
        # would report that process's peak memory as its own (Linux keeps it across exec).
        filled = subprocess.run(
            [
                sys.executable,
                __file__,
                "--fill",
                str(config_path),
                "--now",
                now.isoformat(),
                "--articles",
                str(args.articles),
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        storing, analysing = json.loads(filled.stdout.strip().splitlines()[-1])
        console.print(
            f"stored {args.articles:,} articles in {storing:.1f} s; analysed and placed in "
            f"stories as they came in {analysing:.1f} s "
            f"({analysing / args.articles * 1000:.2f} ms an article)"
        )
        config = configuration.load(config_path)
        command = [sys.executable, "-m", "briefings.cli", "--config", str(config_path), "build"]
        builds = {
            f"every briefing ({len(config.briefings)}, longest window 7 days)": [],
            "the minute only (18-hour window)": ["minute"],
        }
        rows = []
        for label, chosen in builds.items():
            runs = []
            for _ in range(args.repeat):
                # each build starts as the first of the day: no edition yet, nothing carried
                shutil.rmtree(Path(tmp) / "out", ignore_errors=True)
                _forget_editions(Path(tmp) / "briefings.db")
                runs.append(measure([*command, *chosen]))
            rows.append((label, min(runs, key=lambda m: m.wall)))
    table = Table()
    for column in ("build", "wall (s)", "CPU (s)", "max RSS (MB)", "tree PSS (MB)", "editions"):
        table.add_column(column, justify="left" if column == "build" else "right")
    for label, best in rows:
        editions = sum(1 for line in best.stdout.splitlines() if line.startswith("  "))
        table.add_row(
            label,
            f"{best.wall:.2f}",
            f"{best.cpu:.2f}",
            f"{best.max_rss_mb:.0f}",
            f"{best.tree_mb:.0f}",
            str(editions),
        )
    console.print(table)
    console.print(
        f"{args.articles:,} stored articles; best of {args.repeat} builds each; every build "
        "includes Python start-up and imports"
    )


def _forget_editions(database: Path) -> None:
    with sqlite3.connect(database) as db:
        for table in ("editions", "carried", "sent_stories"):
            db.execute(f"DELETE FROM {table}")


if __name__ == "__main__":
    main()
