"""Wall time of `briefings run --once` over the bundled sample corpus.

Serves the corpus on 127.0.0.1, writes a feeds.toml with the shipped catalogue and the
corpus's feeds, runs the real command line (cold store, then warm), and prints a table.

    .venv/bin/python bench/run_once.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

from briefings import corpus

ROOT = Path(__file__).resolve().parent.parent


def write_config(folder: Path, site: corpus.Site) -> Path:
    catalogue = (ROOT / "feeds.toml").read_text(encoding="utf-8")
    briefings = catalogue[catalogue.index("[briefings.") :]
    feeds = "".join(
        f'[[feeds]]\nid = "{f.id}"\nname = "{f.name}"\nurl = "{f.url}"\n\n' for f in site.feeds()
    )
    path = folder / "feeds.toml"
    settings = (
        '[settings]\ntimezone = "Europe/Istanbul"\nhost_delay = 0  # our own loopback server\n'
    )
    path.write_text(f"{settings}\n{feeds}{briefings}")
    tomllib.loads(path.read_text())
    return path


def timed(config: Path) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "briefings.cli", "--config", str(config), "run", "--once"],
        capture_output=True,
        text=True,
        check=True,
    )
    return time.perf_counter() - started, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows = []
    with corpus.serve() as site:
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory() as tmp:
                config = write_config(Path(tmp), site)
                cold, out = timed(config)
                warm, _ = timed(config)
                rows.append((cold, warm, out.splitlines()[0]))
    print(f"corpus: {len(site.corpus.outlets)} feeds, {len(site.corpus.items)} items")
    print(f"{'run':>4}  {'cold (s)':>9}  {'warm (s)':>9}  result")
    for n, (cold, warm, line) in enumerate(rows, 1):
        print(f"{n:>4}  {cold:9.2f}  {warm:9.2f}  {line}")
    best = min(r[0] for r in rows)
    print(f"best cold run --once: {best:.2f} s (includes Python start-up and imports)")


if __name__ == "__main__":
    main()
