"""The store on real SQLite files: upgrades from old schemas, newer ones refused."""

from __future__ import annotations

import shlex
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from briefings.cli import main
from briefings.errors import BriefingsError, StoreError
from briefings.store import SCHEMA_VERSION, Store

from .conftest import NOW, LocalServer

VERSION_1 = """
CREATE TABLE meta ("key" VARCHAR NOT NULL, value VARCHAR, PRIMARY KEY ("key"));
CREATE TABLE feeds (url VARCHAR NOT NULL, etag VARCHAR, last_modified VARCHAR,
  body_hash VARCHAR, checked_at DATETIME, error TEXT, PRIMARY KEY (url));
CREATE TABLE entries (id INTEGER NOT NULL, canonical_url VARCHAR NOT NULL,
  feed_id VARCHAR NOT NULL, guid VARCHAR NOT NULL, url VARCHAR NOT NULL, title TEXT NOT NULL,
  summary TEXT NOT NULL, content TEXT NOT NULL, author VARCHAR NOT NULL,
  published DATETIME NOT NULL, dated BOOLEAN NOT NULL, first_seen DATETIME NOT NULL,
  PRIMARY KEY (id), UNIQUE (canonical_url));
CREATE INDEX ix_entries_published ON entries (published);
CREATE INDEX ix_entries_feed_guid ON entries (feed_id, guid);
CREATE TABLE sightings (canonical_url VARCHAR NOT NULL, feed_id VARCHAR NOT NULL,
  UNIQUE (canonical_url, feed_id));
CREATE TABLE pages (url VARCHAR NOT NULL, fetched_at DATETIME NOT NULL, error TEXT NOT NULL,
  text TEXT NOT NULL, title TEXT NOT NULL, author VARCHAR NOT NULL, site_name VARCHAR NOT NULL,
  language VARCHAR NOT NULL, image VARCHAR NOT NULL, published DATETIME, PRIMARY KEY (url));
CREATE TABLE editions (id INTEGER NOT NULL, briefing VARCHAR NOT NULL,
  edition VARCHAR NOT NULL, generated_at DATETIME NOT NULL, stories INTEGER NOT NULL,
  path VARCHAR NOT NULL, PRIMARY KEY (id), UNIQUE (briefing, edition));
CREATE TABLE carried (briefing VARCHAR NOT NULL, edition VARCHAR NOT NULL,
  story_id VARCHAR NOT NULL, url VARCHAR NOT NULL, title TEXT NOT NULL,
  sent_at DATETIME NOT NULL, score FLOAT NOT NULL);
CREATE INDEX ix_carried_briefing_url ON carried (briefing, url);
INSERT INTO meta VALUES ('schema', '1');
"""
"""The tables of schema version 1, as its ``create_all`` made them (commit d019659)."""


def _stamp(delta: timedelta) -> str:
    """A UTC time as SQLAlchemy keeps it in SQLite."""
    return (NOW + delta).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def version_1_database(path: Path, base: str) -> None:
    """A version-1 store holding one feed, its entry and page, and an edition that carried it."""
    hour = timedelta(hours=-1)
    with sqlite3.connect(path) as db:
        db.executescript(VERSION_1)
        db.execute(
            "INSERT INTO feeds VALUES (?, 'etag-1', NULL, 'hash', ?, '')",
            (f"{base}/feed.xml", _stamp(hour)),
        )
        db.execute(
            "INSERT INTO entries VALUES (1, ?, 'wire', 'g1', ?, 'Ankara and Baku sign a gas deal',"
            " 'Turkey and Azerbaijan signed a gas deal.', '', 'Desk', ?, 1, ?)",
            (f"{base}/old", f"{base}/old", _stamp(hour), _stamp(hour)),
        )
        db.execute("INSERT INTO sightings VALUES (?, 'wire')", (f"{base}/old",))
        db.execute(
            "INSERT INTO pages VALUES (?, ?, '', 'The whole text of the gas deal story.',"
            " 'Ankara and Baku sign a gas deal', 'Desk', 'Wire', 'en', '', NULL)",
            (f"{base}/old", _stamp(hour)),
        )
        db.execute(
            "INSERT INTO editions VALUES (1, 'turkey', '2026-11-22-0800', ?, 1, '/gone')",
            (_stamp(hour),),
        )
        db.execute(
            "INSERT INTO carried VALUES ('turkey', '2026-11-22-0800', 's1', ?,"
            " 'Ankara and Baku sign a gas deal', ?, 1.0)",
            (f"{base}/old", _stamp(hour)),
        )


