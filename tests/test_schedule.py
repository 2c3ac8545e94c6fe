"""The scheduler: cron in time zones, restarts with a controllable clock, clean stops."""

from __future__ import annotations

import logging
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import apscheduler.executors.base
import apscheduler.schedulers.base
import pytest
from click.testing import CliRunner

from briefings import compose, corpus, pipeline
from briefings import config as configuration
from briefings import schedule as scheduling
from briefings.cli import main
from briefings.errors import BriefingsError
from briefings.model import Subscriber

from .conftest import NOW, LocalServer
from .test_cli import LONG, rss
from .test_crash import ENV, cli
from .test_deliver import SECRET, Sink, people, setup, smtp  # noqa: F401 (smtp is a fixture)

ISTANBUL = "Europe/Istanbul"
JERUSALEM = "Asia/Jerusalem"


class Clock:
    """The time APScheduler and the jobs see, set by the test."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def set(self, moment: datetime) -> None:
        self.moment = moment


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    current = Clock(NOW)

    class Controlled(datetime):
        @classmethod
        def now(cls, tz: object = None) -> Controlled:  # type: ignore[override]
            moment = current.moment
            shown = moment.astimezone(tz) if tz is not None else moment.replace(tzinfo=None)  # type: ignore[arg-type]
            return cls.fromtimestamp(shown.timestamp(), tz) if tz is not None else shown  # type: ignore[return-value,arg-type]

    monkeypatch.setattr(apscheduler.schedulers.base, "datetime", Controlled)
    monkeypatch.setattr(apscheduler.executors.base, "datetime", Controlled)
    monkeypatch.setattr(scheduling, "now", lambda: current.moment)
    return current


def catalogue(site: corpus.Site | None, folder: Path, briefings: str, feeds: str = "") -> Path:
    listed = feeds or "".join(
        f'[[feeds]]\nid = "{f.id}"\nname = "{f.name}"\nurl = "{f.url}"\n\n'
        for f in (site.feeds() if site else [])
    )
    path = folder / "feeds.toml"
    path.write_text(
        f"""[settings]
database = "briefings.db"
output = "out"
timezone = "UTC"
host_delay = 0
allow_private_networks = true
fetch_interval = "15m"
misfire_grace = "1h"

{listed}
{briefings}
""",
        encoding="utf-8",
    )
    return path


def until(condition: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.fixture
def site(sample_corpus: corpus.Corpus) -> Iterator[corpus.Site]:
    with corpus.serve(sample_corpus, now=NOW) as served:
        yield served


def test_cron_follows_each_zone_across_a_daylight_saving_change(tmp_path: Path) -> None:
    path = catalogue(
        None,
        tmp_path,
        f"""
[briefings.turkey]
title = "Turkey Briefing"
schedule = "0 7 * * 1-5"
timezone = "{ISTANBUL}"

[briefings.israel]
title = "Israel Briefing"
schedule = "0 7 * * sun-thu"
timezone = "{JERUSALEM}"
""",
    )
    specs = {s.id: s for s in scheduling.job_specs(configuration.load(path), send=False)}
    assert set(specs) == {"fetch", "turkey", "israel"}

    def fires(job: str, start: datetime, count: int) -> list[datetime]:
        trigger, out, previous = specs[job].trigger, [], None
        moment = start
        for _ in range(count):
            previous = trigger.get_next_fire_time(previous, moment)
            out.append(previous.astimezone(UTC))
            moment = previous + timedelta(seconds=1)
        return out

    # Israel leaves summer time on Sunday 25 October 2026; Turkey keeps UTC+3 all year.
    start = datetime(2026, 10, 22, 12, tzinfo=UTC)
    assert [f"{d:%a %d %H:%M}" for d in fires("israel", start, 4)] == [
        "Sun 25 05:00",  # 07:00 IST (UTC+2): the first morning after the change
        "Mon 26 05:00",
        "Tue 27 05:00",
        "Wed 28 05:00",
    ]
    assert [f"{d:%a %d %H:%M}" for d in fires("israel", datetime(2026, 10, 18, tzinfo=UTC), 2)] == [
        "Sun 18 04:00",  # 07:00 IDT (UTC+3)
        "Mon 19 04:00",
    ]
    assert [f"{d:%a %d %H:%M}" for d in fires("turkey", start, 3)] == [
        "Fri 23 04:00",
        "Mon 26 04:00",  # weekdays only, and no change in Istanbul
        "Tue 27 04:00",
    ]


def test_schedule_list_names_each_zone(tmp_path: Path) -> None:
    path = catalogue(
        None,
        tmp_path,
        f"""
[briefings.turkey]
title = "Turkey Briefing"
schedule = "0 17 * * *"
timezone = "{ISTANBUL}"

