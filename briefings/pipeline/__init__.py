"""The one orchestrator: runs the stages in order and keeps per-item failures.

``fetch`` pulls feeds and article pages into the store; ``build`` turns what
the store holds into editions on disk. Neither raises for a bad feed or page:
each lands in the :class:`RunReport` and the rest carries on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ..config import Briefing, Config
from ..errors import FetchError
from ..fetch import (
    PAGE_ACCEPT,
    FetchOptions,
    Request,
    fetch_all,
)
from ..model import (
    Article,
    Failure,
    Story,
    TopicMatch,
)
from ..store import Store
from .editions import (
    check_templates as check_templates,
)
from .editions import (
    pro_page as pro_page,
)
from .editions import (
    publish as publish,
)
from .editions import (
    publish_approved as publish_approved,
)
from .editions import (
    read_edition as read_edition,
)
from .editions import (
    render_edition as render_edition,
)
from .editions import (
    secure_output as secure_output,
)
from .editions import (
    stray_templates as stray_templates,
)
from .editions import (
    write_archive as write_archive,
)
from .editions import (
    write_edition as write_edition,
)
from .ingest import BATCH_ENTRIES as BATCH_ENTRIES
from .ingest import BATCH_FEEDS as BATCH_FEEDS
from .ingest import LONGEST_WAIT as LONGEST_WAIT
from .ingest import PAGE_RETRY as PAGE_RETRY
from .ingest import POOL_AFTER as POOL_AFTER
from .ingest import _can_fork as _can_fork
from .ingest import fetch_feeds as fetch_feeds
from .ingest import fetch_pages as fetch_pages
from .ingest import worker_count as worker_count
from .running import Built as Built
from .running import Progress as Progress
from .running import Run as Run
from .running import _worker_start as _worker_start
from .running import lock_path as lock_path
from .running import longest_window as longest_window
from .running import open_store as open_store
from .running import run_lock as run_lock
from .send import SendReport as SendReport
from .send import make_sender as make_sender
from .send import reader_files as reader_files
from .send import send_edition as send_edition
from .stages import analysis, composing, dedupe, extract, log, render, topics
from .stages import topic_matcher as topic_matcher

EVENT_MARGIN = timedelta(hours=36)


def run_once(run: Run, briefing_ids: Sequence[str] = ()) -> list[Built]:
    """Fetch every feed, extract, then build one edition of each briefing (and prune the
    store, once a day)."""
    fetch_feeds(run)
    fetch_pages(run)
    built = build(run, briefing_ids)
    prune(run)
    return built


PRUNE_EVERY = timedelta(days=1)
"""How often ``run``, ``fetch`` and the scheduler's fetch prune the store by themselves."""


def kept_since(config: Config, now: datetime) -> datetime | None:
    """The oldest moment the store keeps (``settings.retention`` back, or more when a
    briefing's window or repeat window needs more); None: everything is kept."""
    retention = config.settings.retention
    if retention is None:
        return None
    needed = max(
        longest_window(config) + EVENT_MARGIN + dedupe.Thresholds().copy_window,
        max((b.repeat_window for b in config.briefings), default=timedelta(0)),
    )
    return now - max(retention, needed)


def prune(run: Run, *, force: bool = False) -> dict[str, int] | None:
    """Forget what is older than :func:`kept_since` (:meth:`Store.prune`), unless the store
    was pruned less than :data:`PRUNE_EVERY` ago and not ``force``; rows deleted per
    table, or None when it was not done."""
    before = kept_since(run.config, run.now)
    if before is None:
        return None
    done = run.store.prune(before=before, now=run.now, every=None if force else PRUNE_EVERY)
    if done is not None:
        log.info(
            "pruned the store of what is older than %s: %s",
            f"{before:%Y-%m-%d %H:%M} UTC",
            ", ".join(f"{n} {table}" for table, n in done.items() if n) or "nothing",
        )
    return done


