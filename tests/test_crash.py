"""Crashes and faults: ``run --once`` and ``send`` killed (SIGKILL) at random moments, again
and again, then run to the end; two runs at once; and the failures users meet (read-only
or full output folder, a locked database, a missing template), each one line and exit 1.

The kill moments are drawn from a seeded generator (``BRIEFINGS_KILL_SEED``), spread over
the span a clean run takes, and narrowed to what a run still takes when one ends before its
kill, so that at least half land mid-run on a machine of any speed or load;
``BRIEFINGS_KILL_POINTS`` sets how many (default 20 each).
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from briefings import config as configuration
from briefings import corpus

from .conftest import LocalServer
from .test_deliver import SECRET, Sink, people, setup, smtp  # noqa: F401 (smtp is a fixture)

KILL_POINTS = int(os.environ.get("BRIEFINGS_KILL_POINTS", "20"))
SEED = int(os.environ.get("BRIEFINGS_KILL_SEED", "20261122"))
PUBLIC_FILES = {"index.html", "email.html", "email.txt", "edition.json"}
PRIVATE_FILES = {"index.pro.html", "email.pro.html", "email.pro.txt", "edition.json"}
ENV = {**os.environ, "BRIEFINGS_SECRET": SECRET}
SLOW_FEED = b"<?xml version='1.0'?><rss version='2.0'><channel><title>S</title></channel></rss>"


def cli(config: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "briefings.cli", "--config", str(config), *args]


def run_to_end(command: list[str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, env=ENV, capture_output=True, text=True, timeout=timeout)


def kill_at(command: list[str], delay: float) -> int | None:
    """Start ``command``, SIGKILL it after ``delay`` seconds; its exit status if it ended
    first, else None."""
    process = subprocess.Popen(
        command, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        return process.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.wait()
        return None


def integrity(database: Path) -> str:
    with sqlite3.connect(database) as db:
        [(verdict,)] = db.execute("PRAGMA integrity_check").fetchall()
        [(mode,)] = db.execute("PRAGMA journal_mode").fetchall()
    db.close()
    assert mode == "wal"
    return str(verdict)


def canonical_urls(database: Path) -> set[str]:
    with sqlite3.connect(database) as db:
        found = {url for (url,) in db.execute("SELECT canonical_url FROM entries")}
    db.close()
    return found


def assert_whole_editions(output: Path, files: set[str] = PUBLIC_FILES) -> int:
    """Every visible edition folder is complete and readable (its ``files``, the output
    folder's or the private one's); returns how many there are."""
    count = 0
    for briefing in (p for p in output.iterdir() if p.is_dir()):
        for edition in briefing.iterdir():
            if edition.name.startswith("."):
                continue  # hidden: staging or set aside, never listed
            if edition.is_dir():
                assert {p.name for p in edition.iterdir()} == files, edition
                document = json.loads((edition / "edition.json").read_text("utf-8"))
                assert document["edition"] == edition.name
                for name in files - {"edition.json"}:
                    text = (edition / name).read_text("utf-8")
                    assert text.rstrip().endswith(("</html>", "unsubscribe__")) or name.endswith(
                        ".txt"
                    ), (edition, name)
                count += 1
    return count


@pytest.fixture(scope="module")
def site() -> Iterator[corpus.Site]:
    with corpus.serve() as served:
        yield served


def sample_folder(site: corpus.Site, folder: Path) -> Path:
    """A feeds.toml over the sample corpus, as the shipped catalogue has it."""
    base = configuration.load(Path(__file__).parent.parent / "feeds.toml")
    feeds = "".join(
        f'[[feeds]]\nname = "{f.name}"\nid = "{f.id}"\nurl = "{f.url}"\nweight = {f.weight}\n'
        for f in site.feeds()
    )
    briefings = "".join(
        f'[briefings.{b.id}]\ntitle = "{b.title}"\nschedule = "0 7 * * *"\n'
        f"topics = {json.dumps(list(b.topics))}\n"
        for b in base.briefings
        if b.id in ("daily", "caucasus", "turkey")
    )
    path = folder / "feeds.toml"
    path.write_text(
        '[settings]\ndatabase = "sqlite:///briefings.db"\noutput = "out"\nhost_delay = 0\n'
        f"lock_wait = 30\n\n{feeds}\n{briefings}",
        "utf-8",
    )
    return path


def test_run_once_killed_again_and_again_loses_nothing(site: corpus.Site, tmp_path: Path) -> None:
    clean_folder = tmp_path / "clean"
    clean_folder.mkdir()
    clean = sample_folder(site, clean_folder)
    started = time.monotonic()
    reference = run_to_end(cli(clean, "run", "--once"))
    span = time.monotonic() - started
    assert reference.returncode == 0, reference.stderr
    expected = canonical_urls(clean_folder / "briefings.db")
    assert len(expected) > 100

    crashed_folder = tmp_path / "crashed"
    crashed_folder.mkdir()
    crashed = sample_folder(site, crashed_folder)
    draw = random.Random(SEED)
    killed = attempts = 0
    latest = 0.7 * span  # later runs have less left to do: kill within what they still take
    while killed < KILL_POINTS // 2 or attempts < KILL_POINTS:
        attempts += 1
        assert attempts <= 3 * KILL_POINTS, f"only {killed} of {attempts} kills landed mid-run"
        started = time.monotonic()
        status = kill_at(cli(crashed, "run", "--once"), draw.uniform(0.3, max(0.4, latest)))
        killed += status is None
        if status is not None:  # it ended first (a less loaded moment): aim within its span
            latest = min(latest, 0.8 * (time.monotonic() - started))
        assert status in (None, 0)
        database = crashed_folder / "briefings.db"
        if database.exists():
            assert integrity(database) == "ok"
            assert canonical_urls(database) <= expected  # nothing half-made or foreign
        if (crashed_folder / "out").exists():
            assert_whole_editions(crashed_folder / "out")
        if (crashed_folder / "private").exists():
            assert_whole_editions(crashed_folder / "private", PRIVATE_FILES)

    final = run_to_end(cli(crashed, "run", "--once"))
    assert final.returncode == 0, final.stderr
    assert integrity(crashed_folder / "briefings.db") == "ok"
    assert canonical_urls(crashed_folder / "briefings.db") == expected
    output = crashed_folder / "out"
    assert assert_whole_editions(output) >= 3
    assert assert_whole_editions(crashed_folder / "private", PRIVATE_FILES) >= 3
    leftovers = [
        p
        for folder in (output, crashed_folder / "private")
        for p in folder.rglob(".*")
        if p.name != ".briefings-demo"
    ]
    assert leftovers == []  # staging folders and temporary files swept
    for briefing in ("daily", "caucasus", "turkey"):
        archive = (output / briefing / "index.html").read_text("utf-8")
        listed = {e.name for e in (output / briefing).iterdir() if e.is_dir()}
        assert all(f'href="{name}/index.html"' in archive for name in listed)


def test_send_killed_again_and_again_sends_nobody_twice(
    smtp: tuple[Sink, int],  # noqa: F811
    tmp_path: Path,
) -> None:
    sink, port = smtp
    readers = 400
    loaded = setup(tmp_path, port, people(readers))
    text = loaded.path.read_text(encoding="utf-8")  # 40 a second: about 10 s of sending
    loaded.path.write_text(text.replace("rate = 1000", "rate = 40"), encoding="utf-8")
    command = cli(loaded.path, "send", "sample")
    draw = random.Random(SEED + 1)
    killed = 0
    for _ in range(KILL_POINTS):
        before = len(sink.messages)
        status = kill_at(command, draw.uniform(1.0, 4.0))
        killed += status is None
        assert integrity(tmp_path / "briefings.db") == "ok"
        if status == 0 or len(sink.messages) == readers:
            break
        assert len(sink.messages) >= before
    final = run_to_end(command)
    assert final.returncode == 0, final.stderr
    delivered = Counter(rcpt for rcpt, _ in sink.messages)
    assert max(delivered.values()) == 1  # nobody got the edition twice
    with sqlite3.connect(tmp_path / "briefings.db") as db:
        ledger = dict(db.execute("SELECT email_key, status FROM deliveries").fetchall())
    db.close()
    sent = {k for k, v in ledger.items() if v == "sent"}
    in_doubt = {k for k, v in ledger.items() if v == "sending"}
    assert len(ledger) == readers and sent | in_doubt == set(ledger)  # nobody lost
    assert sent <= set(delivered) <= sent | in_doubt  # in doubt: perhaps delivered, held back
    assert len(in_doubt) <= killed  # at most one in flight per kill (one connection)
    assert killed >= 3


def test_two_runs_at_once_one_waits_or_stops_clearly(
    site: corpus.Site, server: LocalServer, tmp_path: Path
) -> None:
    path = sample_folder(site, tmp_path)
    slow = server.add("/slow.xml", SLOW_FEED, delay=4)  # keeps the first run going a while
    text = path.read_text("utf-8").replace("lock_wait = 30", "lock_wait = 1")
    path.write_text(text + f'\n[[feeds]]\nname = "Slow"\nurl = "{slow}"\n', "utf-8")
    first = subprocess.Popen(
        cli(path, "run", "--once"), env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    lock = tmp_path / "briefings.db.lock"
    deadline = time.monotonic() + 120
    while not (lock.exists() and lock.read_text().strip() == str(first.pid)):
        assert first.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    second = run_to_end(cli(path, "run", "--once"))
    _, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    assert second.returncode == 1
    [line] = second.stderr.strip().splitlines()
    assert line == (
        f"error: {lock}: another briefings run (pid {first.pid}) is using this database; "
        "waited 1s; try again when it has finished"
    )
    assert integrity(tmp_path / "briefings.db") == "ok"
    # with time to wait, the second waits for the first and then runs
    path.write_text(path.read_text("utf-8").replace("lock_wait = 1", "lock_wait = 120"), "utf-8")
    runs = [
        subprocess.Popen(
            cli(path, "fetch"), env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(2)
    ]
    for process in runs:
        _, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
    assert integrity(tmp_path / "briefings.db") == "ok"


# -- the failures users meet -------------------------------------------------------------


@pytest.fixture
def fetched(site: corpus.Site, tmp_path: Path) -> Path:
    """A sample store, fetched, with no edition built yet."""
    path = sample_folder(site, tmp_path)
    result = run_to_end(cli(path, "fetch"))
    assert result.returncode == 0, result.stderr
    return path


@contextmanager
def mounted(folder: Path, options: str) -> Iterator[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()}); needs root")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_read_only_output_folder(fetched: Path) -> None:
    output = fetched.parent / "out"
    with mounted(output, "ro,size=64k"):
        line = one_error_line(run_to_end(cli(fetched, "build")))
        assert line.startswith(f"error: {output}/")
        assert "Read-only file system; make the folder writable" in line


def test_full_disk(fetched: Path) -> None:
    output = fetched.parent / "out"
    with mounted(output, "size=64k"):
        line = one_error_line(run_to_end(cli(fetched, "build")))
        assert line.startswith(f"error: {output}/")
        assert "No space left on device; free some space there" in line
        assert [p for p in output.rglob("*") if p.name.startswith(".")] == []  # cleaned up


def test_vacuum_with_too_little_room_for_sqlites_temporary_copy(fetched: Path) -> None:
    # /tmp a small tmpfs (a container's, or half the memory of a small server): the
    # vacuum failed with "the disk holding the database is full", about a disk with room
    database = fetched.parent / "briefings.db"
    with sqlite3.connect(database) as db:  # months of pages: more than SQLite keeps in memory
        db.executemany(
            "INSERT INTO pages (url, fetched_at, error, text, title, author, site_name, "
            "language, image, paywalled, promised_words) "
            "VALUES (?, '2026-11-01 00:00:00', '', ?, 'T', '', '', 'en', '', 0, 0)",
            [(f"https://example.org/{n}", f"Page {n} text. " * 400) for n in range(800)],
        )
    db.close()
    with mounted(fetched.parent / "tmp", "size=1m") as temporary:
        result = subprocess.run(
            cli(fetched, "prune", "--vacuum"),
            env={**ENV, "SQLITE_TMPDIR": str(temporary)},
            capture_output=True,
            text=True,
            timeout=300,
        )
        line = one_error_line(result)
    assert line.startswith(f"error: {database}: cannot vacuum: it needs about ")
    assert line.endswith(
        f"free for its temporary copy, and {temporary} has 1.0 MB; set SQLITE_TMPDIR to a "
        "folder with room, or free some space there"
    )
    assert integrity(database) == "ok"


def test_database_locked_by_another_program(fetched: Path) -> None:
    database = fetched.parent / "briefings.db"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys, time\n"
            f"db = sqlite3.connect({str(database)!r}, isolation_level=None)\n"
            "db.execute('BEGIN EXCLUSIVE')\n"
            "print('locked', flush=True)\n"
            "sys.stdin.read()\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        line = one_error_line(run_to_end(cli(fetched, "run", "--once")))
    finally:
        holder.communicate("", timeout=30)
    assert line == (
        f"error: {database}: the database is locked by another program; close it (or wait "
        "for it) and try again"
    )
    assert integrity(database) == "ok"


def test_missing_template(fetched: Path) -> None:
    templates = fetched.parent / "theme"
    templates.mkdir()
    (templates / "web.html").write_text('{% include "masthead.html" %}\n', "utf-8")
    text = fetched.read_text("utf-8")
    fetched.write_text(text.replace('output = "out"', 'output = "out"\ntemplates = "theme"'))
    line = one_error_line(run_to_end(cli(fetched, "build")))
    assert line.startswith("error: template not found: masthead.html (wanted by web.html; ")
    assert str(templates) in line and "add the file to settings.templates" in line
