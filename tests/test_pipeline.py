"""End to end over the sample corpus served on 127.0.0.1: fetch → … → editions."""

from __future__ import annotations

import json
import sqlite3
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from briefings import corpus, pipeline, render
from briefings.pipeline import ingest
from briefings.store import Store

from .conftest import NOW, LocalServer, SampleRun, item_of, sample_config
from .test_render import assert_contract


def test_every_feed_fetched_and_teasers_extracted(sample_run: SampleRun) -> None:
    report = sample_run.report
    assert report.failures == []
    assert report.feeds == len(sample_run.site.corpus.outlets)
    items = [i for i in sample_run.site.corpus.items if not i.repeat_of]
    assert report.entries_new == len(items)  # the aggregator's repeats are stored once
    assert report.pages_fetched > 40


def test_extracted_text_is_the_article_not_the_boilerplate(sample_run: SampleRun) -> None:
    articles = pipeline.articles_of(sample_run.store, since=NOW - timedelta(days=60))
    from_pages = [a for a in articles if a.text_source == "page"]
    assert from_pages
    for article in from_pages:
        item = item_of(sample_run.site, article.url)
        assert item.paragraphs[0][:60] in article.text
        for noise in (
            "We use cookies",
            "Sign up for our",
            "Related stories",
            "About the author",
            "All rights reserved",
        ):
            assert noise not in article.text, article.url


def test_an_edition_for_every_briefing_with_matching_stories(sample_run: SampleRun) -> None:
    built = {b.edition.briefing: b for b in sample_run.built}
    assert set(built) == {b.id for b in sample_run.config.briefings}
    for item in built.values():
        for name in ("index.html", "email.html", "email.txt", "edition.json"):
            assert (item.path / name).stat().st_size > 0
        document = json.loads((item.path / "edition.json").read_text())
        assert_contract(document)
        assert document["edition"] == item.path.name
        assert item.path.parent.name == document["briefing"]
        for story in document["stories"]:
            links = [story["url"], *(s["url"] for s in story["sources"])]
            assert not [link for link in links if "utm_" in link]  # no tracking for readers


def test_topic_briefings_hold_their_topic_and_no_hard_negatives(sample_run: SampleRun) -> None:
    for built in sample_run.built:
        briefing = sample_run.config.briefing(built.edition.briefing)
        for story in built.edition.stories:
            assert "peach-state-herald" not in story.url, (briefing.id, story.title)
            if briefing.topics:
                assert set(story.topics) & set(briefing.topics), (briefing.id, story.title)


def test_windows_hold(sample_run: SampleRun) -> None:
    for built in sample_run.built:
        window = sample_run.config.briefing(built.edition.briefing).window
        for story in built.edition.stories:
            assert NOW - window <= story.published <= NOW


def test_clusters_show_every_outlet(sample_run: SampleRun) -> None:
    daily = next(b for b in sample_run.built if b.edition.briefing == "daily").edition
    for story in daily.stories:
        events = {item_of(sample_run.site, s.url).event for s in story.sources}
        assert len(events) == 1, story.title  # a story never mixes events
    assert max(len(s.sources) for s in daily.stories) >= 3


def test_no_story_is_repeated_by_the_next_edition(
    sample_corpus: corpus.Corpus, tmp_path: Path
) -> None:
    with corpus.serve(sample_corpus, now=NOW) as site:
        config = sample_config(site, tmp_path)
        store = pipeline.open_store(config)
        first = pipeline.run_once(pipeline.Run(config=config, store=store, now=NOW), ["daily"])
        later = NOW + timedelta(hours=1)
        second = pipeline.run_once(
            pipeline.Run(config=config, store=store, now=later), ["daily", "security"]
        )
        store.close()
    sent = {u for s in first[0].edition.stories for u in s.member_urls}
    for built in second:
        if built.edition.briefing == "daily":
            assert not sent & {u for s in built.edition.stories for u in s.member_urls}
    assert "security" in {b.edition.briefing for b in second}  # other briefings unaffected


def test_second_fetch_is_all_not_modified(sample_corpus: corpus.Corpus, tmp_path: Path) -> None:
    with corpus.serve(sample_corpus, now=NOW) as site:
        config = sample_config(site, tmp_path)
        store = pipeline.open_store(config)
        first = pipeline.Run(config=config, store=store, now=NOW)
        pipeline.fetch_feeds(first)
        counts = store.counts()
        second = pipeline.Run(config=config, store=store, now=NOW + timedelta(minutes=15))
        pipeline.fetch_feeds(second)
        assert second.report.feeds_not_modified == len(config.feeds)
        assert second.report.entries_new == 0
        assert store.counts()["entries"] == counts["entries"]
        store.close()


def test_failed_pages_are_cached_then_retried(server: LocalServer, tmp_path: Path) -> None:
    from dataclasses import replace

    from briefings import config as configuration

    when = format_datetime(NOW - timedelta(hours=1))
    feed = (
        f"<rss version='2.0'><channel><title>T</title><item><title>Ankara talks</title>"
        f"<link>{server.base}/story</link><pubDate>{when}</pubDate>"
        f"<description>Short teaser.</description></item></channel></rss>"
    )
    path = tmp_path / "feeds.toml"
    path.write_text(
        f'[[feeds]]\nname = "A"\nurl = "{server.add("/feed.xml", feed)}"\n'
        '[briefings.all]\ntitle = "All"\nschedule = "0 7 * * *"\n'
    )
    config = configuration.load(path)
    store = pipeline.open_store(config)

    def fetch_at(moment: datetime) -> pipeline.Run:
        run = pipeline.Run(config=replace(config), store=store, now=moment)
        pipeline.fetch_feeds(run)
        pipeline.fetch_pages(run)
        return run

    first = fetch_at(NOW)
    assert [(f.stage, f.message) for f in first.report.failures] == [("page", "HTTP 404 Not Found")]
    assert fetch_at(NOW + timedelta(hours=1)).report.failures == []  # cached: not tried again
    server.add(
        "/story",
        "<html><body><article><p>"
        + "Talks in Ankara went on. " * 40
        + "</p></article></body></html>",
        headers={"Content-Type": "text/html"},
    )
    later = fetch_at(NOW + pipeline.PAGE_RETRY + timedelta(hours=1))
    assert later.report.failures == []
    assert later.report.pages_fetched == 1
    [article] = pipeline.articles_of(store, since=NOW - timedelta(days=1))
    assert article.text_source == "page"
    assert article.text.startswith("Talks in Ankara went on.")
    store.close()


def test_an_updated_headline_replaces_the_old_one(server: LocalServer, tmp_path: Path) -> None:
    from briefings import config as configuration

    when = format_datetime(NOW - timedelta(hours=1))

    def feed(title: str) -> str:
        return (
            f"<rss version='2.0'><channel><title>T</title><item><title>{title}</title>"
            f"<link>{server.base}/a</link><guid>a</guid><pubDate>{when}</pubDate>"
            f"<description>{'Erdoğan met Aliyev in Baku. ' * 30}</description></item>"
            "</channel></rss>"
        )

    url = server.add("/feed.xml", feed("Erdoğan to visit Baku"))
    path = tmp_path / "feeds.toml"
    path.write_text(
        f'[[feeds]]\nname = "A"\nurl = "{url}"\n'
        '[briefings.all]\ntitle = "All"\nschedule = "0 7 * * *"\n'
    )
    loaded = configuration.load(path)
    store = pipeline.open_store(loaded)
    pipeline.fetch_feeds(pipeline.Run(config=loaded, store=store, now=NOW))
    server.add("/feed.xml", feed("Erdoğan and Aliyev sign rail deal in Baku"))
    second = pipeline.Run(config=loaded, store=store, now=NOW + timedelta(minutes=20))
    pipeline.fetch_feeds(second)
    assert (second.report.entries_new, second.report.entries_updated) == (0, 1)
    [article] = pipeline.articles_of(store, since=NOW - timedelta(days=1))
    assert article.title == "Erdoğan and Aliyev sign rail deal in Baku"
    store.close()