[briefings.israel]
title = "Israel Briefing"
schedule = "30 6 * * *"
timezone = "{JERUSALEM}"
""",
        feeds='[[feeds]]\nname = "Local"\nurl = "http://127.0.0.1:9/feed.xml"\n',
    )
    result = CliRunner().invoke(main, ["--config", str(path), "schedule", "--list", "--no-send"])
    assert result.exit_code == 0, result.output
    lines = dict(line.split(None, 1) for line in result.output.splitlines())
    assert set(lines) == {"fetch", "israel", "turkey"}
    assert lines["turkey"].endswith(" 17:00 Europe/Istanbul")
    assert lines["israel"].endswith(" 06:30 Asia/Jerusalem")
    assert lines["fetch"].endswith(" UTC (at start)")

    # A briefing taken out of feeds.toml loses its job; a changed one is updated.
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text[: text.index("[briefings.israel]")].replace('"0 17 * * *"', '"15 8 * * *"'),
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["--config", str(path), "schedule", "--list", "--no-send"])
    assert result.exit_code == 0, result.output
    lines = dict(line.split(None, 1) for line in result.output.splitlines())
    assert set(lines) == {"fetch", "turkey"}
    assert lines["turkey"].endswith(" 08:15 Europe/Istanbul")


def start_service(path: Path) -> tuple[scheduling.Scheduler, pipeline.Store]:
    config = configuration.load(path)
    store = pipeline.open_store(config)
    service = scheduling.Scheduler(config, store, send=False)
    service.start()
    return service, store


def stop_service(service: scheduling.Scheduler, store: pipeline.Store) -> None:
    service.stop(wait=True)
    store.close()


DAILY = """
[briefings.daily]
title = "Daily Briefing"
schedule = "0 10 * * *"
window = "3d"
"""


def test_a_missed_edition_runs_once_after_a_restart(
    site: corpus.Site, tmp_path: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    path = catalogue(site, tmp_path, DAILY)
    clock.set(NOW)  # 09:00 UTC: the edition is due at 10:00
    service, store = start_service(path)
    until(lambda: ("fetch", "executed") in service.runs)
    assert not store.editions_of("daily")
    stop_service(service, store)

    clock.set(NOW + timedelta(minutes=80))  # back at 10:20, inside the hour of grace
    service, store = start_service(path)
    until(lambda: ("daily", "executed") in service.runs)
    [made] = store.editions_of("daily")
    assert made.edition == "2026-11-22-1000"  # named after its slot, not the late start
    assert made.status == "approved" and made.stories > 0
    stop_service(service, store)

    clock.set(NOW + timedelta(minutes=90))  # another restart does not run it again
    service, store = start_service(path)
    until(lambda: ("fetch", "executed") in service.runs)
    time.sleep(0.5)
    assert ("daily", "executed") not in service.runs
    assert len(store.editions_of("daily")) == 1
    stop_service(service, store)


def test_an_edition_missed_beyond_the_grace_is_skipped_with_a_log_line(
    site: corpus.Site, tmp_path: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    path = catalogue(site, tmp_path, DAILY)
    clock.set(NOW)
    service, store = start_service(path)
    until(lambda: ("fetch", "executed") in service.runs)
    stop_service(service, store)

    clock.set(NOW + timedelta(hours=2, minutes=30))  # 11:30: 90 minutes late
    caplog.set_level(logging.WARNING, logger="briefings.schedule")
    service, store = start_service(path)
    until(lambda: ("daily", "missed") in service.runs)
    until(lambda: ("fetch", "executed") in service.runs)
    assert ("daily", "executed") not in service.runs
    assert not store.editions_of("daily")
    assert any(
        "daily: the run due at 2026-11-22 10:00:00+00:00 was missed" in r.getMessage()
        for r in caplog.records
    )
    [job] = [j for j in service.jobs() if j[0] == "daily"]
    assert job[1] == datetime(2026, 11, 23, 10, tzinfo=UTC)  # the next one is tomorrow's
    stop_service(service, store)


def test_review_builds_a_draft_that_approve_sends(
    site: corpus.Site, tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = catalogue(
        site,
        tmp_path,
        DAILY
        + 'review = true\nsend_at = "12:30"\n\n[delivery]\nmethod = "outbox"\nbase_url = "https://b.example.org"\n',
    )
    clock.set(NOW + timedelta(hours=1, minutes=1))  # 10:01
    config = configuration.load(path)
    store = pipeline.open_store(config)
    scheduling.edition_job(str(path), "daily", False)
    [draft] = store.editions_of("daily")
    assert (draft.edition, draft.status) == ("2026-11-22-1000", "draft")
    # a draft is the editors' until approved: not in the output folder, its archive or feed
    public = config.settings.output / "daily"
    assert (config.settings.private / "daily" / draft.edition / "edition.json").is_file()
    assert not (public / draft.edition).exists()
    assert draft.edition not in (public / "feed.xml").read_text() if public.exists() else True
    assert scheduling.dispatch(config, store, now=clock.moment) == []  # drafts wait
    approved = scheduling.approve(config, store, "daily", None, now=clock.moment)
    assert approved.status == "approved"
    assert (public / draft.edition / "index.html").is_file()
    assert f"{draft.edition}/index.html" in (public / "index.html").read_text()
    assert draft.edition in (public / "feed.xml").read_text()
    assert approved.send_after == datetime(2026, 11, 22, 12, 30, tzinfo=UTC)
    assert store.due_editions(clock.moment) == []  # not before send_at
    assert [e.edition for e in store.due_editions(approved.send_after)] == ["2026-11-22-1000"]
    with pytest.raises(BriefingsError, match="already approved"):
        scheduling.approve(config, store, "daily", None, now=clock.moment)

    store.save_subscribers(
        [Subscriber(email=f"r{n}@example.net", briefings=("daily",)) for n in range(3)], now=NOW
    )
    monkeypatch.setenv("BRIEFINGS_SECRET", "a-secret-for-tests-only-0123456789")
    [report] = scheduling.dispatch(config, store, now=approved.send_after)
    assert report.sent == 3
    assert len(list(config.delivery.outbox.glob("*.eml"))) == 3
    assert store.edition("daily", "2026-11-22-1000").status == "sent"  # type: ignore[union-attr]
    assert scheduling.dispatch(config, store, now=approved.send_after) == []  # once only
    store.close()


def test_editions_not_approved_by_an_editor_are_never_dispatched(
    site: corpus.Site, tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = catalogue(
        site,
        tmp_path,
        DAILY + '\n[delivery]\nmethod = "outbox"\nbase_url = "https://b.example.org"\n',
    )
    config = configuration.load(path)
    store = pipeline.open_store(config)
    store.save_subscribers([Subscriber(email="r@example.net", briefings=("daily",))], now=NOW)
    run = pipeline.Run(config=config, store=store, now=NOW)
    [built] = pipeline.run_once(run)  # a manual build, not sent
    monkeypatch.setenv("BRIEFINGS_SECRET", "a-secret-for-tests-only-0123456789")
    assert scheduling.dispatch(config, store, now=NOW + timedelta(days=1)) == []
    assert store.edition("daily", built.edition.edition).status == "approved"  # type: ignore[union-attr]

    clock.set(NOW + timedelta(hours=1, minutes=2))  # the scheduled run sends its own edition
    scheduling.edition_job(str(path), "daily", True)
    sent = store.edition("daily", "2026-11-22-1000")
    assert sent is not None and sent.status == "sent"
    assert len(list(config.delivery.outbox.glob("*.eml"))) == 1
    store.close()


def test_the_scheduler_waits_out_a_database_locked_longer_than_its_busy_timeout(
    tmp_path: Path,
) -> None:
    # prune --vacuum of a big store, or another program, holds the database for longer than
    # the 10 s a statement waits; the scheduler's own thread ended then, and the process
    # lived on running no job
    path = catalogue(None, tmp_path, "").read_text(encoding="utf-8")
    config = tmp_path / "feeds.toml"
    config.write_text(path.replace('fetch_interval = "15m"', 'fetch_interval = "1s"'))
    process = subprocess.Popen(
        [sys.executable, "-m", "briefings.cli", "--config", str(config), "schedule", "-v"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "BRIEFINGS_SECRET": "s" * 32},
    )
    holder = sqlite3.connect(tmp_path / "briefings.db", isolation_level=None)
    try:
        fetched = tmp_path / "fetched.log"

        def fetches() -> int:
            return fetched.read_text().count("fetch: 0 feeds") if fetched.exists() else 0

        lines: list[str] = []

        def read() -> None:
            assert process.stderr is not None
            for line in process.stderr:
                lines.append(line)
                fetched.write_text("".join(lines))

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        until(lambda: fetches() >= 1, 30)
        holder.execute("BEGIN EXCLUSIVE")
        time.sleep(13)
        holder.execute("COMMIT")
        after = fetches()
        until(lambda: fetches() >= after + 2, 30)
        assert process.poll() is None
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        reader.join(timeout=10)
    finally:
        holder.close()
        if process.poll() is None:
            process.kill()
        process.communicate()
    said = "".join(lines)
    assert process.returncode == 0, said
    assert "Exception in thread" not in said
    assert (
        f"WARNING briefings.schedule: {tmp_path / 'briefings.db'}: the database is locked by "
        "another program; the scheduler waits until it is free\n"
    ) in said
    assert said.count("the scheduler waits") == 1
    assert "WARNING briefings.schedule: the database is free again; the scheduler goes on" in said


def test_the_scheduler_ends_with_status_1_when_its_job_store_cannot_be_written(
    tmp_path: Path,
) -> None:
    # a write that fails for good (here a trigger, as a broken disk would) ended
    # APScheduler's thread; the process lived on, running no job, and its service manager
    # never learnt of it
    text = catalogue(None, tmp_path, "").read_text(encoding="utf-8")
    config = tmp_path / "feeds.toml"
    config.write_text(text.replace('fetch_interval = "15m"', 'fetch_interval = "1s"'))
    process = subprocess.Popen(
        [sys.executable, "-m", "briefings.cli", "--config", str(config), "schedule", "--no-send"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        database = tmp_path / "briefings.db"
        until(lambda: database.exists() and _has_jobs(database), 30)
        with sqlite3.connect(database) as db:
            db.execute(
                f"CREATE TRIGGER broken BEFORE UPDATE ON {scheduling.JOBS_TABLE} "
                "BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END"
            )
        db.close()
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 1, stderr
    assert stderr.splitlines()[-1] == (
        f"error: the scheduler stopped: {database}: cannot open or write the database file; "
        "check that its folder exists and is writable, and that the disk works"
    )
    assert "Traceback" not in stderr


def _has_jobs(database: Path) -> bool:
    with sqlite3.connect(database) as db:
        found = db.execute(
            "SELECT 1 FROM sqlite_master WHERE name = ?", (scheduling.JOBS_TABLE,)
        ).fetchone()
        jobs = found and db.execute(f"SELECT COUNT(*) FROM {scheduling.JOBS_TABLE}").fetchone()
    db.close()
    return bool(jobs and jobs[0])


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_sigterm_during_a_fetch_leaves_the_store_consistent(
    server: LocalServer, tmp_path: Path, stop: signal.Signals
) -> None:
    # SIGHUP: the terminal (an ssh session) it was started from closed
    feeds = ""
    for n in range(4):
        url = server.add(
            f"/f{n}.xml",
            rss(server.base, (f"/a{n}", f"Ankara and Baku sign railway deal {n}", LONG)),
            delay=3 if n == 3 else 0,
        )
        server.add(f"/a{n}", f"<html><body><p>{LONG}</p></body></html>")
        feeds += f'[[feeds]]\nname = "Outlet {n}"\nurl = "{url}"\n\n'
    path = catalogue(None, tmp_path, DAILY, feeds=feeds)
    process = subprocess.Popen(
        [sys.executable, "-m", "briefings.cli", "--config", str(path), "schedule", "--no-send"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        until(lambda: any(p == "/f3.xml" for p, _ in server.times), 30)
        process.send_signal(stop)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr
    assert "stopping: waiting for the job in hand to finish" in stderr
    with sqlite3.connect(tmp_path / "briefings.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        titles = {row[0] for row in db.execute("SELECT title FROM entries")}
        jobs = {row[0] for row in db.execute(f"SELECT id FROM {scheduling.JOBS_TABLE}")}
    db.close()
    assert titles == {f"Ankara and Baku sign railway deal {n}" for n in range(4)}  # finished
    assert jobs == {"fetch", "daily"}
    result = CliRunner().invoke(main, ["--config", str(path), "fetch"])
    assert result.exit_code == 0, result.output


def job_names(database: Path) -> dict[str, str]:
    """Each stored job's signature, read straight from the table."""
    import pickle

    with sqlite3.connect(database) as connection:
        rows = connection.execute(f"SELECT id, job_state FROM {scheduling.JOBS_TABLE}")
        return {job_id: pickle.loads(state)["name"] for job_id, state in rows}


