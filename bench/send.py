"""Sending speed: one edition to N subscribers through a loopback SMTP sink (aiosmtpd).

The sink runs in its own process, as a real mail server would. Every message is built,
recorded in the ledger before and after, and sent over one SMTP connection.

    .venv/bin/python bench/send.py [--subscribers 10000]
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from render import edition

from briefings import config, pipeline, render
from briefings.model import Subscriber


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--connections", type=int, default=4)
    args = parser.parse_args()
    port = free_port()
    sink = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"127.0.0.1:{port}",
            "-c",
            "aiosmtpd.handlers.Sink",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "feeds.toml"
            connections = args.connections
            path.write_text(f"""[delivery]
method = "smtp"
smtp_host = "127.0.0.1"
smtp_port = {port}
smtp_security = "none"
rate = 100000
connections = {connections}
base_url = "https://briefings.example.org"
[briefings.b0]
title = "Bench Briefing"
schedule = "0 7 * * *"
""")
            loaded = config.load(path)
            store = pipeline.open_store(loaded)
            made = edition(0, 20)
            files = render.render(made, env=render.environment(), timezone="UTC").files
            folder = pipeline.write_edition(loaded.settings.output / "b0" / made.edition, files)
            store.record_edition(made, path=str(folder))
            store.save_subscribers(
                [
                    Subscriber(
                        email=f"reader{n}@example.net",
                        tier="pro" if n % 5 == 0 else "free",
                        briefings=("b0",),
                    )
                    for n in range(args.subscribers)
                ],
                now=datetime.now(UTC),
            )
            started = time.perf_counter()
            report = pipeline.send_edition(
                loaded,
                store,
                "b0",
                senders=lambda: pipeline.make_sender(loaded),
                connections=loaded.delivery.connections,
                secret=b"bench-secret-0123456789",
                now=datetime.now(UTC),
            )
            seconds = time.perf_counter() - started
            store.close()
    finally:
        sink.terminate()
        sink.wait()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{'subscribers':>11} {'sent':>6} {'failed':>6} {'seconds':>8} {'msg/s':>7} {'peak MB':>8}"
    )
    print(
        f"{args.subscribers:>11,} {report.sent:>6,} {len(report.failed):>6} {seconds:>8.1f} "
        f"{report.sent / seconds:>7.0f} {peak:>8.0f}"
    )
    os.environ.pop("BRIEFINGS_SECRET", None)


if __name__ == "__main__":
    main()
