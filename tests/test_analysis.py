"""Articles analysed once and placed in kept stories as they arrive (briefings.analysis)."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from briefings import analysis, dedupe, pipeline
from briefings import config as configuration
from briefings.model import Article, Entry, Page
from briefings.store import analyses

from .conftest import NOW, SampleRun, item_of

LABELLED = sorted((Path(__file__).parent / "data" / "stories").glob("*.jsonl"))


def labelled() -> tuple[list[Article], dict[str, str]]:
    lines = [line for path in LABELLED for line in path.read_text(encoding="utf-8").splitlines()]
    articles, labels, problems = dedupe.parse_labelled(lines, "stories")
    assert problems == []
    return articles, labels


def entry(article: Article) -> Entry:
    return Entry(
        feed_id=article.feed_id,
        guid=article.url,
        url=article.url,
        canonical_url=article.canonical_url,
        title=article.title,
        summary=article.summary,
        content=article.text,
        author="",
        published=article.published,
        dated=True,
    )


def store_for(tmp_path: Path, feeds: Sequence[str], weights: dict[str, float] | None = None) -> Any:
    listed = "".join(
        f'[[feeds]]\nid = "{f}"\nname = "Outlet {f}"\nurl = "http://127.0.0.1/{f}.xml"\n'
        f"weight = {(weights or {}).get(f, 1.0)}\n\n"
        for f in sorted(set(feeds))
    )
    path = tmp_path / "feeds.toml"
    path.write_text(
        f'[settings]\ndatabase = "{tmp_path / "b.db"}"\noutput = "out"\n\n{listed}'
        '[briefings.all]\ntitle = "All"\nschedule = "0 7 * * *"\nwindow = "30d"\n',
        encoding="utf-8",
    )
    config = configuration.load(path)
    return config, pipeline.open_store(config)


def kept_groups(store: Any, config: Any, since: datetime) -> list[tuple[str, ...]]:
    matcher = pipeline.topic_matcher(config)
    return [s.member_urls for s in analysis.stories_since(store, config, matcher, since=since)]


def scored(groups: list[tuple[str, ...]], articles: list[Article], labels: dict[str, str]) -> Any:
    by_url = {a.canonical_url: a for a in articles}
    return dedupe.score_pairs([[by_url[u] for u in g] for g in groups], labels)


def test_articles_arriving_in_many_fetches_cluster_as_well_as_in_one(tmp_path: Path) -> None:
    articles, labels = labelled()
    config, store = store_for(tmp_path, [a.feed_id for a in articles])
    matcher = pipeline.topic_matcher(config)
    ordered = sorted(articles, key=lambda a: a.published)
    since = ordered[0].published - timedelta(days=1)
    for start in range(0, len(ordered), 40):  # seven fetches, each analysed on its own
        store.add_entries([entry(a) for a in ordered[start : start + 40]], seen_at=NOW)
        assert analysis.analyse(store, config, matcher, since=since) == len(
            ordered[start : start + 40]
        )
    result = scored(kept_groups(store, config, since), articles, labels)
    assert result.precision >= 0.97, [[labels[a.id] for a in g] for g in result.wrong_merges]
    assert result.recall >= 0.92
    assert sum(len(g) for g in kept_groups(store, config, since)) == len(articles)


def test_the_index_keeps_story_members_and_sums_true_through_merges(tmp_path: Path) -> None:
    articles, _ = labelled()
    config, store = store_for(tmp_path, [a.feed_id for a in articles])
    matcher = pipeline.topic_matcher(config)
    ordered = sorted(articles, key=lambda a: a.published)
    store.add_entries([entry(a) for a in ordered[:150]], seen_at=NOW)
    analysis.analyse(store, config, matcher, since=ordered[0].published - timedelta(days=1))
    with store.engine.begin() as conn:
        stories = sorted(
            {str(s) for s in conn.execute(select(analyses.c.story)).scalars()}, key=int
        )
        index = analysis.StoreIndex(conn)
        for story in stories[::3]:
            index.summed(story)  # cached now, and kept up to date below
        for n, story in enumerate(stories[:30]):
            x = dedupe.Features(
                id=str(10_000 + n),
                feed_id="new",
                title="t",
                published=NOW,
                vector={"pipeline": 0.6, f"term{n}": 0.8},
            )
            index.rows[x.id] = {}
            index.add(x, [], story)
        for into, other in zip(stories[0:30:2], stories[1:30:2], strict=True):
            index.merge(into, other)
        index.merge(stories[30], stories[0])
        [(kept, kept_story)] = conn.execute(  # an article already placed, whose text changed
            select(analyses.c.entry_id, analyses.c.story).where(
                analyses.c.story == int(stories[30])
            )
        ).all()[:1]
        changed = replace(index.features([str(kept)])[str(kept)], vector={"changed": 1.0})
        index.rows[changed.id] = {}
        index.summed(str(kept_story))
        index.refresh(changed, [], str(kept_story))
        fresh = analysis.StoreIndex(conn)  # no cache: asks SQLite, and ``index``'s new articles
        fresh._local, fresh._bands = index._local, index._bands
        for story in stories:
            members = sorted(fresh.members(story))
            assert sorted(index.members(story)) == members
            expected = dedupe.summed(fresh.features(members).values())
            got = index.summed(story)
            assert got.keys() == expected.keys()
            assert all(abs(got[t] - expected[t]) < 1e-9 for t in got)


def test_articles_examined_in_worker_processes_end_in_the_same_stories(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    articles, _ = labelled()
    monkeypatch.setattr(analysis, "CHUNK", 60)  # several chunks, each examined ahead
    monkeypatch.setattr(analysis, "POOL_FROM", 1)
    kept = []
    for processes in (1, 2):
        (tmp_path / str(processes)).mkdir()
        config, store = store_for(tmp_path / str(processes), [a.feed_id for a in articles])
        matcher = pipeline.topic_matcher(config)
        store.add_entries([entry(a) for a in articles], seen_at=NOW)
        since = min(a.published for a in articles) - timedelta(days=1)
        done = analysis.analyse(store, config, matcher, since=since, processes=processes)
        assert done == len(articles)
        with store.engine.connect() as conn:
            rows = conn.execute(select(analyses).order_by(analyses.c.entry_id)).all()
        kept.append((kept_groups(store, config, since), rows))
    assert kept[0] == kept[1]

    todo = [(n, entry(a), None, None) for n, a in enumerate(articles[:30], start=1)]
    thresholds = dedupe.Thresholds()
    with analysis._Examiner(matcher, thresholds, 2, None) as examiner:
        assert examiner.pool is not None
        [examined] = examiner.each([todo])
        assert multiprocessing.active_children()  # the workers did it
    assert examined == analysis.examine(todo, matcher, thresholds)


def test_kept_stories_of_the_sample_run_match_their_labels(sample_run: SampleRun) -> None:
    since = NOW - timedelta(days=60)
    articles = pipeline.articles_of(sample_run.store, since=since)
    labels = {a.id: item_of(sample_run.site, a.url).event or a.id for a in articles}
    result = scored(kept_groups(sample_run.store, sample_run.config, since), articles, labels)
    assert result.true_pairs >= 40
    assert result.precision >= 0.95
    assert result.recall >= 0.9


def test_an_article_is_analysed_once_and_again_when_its_text_changes(tmp_path: Path) -> None:
    articles, labels = labelled()
    family = [a for a in articles if labels[a.id] == "s1-c01"]
    config, store = store_for(tmp_path, [a.feed_id for a in articles])
    matcher = pipeline.topic_matcher(config)
    since = min(a.published for a in family) - timedelta(days=1)
    store.add_entries([entry(a) for a in family], seen_at=NOW)
    assert analysis.analyse(store, config, matcher, since=since) == len(family)
    before = kept_groups(store, config, since)
    assert len(family) >= 2 and before == [tuple(sorted(a.canonical_url for a in family))]
    assert analysis.analyse(store, config, matcher, since=since) == 0

    first = family[0]
    page = Page(url=first.canonical_url, text=first.text + "\n\n" + first.text, title=first.title)
    store.save_page(first.canonical_url, page, fetched_at=NOW)
    assert analysis.analyse(store, config, matcher, since=since) == 1  # only that one
    assert kept_groups(store, config, since) == before  # and it keeps its story

    edited = replace(entry(first), title=first.title + " (updated)")
    store.add_entries([edited], seen_at=NOW)
    assert analysis.analyse(store, config, matcher, since=since) == 1
    [story] = [
        s
        for s in analysis.stories_since(store, config, matcher, since=since)
        if first.canonical_url in s.member_urls
    ]
    assert any(source.title.endswith("(updated)") for source in story.sources)


def test_an_article_whose_text_changed_and_its_new_neighbours_are_placed_together(
    tmp_path: Path,
) -> None:
    articles, labels = labelled()
    family = [a for a in articles if labels[a.id] == "s1-c01"]
    config, store = store_for(tmp_path, [a.feed_id for a in articles])
    matcher = pipeline.topic_matcher(config)
    since = min(a.published for a in family) - timedelta(days=1)
    first, *others = family
    store.add_entries([entry(first)], seen_at=NOW)
    assert analysis.analyse(store, config, matcher, since=since) == 1
    # one fetch brings the first article's page and the other outlets' reports of it
    page = Page(url=first.canonical_url, text=first.text + "\n\n" + first.text, title=first.title)
    store.save_page(first.canonical_url, page, fetched_at=NOW)
    store.add_entries([entry(a) for a in others], seen_at=NOW)
    assert analysis.analyse(store, config, matcher, since=since) == len(family)
    assert kept_groups(store, config, since) == [tuple(sorted(a.canonical_url for a in family))]


def test_a_copy_arriving_days_later_joins_the_kept_story(tmp_path: Path) -> None:
    text = " ".join(
        f"Officials in Baku said the pipeline deal number {n} with Ankara was signed today."
        for n in range(12)
    )
    first = dedupe.Article(
        id="1",
        feed_id="wire",
        url="https://wire.example/1",
        canonical_url="https://wire.example/1",
        title="Baku and Ankara sign pipeline deal",
        summary="",
        text=text,
        author="",
        published=NOW - timedelta(days=3),
        text_source="feed",
    )
    copy = replace(
        first,
        id="2",
        feed_id="paper",
        url="https://paper.example/2?utm_source=x",
        canonical_url="https://paper.example/2",
        text=text.replace("today", "on Monday"),
        published=NOW - timedelta(days=1),
    )
    config, store = store_for(tmp_path, ["wire", "paper"])
    matcher = pipeline.topic_matcher(config)
    since = NOW - timedelta(days=7)
    store.add_entries([entry(first)], seen_at=NOW)
    analysis.analyse(store, config, matcher, since=since)
    store.add_entries([entry(copy)], seen_at=NOW)
    analysis.analyse(store, config, matcher, since=since)
    [story] = analysis.stories_since(store, config, matcher, since=since)
    assert [s.feed for s in story.sources] == ["Outlet wire", "Outlet paper"]
    assert story.url == "https://wire.example/1"  # the original leads
    [shown] = analysis.with_matches(store, [story])
    assert story.matches == () and shown.matches  # matches are read for what is shown
    assert {m.topic for m in shown.matches} >= set(shown.topics)
    assert {m.source for m in shown.matches} == {""}  # the lead's own


def test_a_kept_storys_matches_remember_another_outlets_article(tmp_path: Path) -> None:
    text = " ".join(
        f"Officials said the pipeline deal number {n} was signed today in the capital."
        for n in range(12)
    )
    first = dedupe.Article(
        id="1",
        feed_id="wire",
        url="https://wire.example/1",
        canonical_url="https://wire.example/1",
        title="Pipeline deal signed",
        summary="",
        text=text,
        author="",
        published=NOW - timedelta(days=2),
        text_source="feed",
    )
    copy = replace(
        first,
        id="2",
        feed_id="paper",
        url="https://paper.example/2",
        canonical_url="https://paper.example/2",
        title="Baku signs pipeline deal with Tbilisi",
        text=text.replace("today", "on Monday"),
        published=NOW - timedelta(days=1),
    )
    config, store = store_for(tmp_path, ["wire", "paper"])
    matcher = pipeline.topic_matcher(config)
    since = NOW - timedelta(days=7)
    store.add_entries([entry(first), entry(copy)], seen_at=NOW)
    analysis.analyse(store, config, matcher, since=since)
    [story] = analysis.stories_since(store, config, matcher, since=since)
    assert story.title == "Pipeline deal signed" and "caucasus" in story.topics
    [shown] = analysis.with_matches(store, [story])
    assert {m.source for m in shown.matches if m.topic == "caucasus"} == {"Outlet paper"}


def test_stories_are_made_again_when_feed_weights_change(tmp_path: Path) -> None:
    articles, _ = labelled()
    config, store = store_for(tmp_path, [a.feed_id for a in articles])
    matcher = pipeline.topic_matcher(config)
    since = min(a.published for a in articles) - timedelta(days=1)
    store.add_entries([entry(a) for a in articles], seen_at=NOW)
    analysis.analyse(store, config, matcher, since=since)
    shared = next(
        s for s in analysis.stories_since(store, config, matcher, since=since) if len(s.sources) > 1
    )
    other = next(u for u in shared.member_urls if u != shared.url)
    feed = next(a.feed_id for a in articles if a.canonical_url == other)
    heavier = replace(
        config, feeds=tuple(replace(f, weight=9.0) if f.id == feed else f for f in config.feeds)
    )
    again = next(
        s
        for s in analysis.stories_since(store, heavier, matcher, since=since)
        if other in s.member_urls
    )
    assert again.member_urls == shared.member_urls
    assert again.sources[0].feed == f"Outlet {feed}"  # the heavier outlet now comes first


def test_new_topics_analyse_everything_again(tmp_path: Path) -> None:
    articles, _ = labelled()
    config, store = store_for(tmp_path, [a.feed_id for a in articles])
    since = min(a.published for a in articles) - timedelta(days=1)
    store.add_entries([entry(a) for a in articles[:30]], seen_at=NOW)
    assert analysis.analyse(store, config, pipeline.topic_matcher(config), since=since) == 30
    fewer = pipeline.topic_matcher(config, only={"turkey", "israel"})
    assert analysis.analyse(store, config, fewer, since=since) == 30
    assert analysis.analyse(store, config, fewer, since=since) == 0


def test_signatures_are_the_same_in_every_process() -> None:
    program = (
        "from briefings import dedupe; "
        "print(dedupe.minhash('the quick brown fox jumps over the lazy dog near the river "
        "bank at dawn while the town sleeps').hex())"
    )
    seen = {
        subprocess.run(
            [sys.executable, "-c", program],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }
    assert len(seen) == 1 and len(next(iter(seen)).strip()) == 96 * 8


def test_after_a_run_a_build_has_nothing_left_to_analyse(sample_run: SampleRun) -> None:
    since = NOW - timedelta(days=7) - pipeline.EVENT_MARGIN
    matcher = pipeline.topic_matcher(sample_run.config)
    assert analysis.analyse(sample_run.store, sample_run.config, matcher, since=since) == 0


def test_a_fetch_with_nothing_new_builds_no_matcher(
    sample_run: SampleRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline, "topic_matcher", lambda *a, **k: pytest.fail("built"))
    run = pipeline.Run(config=sample_run.config, store=sample_run.store, now=NOW)
    assert pipeline.analyse(run) == 0