def test_listing_the_jobs_uses_up_no_run_and_changes_no_job(tmp_path: Path) -> None:
    path = catalogue(
        None,
        tmp_path,
        DAILY,
        feeds='[[feeds]]\nname = "Local"\nurl = "http://127.0.0.1:9/feed.xml"\n',
    )
    shown = []
    for _ in range(3):
        result = CliRunner().invoke(main, ["--config", str(path), "schedule", "--list"])
        assert result.exit_code == 0, result.output
        shown.append(dict(line.split(None, 1) for line in result.output.splitlines()))
    assert all(s["fetch"].endswith(" UTC (at start)") for s in shown)  # still due, not run
    assert set(shown[0]) == {"daily", "dispatch", "fetch"}

    # A scheduler running with --no-send keeps its jobs: --list (which lists the sending
    # jobs) must not turn them into sending ones, nor add a dispatch job under it.
    config = configuration.load(path)
    store = pipeline.open_store(config)
    service = scheduling.Scheduler(config, store, send=False)
    service.start()
    service.stop(wait=True)
    store.close()
    before = job_names(tmp_path / "briefings.db")
    assert set(before) == {"daily", "fetch"}
    result = CliRunner().invoke(main, ["--config", str(path), "schedule", "--list"])
    assert result.exit_code == 0, result.output
    assert job_names(tmp_path / "briefings.db") == before