def test_the_feed_picture_reaches_the_article(server: LocalServer, tmp_path: Path) -> None:
    from briefings import config as configuration

    when = format_datetime(NOW - timedelta(hours=1))
    url = server.add(
        "/feed.xml",
        "<rss version='2.0' xmlns:media='http://search.yahoo.com/mrss/'><channel><title>T</title>"
        f"<item><title>Rail link to Kars opens</title><link>{server.base}/a</link>"
        f"<pubDate>{when}</pubDate><media:thumbnail url='/img/kars.jpg'/>"
        f"<description>{'The first train left Baku for Kars on Sunday. ' * 30}</description>"
        "</item></channel></rss>",
    )
    path = tmp_path / "feeds.toml"
    path.write_text(
        f'[[feeds]]\nname = "A"\nurl = "{url}"\n'
        '[briefings.all]\ntitle = "All"\nschedule = "0 7 * * *"\n'
    )
    loaded = configuration.load(path)
    store = pipeline.open_store(loaded)
    pipeline.fetch_feeds(pipeline.Run(config=loaded, store=store, now=NOW))
    [article] = pipeline.articles_of(store, since=NOW - timedelta(days=1))
    assert article.image == f"{server.base}/img/kars.jpg"
    store.close()


def test_carried_urls_are_forgotten_after_the_repeat_window(tmp_path: Path) -> None:
    from briefings.model import Edition, Source, Story
    from briefings.store import Store

    store = Store(f"sqlite:///{tmp_path}/b.db")
    sent = Story(
        id="s",
        title="Old headline",
        url="https://a.example/1",
        summary="",
        published=NOW,
        topics=(),
        scores=(),
        matches=(),
        sources=(Source(feed="A", title="t", url="https://a.example/1"),),
        member_urls=("https://a.example/1",),
    )
    store.record_edition(
        Edition(
            briefing="b", title="B", description="", edition="e1", generated_at=NOW, stories=(sent,)
        ),
        path="x",
    )
    assert store.carried("b", since=NOW - timedelta(days=7)) == {
        "https://a.example/1": "Old headline"
    }
    assert store.carried("b", since=NOW + timedelta(seconds=1)) == {}
    assert store.carried("other", since=NOW - timedelta(days=7)) == {}
    store.close()


def test_an_old_database_is_migrated(tmp_path: Path) -> None:
    import sqlite3

    from briefings.store import SCHEMA_VERSION, Store

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:  # the version-1 tables this migration touches
        db.executescript(
            "CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR);"
            "INSERT INTO meta VALUES ('schema', '1');"
            "CREATE TABLE pages (url VARCHAR PRIMARY KEY, fetched_at DATETIME NOT NULL,"
            " error TEXT NOT NULL, text TEXT NOT NULL, title TEXT NOT NULL, author VARCHAR NOT"
            " NULL, site_name VARCHAR NOT NULL, language VARCHAR NOT NULL, image VARCHAR NOT NULL,"
            " published DATETIME);"
            "CREATE TABLE entries (id INTEGER PRIMARY KEY, canonical_url VARCHAR NOT NULL UNIQUE,"
            " feed_id VARCHAR NOT NULL, guid VARCHAR NOT NULL, url VARCHAR NOT NULL, title TEXT"
            " NOT NULL, summary TEXT NOT NULL, content TEXT NOT NULL, author VARCHAR NOT NULL,"
            " published DATETIME NOT NULL, dated BOOLEAN NOT NULL, first_seen DATETIME NOT NULL);"
        )
    store = Store(f"sqlite:///{path}")
    assert store.entries_since(NOW) == []
    store.close()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT value FROM meta").fetchone() == (str(SCHEMA_VERSION),)
        columns = {row[1] for row in db.execute("PRAGMA table_info(pages)")}
        entry_columns = {row[1] for row in db.execute("PRAGMA table_info(entries)")}
    assert {"paywalled", "promised_words"} <= columns
    assert {"updated_at", "image", "elsewhere"} <= entry_columns


def test_every_demo_email_is_under_the_gmail_clip(sample_run: SampleRun) -> None:
    from briefings.render import EMAIL_LIMIT, sent_size

    for built in sample_run.built:
        for folder, suffix in ((built.path, ""), (built.private, ".pro")):
            html, text = (folder / f"email{suffix}.{kind}" for kind in ("html", "txt"))
            size = sent_size(html.read_text(encoding="utf-8"), text.read_text(encoding="utf-8"))
            assert size <= EMAIL_LIMIT, (built.path, suffix, size)


def test_archive_pages_and_feeds(sample_corpus: corpus.Corpus, tmp_path: Path) -> None:
    import feedparser

    with corpus.serve(sample_corpus, now=NOW) as site:
        config = sample_config(site, tmp_path)
        store = pipeline.open_store(config)
        pipeline.run_once(
            pipeline.Run(config=config, store=store, now=NOW - timedelta(hours=20)), ["daily"]
        )
        pipeline.run_once(pipeline.Run(config=config, store=store, now=NOW), ["daily"])
        store.close()
    output = config.settings.output
    editions = sorted(p.name for p in (output / "daily").iterdir() if p.is_dir())
    assert len(editions) == 2
    page = (output / "daily" / "index.html").read_text()
    assert page.index(f"{editions[1]}/index.html") < page.index(f"{editions[0]}/index.html")
    feed = feedparser.parse((output / "daily" / "feed.xml").read_bytes())
    assert feed.version == "atom10" and not feed.bozo
    assert [e.link for e in feed.entries] == [  # relative to feed.xml, in daily/
        f"{editions[1]}/index.html",
        f"{editions[0]}/index.html",
    ]
    catalogue = (output / "index.html").read_text()
    assert 'href="daily/index.html"' in catalogue
    assert "No edition yet." in catalogue  # briefings not built in this run are listed too
    for path in output.rglob("*"):
        assert path.stat().st_mode & 0o044, f"{path} is not readable by a web server"


def _stored(store: Any) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    from sqlalchemy import select

    from briefings.store import entries, sightings

    with store.engine.connect() as conn:
        rows = conn.execute(
            select(
                entries.c.canonical_url,
                entries.c.feed_id,
                entries.c.guid,
                entries.c.url,
                entries.c.title,
                entries.c.summary,
                entries.c.content,
                entries.c.published,
                entries.c.dated,
            )
        ).all()
        seen = conn.execute(select(sightings)).all()
    return sorted(map(tuple, rows)), sorted(map(tuple, seen))


def _with_processes(config: Any, processes: int) -> Any:
    from dataclasses import replace

    return replace(config, settings=replace(config.settings, processes=processes))