def build(
    run: Run,
    briefing_ids: Sequence[str] = (),
    *,
    names: Mapping[str, str] | None = None,
    slots: Mapping[str, datetime] | None = None,
) -> list[Built]:
    """Compose, render and write one edition of each briefing (all when none named),
    then the archive pages of every briefing.

    ``names`` gives the edition id to build for a briefing (a scheduled slot, or an
    edition being rebuilt); otherwise it is the local time of ``run.now``. ``slots``
    gives the scheduled time of a briefing's edition: its window is counted back from
    there, however late it is built (:func:`compose.compose`). The
    editor's choices and note apply. A briefing with ``review`` gets a draft; an
    approved edition that is rebuilt stays approved; one that is sending or sent
    is not rebuilt.
    """
    config = run.config
    chosen = [b for b in config.briefings if not briefing_ids or b.id in briefing_ids]
    matcher = topic_matcher(config)
    named = {
        b.id: (names or {}).get(b.id) or composing.edition_id(run.now, b.timezone) for b in chosen
    }
    catching_up: dict[str, datetime] = {}
    for briefing in chosen:
        slot = (slots or {}).get(briefing.id)
        opens = None if slot is None else _catch_up(run.store, briefing, named[briefing.id], slot)
        if opens is not None:
            catching_up[briefing.id] = opens
    earliest = min([run.now, *(slots or {}).values()])
    stories = gather_stories(
        run.store,
        config,
        now=earliest,
        briefings=chosen,
        matcher=matcher,
        since=min(catching_up.values(), default=None),
    )
    run.report.stories = len(stories)
    env = render.environment(config.settings.templates)
    titles = {t.id: t.title for t in matcher.topics.values()}
    built = []
    advance = run.tick("Building editions", len(chosen))
    for briefing in chosen:
        name = named[briefing.id]
        before = run.store.edition(briefing.id, name)
        if before is not None and before.status in ("sending", "sent", "failed"):
            log.warning("%s %s: already %s, not rebuilt", briefing.id, name, before.status)
            run.report.failures.append(
                Failure(stage="build", url=briefing.id, message=f"{name} already {before.status}")
            )
            advance()
            continue
        slot = (slots or {}).get(briefing.id)
        opens = composing.window_start(slot or run.now, briefing.window, briefing.timezone)
        opens = min(opens, catching_up.get(briefing.id, opens))
        # what the editions since the window opened carried, at least
        remembered = min(run.now - briefing.repeat_window, opens)
        edition = composing.compose(
            briefing,
            stories,
            now=run.now,
            timezone=briefing.timezone,
            carried=run.store.carried(briefing.id, since=remembered, besides=name),
            choices=run.store.choices(briefing.id),
            edition=name,
            slot=slot,
            opens=catching_up.get(briefing.id),
        )
        advance()
        if not edition.stories:
            log.info("%s: no new stories, no edition", briefing.id)
            run.report.without_news.append(briefing.id)
            continue
        note = run.store.note(briefing.id, name)
        shown = analysis.with_matches(run.store, edition.stories)
        edition = replace(
            edition,
            stories=tuple(with_earlier(run.store, shown, briefing.id, remembered, name)),
            note=editor_note(config, briefing.id) if note is None else note,
        )
        rendered = render_edition(config, briefing, edition, env=env, titles=titles)
        # a draft stays private until an editor approves it (:func:`publish_approved`)
        draft = briefing.review and (before is None or before.status == "draft")
        path, private = publish(config, edition, rendered, public=not draft)
        run.store.record_edition(
            edition, path=str(private), status="draft" if briefing.review else "approved"
        )
        run.report.editions.append(
            f"{private} (a draft: public once approved)" if draft else str(path)
        )
        built.append(Built(edition=edition, path=path, private=private))
    write_archive(config, env)
    return built


def with_earlier(
    store: Store, shown: Sequence[Story], briefing_id: str, since: datetime, edition: str
) -> list[Story]:
    """``shown`` with what the editions of the briefing since ``since`` (but ``edition``)
    sent of each, an update or a follow-up (:func:`dedupe.link_earlier`)."""
    sent = store.sent(briefing_id, since=since, besides=edition)
    if not sent or not shown:
        return list(shown)
    df, documents = analysis.frequencies_of(store, dedupe.wanted_terms(shown, sent))
    return dedupe.link_earlier(shown, sent, df=df, documents=documents)


def _catch_up(store: Store, briefing: Briefing, name: str, slot: datetime) -> datetime | None:
    """Where the window of the scheduled edition ``name`` opens when slots since the
    briefing's last edition made none (:func:`compose.catch_up`), said in the log; None
    when none did."""
    last = next((e for e in store.editions_of(briefing.id, limit=2) if e.edition != name), None)
    if last is None:
        return None
    missed = composing.first_missed(briefing, slot, last.generated_at)
    if missed is None:
        return None
    opens = composing.catch_up(briefing, slot, missed)
    zone = ZoneInfo(briefing.timezone)
    log.info(
        "%s %s: the slot at %s made no edition; this one covers its stories too, from %s "
        "(the last edition, %s, was built at %s)",
        briefing.id,
        name,
        f"{missed.astimezone(zone):%Y-%m-%d %H:%M %Z}",
        f"{opens.astimezone(zone):%Y-%m-%d %H:%M %Z}",
        last.edition,
        f"{last.generated_at.astimezone(zone):%Y-%m-%d %H:%M %Z}",
    )
    return opens