def test_listing_shows_the_true_next_run_after_a_stop(tmp_path: Path, clock: Clock) -> None:
    path = catalogue(
        None,
        tmp_path,
        DAILY,
        feeds='[[feeds]]\nname = "Local"\nurl = "http://127.0.0.1:9/feed.xml"\n',
    )
    clock.set(NOW)  # 09:00 UTC
    config = configuration.load(path)
    store = pipeline.open_store(config)
    service = scheduling.Scheduler(config, store, send=False)
    service.prepare()  # stored: daily at 10:00, fetch at 09:00
    service.stop(wait=False)
    store.close()

    def listed() -> dict[str, str]:
        args = ["--config", str(path), "schedule", "--list", "--no-send"]
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
        return dict(line.split(None, 1) for line in result.output.splitlines())

    clock.set(NOW + timedelta(minutes=80))  # 10:20: the 10:00 run is within the grace
    lines = listed()
    assert lines["daily"] == (
        "2026-11-22 10:20 UTC (at start: the run due at 2026-11-22 10:00 was missed)"
    )
    assert lines["fetch"] == (
        "2026-11-22 10:20 UTC (at start: the run due at 2026-11-22 10:15 was missed)"
    )
    clock.set(NOW + timedelta(days=2, hours=3))  # 12:00 two days later: beyond the grace
    lines = listed()
    assert lines["daily"] == (
        "2026-11-25 10:00 UTC (the run due at 2026-11-24 10:00 was missed by more than "
        "misfire_grace; it is skipped)"
    )


def test_a_changed_misfire_grace_reaches_the_stored_jobs(tmp_path: Path, clock: Clock) -> None:
    path = catalogue(None, tmp_path, DAILY)
    clock.set(NOW)
    config = configuration.load(path)
    store = pipeline.open_store(config)
    service = scheduling.Scheduler(config, store, send=False)
    service.prepare()
    service.stop(wait=False)
    store.close()
    path.write_text(
        path.read_text(encoding="utf-8").replace('misfire_grace = "1h"', 'misfire_grace = "3h"'),
        encoding="utf-8",
    )
    config = configuration.load(path)
    store = pipeline.open_store(config)
    service = scheduling.Scheduler(config, store, send=False)
    assert service.prepare() == ["changed daily"]
    [job] = [j for j in service.scheduler.get_jobs() if j.id == "daily"]
    assert job.misfire_grace_time == 3 * 3600
    assert job.next_run_time == datetime(2026, 11, 22, 10, tzinfo=UTC)  # its next run kept
    service.stop(wait=False)
    store.close()


def test_the_slot_of_a_run_in_the_hour_repeated_when_summer_time_ends(tmp_path: Path) -> None:
    path = catalogue(
        None,
        tmp_path,
        f"""
[briefings.hourly]
title = "Hourly"
schedule = "0 * * * *"
timezone = "{JERUSALEM}"
""",
    )
    briefing = configuration.load(path).briefing("hourly")
    # Israel leaves summer time at 02:00 on 25 October 2026: 01:00-01:59 comes twice.
    second_one = datetime(2026, 10, 24, 23, 5, tzinfo=UTC)  # 01:05 IST, the second 01:05
    slot = scheduling.last_slot(briefing, second_one, within=timedelta(hours=1, minutes=1))
    assert slot.astimezone(UTC) == datetime(2026, 10, 24, 23, tzinfo=UTC)
    first_one = datetime(2026, 10, 24, 22, 5, tzinfo=UTC)  # 01:05 IDT
    slot = scheduling.last_slot(briefing, first_one, within=timedelta(hours=1, minutes=1))
    assert slot.astimezone(UTC) == datetime(2026, 10, 24, 22, tzinfo=UTC)
    # both 01:00 editions are kept, in the order they ran, and sort between 00:00 and 02:00
    moments = [datetime(2026, 10, 24, 21, tzinfo=UTC) + timedelta(hours=n) for n in range(4)]
    names = [compose.edition_id(moment, JERUSALEM) for moment in moments]
    assert names == ["2026-10-25-0000", "2026-10-25-0100", "2026-10-25-0100-2", "2026-10-25-0200"]
    assert sorted(names) == names
    from briefings import unsubscribe

    assert all(unsubscribe._EDITION_ID.match(name) for name in names)  # PRO view links