def test_a_version_1_store_with_rows_is_upgraded_in_place(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    version_1_database(path, "http://127.0.0.1:9")
    store = Store(f"sqlite:///{path}")
    [(_, entry, page)] = store.entries_since(NOW - timedelta(days=1))
    assert entry.title == "Ankara and Baku sign a gas deal"
    assert entry.image == ""
    assert page is not None and page.text == "The whole text of the gas deal story."
    assert not page.paywalled
    assert store.carried("turkey", since=NOW - timedelta(days=1)) == {
        "http://127.0.0.1:9/old": "Ankara and Baku sign a gas deal"
    }
    assert store.sent("turkey", since=NOW - timedelta(days=1)) == []  # none kept then
    record = store.edition("turkey", "2026-11-22-0800")
    assert record is not None and record.status == "approved" and record.approved_at is None
    assert store.due_editions(NOW) == []  # an old edition is never sent by dispatch
    assert store.feed_states(["http://127.0.0.1:9/feed.xml"]).keys() == {
        "http://127.0.0.1:9/feed.xml"
    }
    store.close()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone() == (
            str(SCHEMA_VERSION),
        )


def test_a_version_1_store_runs_an_edition_after_the_upgrade(
    server: LocalServer, write_config: Callable[[str], Path]
) -> None:
    path = write_config("")
    version_1_database(path.parent / "briefings.db", server.base)
    feed = server.add(
        "/feed.xml",
        f"""<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>
<item><title>Ankara and Baku sign a gas deal</title><link>{server.base}/old</link>
<guid>g1</guid><description>Turkey and Azerbaijan signed a gas deal.</description>
<pubDate>Sun, 22 Nov 2026 08:00:00 GMT</pubDate></item>
<item><title>Turkey opens a new port on the Black Sea</title><link>{server.base}/new</link>
<guid>g2</guid><description>Turkey opened a port in Samsun, Turkey's ministers said in
Ankara.</description><pubDate>Sun, 22 Nov 2026 08:30:00 GMT</pubDate></item>
</channel></rss>""",
        headers={"Content-Type": "application/rss+xml"},
    )
    path.write_text(
        f'[[feeds]]\nname = "Wire"\nid = "wire"\nurl = "{feed}"\n\n'
        '[briefings.turkey]\ntitle = "Turkey"\ntopics = ["turkey"]\nschedule = "0 8 * * *"\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["--config", str(path), "run", "--once"])
    assert result.exit_code == 0, result.output
    with sqlite3.connect(path.parent / "briefings.db") as db:
        assert db.execute("SELECT COUNT(*) FROM entries").fetchone() == (2,)
        assert db.execute("SELECT COUNT(*) FROM editions").fetchone() == (2,)


@pytest.mark.parametrize("old", [False, True], ids=["new", "version-1"])
def test_processes_opening_a_store_at_once_make_or_upgrade_it_once(
    tmp_path: Path, old: bool
) -> None:
    # A service manager starts schedule and serve together on a new or old database.
    # Another program holds the file's write lock meanwhile, so each opener has looked
    # at the schema before the first of them may change it.
    path = tmp_path / "briefings.db"
    if old:
        version_1_database(path, "http://127.0.0.1:9")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode=WAL")  # as every briefings since version 1 left it
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("CREATE TABLE IF NOT EXISTS other_program (x INTEGER)")
    outcomes: list[str] = []

    def open_store() -> None:
        try:
            Store(f"sqlite:///{path}").close()
            outcomes.append("opened")
        except BriefingsError as exc:
            outcomes.append(str(exc))

    openers = [threading.Thread(target=open_store) for _ in range(3)]
    for opener in openers:
        opener.start()
    time.sleep(1.0)
    holder.execute("COMMIT")
    holder.close()
    for opener in openers:
        opener.join()
    assert outcomes == ["opened"] * 3
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchall() == [
            (str(SCHEMA_VERSION),)
        ]
        assert db.execute("SELECT COUNT(*) FROM entries").fetchone() == (int(old),)


def test_schedulers_starting_at_once_make_the_jobs_table_once(tmp_path: Path) -> None:
    # `schedule` and `schedule --list` started together: each found no jobs table, and the
    # second to create it ended with "table scheduler_jobs already exists" (seen in CI)
    from apscheduler.schedulers.background import BackgroundScheduler

    from briefings.store.jobs import PatientJobStore

    path = tmp_path / "briefings.db"
    stores = [Store(f"sqlite:///{path}") for _ in range(3)]
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # each looks for the table before any may make it
    holder.execute("CREATE TABLE IF NOT EXISTS other_program (x INTEGER)")
    outcomes: list[str] = []

    def start(store: Store) -> None:
        jobs = PatientJobStore(engine=store.engine, tablename="scheduler_jobs")
        try:
            jobs.start(BackgroundScheduler(), "default")
            outcomes.append("started")
        except Exception as exc:
            outcomes.append(str(exc).splitlines()[0])

    starters = [threading.Thread(target=start, args=(store,)) for store in stores]
    for starter in starters:
        starter.start()
    time.sleep(1.0)
    holder.execute("COMMIT")
    holder.close()
    for starter in starters:
        starter.join()
    for store in stores:
        store.close()
    assert outcomes == ["started"] * 3


def _backup_commands(database: Path, copy: Path) -> list[list[str]]:
    """The backup commands docs/running.md gives, for ``database`` into ``copy``."""
    doc = (Path(__file__).parent.parent / "docs" / "running.md").read_text(encoding="utf-8")
    lines = [line for line in doc.splitlines() if "VACUUM INTO" in line and "/srv/" in line]
    assert len(lines) == 2, lines
    commands = []
    for line in lines:
        line = line.replace("/srv/briefings/.venv/bin/python", sys.executable)
        line = line.replace("/srv/briefings/briefings.db", shlex.quote(str(database)))
        line = line.replace("/var/backups/briefings-$(date +%F).db", str(copy))
        if line.startswith("sqlite3") and shutil.which("sqlite3") is None:
            continue
        commands.append(["sh", "-c", line])
    return commands


def test_the_documented_backup_taken_mid_fetch_opens_and_holds_the_data(
    server: LocalServer, write_config: Callable[[str], Path], tmp_path: Path
) -> None:
    feeds = ""
    for n in range(2):
        text = "Turkish and Azerbaijani ministers met in Ankara to discuss a railway. " * 3
        url = server.add(
            f"/f{n}.xml",
            f"""<?xml version="1.0"?><rss version="2.0"><channel><title>W{n}</title>
<item><title>Ankara and Baku railway talks {n}</title><link>{server.base}/a{n}</link>
<guid>g{n}</guid><description>{text}</description>
<pubDate>{format_datetime(datetime.now(UTC) - timedelta(hours=1))}</pubDate></item>
</channel></rss>""",
            headers={"Content-Type": "application/rss+xml"},
        )
        server.add(f"/a{n}", f"<html><body><p>{text * 8}</p></body></html>", delay=4 * n)
        feeds += f'[[feeds]]\nname = "Wire {n}"\nurl = "{url}"\n\n'
    config = write_config(f"[settings]\nallow_private_networks = true\nhost_delay = 0\n{feeds}")
    database = tmp_path / "briefings.db"
    fetch = subprocess.Popen(
        [sys.executable, "-m", "briefings.cli", "--config", str(config), "fetch"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not any(path == "/a1" for path, _ in server.hits):  # the slow page is asked
            assert time.monotonic() < deadline and fetch.poll() is None
            time.sleep(0.05)
        copies = []
        for number, command in enumerate(_backup_commands(database, tmp_path / "copy.db")):
            copy = tmp_path / f"copy-{number}.db"
            command[-1] = command[-1].replace(str(tmp_path / "copy.db"), str(copy))
            done = subprocess.run(command, capture_output=True, text=True, timeout=60)
            assert done.returncode == 0, done.stderr
            copies.append(copy)
        assert fetch.poll() is None  # the copies were taken while it fetched
        _, stderr = fetch.communicate(timeout=60)
    finally:
        if fetch.poll() is None:
            fetch.kill()
            fetch.communicate()
    assert fetch.returncode == 0, stderr
    assert copies
    for copy in copies:
        assert not Path(f"{copy}-wal").exists() or Path(f"{copy}-wal").stat().st_size == 0
        with sqlite3.connect(copy) as db:
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            titles = {row[0] for row in db.execute("SELECT title FROM entries")}
        db.close()
        assert titles == {"Ankara and Baku railway talks 0", "Ankara and Baku railway talks 1"}
        store = Store(f"sqlite:///{copy}")
        assert store.counts()["entries"] == 2
        store.close()


def test_an_upgrade_cut_short_leaves_the_database_as_it_was(tmp_path: Path) -> None:
    # the last step of the upgrade fails (as when the process is killed before it ends):
    # none of the steps before it stays done
    path = tmp_path / "old.db"
    version_1_database(path, "http://127.0.0.1:9")
    with sqlite3.connect(path) as db:
        before = db.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall()
        db.execute("CREATE TRIGGER cut BEFORE INSERT ON meta BEGIN SELECT RAISE(ABORT, 'cut'); END")
    db.close()
    with pytest.raises(StoreError, match="cut"):
        Store(f"sqlite:///{path}")
    with sqlite3.connect(path) as db:
        db.execute("DROP TRIGGER cut")
        assert db.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall() == before
        assert db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone() == ("1",)
    db.close()
    Store(f"sqlite:///{path}").close()  # and the next start upgrades it
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone() == (
            str(SCHEMA_VERSION),
        )
    db.close()


def test_a_store_of_a_newer_version_is_refused_in_one_line(
    tmp_path: Path, write_config: Callable[[str], Path]
) -> None:
    path = tmp_path / "briefings.db"
    Store(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (str(SCHEMA_VERSION + 1),))
    with pytest.raises(StoreError) as caught:
        Store(f"sqlite:///{path}")
    message = str(caught.value)
    assert message == (
        f"{path}: the database is at schema version {SCHEMA_VERSION + 1}, newer than this "
        f"briefings knows (version {SCHEMA_VERSION}); upgrade briefings, or restore a backup "
        "made before the newer version ran"
    )
    with sqlite3.connect(path) as db:  # left as it was, not marked older
        assert db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone() == (
            str(SCHEMA_VERSION + 1),
        )
    config = write_config('[briefings.a]\ntitle = "A"\nschedule = "0 7 * * *"\n')
    result = CliRunner().invoke(main, ["--config", str(config), "build"])
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def rss(base: str, items: list[tuple[str, str, datetime]]) -> str:
    """A feed of (path, headline, published) items, each a teaser of its page."""
    body = "".join(
        f"<item><title>{title}</title><link>{base}/{path}</link><guid>{path}</guid>"
        f"<description>{title}.</description><pubDate>{format_datetime(published)}</pubDate>"
        "</item>"
        for path, title, published in items
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>{body}</channel></rss>'


STORIES = {
    "old1": "Azerbaijan and Armenia open talks on a border road near Lachin",
    "old2": "Iraqi parliament passes the budget after a long delay in Baghdad",
    "still": "A profile of the port of Mersin and its new container terminal",
    "recent1": "Israel and Cyprus sign a deal on an undersea power cable",
    "new1": "Georgia's central bank raises its rate to slow inflation in Tbilisi",
}


def serve_pages(server: LocalServer) -> None:
    for path, title in STORIES.items():
        text = " ".join([f"{title}, officials said on the day."] * 12)
        server.add(
            f"/{path}",
            f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
            f"<p>{text}</p><p>{text}</p></article></body></html>",
            headers={"Content-Type": "text/html"},
        )


def table_of(path: Path, sql: str) -> set[Any]:
    with sqlite3.connect(path) as db:
        found = set(db.execute(sql).fetchall())
    db.close()
    return found


def test_months_of_runs_are_pruned_to_what_windows_and_the_sent_memory_need(
    server: LocalServer, tmp_path: Path
) -> None:
    from briefings import config as configuration
    from briefings import pipeline
    from briefings.model import Subscriber

    serve_pages(server)
    feed = f"{server.base}/feed.xml"
    path = tmp_path / "feeds.toml"
    path.write_text(
        f"""
[settings]
retention = "30d"

[delivery]
from = "Briefings <briefings@example.org>"
method = "outbox"
base_url = "https://briefings.example.org"

[[feeds]]
name = "Wire"
id = "wire"
url = "{feed}"

[briefings.daily]
title = "Daily"
schedule = "0 7 * * *"
""",
        encoding="utf-8",
    )
    config = configuration.load(path)
    database = tmp_path / "briefings.db"
    readers = [Subscriber(email=f"r{n}@example.net", briefings=("daily",)) for n in range(3)]
    hour = timedelta(hours=1)
    still = ("still", STORIES["still"], NOW - timedelta(days=200))

    def run_at(moment: datetime, items: list[tuple[str, str, datetime]]) -> str:
        server.add("/feed.xml", rss(server.base, items), headers={"Content-Type": "text/xml"})
        store = pipeline.open_store(config)
        try:
            store.save_subscribers(readers, now=moment)
            run = pipeline.Run(config=config, store=store, now=moment)
            [built] = pipeline.run_once(run)
            report = pipeline.send_edition(
                config,
                store,
                "daily",
                senders=lambda: pipeline.make_sender(config),
                secret=b"a-secret-for-tests-only-0123456789",
                now=moment,
            )
            assert report.sent == 3
            return built.edition.edition
        finally:
            store.close()

    long_ago = NOW - timedelta(days=200)
    first = run_at(
        long_ago,
        [
            ("old1", STORIES["old1"], long_ago - hour),
            ("old2", STORIES["old2"], long_ago - hour),
            still,
        ],
    )
    urls = "SELECT canonical_url FROM entries"
    assert {u.rsplit("/", 1)[1] for (u,) in table_of(database, urls)} == {"old1", "old2", "still"}
    assert table_of(database, "SELECT COUNT(*) FROM analyses") == {(3,)}
    recent = NOW - timedelta(days=5)
    second = run_at(recent, [("recent1", STORIES["recent1"], recent - hour), still])
    run_at(NOW, [("new1", STORIES["new1"], NOW - hour), still])

    kept = {u.rsplit("/", 1)[1] for (u,) in table_of(database, urls)}
    assert kept == {"still", "recent1", "new1"}  # "still" is still listed by its feed
    pages = {u.rsplit("/", 1)[1] for (u,) in table_of(database, "SELECT url FROM pages")}
    assert pages == kept
    assert table_of(database, "SELECT COUNT(*) FROM analyses") == {(3,)}
    assert table_of(database, "SELECT COUNT(*) FROM stories") == {(3,)}
    assert {e for (e,) in table_of(database, "SELECT DISTINCT edition FROM carried")} == {
        second,
        *{e for (e,) in table_of(database, "SELECT edition FROM editions")} - {first, second},
    }
    sent = "SELECT DISTINCT edition FROM sent_stories"
    assert table_of(database, sent) == table_of(database, "SELECT DISTINCT edition FROM carried")
    ledger = table_of(database, "SELECT edition, email_key, status FROM deliveries")
    assert {(e, k, s) for e, k, s in ledger if e == first} == {(first, "*", "pruned")}
    assert len([line for line in ledger if line[0] == second]) == 3
    assert len(table_of(database, "SELECT edition FROM editions")) == 3  # editions are kept

    # the first edition's ledger is gone: sending it again needs --resend
    store = pipeline.open_store(config)
    try:
        with pytest.raises(BriefingsError, match=r"pruned from the store .* --resend"):
            pipeline.send_edition(
                config,
                store,
                "daily",
                senders=lambda: pipeline.make_sender(config),
                secret=b"a-secret-for-tests-only-0123456789",
                now=NOW,
                edition_name=first,
            )
        # pruned once a day: a second run the same day deletes nothing more
        assert pipeline.prune(pipeline.Run(config=config, store=store, now=NOW + hour)) is None
    finally:
        store.close()


def test_pruning_forgets_the_links_that_led_to_pruned_articles(
    server: LocalServer, tmp_path: Path
) -> None:
    # an aggregator's feed links every article through a redirect: each link was kept as
    # an alias of its article, and kept for ever after the article was pruned
    from briefings import config as configuration
    from briefings import pipeline

    for path, title in STORIES.items():
        server.add(f"/go/{path}", status=302, headers={"Location": f"{server.base}/news/{path}"})
        text = " ".join([f"{title}, officials said on the day."] * 12)
        server.add(
            f"/news/{path}",
            f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
            f"<p>{text}</p><p>{text}</p></article></body></html>",
            headers={"Content-Type": "text/html"},
        )
    path = tmp_path / "feeds.toml"
    path.write_text(
        f'[settings]\nretention = "30d"\n\n[[feeds]]\nname = "Aggregator"\nid = "agg"\n'
        f'url = "{server.base}/feed.xml"\n\n'
        '[briefings.daily]\ntitle = "Daily"\nschedule = "0 7 * * *"\n',
        encoding="utf-8",
    )
    config = configuration.load(path)
    database = tmp_path / "briefings.db"

    def fetch_at(moment: datetime, *names: str) -> None:
        items = [(f"go/{n}", STORIES[n], moment - timedelta(hours=1)) for n in names]
        server.add("/feed.xml", rss(server.base, items), headers={"Content-Type": "text/xml"})
        store = pipeline.open_store(config)
        try:
            run = pipeline.Run(config=config, store=store, now=moment)
            pipeline.fetch_feeds(run)
            pipeline.fetch_pages(run)
            pipeline.analyse(run)
        finally:
            store.close()

    fetch_at(NOW - timedelta(days=200), "old1", "old2")
    aliased = "SELECT url FROM aliases"
    assert {u.rsplit("/", 1)[1] for (u,) in table_of(database, aliased)} == {"old1", "old2"}
    fetch_at(NOW, "new1")
    urls = "SELECT canonical_url FROM entries"
    assert {u.rsplit("/", 1)[1] for (u,) in table_of(database, urls)} == {"new1"}
    assert {u.rsplit("/", 1)[1] for (u,) in table_of(database, aliased)} == {"new1"}


def test_a_short_retention_never_takes_what_a_repeat_window_needs(
    server: LocalServer, tmp_path: Path
) -> None:
    from briefings import config as configuration
    from briefings import pipeline

    serve_pages(server)
    recent = NOW - timedelta(days=5)
    server.add(
        "/feed.xml",
        rss(server.base, [("recent1", STORIES["recent1"], recent - timedelta(hours=1))]),
        headers={"Content-Type": "text/xml"},
    )
    path = tmp_path / "feeds.toml"
    path.write_text(
        f'[settings]\nretention = "1h"\n\n[[feeds]]\nname = "Wire"\nurl = "{server.base}/feed.xml"'
        '\n\n[briefings.daily]\ntitle = "Daily"\nschedule = "0 7 * * *"\n',
        encoding="utf-8",
    )
    config = configuration.load(path)
    store = pipeline.open_store(config)
    try:
        [built] = pipeline.run_once(pipeline.Run(config=config, store=store, now=recent))
        server.add("/feed.xml", rss(server.base, []), headers={"Content-Type": "text/xml"})
        later = pipeline.Run(config=config, store=store, now=NOW)
        assert pipeline.run_once(later) == []  # nothing new: no edition
        assert pipeline.prune(later, force=True) is not None
        # a week's repeat window: what the first edition carried is still remembered
        memory = store.carried("daily", since=NOW - timedelta(days=7))
        assert memory == {f"{server.base}/recent1": STORIES["recent1"]}
        assert [e.canonical_url for _, e, _ in store.entries_since(recent - timedelta(days=1))] == [
            f"{server.base}/recent1"
        ]
        assert built.edition.edition
    finally:
        store.close()


def test_prune_vacuum_shrinks_the_file(tmp_path: Path, write_config: Callable[[str], Path]) -> None:
    path = write_config('[settings]\nretention = "30d"\n')
    database = path.parent / "briefings.db"
    store = Store(f"sqlite:///{database}")
    long_ago = datetime.now(UTC) - timedelta(days=400)
    with store.engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO entries (canonical_url, feed_id, guid, url, title, summary, content,"
            " author, published, dated, first_seen, image) VALUES (?, 'f', ?, ?, 't', ?, '', '',"
            " ?, 1, ?, '')",
            [
                (
                    f"https://x.example/{n}",
                    str(n),
                    f"https://x.example/{n}",
                    "words " * 500,
                    long_ago,
                    long_ago,
                )
                for n in range(2000)
            ],
        )
    store.close()
    before = database.stat().st_size
    result = CliRunner().invoke(main, ["--config", str(path), "prune", "--vacuum"])
    assert result.exit_code == 0, result.output
    first, second = result.output.splitlines()
    assert first.startswith("pruned what is older than ") and first.endswith(": 2,000 entries")
    assert second.startswith(f"{database}: ") and second.endswith(" MB after")
    assert database.stat().st_size < before / 10
    assert table_of(database, "SELECT COUNT(*) FROM entries") == {(0,)}


def test_a_feed_remembers_since_when_it_has_been_failing(tmp_path: Path) -> None:
    from briefings.model import FeedState
    from briefings.store import FeedUpdate

    store = Store(f"sqlite:///{tmp_path / 'b.db'}")
    url = "http://127.0.0.1:9/feed.xml"
    works = FeedUpdate(url=url, state=FeedState(url=url, etag="e1"))
    fails = FeedUpdate(url=url, state=None, error="HTTP 404 Not Found")
    store.save_feeds([works], checked_at=NOW - timedelta(days=4))
    assert store.feed_errors([url]) == {}
    for days in (3, 2, 1):
        store.save_feeds([fails], checked_at=NOW - timedelta(days=days))
    trouble = store.feed_errors([url])[url]
    assert trouble.error == "HTTP 404 Not Found"
    assert trouble.since == NOW - timedelta(days=3)  # the first failure, not the last
    assert trouble.checked_at == NOW - timedelta(days=1)
    assert store.feed_states([url])[url].etag == "e1"  # a failure keeps the validators
    store.save_feeds([works], checked_at=NOW)
    store.save_feeds([fails], checked_at=NOW + timedelta(hours=1))
    assert store.feed_errors([url])[url].since == NOW + timedelta(hours=1)  # counting again
    new = "http://127.0.0.1:9/never-worked.xml"
    store.save_feeds([FeedUpdate(url=new, state=None, error="timed out")], checked_at=NOW)
    assert store.feed_errors([new])[new].since == NOW
    store.close()


def test_a_feed_failing_before_the_upgrade_counts_from_its_last_fetch(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    version_1_database(path, "http://127.0.0.1:9")
    with sqlite3.connect(path) as db:
        db.execute("UPDATE feeds SET error = 'HTTP 500 Internal Server Error'")
    store = Store(f"sqlite:///{path}")
    [trouble] = store.feed_errors(["http://127.0.0.1:9/feed.xml"]).values()
    assert trouble.since == trouble.checked_at == NOW - timedelta(hours=1)
    store.close()


def test_each_story_an_edition_carried_is_kept_as_sent(tmp_path: Path) -> None:
    """What a follow-up is linked to: each story as it went out, with its articles' URLs;
    a rebuilt edition replaces its own, and is left out when it asks."""
    from briefings.model import Edition, Sent, Source, Story

    def story(n: int, title: str) -> Story:
        urls = (f"https://a.example/{n}", f"https://b.example/{n}")
        return Story(
            id=f"s{n}",
            title=title,
            url=urls[0],
            summary=f"What happened in {title}.",
            published=NOW - timedelta(hours=n),
            topics=(),
            scores=(),
            matches=(),
            sources=tuple(Source(feed="A", title=title, url=u) for u in urls),
            member_urls=urls,
        )

    def edition(name: str, at: datetime, *stories: Story) -> Edition:
        return Edition(
            briefing="turkey",
            title="Turkey",
            description="",
            edition=name,
            generated_at=at,
            stories=stories,
        )

    store = Store(f"sqlite:///{tmp_path / 'b.db'}")
    morning = NOW - timedelta(hours=12)
    store.record_edition(edition("m", morning, story(1, "Quake hits Malatya")), path="m")
    store.record_edition(edition("e", NOW, story(2, "Lira slides")), path="e")
    store.record_edition(edition("e", NOW, story(3, "Rates held")), path="e")  # rebuilt
    expected = Sent(
        story_id="s1",
        title="Quake hits Malatya",
        summary="What happened in Quake hits Malatya.",
        url="https://a.example/1",
        published=NOW - timedelta(hours=1),
        edition="m",
        sent_at=morning,
        urls=("https://a.example/1", "https://b.example/1"),
    )
    assert [s.story_id for s in store.sent("turkey", since=morning)] == ["s1", "s3"]
    assert store.sent("turkey", since=morning, besides="e") == [expected]
    assert [s.story_id for s in store.sent("turkey", since=NOW)] == ["s3"]
    assert store.sent("israel", since=morning) == []
    store.close()