def editor_note(config: Config, briefing_id: str) -> str:
    """The editor's note for the next edition: ``notes/<briefing>.txt`` beside feeds.toml."""
    path = config.path.parent / "notes" / f"{briefing_id}.txt"
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return ""
    except (OSError, UnicodeDecodeError) as exc:
        log.warning("%s: cannot read the editor's note: %s", path, exc)
        return ""


def gather_stories(
    store: Store,
    config: Config,
    *,
    now: datetime,
    briefings: Sequence[Briefing] | None = None,
    matcher: topics.Matcher | None = None,
    since: datetime | None = None,
) -> list[Story]:
    """Every kept story with an article in the longest window of ``briefings`` (all of
    the configuration's when None), after analysing the articles that are new or changed
    (:mod:`briefings.analysis`). Their topic matches are left out: :func:`build` reads
    them for the stories an edition shows.

    Only that window is read: building the 18-hour minute alone does not read a week.
    ``since``, when earlier, is where a window that catches up on missed slots opens.
    """
    read = now - longest_window(config, briefings)
    since = (read if since is None else min(read, since)) - EVENT_MARGIN
    matcher = matcher or topic_matcher(config)
    analysis.analyse(store, config, matcher, since=since, **_analysis_workers(config))
    return analysis.stories_since(store, config, matcher, since=since)


def _analysis_workers(config: Config) -> dict[str, Any]:
    """How :func:`analysis.analyse` may fork workers here: not when other threads run."""
    processes = worker_count(config.settings.processes) if _can_fork() else 1
    return {"processes": processes, "worker_start": _worker_start}


def analyse(run: Run) -> int:
    """Analyse the new and changed articles of the longest window and place them in their
    stories, so that the next build has nothing left to do; return how many.

    A poll that brought nothing new costs one query: not even the topic matcher is built.
    """
    since = run.now - longest_window(run.config) - EVENT_MARGIN
    if not run.store.to_analyse(since):
        prune(run)
        return 0
    matcher = topic_matcher(run.config)
    done = analysis.analyse(
        run.store, run.config, matcher, since=since, **_analysis_workers(run.config)
    )
    analysis.prune(run.store, before=since - dedupe.Thresholds().copy_window, now=run.now)
    prune(run)
    return done


def cluster_articles(
    articles: Sequence[Article], matcher: topics.Matcher
) -> tuple[list[list[Article]], dict[str, tuple[TopicMatch, ...]]]:
    """Articles grouped into stories, and each article's topic matches.

    Clustering uses the matched regions: look-alike events in different places
    stay apart.
    """
    thresholds = matcher.thresholds()
    matches = {
        a.id: matcher.match(title=a.title, summary=a.summary, body=a.text)[0] for a in articles
    }
    regions = {}
    for article in articles:
        totals = topics.scores(matches[article.id])
        regions[article.id] = frozenset(
            t
            for t, score in totals.items()
            if score >= thresholds[t] and matcher.topics[t].kind == "region"
        )
    return dedupe.cluster(articles, regions=regions), matches


def page_text(url: str, config: Config | None) -> tuple[str, str, str]:
    """(title, lead summary, text) of one article page, fetched and extracted as in a run."""
    if url.startswith(("http://", "https://")):
        options = (
            FetchOptions(accept=PAGE_ACCEPT)
            if config is None
            else FetchOptions(
                user_agent=config.settings.user_agent,
                timeout=config.settings.timeout,
                max_bytes=config.settings.max_bytes,
                accept=PAGE_ACCEPT,
            )
        )
        [result] = fetch_all([Request(url=url)], options)
        if result.status != "ok":
            raise FetchError(url, result.error)
        body, kind = result.body, result.content_type
    else:
        try:
            body, kind = Path(url).read_bytes(), "text/html"
        except OSError as exc:
            raise FetchError(url, f"cannot read file: {exc.strerror or exc}") from None
    try:
        page = extract.extract_page(body, url=url, content_type=kind)
    except extract.ExtractionFailed as exc:
        raise FetchError(url, str(exc).removeprefix(f"{url}: ")) from None
    return page.title, extract.lead_summary(page.text), page.text


def articles_of(store: Store, *, since: datetime) -> list[Article]:
    """The stored articles published since ``since``, with their best text."""
    return [
        extract.best_article(entry, page, article_id=str(row_id))
        for row_id, entry, page in store.entries_since(since)
    ]