def test_worker_processes_store_what_the_main_process_stores(
    sample_corpus: corpus.Corpus, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    submitted: list[object] = []

    class Counting(ProcessPoolExecutor):
        def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
            submitted.append(fn)
            return super().submit(fn, *args, **kwargs)

    monkeypatch.setattr(ingest, "ProcessPoolExecutor", Counting)
    monkeypatch.setattr(ingest, "POOL_AFTER", 0)  # every body goes to a worker
    found = {}
    with corpus.serve(sample_corpus, now=NOW) as site:
        for processes in (1, 2):
            config = _with_processes(sample_config(site, tmp_path / str(processes)), processes)
            store = pipeline.open_store(config)
            run = pipeline.Run(config=config, store=store, now=NOW)
            pipeline.fetch_feeds(run)
            found[processes] = (_stored(store), run.report.entries_new, run.report.failures)
            store.close()
            if processes == 1:
                assert submitted == []
    assert len(submitted) == len(sample_corpus.outlets)
    assert found[1][1] > 50
    assert found[1] == found[2]  # the same entries, owned by the same feeds


def test_the_command_line_parses_in_forked_processes(
    sample_corpus: corpus.Corpus, tmp_path: Path
) -> None:
    import subprocess
    import sys

    with corpus.serve(sample_corpus, now=NOW) as site:
        serial = _with_processes(sample_config(site, tmp_path / "serial"), 1)
        store = pipeline.open_store(serial)
        pipeline.fetch_feeds(pipeline.Run(config=serial, store=store, now=NOW))
        expected = _stored(store)
        store.close()
        listed = "".join(
            f'[[feeds]]\nid = "{f.id}"\nname = "{f.name}"\nurl = "{f.url}"\n' for f in site.feeds()
        )
        path = tmp_path / "feeds.toml"
        path.write_text(f"[settings]\nprocesses = 2\n{listed}")
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "briefings.cli",
                "--config",
                str(path),
                "-v",
                "fetch",
                "--feeds-only",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    assert "parsing feeds in 2 forked processes" in done.stderr
    store = Store(f"sqlite:///{tmp_path / 'briefings.db'}")
    rows, seen = _stored(store)
    store.close()
    # first_seen and published of undated items differ: the clock is not the same
    assert [r[:7] for r in rows] == [r[:7] for r in expected[0]]
    assert seen == expected[1]


def test_a_body_whose_hash_is_unchanged_is_not_parsed_again(
    server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from briefings import config as configuration
    from briefings import feeds

    when = format_datetime(NOW - timedelta(hours=1))

    def feed(title: str) -> str:
        return (
            f"<rss version='2.0'><channel><title>T</title><item><title>{title}</title>"
            f"<link>{server.base}/{title}</link><pubDate>{when}</pubDate>"
            "<description>Teaser.</description></item></channel></rss>"
        )

    # the test server ignores conditional GET: every fetch gets the whole body
    first, second = server.add("/a.xml", feed("a")), server.add("/b.xml", feed("b"))
    path = tmp_path / "feeds.toml"
    path.write_text(
        f'[settings]\nprocesses = 1\n[[feeds]]\nname = "A"\nurl = "{first}"\n'
        f'[[feeds]]\nname = "B"\nurl = "{second}"\n'
    )
    config = configuration.load(path)
    store = pipeline.open_store(config)
    parsed: list[str] = []
    real = feeds.parse_outcome

    def counting(body: bytes, **options: Any) -> feeds.Parsed:
        parsed.append(options["url"])
        return real(body, **options)

    monkeypatch.setattr(feeds, "parse_outcome", counting)

    def fetch(minutes: int) -> pipeline.Run:
        run = pipeline.Run(config=config, store=store, now=NOW + timedelta(minutes=minutes))
        pipeline.fetch_feeds(run)
        return run

    assert fetch(0).report.entries_new == 2
    assert sorted(parsed) == [first, second]
    again = fetch(10)
    assert (again.report.feeds_not_modified, again.report.entries_new) == (2, 0)
    assert len(parsed) == 2  # same bytes, not parsed again
    server.add("/b.xml", feed("c"))
    changed = fetch(20)
    assert parsed[2:] == [second]
    assert (changed.report.feeds_not_modified, changed.report.entries_new) == (1, 1)
    store.close()


def test_feeds_are_written_in_batches(
    sample_corpus: corpus.Corpus, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import event

    with corpus.serve(sample_corpus, now=NOW) as site:
        config = _with_processes(sample_config(site, tmp_path), 1)
        store = pipeline.open_store(config)
        commits: list[object] = []
        event.listen(store.engine, "commit", commits.append)
        first = pipeline.Run(config=config, store=store, now=NOW)
        pipeline.fetch_feeds(first)
        assert first.report.entries_new > 50
        assert len(commits) == 1  # ten feeds and all their entries: one transaction
        monkeypatch.setattr(ingest, "BATCH_FEEDS", 3)
        commits.clear()
        pipeline.fetch_feeds(pipeline.Run(config=config, store=store, now=NOW))
        assert len(commits) == 4  # ten feeds, three at a time
        store.close()


def test_a_build_reads_only_the_window_its_briefings_need(
    sample_site: corpus.Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = sample_config(sample_site, tmp_path)
    store = pipeline.open_store(config)
    asked: list[datetime] = []
    monkeypatch.setattr(store, "entries_to_analyse", lambda since: asked.append(since) or [])
    run = pipeline.Run(config=config, store=store, now=NOW)
    pipeline.build(run, ["minute"])
    pipeline.build(run, ["minute", "week-in-review"])
    pipeline.build(run)
    margin = pipeline.EVENT_MARGIN
    assert asked == [
        NOW - timedelta(hours=18) - margin,
        NOW - timedelta(days=7) - margin,
        NOW - timedelta(days=7) - margin,
    ]
    store.close()


def test_a_304_keeps_the_stored_state(server: LocalServer, tmp_path: Path) -> None:
    from briefings import config as configuration

    body = (
        "<rss version='2.0'><channel><title>T</title><item><title>One</title>"
        f"<link>{server.base}/one</link><description>Teaser.</description></item>"
        "</channel></rss>"
    )
    url = server.add("/feed.xml", body, conditional=True)
    path = tmp_path / "feeds.toml"
    path.write_text(f'[settings]\nprocesses = 1\n[[feeds]]\nname = "A"\nurl = "{url}"\n')
    config = configuration.load(path)
    store = pipeline.open_store(config)
    pipeline.fetch_feeds(pipeline.Run(config=config, store=store, now=NOW))
    before = store.feed_states([url])[url]
    assert before.etag and before.last_modified and before.body_hash
    again = pipeline.Run(config=config, store=store, now=NOW + timedelta(minutes=10))
    pipeline.fetch_feeds(again)
    assert [status for _, status in server.hits] == [200, 304]
    assert again.report.feeds_not_modified == 1
    assert store.feed_states([url])[url] == before  # validators and hash kept
    store.close()


def test_an_entry_without_a_link_of_its_own_fetches_no_page(
    server: LocalServer, tmp_path: Path
) -> None:
    from briefings import config as configuration

    when = format_datetime(NOW - timedelta(hours=1))
    items = (
        ("", "Yerevan opens a border crossing", "Armenia opened the Margara crossing."),
        ("javascript:alert(1)", "Baku hosts talks", "Azerbaijan hosted a round of talks."),
        (f"{server.base}/story", "Tbilisi budget passes", "Georgia's parliament voted."),
    )
    feed = (
        "<rss version='2.0'><channel><title>T</title>"
        + "".join(
            f"<item><title>{title}</title>{f'<link>{link}</link>' if link else ''}"
            f"<pubDate>{when}</pubDate><description>{text}</description></item>"
            for link, title, text in items
        )
        + "</channel></rss>"
    )
    server.add(
        "/story",
        "<html><body><article><p>" + "The Georgian budget passed. " * 40 + "</p></article>",
        headers={"Content-Type": "text/html"},
    )
    path = tmp_path / "feeds.toml"
    path.write_text(
        f'[[feeds]]\nname = "A"\nurl = "{server.add("/feed.xml", feed)}"\n'
        '[briefings.all]\ntitle = "All"\nschedule = "0 7 * * *"\n'
    )
    loaded = configuration.load(path)
    store = pipeline.open_store(loaded)
    run = pipeline.Run(config=loaded, store=store, now=NOW)
    pipeline.fetch_feeds(run)
    pipeline.fetch_pages(run)
    assert run.report.failures == []
    assert [path for path, _ in server.hits] == ["/feed.xml", "/story"]
    texts = {a.title: a.text for a in pipeline.articles_of(store, since=NOW - timedelta(days=1))}
    assert texts["Yerevan opens a border crossing"] == "Armenia opened the Margara crossing."
    assert texts["Baku hosts talks"] == "Azerbaijan hosted a round of talks."
    assert texts["Tbilisi budget passes"].startswith("The Georgian budget passed.")
    store.close()


def test_items_of_one_page_told_apart_by_fragment_are_all_stored_with_their_own_text(
    server: LocalServer, tmp_path: Path
) -> None:
    from briefings import config as configuration

    when = format_datetime(NOW - timedelta(hours=1))
    items = (
        ("item-1", "Quake shakes Gyumri", "A quake shook Gyumri."),
        ("item-2", "Baku signs rail deal", "Azerbaijan signed a rail deal."),
    )
    feed = (
        "<rss version='2.0'><channel><title>T</title>"
        + "".join(
            f"<item><guid>{key}</guid><title>{title}</title>"
            f"<link>{server.base}/brief.html#{key}</link>"
            f"<pubDate>{when}</pubDate><description>{text}</description></item>"
            for key, title, text in items
        )
        + "</channel></rss>"
    )
    server.add(
        "/brief.html",
        "<html><body><article><p>" + "The daily brief of the Caucasus. " * 40 + "</p></article>",
        headers={"Content-Type": "text/html"},
    )
    path = tmp_path / "feeds.toml"
    path.write_text(
        f'[[feeds]]\nname = "A"\nurl = "{server.add("/feed.xml", feed)}"\n'
        '[briefings.all]\ntitle = "All"\nschedule = "0 7 * * *"\n'
    )
    loaded = configuration.load(path)
    store = pipeline.open_store(loaded)
    run = pipeline.Run(config=loaded, store=store, now=NOW)
    pipeline.fetch_feeds(run)
    pipeline.fetch_pages(run)
    assert (run.report.entries_new, run.report.pages_fetched, run.report.failures) == (2, 0, [])
    # the page is the whole brief: its text would be every item's, so each keeps its own
    assert [path for path, _ in server.hits] == ["/feed.xml"]
    stored = pipeline.articles_of(store, since=NOW - timedelta(days=1))
    assert sorted(a.title for a in stored) == ["Baku signs rail deal", "Quake shakes Gyumri"]
    store.close()


def test_no_pro_story_reaches_the_output_folder(sample_run: SampleRun) -> None:
    from .safety import pro_leaks

    settings = sample_run.config.settings
    briefings = {b.id: b for b in sample_run.config.briefings}
    checked, leaks = pro_leaks(settings.output, settings.private, briefings)
    assert checked >= 10  # the PRO briefings and sections of the shipped catalogue
    assert leaks == []
    for built in sample_run.built:
        assert sorted(p.name for p in built.path.iterdir()) == sorted(render.PUBLIC_FILES)
        assert sorted(p.name for p in built.private.iterdir()) == sorted(render.PRIVATE_FILES)
        assert built.private.is_relative_to(settings.private)
        public = json.loads((built.path / "edition.json").read_text(encoding="utf-8"))
        assert public["tier"] == "free"
        assert_contract(public)
    assert settings.private.stat().st_mode & 0o077 == 0  # its owner's alone


def old_layout(loaded: Any, made: Any, folder: Path) -> None:
    """An edition as versions before the private folder wrote it: every rendering, PRO
    ones too, and the whole edition.json (without a tier) in the output folder."""
    from .editions import LAYOUTS

    files = render.render(made, env=render.environment(), timezone="UTC", layout=LAYOUTS["daily"])
    document = json.loads(files.private["edition.json"])
    del document["tier"]
    for story in document["stories"]:
        del story["locked"]
    folder.mkdir(parents=True)
    for name, text in {**files.files, "edition.json": json.dumps(document)}.items():
        (folder / name).write_text(text, encoding="utf-8")


def test_a_draft_an_earlier_version_wrote_keeps_its_whole_edition_when_approved(
    tmp_path: Path,
) -> None:
    # A draft waiting for review when briefings is upgraded: approving it wrote the free
    # files over the old folder, and the whole edition and PRO renderings were lost
    import shutil

    from click.testing import CliRunner

    from briefings.cli import main
    from briefings.model import Subscriber

    from .editions import edition
    from .safety import pro_leaks
    from .test_deliver import setup

    made = edition()
    readers = [Subscriber(email="pro@example.net", tier="pro", briefings=("sample",))]
    loaded = setup(tmp_path, 25, readers, method="outbox", made=made)
    output, private = loaded.settings.output, loaded.settings.private
    shutil.rmtree(output)
    shutil.rmtree(private)
    old = output / "sample" / made.edition
    old_layout(loaded, made, old)
    database = loaded.settings.database.removeprefix("sqlite:///")
    with sqlite3.connect(database) as db:
        db.execute("UPDATE editions SET status = 'draft', path = ?", (str(old),))
    db.close()

    approved = CliRunner().invoke(
        main, ["--config", str(loaded.path), "approve", "sample", "--no-send"]
    )
    assert approved.exit_code == 0, approved.output

    kept = private / "sample" / made.edition
    assert sorted(p.name for p in kept.iterdir()) == sorted(render.PRIVATE_FILES)
    whole = pipeline.read_edition(loaded, "sample", made.edition)
    assert [s.summary for s in whole.stories] == [s.summary for s in made.stories]
    checked, leaks = pro_leaks(output, private, {b.id: b for b in loaded.briefings})
    assert checked >= 1 and leaks == []
    sent = CliRunner().invoke(
        main,
        ["--config", str(loaded.path), "send", "sample", "--dry-run"],
        env={"BRIEFINGS_SECRET": "a-secret-for-tests-only-0123456789"},
    )
    assert sent.exit_code == 0, sent.output


def test_an_edition_an_earlier_version_wrote_is_read_then_moved_out_of_the_output(
    tmp_path: Path,
) -> None:
    import email
    import email.policy
    import shutil
    from dataclasses import replace

    from briefings.model import Subscriber

    from .editions import edition
    from .safety import pro_leaks
    from .test_deliver import send, setup

    made = edition()
    pro_story = replace(
        made.stories[4],
        summary="QatarEnergy and the utility agreed on LNG for twenty years. Its price "
        "formula follows Brent with a slope the parties keep to themselves: PRO-ONLY-DETAIL.",
    )
    made = replace(made, stories=(*made.stories[:4], pro_story, *made.stories[5:]))
    readers = [
        Subscriber(email="pro@example.net", tier="pro", briefings=("sample",)),
        Subscriber(email="free@example.net", briefings=("sample",)),
    ]
    loaded = setup(tmp_path, 25, readers, method="outbox", made=made)
    output, private = loaded.settings.output, loaded.settings.private
    shutil.rmtree(output)
    shutil.rmtree(private)
    old = output / "sample" / made.edition
    old_layout(loaded, made, old)
    retired = replace(made, briefing="retired", edition="2026-11-01-1200")
    old_layout(loaded, retired, output / "retired" / retired.edition)
    leftover = private / "other" / ".staging-2026-11-22-1200-x"  # a crashed run's
    leftover.mkdir(parents=True)
    (leftover / "email.pro.txt").write_text("half", encoding="utf-8")
    partial = output / "sample" / "2026-11-20-1200"  # PRO renderings without their edition.json
    old_layout(loaded, replace(made, edition=partial.name), partial)
    (partial / "edition.json").unlink()
    store = Store(loaded.settings.database)
    store.record_edition(made, path=str(old))  # the store points at the output folder
    store.close()

    # Before any build, the edition is still read whole from where it was written.
    whole = pipeline.read_edition(loaded, "sample", made.edition, recorded=str(old))
    assert whole.stories[4].summary == pro_story.summary

    store = Store(loaded.settings.database)
    run = pipeline.Run(config=loaded, store=store, now=NOW)
    assert pipeline.build(run) == []  # no feeds, no new edition: the archive is still written
    store.close()

    checked, leaks = pro_leaks(
        output, private, {b.id: b for b in loaded.briefings} | {"retired": loaded.briefings[0]}
    )
    assert checked >= 1 and leaks == []
    assert sorted(p.name for p in old.iterdir()) == sorted(render.PUBLIC_FILES)
    assert json.loads((old / "edition.json").read_text(encoding="utf-8"))["tier"] == "free"
    assert not (output / "retired").exists()  # not configured: moved whole
    assert not leftover.exists()
    assert sorted(p.name for p in partial.iterdir()) == ["email.html", "email.txt", "index.html"]
    assert (private / "sample" / partial.name / "email.pro.txt").exists()
    assert (private / "retired" / retired.edition / "index.pro.html").exists()
    assert made.edition in (output / "sample" / "index.html").read_text(encoding="utf-8")

    # Everything that reads the edition back still finds it whole.
    assert send(loaded).sent == 2
    got = {}
    for path in loaded.delivery.outbox.glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        got[str(message["To"])] = message.get_body(("plain",)).get_content()
    hidden = " ".join(pro_story.summary.split()[-6:])
    assert hidden in " ".join(got["pro@example.net"].split())
    assert hidden not in " ".join(got["free@example.net"].split())
    again = pipeline.build(
        pipeline.Run(config=loaded, store=Store(loaded.settings.database), now=NOW)
    )
    assert again == []  # a second build finds nothing left to move
    assert (
        pro_leaks(output, private, {"sample": loaded.briefings[0], "retired": loaded.briefings[0]})[
            1
        ]
        == []
    )


def _aggregated(server: LocalServer, tmp_path: Path, feeds: list[str]) -> Any:
    """An outlet's feed and an aggregator's (Google News-like: its link, on another host,
    redirects to the outlet's article, whose page names its canonical URL) on 127.0.0.1;
    the configuration of the ``feeds`` named, in that order."""
    from briefings import config as configuration

    when = format_datetime(NOW - timedelta(hours=2))
    text = "Turkish and Israeli envoys met in Baku on Tuesday to restore ambassadors. " * 3
    port = server.base.rsplit(":", 1)[1]

    def rss(title: str, link: str, description: str) -> str:
        return (
            f"<rss version='2.0'><channel><title>T</title><item><title>{title}</title>"
            f"<link>{link}</link><pubDate>{when}</pubDate>"
            f"<description>{description}</description></item></channel></rss>"
        )

    urls = {
        "outlet": server.add(
            "/toi/feed.xml",
            rss("Israel and Turkey restore envoys", f"{server.base}/toi/envoys?from=rss", text),
        ),
        "aggregator": server.add(
            "/gn/rss",
            rss(
                "Israel and Turkey restore envoys - Times of Israel",
                f"http://localhost:{port}/rss/articles/CBMiQ2h0?oc=5",
                "Israel and Turkey restore envoys  Times of Israel",
            ),
        ),
    }
    server.add(
        "/rss/articles/CBMiQ2h0",
        status=302,
        headers={"Location": f"{server.base}/toi/envoys?from=gn"},
    )
    server.add(
        "/toi/envoys",
        "<html><head><title>Israel and Turkey restore envoys</title>"
        "<link rel='canonical' href='/toi/envoys'></head><body><article><h1>Envoys</h1><p>"
        + "Turkish and Israeli envoys met in Baku on Tuesday to restore ambassadors. " * 20
        + "</p></article></body></html>",
        headers={"Content-Type": "text/html; charset=utf-8"},
    )
    path = tmp_path / "feeds.toml"
    path.write_text(
        "[settings]\nallow_private_networks = true\n\n"
        + "".join(
            f'[[feeds]]\nname = "{ {"outlet": "Times of Israel"}.get(n, "Google News") }"\n'
            f'url = "{urls[n]}"\n'
            for n in feeds
        )
        + '[briefings.all]\ntitle = "All"\nschedule = "0 7 * * *"\n'
    )
    return configuration.load(path)


def test_an_article_reached_through_an_aggregator_is_the_outlet_s_own(
    server: LocalServer, tmp_path: Path
) -> None:
    """The aggregator's redirect link and the outlet's link were two articles: the
    aggregator led the story, with its redirect as the link, "also covered by" the outlet."""
    config = _aggregated(server, tmp_path, ["aggregator", "outlet"])
    store = pipeline.open_store(config)
    run = pipeline.Run(config=config, store=store, now=NOW)
    [built] = pipeline.run_once(run)
    [story] = built.edition.stories
    assert story.url == f"{server.base}/toi/envoys"
    assert [(s.feed, s.url) for s in story.sources] == [("Times of Israel", story.url)]
    [(_, entry, page)] = store.entries_since(NOW - timedelta(days=1))
    assert (entry.feed_id, entry.canonical_url) == ("times-of-israel", story.url)
    assert page is not None
    # The aggregator's next fetch brings the same item: it is known, not a new article.
    server.routes["/gn/rss"].body += b"<!-- changed -->"
    again = pipeline.Run(config=config, store=store, now=NOW + timedelta(minutes=20))
    pipeline.fetch_feeds(again)
    assert (again.report.entries_seen, again.report.entries_new) == (1, 0)
    assert len(store.entries_since(NOW - timedelta(days=1))) == 1
    store.close()


def test_the_outlet_s_feed_takes_over_an_article_an_aggregator_brought_first(
    server: LocalServer, tmp_path: Path
) -> None:
    alone = _aggregated(server, tmp_path, ["aggregator"])
    store = pipeline.open_store(alone)
    [first] = pipeline.run_once(pipeline.Run(config=alone, store=store, now=NOW))
    [story] = first.edition.stories
    # Alone, the aggregator's article is the outlet's page, not the redirect.
    assert story.url == f"{server.base}/toi/envoys"
    assert [s.feed for s in story.sources] == ["Google News"]
    both = _aggregated(server, tmp_path, ["aggregator", "outlet"])
    later = NOW + timedelta(minutes=30)
    run = pipeline.Run(config=both, store=store, now=later)
    pipeline.fetch_feeds(run)
    pipeline.fetch_pages(run)
    [story] = pipeline.gather_stories(store, both, now=later)
    assert [(s.feed, s.url) for s in story.sources] == [("Times of Israel", story.url)]
    assert story.title == "Israel and Turkey restore envoys"
    store.close()


def test_an_aggregator_s_article_placed_before_its_page_was_read_leaves_its_story(
    server: LocalServer, tmp_path: Path
) -> None:
    config = _aggregated(server, tmp_path, ["aggregator", "outlet"])
    server.add("/rss/articles/CBMiQ2h0", status=503)  # the redirect fails this time
    store = pipeline.open_store(config)
    first = pipeline.Run(
        config=replace(config, settings=replace(config.settings, retries=0)), store=store, now=NOW
    )
    pipeline.fetch_feeds(first)
    pipeline.fetch_pages(first)
    stories = pipeline.gather_stories(store, config, now=NOW)
    assert sorted(s.feed for story in stories for s in story.sources) == [
        "Google News",
        "Times of Israel",
    ]
    server.add(
        "/rss/articles/CBMiQ2h0",
        status=302,
        headers={"Location": f"{server.base}/toi/envoys?from=gn"},
    )
    later = NOW + pipeline.PAGE_RETRY + timedelta(minutes=5)
    second = pipeline.Run(config=config, store=store, now=later)
    pipeline.fetch_feeds(second)
    pipeline.fetch_pages(second)
    [story] = pipeline.gather_stories(store, config, now=later)
    assert [(s.feed, s.url) for s in story.sources] == [
        ("Times of Israel", f"{server.base}/toi/envoys")
    ]
    store.close()


def test_two_items_of_one_feed_that_land_on_one_page_stay_two(
    server: LocalServer, tmp_path: Path
) -> None:
    """A site that sends every link to its sign-in page must not make its articles one."""
    from briefings import config as configuration

    when = format_datetime(NOW - timedelta(hours=2))
    items = "".join(
        f"<item><title>{title}</title><link>{server.base}/news/{n}</link>"
        f"<pubDate>{when}</pubDate><description>Teaser.</description></item>"
        for n, title in [(1, "Baku hosts talks"), (2, "Yerevan answers")]
    )
    feed = server.add("/feed.xml", f"<rss version='2.0'><channel>{items}</channel></rss>")
    for n in (1, 2):
        server.add(f"/news/{n}", status=302, headers={"Location": f"/account/sign-in?n={n}"})
    server.add(
        "/account/sign-in",
        "<html><head><link rel='canonical' href='/account/sign-in'></head><body><article><p>"
        + "Sign in to read the whole story from our newsroom in the Caucasus today. " * 20
        + "</p></article></body></html>",
        headers={"Content-Type": "text/html"},
    )
    path = tmp_path / "feeds.toml"
    path.write_text(
        f'[[feeds]]\nname = "A"\nurl = "{feed}"\n'
        '[briefings.all]\ntitle = "All"\nschedule = "0 7 * * *"\n'
    )
    config = configuration.load(path)
    store = pipeline.open_store(config)
    run = pipeline.Run(config=config, store=store, now=NOW)
    pipeline.fetch_feeds(run)
    pipeline.fetch_pages(run)
    titles = sorted(e.title for _, e, _ in store.entries_since(NOW - timedelta(days=1)))
    assert titles == ["Baku hosts talks", "Yerevan answers"]
    store.close()


DEMARCATION = (
    "Azerbaijan and Armenia have completed the demarcation of a 12-kilometre section of their "
    "border between the Gazakh district and Armenia's Tavush province, the two governments' "
    "commissions said in a joint statement on Monday. Surveyors placed 37 border markers along "
    "the section, which runs near the villages of Baghanis and Voskepar. The work follows an "
    "agreement in April under which Armenia returned four uninhabited villages to Azerbaijan. "
    "The two deputy prime ministers are due to meet in Baku next month to agree the next "
    "section, as part of the peace framework the two countries initialled in Washington."
)
OWN_WORDS = (
    "Azerbaijani and Armenian surveyors finished marking a 12 km stretch of the border between "
    "Gazakh and Tavush on Tuesday, and 37 concrete markers now stand near Voskepar and "
    "Baghanis. Villagers in Tavush said they feared losing access to orchards on the "
    "Azerbaijani side of the new line, and officials in Gazakh said a road between the two "
    "districts could reopen by spring for the first time since the early 1990s.",
    "Residents of Voskepar and Baghanis watched on Tuesday as demarcation teams from Armenia "
    "and Azerbaijan set the last of 37 border markers on the Tavush and Gazakh section. "
    "Yerevan said compensation would be paid for farmland now on the Azerbaijani side; the "
    "commissions will turn to the next section when the deputy prime ministers meet in Baku.",
)


def _rss(server: LocalServer, slug: str, items: list[tuple[str, str, datetime, str]]) -> str:
    return server.add(
        f"/{slug}/feed.xml",
        f"<rss version='2.0'><channel><title>{slug}</title><link>{server.base}/{slug}/</link>"
        + "".join(
            f"<item><title>{title}</title><link>{server.base}/{slug}/{guid}</link>"
            f"<guid>{guid}</guid><pubDate>{format_datetime(when)}</pubDate>"
            f"<description>{body}</description></item>"
            for guid, title, when, body in items
        )
        + "</channel></rss>",
    )


@pytest.mark.parametrize(
    ("later_texts", "sent_again"), [((DEMARCATION, DEMARCATION), False), (OWN_WORDS, True)]
)
def test_syndicated_copies_do_not_make_a_sent_story_an_update(
    server: LocalServer, tmp_path: Path, later_texts: tuple[str, str], sent_again: bool
) -> None:
    """Two outlets that republish the wire text a sent story already carried add nothing:
    the story is not sent again as an "update" with the same headline and summary. Two
    outlets that tell it in their own words are still an update."""
    from briefings import config as configuration

    first = NOW - timedelta(hours=2)
    wire = [("demarcation", "Azerbaijan and Armenia complete border section", first, DEMARCATION)]
    wire += [  # other news, so that words common to the story are rare in the store
        (f"other-{n}", f"{topic} in Baku", first, f"{topic} in Baku, officials said. " * 20)
        for n, topic in enumerate(
            ("Metro fares rise", "Jazz festival opens", "Heavy snow closes schools", "Oil fund")
        )
    ]
    urls = [_rss(server, "wire", wire), _rss(server, "b", []), _rss(server, "c", [])]
    path = tmp_path / "feeds.toml"
    path.write_text(
        "[settings]\nhost_delay = 0\n"
        + "".join(
            f'[[feeds]]\nname = "{n}"\nurl = "{u}"\n' for n, u in zip("WBC", urls, strict=True)
        )
        + '[briefings.all]\ntitle = "All"\nschedule = "0 7 * * *"\n'
    )
    loaded = configuration.load(path)
    store = pipeline.open_store(loaded)
    assert [
        b.edition.briefing
        for b in pipeline.run_once(pipeline.Run(config=loaded, store=store, now=NOW))
    ] == ["all"]
    later = NOW + timedelta(hours=5)
    _rss(
        server,
        "b",
        [
            (
                "b1",
                "Baku and Yerevan finish border stretch",
                later - timedelta(hours=2),
                later_texts[0],
            )
        ],
    )
    _rss(
        server,
        "c",
        [
            (
                "c1",
                "Border section near Gazakh completed",
                later - timedelta(hours=1),
                later_texts[1],
            )
        ],
    )
    run = pipeline.Run(config=loaded, store=store, now=later)
    again = pipeline.run_once(run)
    store.close()
    stories = [s for b in again for s in b.edition.stories if "Gazakh" in s.summary]
    assert [(s.update, len(s.sources)) for s in stories] == ([(True, 3)] if sent_again else [])


@pytest.mark.parametrize("outlet_later", [False, True])
def test_an_aggregators_link_never_takes_the_outlets_place(
    server: LocalServer, tmp_path: Path, outlet_later: bool
) -> None:
    """An aggregator listed first (or fetched before the outlet's own feed has the item)
    stored the article as its own: the story led with "Outlet: headline", named the
    aggregator as its outlet, and the outlet's other stories could merge into it."""
    from briefings import config as configuration

    when = format_datetime(NOW - timedelta(hours=2))
    link = "https://bosphorus.example/politics/cassation-iski"

    def channel(site: str, items: str) -> str:
        return f"<rss version='2.0'><channel><title>{site}</title><link>https://{site}/</link>{items}</channel></rss>"

    roundup = channel(
        "roundup.example",
        f"<item><title>Bosphorus Daily: Court upholds İSKİ sentences</title><link>{link}"
        f"?utm_source=roundup</link><pubDate>{when}</pubDate>"
        "<description>Read the full story at Bosphorus Daily.</description></item>",
    )
    own = channel(
        "bosphorus.example",
        f"<item><title>Court of Cassation upholds İSKİ tender sentences</title><link>{link}</link>"
        f"<pubDate>{when}</pubDate><description>{DEMARCATION.replace('Azerbaijan', 'Istanbul')}"
        "</description></item>",
    )
    urls = [
        server.add("/roundup.xml", roundup),
        server.add("/bosphorus.xml", channel("bosphorus.example", "")),
    ]
    path = tmp_path / "feeds.toml"
    path.write_text(
        "".join(
            f'[[feeds]]\nname = "{name}"\nurl = "{url}"\n'
            for name, url in zip(("Mideast Roundup", "Bosphorus Daily"), urls, strict=True)
        )
        + '[briefings.all]\ntitle = "All"\nschedule = "0 7 * * *"\n'
    )
    loaded = configuration.load(path)
    store = pipeline.open_store(loaded)
    if outlet_later:
        pipeline.fetch_feeds(pipeline.Run(config=loaded, store=store, now=NOW))
    server.add("/bosphorus.xml", own)
    pipeline.fetch_feeds(pipeline.Run(config=loaded, store=store, now=NOW + timedelta(minutes=20)))
    # no fetch_pages: the pages are on hosts that are not served here
    [built] = pipeline.build(pipeline.Run(config=loaded, store=store, now=NOW + timedelta(hours=1)))
    store.close()
    [story] = built.edition.stories
    assert story.title == "Court of Cassation upholds İSKİ tender sentences"
    assert [s.feed for s in story.sources] == ["Bosphorus Daily"]
    assert story.url == link


@pytest.mark.parametrize("allow", [False, True])
def test_a_feed_that_redirects_to_a_private_address_is_refused(
    server: LocalServer, tmp_path: Path, allow: bool
) -> None:
    """A feed is trusted on its own host only: its redirect to another host that is
    private (here localhost; in the wild 169.254.169.254) was followed and the answer read."""
    from briefings import config as configuration

    when = format_datetime(NOW - timedelta(hours=1))
    port = server.base.rsplit(":", 1)[1]
    server.add(
        "/internal/feed.xml",
        "<rss version='2.0'><channel><title>T</title><item><title>Internal</title>"
        f"<link>{server.base}/internal/1</link><pubDate>{when}</pubDate>"
        f"<description>{'Internal text. ' * 60}</description></item></channel></rss>",
    )
    moved = server.add(
        "/feed.xml", status=302, headers={"Location": f"http://localhost:{port}/internal/feed.xml"}
    )
    path = tmp_path / "feeds.toml"
    path.write_text(
        f"[settings]\nallow_private_networks = {str(allow).lower()}\n\n"
        f'[[feeds]]\nname = "A"\nurl = "{moved}"\n'
        '[briefings.all]\ntitle = "All"\nschedule = "0 7 * * *"\n'
    )
    config = configuration.load(path)
    store = pipeline.open_store(config)
    run = pipeline.Run(config=config, store=store, now=NOW)
    pipeline.fetch_feeds(run)
    store.close()
    failures = [(f.stage, f.url, f.message) for f in run.report.failures]
    if allow:
        assert failures == [] and run.report.entries_new == 1
        return
    assert run.report.entries_new == 0
    [(stage, url, message)] = failures
    assert (stage, url) == ("feed", moved)
    assert message.startswith("refused: localhost is a loopback address (127.0.0.1)")


def test_an_article_link_rebound_to_a_private_address_is_refused(
    server: LocalServer, tmp_path: Path
) -> None:
    """A feed's article on a name whose DNS answer turns to 127.0.0.1 once checked: the
    check and the connection resolved the name apart, and the page was fetched."""
    from briefings import config as configuration
    from briefings.fetch import Transport

    port = server.base.rsplit(":", 1)[1]
    article = f"http://rebind.test:{port}/article"
    server.add("/article", "<html><body><p>" + "Internal page. " * 80 + "</p></body></html>")
    when = format_datetime(NOW - timedelta(hours=1))
    feed = server.add(
        "/feed.xml",
        "<rss version='2.0'><channel><title>T</title><item><title>Rebound</title>"
        f"<link>{article}</link><pubDate>{when}</pubDate>"
        "<description>A teaser.</description></item></channel></rss>",
    )
    path = tmp_path / "feeds.toml"
    path.write_text(
        f'[[feeds]]\nname = "A"\nurl = "{feed}"\n'
        '[briefings.all]\ntitle = "All"\nschedule = "0 7 * * *"\n'
    )
    config = configuration.load(path)
    store = pipeline.open_store(config)
    transport = Transport(resolver=lambda host, port: ["127.0.0.1"])
    run = pipeline.Run(config=config, store=store, now=NOW, transport=transport)
    try:
        pipeline.fetch_feeds(run)
        ingest.fetch_pages(run)
    finally:
        transport.close()
        store.close()
    [(stage, url, message)] = [(f.stage, f.url, f.message) for f in run.report.failures]
    assert (stage, url) == ("page", article)
    assert message.startswith("refused: rebind.test is a loopback address (127.0.0.1)")
    assert [path for path, _ in server.hits] == ["/feed.xml"]


def test_a_feed_whose_server_asks_for_an_hour_is_left_alone_that_hour(
    server: LocalServer, tmp_path: Path
) -> None:
    """A 429 with ``Retry-After: 3600`` was asked again at every fetch: a scheduler
    polling every ten minutes hammered a server that had asked for an hour's rest."""
    from briefings import config as configuration

    def feed(title: str) -> str:
        return (
            '<?xml version="1.0"?><rss version="2.0"><channel><title>A</title>'
            f"<item><title>{title}</title><link>{server.base}/a/1</link>"
            f"<pubDate>{format_datetime(NOW - timedelta(hours=1))}</pubDate></item>"
            "</channel></rss>"
        )

    busy = server.add(
        "/busy.xml",
        feed("Baku port reopens"),
        fail_first=1,
        fail_status=429,
        fail_headers={"Retry-After": "3600"},
    )
    calm = server.add("/calm.xml", feed("Ankara rail line opens"))
    path = tmp_path / "feeds.toml"
    path.write_text(
        f'[settings]\ntimezone = "Asia/Baku"\n\n[[feeds]]\nname = "Busy"\nurl = "{busy}"\n'
        f'[[feeds]]\nname = "Calm"\nurl = "{calm}"\n'
        '[briefings.all]\ntitle = "All"\nschedule = "0 7 * * *"\n'
    )
    loaded = configuration.load(path)
    store = pipeline.open_store(loaded)

    def fetched(minutes: int) -> tuple[pipeline.Run, list[str]]:
        run = pipeline.Run(config=loaded, store=store, now=NOW + timedelta(minutes=minutes))
        before = len(server.hits)
        pipeline.fetch_feeds(run)
        return run, [hit for hit, _ in server.hits[before:]]

    first, asked = fetched(0)
    assert sorted(asked) == ["/busy.xml", "/calm.xml"]  # one ask: an hour is not waited out
    [failure] = first.report.failures
    assert "HTTP 429" in failure.message and "a wait of 60 min" in failure.message
    later, asked = fetched(20)
    assert asked == ["/calm.xml"]
    [failure] = later.report.failures
    until = (NOW + timedelta(hours=1)).astimezone(ZoneInfo("Asia/Baku"))
    assert failure.url == busy and failure.message == (
        f"not fetched: its server asked not to be asked again before "
        f"{until:%Y-%m-%d %H:%M} Asia/Baku (Retry-After)"
    )
    assert store.feed_errors([busy])[busy].error.startswith("HTTP 429")  # still failing
    after, asked = fetched(61)
    assert sorted(asked) == ["/busy.xml", "/calm.xml"] and after.report.failures == []
    assert store.feed_errors([busy]) == {} and store.feed_states([busy])[busy].wait_until is None
    # a server asking for ten days is left alone for one at most
    server.add("/busy.xml", feed("x"), fail_first=1, fail_headers={"Retry-After": "864000"})
    fetched(120)
    assert store.feed_states([busy])[busy].wait_until == NOW + timedelta(minutes=120, days=1)
    store.close()


def test_a_weekly_across_the_longer_week_repeats_nothing(
    server: LocalServer, tmp_path: Path
) -> None:
    from briefings import config as configuration

    # London leaves summer time on 25 October 2026: that week has 169 hours, and its
    # window reaches back to the previous Sunday's 08:00, beyond a 7-day repeat window.
    last = datetime(2026, 10, 18, 7, tzinfo=UTC)  # 08:00 BST
    this = datetime(2026, 10, 25, 8, tzinfo=UTC)  # 08:00 GMT
    items = [
        ("/a", "Baku hosts Caspian transit talks", last + timedelta(minutes=15)),
        ("/b", "Tbilisi opens new metro station", last + timedelta(minutes=50)),
        ("/c", "Yerevan cafe culture booms", this - timedelta(hours=2)),
    ]

    def feed(upto: datetime) -> str:
        return (
            "<rss version='2.0'><channel><title>T</title>"
            + "".join(
                f"<item><title>{title}</title><link>{server.base}{path}</link>"
                f"<pubDate>{format_datetime(when)}</pubDate>"
                f"<description>{(title + '. ') * 40}</description></item>"
                for path, title, when in items
                if when <= upto
            )
            + "</channel></rss>"
        )

    url = server.add("/feed.xml", feed(last + timedelta(minutes=40)))
    path = tmp_path / "feeds.toml"
    path.write_text(
        f'[[feeds]]\nname = "A"\nurl = "{url}"\n'
        '[briefings.week]\ntitle = "Week"\nschedule = "0 8 * * sun"\nwindow = "7d"\n'
        'timezone = "Europe/London"\n',
        encoding="utf-8",
    )
    loaded = configuration.load(path)
    store = pipeline.open_store(loaded)
    # last week's was built 40 minutes late: it took what came in until then
    first = pipeline.Run(config=loaded, store=store, now=last + timedelta(minutes=40))
    pipeline.fetch_feeds(first)
    [built] = pipeline.build(first)
    assert [s.title for s in built.edition.stories] == ["Baku hosts Caspian transit talks"]
    server.add("/feed.xml", feed(this))
    second = pipeline.Run(config=loaded, store=store, now=this + timedelta(seconds=30))
    pipeline.fetch_feeds(second)
    [built] = pipeline.build(second)
    assert sorted(s.title for s in built.edition.stories) == [
        "Tbilisi opens new metro station",
        "Yerevan cafe culture booms",
    ]
    store.close()


def test_the_archive_dates_an_edition_in_its_briefings_zone(
    server: LocalServer, tmp_path: Path
) -> None:
    from briefings import config as configuration

    seven = datetime(2026, 11, 22, 5, tzinfo=UTC)  # 07:00 in Jerusalem, 08:00 in Istanbul
    url = server.add(
        "/feed.xml",
        "<rss version='2.0'><channel><title>T</title><item><title>Knesset passes budget</title>"
        f"<link>{server.base}/a</link><pubDate>{format_datetime(seven - timedelta(hours=1))}"
        f"</pubDate><description>{'The Knesset passed the budget. ' * 30}</description>"
        "</item></channel></rss>",
    )
    path = tmp_path / "feeds.toml"
    path.write_text(
        f'[settings]\ntimezone = "Europe/Istanbul"\n[[feeds]]\nname = "A"\nurl = "{url}"\n'
        '[briefings.israel]\ntitle = "Israel"\nschedule = "0 7 * * *"\n'
        'timezone = "Asia/Jerusalem"\n',
        encoding="utf-8",
    )
    loaded = configuration.load(path)
    store = pipeline.open_store(loaded)
    run = pipeline.Run(config=loaded, store=store, now=seven)
    pipeline.fetch_feeds(run)
    [built] = pipeline.build(run)
    store.close()
    assert built.edition.edition == "2026-11-22-0700"
    archive = (tmp_path / "out" / "israel" / "index.html").read_text("utf-8")
    assert "Sunday 22 November 2026, 07:00" in archive
    catalogue = (tmp_path / "out" / "index.html").read_text("utf-8")
    assert "22 November 2026, 07:00" in catalogue


class _Interrupted(dict[str, str]):
    """An edition's files, Ctrl-C pressed after the first is written."""

    def items(self) -> Any:
        first = next(iter(super().items()))
        yield first
        raise KeyboardInterrupt


def test_an_edition_interrupted_while_written_leaves_no_folder_behind(tmp_path: Path) -> None:
    """Ctrl-C while an edition was written left its half-written staging folder in the
    output folder, which is published as it is, until the next build swept it."""
    folder = tmp_path / "out" / "turkey" / "2026-11-22-0700"
    with pytest.raises(KeyboardInterrupt):
        pipeline.write_edition(folder, _Interrupted({"index.html": "<p>", "email.txt": "x"}))
    assert list((tmp_path / "out" / "turkey").iterdir()) == []
    pipeline.write_edition(folder, {"index.html": "<p>"})  # then one that is not interrupted
    with pytest.raises(KeyboardInterrupt):
        pipeline.write_edition(folder, _Interrupted({"index.html": "<b>", "email.txt": "x"}))
    assert [p.name for p in folder.parent.iterdir()] == [folder.name]
    assert (folder / "index.html").read_text(encoding="utf-8") == "<p>"


STRIKE = (
    "An Israeli air strike flattened a five-storey residential building in Jabalia before "
    "dawn on Tuesday, killing at least 20 people, according to Gaza's civil defence agency. "
    "Neighbours said families had sheltered on the lower floors of the apartment block. "
)
TOLL = (
    "Civil defence crews in Jabalia pulled seven more bodies from the ruins of the apartment "
    "block hit by an Israeli strike before dawn, bringing the death toll to 27, with more "
    "people believed trapped. "
    "Rescuers dug by hand because the bulldozers had no fuel. "
)
TENTS = (
    "An Israeli strike hit tents sheltering displaced families in Mawasi, west of Khan Younis, "
    "killing 12 people including children, Gaza's civil defence agency said. "
    "The army said it had targeted a militant commander. "
)


def _background_feed(server: LocalServer, when: datetime) -> str:
    """A feed of the labelled stories' 279 articles, all published at ``when``: a store
    of the region's news, in which "Gaza" is common and "Jabalia" rare."""
    from xml.sax.saxutils import escape

    items = []
    for path in sorted((Path(__file__).parent / "data" / "stories").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            items.append(
                f"<item><title>{escape(item['title'])}</title>"
                f"<link>{server.base}/archive/{item['id']}</link><guid>{item['id']}</guid>"
                f"<pubDate>{format_datetime(when)}</pubDate>"
                f"<description>{escape(item['body'])}</description></item>"
            )
    return server.add(
        "/archive/feed.xml",
        f"<rss version='2.0'><channel><title>archive</title><link>{server.base}/archive/</link>"
        + "".join(items)
        + "</channel></rss>",
    )


def test_a_follow_up_of_a_sent_story_names_it_in_every_rendering(
    server: LocalServer, tmp_path: Path
) -> None:
    """The same outlet's later report of the toll is a story of its own (one outlet's two
    articles never join): it is shown, marked as an update with the morning's story as
    "Earlier", in every file; another strike in Gaza the same day is not linked."""
    from briefings import config as configuration

    morning = NOW - timedelta(hours=1)
    news = [("strike", "Strike on Gaza apartment block kills 20", morning, STRIKE * 3)]
    feeds = [_rss(server, "wire", news), _background_feed(server, NOW - timedelta(hours=30))]
    path = tmp_path / "feeds.toml"
    path.write_text(
        "[settings]\nhost_delay = 0\n"
        + "".join(
            f'[[feeds]]\nname = "{n}"\nurl = "{u}"\n' for n, u in zip("WA", feeds, strict=True)
        )
        + '[briefings.all]\ntitle = "All"\nschedule = "0 7 * * *"\ntimezone = "Asia/Jerusalem"\n'
    )
    loaded = configuration.load(path)
    store = pipeline.open_store(loaded)
    [first] = pipeline.run_once(pipeline.Run(config=loaded, store=store, now=NOW))
    assert [s.title for s in first.edition.stories] == ["Strike on Gaza apartment block kills 20"]
    later = NOW + timedelta(hours=10)
    news += [
        (
            "toll",
            "Gaza toll rises to 27 as rescuers search rubble",
            later - timedelta(hours=1),
            TOLL * 3,
        ),
        (
            "tents",
            "Israeli strike on tents in Mawasi kills 12",
            later - timedelta(hours=2),
            TENTS * 3,
        ),
    ]
    _rss(server, "wire", news)
    [second] = pipeline.run_once(pipeline.Run(config=loaded, store=store, now=later))
    store.close()
    shown = {s.title: s for s in second.edition.stories}
    assert set(shown) == {
        "Gaza toll rises to 27 as rescuers search rubble",
        "Israeli strike on tents in Mawasi kills 12",
    }
    toll = shown["Gaza toll rises to 27 as rescuers search rubble"]
    assert toll.update and toll.earlier is not None
    assert (toll.earlier.title, toll.earlier.edition) == (
        "Strike on Gaza apartment block kills 20",
        first.edition.edition,
    )
    assert toll.earlier.why.startswith("both name Jabalia; headline and lead alike")
    tents = shown["Israeli strike on tents in Mawasi kills 12"]
    assert not tents.update and tents.earlier is None

    when = NOW.astimezone(ZoneInfo("Asia/Jerusalem"))
    date = f"{when:%A} {when.day} {when:%B}, {when:%H:%M}"
    for folder in (second.path, second.private):
        document = json.loads((folder / "edition.json").read_text())
        assert_contract(document)
        [linked] = [s for s in document["stories"] if s["earlier"]]
        assert linked["earlier"]["title"] == "Strike on Gaza apartment block kills 20"
        assert linked["update"] is True
    page = (second.path / "index.html").read_text()
    assert "Earlier: <a href=" in page and f"</a>, {date}</div>" in page
    assert "Linked to the earlier story: <bdi>both name Jabalia" in page
    text = " ".join((second.path / "email.txt").read_text().split())
    assert "UPDATE: Gaza toll rises to 27 as rescuers search rubble" in text
    assert f"Earlier: Strike on Gaza apartment block kills 20, {date}" in text
    assert "Earlier:" in (second.path / "email.html").read_text()
    # read back, as send and the desk read it
    again = pipeline.read_edition(loaded, "all", second.edition.edition)
    assert [s.earlier for s in again.stories if s.earlier] == [toll.earlier]