def test_approve_without_a_secret_changes_nothing(
    site: corpus.Site, tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from briefings.cli import main

    path = catalogue(
        site,
        tmp_path,
        DAILY
        + 'review = true\n\n[delivery]\nmethod = "outbox"\nbase_url = "https://b.example.org"\n',
    )
    clock.set(NOW + timedelta(hours=1, minutes=1))
    scheduling.edition_job(str(path), "daily", False)
    monkeypatch.delenv("BRIEFINGS_SECRET", raising=False)
    result = CliRunner().invoke(main, ["--config", str(path), "approve", "daily"])
    assert result.exit_code == 1
    assert "approved" not in result.output and "BRIEFINGS_SECRET" in result.output
    store = pipeline.open_store(configuration.load(path))
    assert [e.status for e in store.editions_of("daily")] == ["draft"]
    store.close()
    monkeypatch.setenv("BRIEFINGS_SECRET", "a-secret-for-tests-only-0123456789")
    result = CliRunner().invoke(main, ["--config", str(path), "approve", "daily"])
    assert result.exit_code == 0, result.output
    assert "approved; sending now" in result.output
    store = pipeline.open_store(configuration.load(path))
    assert [e.status for e in store.editions_of("daily")] == ["sent"]
    store.close()


def test_approve_claims_an_edition_only_under_the_run_lock(
    site: corpus.Site, tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``approve`` marked the edition *sending* and only then waited for the run lock: a
    scheduler holding the lock saw an edition sending with no sender, and finished it as
    one whose process had died."""
    import threading

    from click.testing import CliRunner

    from briefings.cli import main

    path = catalogue(
        site,
        tmp_path,
        DAILY
        + 'review = true\n\n[delivery]\nmethod = "outbox"\nbase_url = "https://b.example.org"\n',
    )
    path.write_text(
        path.read_text(encoding="utf-8").replace("[settings]\n", "[settings]\nlock_wait = 1\n"),
        encoding="utf-8",
    )
    clock.set(NOW + timedelta(hours=1, minutes=1))
    scheduling.edition_job(str(path), "daily", False)
    monkeypatch.setenv("BRIEFINGS_SECRET", "a-secret-for-tests-only-0123456789")
    config = configuration.load(path)
    seen: set[str] = set()
    with pipeline.run_lock(config):  # another command holds the store
        runner = threading.Thread(
            target=lambda: CliRunner().invoke(main, ["--config", str(path), "approve", "daily"])
        )
        runner.start()
        store = pipeline.open_store(config)
        while runner.is_alive():
            seen.update(e.status for e in store.editions_of("daily"))
            runner.join(0.05)
        store.close()
    assert "sending" not in seen
    assert seen == {"approved"} or seen == {"draft", "approved"}


def test_a_second_scheduler_on_the_same_store_refuses_to_start(tmp_path: Path) -> None:
    path = catalogue(None, tmp_path, DAILY)
    command = [sys.executable, "-m", "briefings.cli", "--config", str(path), "schedule"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    first = subprocess.Popen([*command, "--no-send"], stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert first.stderr is not None
        assert "Scheduling" in first.stderr.readline()  # started, holding its lock
        second = subprocess.run(
            [*command, "--no-send"], capture_output=True, text=True, env=env, timeout=30
        )
        assert second.returncode == 1, second.stderr
        assert f"another briefings schedule (pid {first.pid})" in second.stderr
        assert "Scheduling" not in second.stderr
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=60) == 0
    finally:
        if first.poll() is None:
            first.kill()
        first.communicate()
    # the lock goes with its process: a scheduler starts again, and `run` is not held up
    again = subprocess.Popen([*command, "--no-send"], stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert again.stderr is not None
        assert "Scheduling" in again.stderr.readline()
        again.send_signal(signal.SIGINT)
        assert again.wait(timeout=60) == 0
    finally:
        if again.poll() is None:
            again.kill()
        again.communicate()


def test_an_edition_due_while_another_command_holds_the_store_is_built_after(
    site: corpus.Site, tmp_path: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    path = catalogue(site, tmp_path, DAILY)
    path.write_text(
        path.read_text(encoding="utf-8").replace("[settings]\n", "[settings]\nlock_wait = 0.2\n"),
        encoding="utf-8",
    )
    config = configuration.load(path)
    caplog.set_level(logging.WARNING, logger="briefings.schedule")
    with pipeline.run_lock(config):  # e.g. `briefings run --once`, or the desk rebuilding
        clock.set(NOW)
        service, store = start_service(path)
        until(lambda: ("fetch", "error") in service.runs)
        clock.set(NOW + timedelta(hours=1, seconds=30))  # 10:00:30, the edition is due
        service.scheduler.wakeup()
        until(lambda: ("daily", "error") in service.runs)
        [retry] = [job for job in service.jobs() if job[0] == "daily:retry"]
        assert retry[1] == datetime(2026, 11, 22, 10, 1, 30, tzinfo=UTC)
    assert not store.editions_of("daily")
    stop_service(service, store)  # a restart keeps the retry

    clock.set(NOW + timedelta(hours=1, minutes=2))
    service, store = start_service(path)
    until(lambda: ("daily:retry", "executed") in service.runs, 120)
    [made] = store.editions_of("daily")
    assert made.edition == "2026-11-22-1000" and made.stories > 0  # its slot, not 10:02
    assert "daily:retry" not in [job[0] for job in service.jobs()]
    assert any("the store is busy" in r.getMessage() for r in caplog.records)
    stop_service(service, store)


def test_an_edition_whose_sender_died_mid_send_is_finished_by_dispatch(
    smtp: tuple[Sink, int],  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from collections import Counter

    sink, port = smtp
    loaded = setup(tmp_path, port, people(10))
    process = subprocess.Popen(
        cli(loaded.path, "send", "sample"),
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    sink.kill_after = (4, process.pid)  # it dies with the 4th message in flight
    assert process.wait(timeout=120) == -signal.SIGKILL
    store = pipeline.open_store(loaded)
    latest = store.latest_edition("sample")
    assert latest is not None
    name = latest[0]
    assert store.edition("sample", name).status == "sending"  # type: ignore[union-attr]
    monkeypatch.setenv("BRIEFINGS_SECRET", SECRET)
    caplog.set_level(logging.INFO, logger="briefings.schedule")
    with pipeline.run_lock(loaded):  # as dispatch_job holds it
        [report] = scheduling.dispatch(loaded, store, now=datetime.now(UTC))
    assert report.sent == 6 and report.already == 3 and len(report.in_doubt) == 1
    delivered = Counter(rcpt for rcpt, _ in sink.messages)
    assert len(delivered) == 10 and max(delivered.values()) == 1  # nobody twice, nobody left
    assert store.edition("sample", name).status == "failed"  # type: ignore[union-attr]
    assert f"sample {name}: its sending stopped half-way (the process ended)" in caplog.text
    assert scheduling.dispatch(loaded, store, now=datetime.now(UTC)) == []  # once
    store.close()


def test_a_stop_puts_an_edition_waiting_behind_a_running_job_back_for_its_slot(
    server: LocalServer, tmp_path: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    url = server.add(
        "/f.xml", rss(server.base, ("/a", "Ankara and Baku sign railway deal", LONG)), delay=3
    )
    server.add("/a", f"<html><body><p>{LONG}</p></body></html>")
    path = catalogue(None, tmp_path, DAILY, feeds=f'[[feeds]]\nname = "Outlet"\nurl = "{url}"\n')
    caplog.set_level(logging.WARNING, logger="briefings.schedule")
    clock.set(NOW)
    service, store = start_service(path)  # the fetch at start takes 3 s
    until(lambda: any(p == "/f.xml" for p, _ in server.times))
    clock.set(NOW + timedelta(hours=1, seconds=30))  # 10:00:30: the edition falls due
    service.scheduler.wakeup()
    until(lambda: service.executor._pending == 2)  # waiting behind the fetch
    stop_service(service, store)  # as SIGTERM does
    assert ("fetch", "executed") in service.runs  # the job in hand finished
    assert ("daily", "put back") in service.runs
    assert ("daily", "executed") not in service.runs
    assert not store.editions_of("daily")
    # a clean stop: the run put back is no error with a traceback
    assert not [r.getMessage() for r in caplog.records if r.name.startswith("apscheduler.exec")]
    assert any(
        "daily: the scheduler is stopping; the edition due at 2026-11-22 10:00:00+00:00 is put "
        "back" in r.getMessage()
        for r in caplog.records
    )
    assert job_names(tmp_path / "briefings.db")["daily:retry"] == "retry 2026-11-22T10:00:00+00:00"

    clock.set(NOW + timedelta(hours=1, minutes=5))  # restarted at 10:05
    service, store = start_service(path)
    until(lambda: ("daily:retry", "executed") in service.runs, 60)
    [made] = store.editions_of("daily")
    assert made.edition == "2026-11-22-1000" and made.stories == 1
    stop_service(service, store)


def dated_rss(base: str, *items: tuple[str, str, datetime]) -> str:
    body = "".join(
        f"<item><title>{title}</title><link>{base}{path}</link><guid>{base}{path}</guid>"
        f"<pubDate>{format_datetime(when)}</pubDate>"
        f"<description>{(title + '. ') * 40}</description></item>"
        for path, title, when in items
    )
    return (
        f"<?xml version='1.0'?><rss version='2.0'><channel><title>T</title>{body}</channel></rss>"
    )


def test_a_late_edition_after_the_25_hour_day_misses_no_story(
    server: LocalServer, tmp_path: Path, clock: Clock
) -> None:
    saturday = datetime(2026, 10, 24, 4, tzinfo=UTC)  # 07:00 IDT
    sunday = datetime(2026, 10, 25, 5, tzinfo=UTC)  # 07:00 IST, 25 hours later
    first = ("/a", "Knesset committee approves the water budget", saturday - timedelta(minutes=30))
    feed = server.add("/feed.xml", dated_rss(server.base, first))
    path = catalogue(
        None,
        tmp_path,
        f"""
[briefings.israel]
title = "Israel Briefing"
schedule = "0 7 * * *"
timezone = "{JERUSALEM}"
window = "24h"
""",
        feeds=f'[[feeds]]\nname = "Wire"\nurl = "{feed}"\n',
    )
    clock.set(saturday - timedelta(minutes=1))
    service, store = start_service(path)
    until(lambda: ("fetch", "executed") in service.runs)
    clock.set(saturday + timedelta(seconds=30))
    service.scheduler.wakeup()
    until(lambda: ("israel", "executed") in service.runs)
    [made] = store.editions_of("israel")
    assert (made.edition, made.stories) == ("2026-10-24-0700", 1)
    stop_service(service, store)

    after = ("/b", "Haifa port strike ends after talks", saturday + timedelta(minutes=20))
    today = ("/c", "Jerusalem light rail line opens", sunday - timedelta(minutes=30))
    server.add("/feed.xml", dated_rss(server.base, first, after, today))
    clock.set(sunday + timedelta(minutes=50))  # the machine was down at 07:00
    service, store = start_service(path)
    until(lambda: ("israel", "executed") in service.runs)
    latest = store.editions_of("israel")[0]
    assert latest.edition == "2026-10-25-0700"
    shown = (tmp_path / "out" / "israel" / latest.edition / "email.txt").read_text("utf-8")
    assert "Haifa port strike" in shown and "light rail" in shown
    assert "water budget" not in shown
    stop_service(service, store)


def test_a_job_stored_by_an_earlier_version_gets_the_crontab_trigger(
    tmp_path: Path, clock: Clock
) -> None:
    from apscheduler.triggers.cron import CronTrigger

    path = catalogue(None, tmp_path, DAILY)
    clock.set(NOW)
    config = configuration.load(path)
    store = pipeline.open_store(config)
    service = scheduling.Scheduler(config, store, send=False)
    service.prepare()
    # as stored before: APScheduler's own trigger, which fires twice in a repeated hour
    service.scheduler.modify_job("daily", trigger=CronTrigger(hour=10, minute=0, timezone="UTC"))
    service.stop(wait=False)
    store.close()
    store = pipeline.open_store(config)
    service = scheduling.Scheduler(config, store, send=False)
    service.prepare()
    [job] = [j for j in service.scheduler.get_jobs() if j.id == "daily"]
    assert type(job.trigger) is type(configuration.cron_trigger("0 10 * * *", "UTC"))
    assert job.next_run_time == datetime(2026, 11, 22, 10, tzinfo=UTC)  # its next run kept
    service.stop(wait=False)
    store.close()


@pytest.mark.parametrize(
    ("zone", "night", "ran"),
    [
        # 02:00 EST became 03:00 EDT on Sunday 8 March 2026
        ("America/New_York", datetime(2026, 3, 8, 7, 30, tzinfo=UTC), "03:30 EDT"),
        # Israel moved its clocks from 02:00 to 03:00 on Friday 27 March 2026
        (JERUSALEM, datetime(2026, 3, 27, 0, 30, tzinfo=UTC), "03:30 IDT"),
    ],
)
def test_an_edition_set_in_the_hour_skipped_in_spring_is_named_as_it_ran(
    server: LocalServer, tmp_path: Path, clock: Clock, zone: str, night: datetime, ran: str
) -> None:
    story = ("/a", "Harbour strike ends after night talks", night - timedelta(hours=3))
    feed = server.add("/feed.xml", dated_rss(server.base, story))
    path = catalogue(
        None,
        tmp_path,
        f"""
[briefings.night]
title = "Night Briefing"
schedule = "30 2 * * *"
timezone = "{zone}"
""",
        feeds=f'[[feeds]]\nname = "Wire"\nurl = "{feed}"\n',
    )
    clock.set(night - timedelta(hours=12))  # the evening before
    service, store = start_service(path)
    until(lambda: ("fetch", "executed") in service.runs)
    [job] = [j for j in service.jobs() if j[0] == "night"]
    assert job[1] is not None and job[1].astimezone(UTC) == night  # 02:30 does not exist
    clock.set(night + timedelta(seconds=5))
    service.scheduler.wakeup()
    until(lambda: ("night", "executed") in service.runs)
    [made] = store.editions_of("night")
    local = night.astimezone(ZoneInfo(zone))
    assert made.edition == f"{local:%Y-%m-%d}-0330"  # as the masthead says, not -0230
    archive = (tmp_path / "out" / "night" / "index.html").read_text("utf-8")
    assert ran in archive and f"{made.edition}/" in archive
    stop_service(service, store)


def test_the_next_run_of_a_time_skipped_in_spring_is_the_same_whenever_asked(
    tmp_path: Path, clock: Clock
) -> None:
    path = catalogue(
        None,
        tmp_path,
        """
[briefings.night]
title = "Night Briefing"
schedule = "30 2 * * *"
timezone = "America/New_York"
""",
        feeds='[[feeds]]\nname = "Local"\nurl = "http://127.0.0.1:9/feed.xml"\n',
    )
    ran = datetime(2026, 3, 8, 7, 30, tzinfo=UTC)  # 02:30 EST does not exist: 03:30 EDT
    trigger = configuration.cron_trigger("30 2 * * *", "America/New_York")
    for asked in (
        ran - timedelta(hours=20),
        ran - timedelta(minutes=40),
        ran - timedelta(minutes=10),
    ):
        assert trigger.get_next_fire_time(None, asked) == ran, asked
        # e.g. a scheduler started at 03:20 that night (or --list) runs it at 03:30, not tomorrow
        clock.set(asked)
        args = ["--config", str(path), "schedule", "--list", "--no-send"]
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
        lines = dict(line.split(None, 1) for line in result.output.splitlines())
        assert lines["night"] == "2026-03-08 03:30 America/New_York", asked
    after = trigger.get_next_fire_time(ran, ran + timedelta(seconds=1))
    assert after == datetime(2026, 3, 9, 6, 30, tzinfo=UTC)  # then 02:30 EDT, daily
    hourly = configuration.cron_trigger("30 * * * *", "America/New_York")
    assert hourly.get_next_fire_time(None, ran - timedelta(minutes=10)) == ran
    assert hourly.get_next_fire_time(None, ran + timedelta(minutes=1)) == ran + timedelta(hours=1)


def test_listing_beside_a_running_scheduler_shows_its_jobs(tmp_path: Path) -> None:
    path = catalogue(
        None,
        tmp_path,
        DAILY,
        feeds='[[feeds]]\nname = "Local"\nurl = "http://127.0.0.1:9/feed.xml"\n',
    )
    command = [sys.executable, "-m", "briefings.cli", "--config", str(path), "schedule"]
    env = {**ENV, "PYTHONUNBUFFERED": "1"}
    first = subprocess.Popen([*command, "--no-send"], stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert first.stderr is not None
        assert "Scheduling" in first.stderr.readline()  # started: it has no dispatch job
        for listing in (["--list"], ["--list", "--no-send"]):
            shown = subprocess.run(
                command + listing, env=env, capture_output=True, text=True, timeout=60
            )
            assert shown.returncode == 0, shown.stderr
            lines = dict(line.split(None, 1) for line in shown.stdout.splitlines())
            assert set(lines) == {"daily", "fetch"}, listing  # not dispatch, which it has not
            assert lines["daily"].endswith(" 10:00 UTC")
            assert f"(pid {first.pid})" in shown.stderr
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=60) == 0
    finally:
        if first.poll() is None:
            first.kill()
        first.communicate()


def test_the_edition_after_a_skipped_one_carries_the_stories_only_it_would_have(
    server: LocalServer, tmp_path: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    monday = datetime(2026, 11, 23, 10, tzinfo=UTC)
    sent = ("/a", "Knesset committee approves the water budget", monday - timedelta(hours=1))
    feed = server.add("/feed.xml", dated_rss(server.base, sent))
    path = catalogue(
        None,
        tmp_path,
        """
[briefings.daily]
title = "Daily Briefing"
schedule = "0 10 * * *"
window = "24h"
""",
        feeds=f'[[feeds]]\nname = "Wire"\nurl = "{feed}"\n',
    )
    clock.set(monday - timedelta(minutes=1))
    service, store = start_service(path)
    until(lambda: ("fetch", "executed") in service.runs)
    clock.set(monday + timedelta(seconds=30))
    service.scheduler.wakeup()
    until(lambda: ("daily", "executed") in service.runs)
    assert [e.edition for e in store.editions_of("daily")] == ["2026-11-23-1000"]
    stop_service(service, store)

    # down from Monday noon to Tuesday 11:30: Tuesday's 10:00 edition is skipped
    only_tuesday = ("/b", "Haifa port strike ends after talks", monday + timedelta(hours=5))
    later = ("/c", "Jerusalem light rail line opens", monday + timedelta(days=1, hours=2))
    server.add("/feed.xml", dated_rss(server.base, sent, only_tuesday, later))
    clock.set(monday + timedelta(days=1, hours=1, minutes=30))
    caplog.set_level(logging.INFO, logger="briefings")
    service, store = start_service(path)
    until(lambda: ("daily", "missed") in service.runs)
    until(lambda: ("fetch", "executed") in service.runs)
    clock.set(monday + timedelta(days=2, seconds=30))  # Wednesday 10:00
    service.scheduler.wakeup()
    until(lambda: ("daily", "executed") in service.runs)
    latest = store.editions_of("daily")[0]
    assert latest.edition == "2026-11-25-1000"
    shown = (tmp_path / "out" / "daily" / latest.edition / "email.txt").read_text("utf-8")
    assert "Haifa port strike" in shown and "light rail" in shown
    assert "water budget" not in shown  # Monday's edition carried it
    assert any(
        "daily 2026-11-25-1000: the slot at 2026-11-24 10:00 UTC made no edition" in r.getMessage()
        and "2026-11-23 10:00 UTC" in r.getMessage()
        for r in caplog.records
    ), [r.getMessage() for r in caplog.records]
    stop_service(service, store)


def test_the_scheduler_logs_a_skipped_edition_without_verbose(tmp_path: Path) -> None:
    path = catalogue(
        None,
        tmp_path,
        """
[briefings.minute]
title = "Minute"
schedule = "0 * * * *"
""",
        feeds='[[feeds]]\nname = "Local"\nurl = "http://127.0.0.1:9/feed.xml"\n',
    )
    path.write_text(
        path.read_text("utf-8").replace('misfire_grace = "1h"', 'misfire_grace = "1m"'), "utf-8"
    )
    config = configuration.load(path)
    store = pipeline.open_store(config)
    service = scheduling.Scheduler(config, store, send=False)
    service.prepare()
    service.scheduler.modify_job("minute", next_run_time=datetime.now(UTC) - timedelta(minutes=10))
    service.stop(wait=False)
    store.close()
    process = subprocess.Popen(
        cli(path, "schedule", "--no-send"), stderr=subprocess.PIPE, text=True, env=ENV
    )
    try:

        def next_run() -> float:
            with sqlite3.connect(tmp_path / "briefings.db") as connection:
                [(when,)] = connection.execute(
                    f"SELECT next_run_time FROM {scheduling.JOBS_TABLE} WHERE id = 'minute'"
                )
                return float(when)

        until(lambda: next_run() > time.time())  # the missed run was dealt with
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
        shown = process.communicate()[1]
    assert "minute: the run due at" in shown and "skipped" in shown, shown
    assert "Traceback" not in shown, shown
    assert shown.count("was missed") == 1, shown  # in its words, not APScheduler's too


def test_a_feeds_toml_caught_half_written_removes_no_job(tmp_path: Path) -> None:
    """An editor saving feeds.toml truncates it, then writes it: a look between the two
    saw an empty file, a valid one, and removed every job (seen in CI)."""
    path = catalogue(None, tmp_path, DAILY)
    text = path.read_text("utf-8")
    service, store = start_service(path)
    try:
        assert set(job_names(tmp_path / "briefings.db")) == {"daily", "fetch"}
        path.write_text("", "utf-8")  # caught half-way through a save
        assert service.take_up() is None
        path.write_text(text + "\n", "utf-8")  # the save ends before the next look
        assert service.take_up() is None  # a change is taken up once it holds still
        assert set(job_names(tmp_path / "briefings.db")) == {"daily", "fetch"}
        assert service.take_up() == []  # the same briefings: nothing to change
        assert set(job_names(tmp_path / "briefings.db")) == {"daily", "fetch"}
        assert service.take_up() is None
    finally:
        stop_service(service, store)


def test_a_running_scheduler_takes_up_briefings_added_and_removed_in_feeds_toml(
    tmp_path: Path,
) -> None:
    path = catalogue(
        None,
        tmp_path,
        DAILY,
        feeds='[[feeds]]\nname = "Local"\nurl = "http://127.0.0.1:9/feed.xml"\n',
    )
    text = path.read_text("utf-8")
    process = subprocess.Popen(
        cli(path, "schedule", "--no-send"), stderr=subprocess.PIPE, text=True, env=ENV
    )

    def listed() -> dict[str, str]:
        shown = subprocess.run(
            cli(path, "schedule", "--list", "--no-send"),
            env=ENV,
            capture_output=True,
            text=True,
            timeout=60,
        )
        return dict(line.split(None, 1) for line in shown.stdout.splitlines())

    def stored() -> set[str]:
        try:
            return set(job_names(tmp_path / "briefings.db"))
        except sqlite3.OperationalError:  # not made yet
            return set()

    try:
        # the scheduler itself has started (--list alone shows what the file would make)
        until(lambda: stored() == {"daily", "fetch"})
        until(lambda: set(listed()) == {"daily", "fetch"})
        edited = text.replace(DAILY, "") + (
            '\n[briefings.evening]\ntitle = "Evening"\nschedule = "0 18 * * *"\n'
            f'timezone = "{ISTANBUL}"\n'
        )
        path.write_text(edited, "utf-8")
        until(lambda: set(listed()) == {"evening", "fetch"})
        assert listed()["evening"].endswith(" 18:00 Europe/Istanbul")
        path.write_text(edited.replace('"0 18 * * *"', '"0 25 * * *"'), "utf-8")  # invalid
        time.sleep(2.5)
        assert set(job_names(tmp_path / "briefings.db")) == {"evening", "fetch"}  # as they were
        assert process.poll() is None  # and it runs on
        path.write_text(edited.replace('"0 18 * * *"', '"30 19 * * *"'), "utf-8")
        until(lambda: listed()["evening"].endswith(" 19:30 Europe/Istanbul"))
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
        shown = process.communicate()[1]
    assert "feeds.toml changed: added evening, removed daily" in shown, shown
    assert "briefings.evening.schedule: bad cron line '0 25 * * *'" in shown, shown
    assert "the jobs stay as they were" in shown, shown
