"""The store on real SQLite files: upgrades from old schemas, newer ones refused."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from briefings.cli import main
from briefings.errors import StoreError
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
