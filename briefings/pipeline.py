"""The one orchestrator: runs the stages in order and keeps per-item failures.

``fetch`` pulls feeds and article pages into the store; ``build`` turns what
the store holds into editions on disk. Neither raises for a bad feed or page:
each lands in the :class:`RunReport` and the rest carries on.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import importlib.util
import json
import logging
import multiprocessing
import os
import queue
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from .config import Briefing, Config
from .errors import BriefingsError, ConfigError, FetchError, OutputError, StoreError
from .fetch import (
    FEED_ACCEPT,
    PAGE_ACCEPT,
    FetchOptions,
    Request,
    body_hash,
    fetch_all,
    fetch_each,
)
from .model import (
    Article,
    Edition,
    Entry,
    Failure,
    FeedState,
    Fetched,
    RunReport,
    Story,
    Subscriber,
    TopicMatch,
)
from .store import PRUNED, FeedUpdate, Store


def _lazy(name: str) -> ModuleType:
    """``name``, imported on first use of one of its attributes (importlib's LazyLoader).

    A poll of unchanged feeds needs none of the build's stages (Jinja2, MJML, the gazetteer,
    rapidfuzz) nor even feedparser; importing them all up front was a fifth of its time.
    """
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.loader is not None
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


if TYPE_CHECKING:
    import httpx

    from . import analysis, dedupe, deliver, extract, feeds, render, topics
    from . import compose as composing
    from . import text as texts
else:
    analysis = _lazy("briefings.analysis")
    composing = _lazy("briefings.compose")
    dedupe = _lazy("briefings.dedupe")
    deliver = _lazy("briefings.deliver")
    extract = _lazy("briefings.extract")
    feeds = _lazy("briefings.feeds")
    render = _lazy("briefings.render")
    texts = _lazy("briefings.text")
    topics = _lazy("briefings.topics")

log = logging.getLogger("briefings")
EVENT_MARGIN = timedelta(hours=36)
PAGE_RETRY = timedelta(hours=6)


class Progress(Protocol):
    """Where long steps report how far they are; the CLI shows a bar, tests pass nothing."""

    def step(self, label: str, total: int) -> Callable[[], None]: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Built:
    """One edition written to disk: ``path`` in the output folder (what free readers see),
    ``private`` in the private folder (the PRO renderings and the whole edition)."""

    edition: Edition
    path: Path
    private: Path


@dataclass(slots=True, kw_only=True)
class Run:
    """Everything one invocation needs: config, store, clock and transport."""

    config: Config
    store: Store
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    transport: httpx.BaseTransport | None = None
    progress: Progress | None = None
    report: RunReport = field(default_factory=RunReport)

    def tick(self, label: str, total: int) -> Callable[[], None]:
        if self.progress is None or total == 0:
            return lambda: None
        return self.progress.step(label, total)


def open_store(config: Config) -> Store:
    """The store named by ``settings.database``, created if needed."""
    url = config.settings.database
    if url.startswith("sqlite:///"):
        folder = Path(url[len("sqlite:///") :]).parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"{folder}: cannot create the database's folder: {exc.strerror}; "
                "create it, or set settings.database to a writable place"
            ) from None
    import sqlalchemy.exc

    scheme = url.partition("://")[0]
    try:
        return Store(url)
    except ModuleNotFoundError as exc:
        raise StoreError(
            f"settings.database: {scheme}: its driver is not installed "
            f"(no module named {exc.name!r}); install it, e.g. pip install {exc.name}"
        ) from None
    except (sqlalchemy.exc.NoSuchModuleError, sqlalchemy.exc.ArgumentError) as exc:
        raise StoreError(f"settings.database: {scheme}: {exc}") from None


def lock_path(config: Config) -> Path:
    """The lock file of the store: beside a SQLite file, else beside feeds.toml."""
    url = config.settings.database
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        return Path(url[len("sqlite:///") :] + ".lock")
    return config.path.parent / ".briefings.lock"


@contextmanager
def run_lock(config: Config) -> Iterator[None]:
    """Hold the store's lock for one run, fetch, build or send.

    Another holder makes this wait up to ``settings.lock_wait`` seconds, then raise
    :class:`StoreError`. The system drops the lock when its process exits, even by
    ``SIGKILL``, so a crashed run never blocks the next one.
    """
    path = lock_path(config)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StoreError(
            f"{path}: cannot create the lock file: {exc.strerror}; make its folder writable"
        ) from None
    try:
        deadline = time.monotonic() + config.settings.lock_wait
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(handle, 32, 0).decode("ascii", "replace").strip()
                    raise StoreError(
                        f"{path}: another briefings run (pid {holder or 'unknown'}) is using "
                        f"this database; waited {config.settings.lock_wait:g}s; try again when "
                        "it has finished"
                    ) from None
                time.sleep(0.1)
        os.ftruncate(handle, 0)
        os.pwrite(handle, f"{os.getpid()}\n".encode(), 0)
        _HELD.add(handle)
        yield
    finally:
        _HELD.discard(handle)
        os.close(handle)  # closing drops the lock


_HELD: set[int] = set()
"""Descriptors of the run locks this process holds."""


def _worker_start() -> None:
    """In a forked worker: close the inherited run-lock descriptors (a lock lasts while any
    process has it open, so a worker outliving a killed run would otherwise hold it), and
    on Linux ask to die with the parent."""
    for handle in list(_HELD):
        with contextlib.suppress(OSError):
            os.close(handle)
    _HELD.clear()
    if sys.platform == "linux":
        with contextlib.suppress(OSError, AttributeError):
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


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
        _longest_window(config) + EVENT_MARGIN + dedupe.Thresholds().copy_window,
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


def fetch_feeds(run: Run) -> None:
    """Get every feed (conditional GET) and store the entries that are new.

    Downloading, parsing and storing overlap: each response is handled as it
    arrives, bodies are parsed in worker processes when there are many
    (``settings.processes``), and entries are written in batches, one
    transaction each. A body whose hash is the one stored is not parsed again.
    Feeds are stored in the order of the configuration whatever order they
    arrive in, so which feed owns an entry several carry never depends on timing.
    """
    settings = run.config.settings
    wanted = run.config.feeds
    states = run.store.feed_states(f.url for f in wanted)
    options = FetchOptions(
        user_agent=settings.user_agent,
        timeout=settings.timeout,
        max_bytes=settings.max_bytes,
        concurrency=settings.concurrency,
        per_host=settings.concurrency,
        retries=settings.retries,
        accept=FEED_ACCEPT,
        transport=run.transport,
    )
    advance = run.tick("Fetching feeds", len(wanted))
    events: queue.SimpleQueue[Fetched | Future[feeds.Parsed] | None] = queue.SimpleQueue()
    crashed: list[BaseException] = []

    def download() -> None:
        try:
            fetch_each(
                [Request(url=f.url, state=states.get(f.url)) for f in wanted], options, events.put
            )
        except BaseException as exc:  # handed to the main thread, which raises it
            crashed.append(exc)
        finally:
            events.put(None)

    ingest = _Ingest(run, states, processes=worker_count(settings.processes))
    downloader = threading.Thread(target=download, name="fetch-feeds", daemon=True)
    downloader.start()
    try:
        downloading = True
        while downloading or ingest.parsing:
            event = events.get()
            if event is None:
                downloading = False
            elif isinstance(event, Fetched):
                advance()
                ingest.fetched(event, on_parsed=events.put)
            else:
                ingest.parsed(event)
        ingest.flush()
    finally:
        downloader.join()
        ingest.close()
    if crashed:
        raise crashed[0]
    run.report.feeds += len(wanted)


POOL_AFTER = 8
"""Bodies parsed in the main process before worker processes start for the rest: a poll
that finds a few changed feeds is done before a worker could have started."""
BATCH_ENTRIES = 2_000
BATCH_FEEDS = 200


def worker_count(setting: int) -> int:
    """How many processes parse feeds: ``setting``, or one per usable CPU core when 0."""
    if setting > 0:
        return setting
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _can_fork() -> bool:
    """Whether worker processes may be forked: POSIX, and no other thread in this process."""
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


class _Ingest:
    """Parsing and storing of fetched feeds while the other downloads go on."""

    def __init__(self, run: Run, states: dict[str, FeedState], *, processes: int) -> None:
        self.run = run
        self.states = states
        self.processes = processes
        self.order = {f.url: n for n, f in enumerate(run.config.feeds)}
        self.ids = {f.url: f.id for f in run.config.feeds}
        self.pool: ProcessPoolExecutor | None = None
        if processes > 1 and len(run.config.feeds) > POOL_AFTER and _can_fork():
            # Forked now, before the download thread starts: a fork copies only the
            # calling thread, and a worker forked here is ready at once, with every module
            # already imported. One trivial job makes the pool start its processes.
            self.pool = ProcessPoolExecutor(
                processes,
                mp_context=multiprocessing.get_context("fork"),
                initializer=_worker_start,
            )
            self.pool.submit(int)
            log.info("parsing feeds in %d forked processes", processes)
        self.parsed_here = 0
        self.parsing = 0
        self.waiting: dict[Future[feeds.Parsed], tuple[Fetched, str | None]] = {}
        self.ready: dict[int, FeedUpdate] = {}
        self.next = 0
        self.batch: list[FeedUpdate] = []
        self.batch_entries = 0

    def fetched(
        self, result: Fetched, *, on_parsed: Callable[[Future[feeds.Parsed]], None]
    ) -> None:
        """Take one response: parse its body here or in a worker, or note it unchanged."""
        if result.status == "error":
            self._ready(result.url, FeedUpdate(url=result.url, state=None, error=result.error))
            return
        if result.moved_to:
            message = f"moved permanently to {result.moved_to}; put that URL in feeds.toml"
            self.run.report.failures.append(Failure(stage="feed", url=result.url, message=message))
            log.warning("%s: %s", result.url, message)
        state = self.states.get(result.url)
        digest = None
        if result.status == "ok":
            digest = result.body_hash or body_hash(result.body)
        if result.status == "not_modified" or (state is not None and digest == state.body_hash):
            self.run.report.feeds_not_modified += 1
            kept = state or FeedState(url=result.url)
            self._ready(
                result.url,
                FeedUpdate(
                    url=result.url,
                    state=FeedState(
                        url=result.url,
                        etag=result.etag or kept.etag,
                        last_modified=result.last_modified or kept.last_modified,
                        body_hash=kept.body_hash,
                    ),
                ),
            )
            return
        job = partial(
            feeds.parse_outcome,
            result.body,
            feed_id=self.ids[result.url],
            url=result.final_url or result.url,
            seen_at=self.run.now,
            canonical=dedupe.canonical_url,
            content_type=result.content_type,
        )
        header = replace(result, body=b"")  # what storing needs once the body is parsed
        if self.processes > 1 and self.parsed_here >= POOL_AFTER:
            if self.pool is None:
                # spawned, not forked: other threads are running
                self.pool = ProcessPoolExecutor(
                    self.processes, mp_context=multiprocessing.get_context("spawn")
                )
                log.info("parsing feeds in %d spawned processes", self.processes)
            future = self.pool.submit(job)
            self.waiting[future] = header, digest
            self.parsing += 1
            future.add_done_callback(on_parsed)
            return
        self.parsed_here += 1
        self._store(header, digest, job())

    def parsed(self, future: Future[feeds.Parsed]) -> None:
        """Take a worker's result."""
        self.parsing -= 1
        header, digest = self.waiting.pop(future)
        try:
            outcome = future.result()
        except Exception as exc:  # a crashed worker fails its feed, not the run
            outcome = feeds.Parsed(error=f"parser failed: {type(exc).__name__}: {exc}")
        self._store(header, digest, outcome)

    def _store(self, header: Fetched, digest: str | None, outcome: feeds.Parsed) -> None:
        if outcome.error:
            self._ready(header.url, FeedUpdate(url=header.url, state=None, error=outcome.error))
            return
        entries = outcome.entries
        limit = self.run.config.settings.max_items
        if len(entries) > limit:
            message = (
                f"{len(entries):,} items; kept the newest {limit:,} (settings.max_items), "
                "skipped the rest"
            )
            self.run.report.failures.append(Failure(stage="feed", url=header.url, message=message))
            log.warning("%s: %s", header.url, message)
            entries = tuple(feeds.newest(list(entries), limit))
        self.run.report.entries_seen += len(entries)
        log.info("%s: %d entries", header.url, len(entries))
        self._ready(
            header.url,
            FeedUpdate(
                url=header.url,
                state=FeedState(
                    url=header.url,
                    etag=header.etag,
                    last_modified=header.last_modified,
                    body_hash=digest,
                ),
                entries=entries,
            ),
        )

    def _ready(self, url: str, update: FeedUpdate) -> None:
        self.ready[self.order[url]] = update
        while self.next in self.ready:
            done = self.ready.pop(self.next)
            self.next += 1
            if done.state is None:
                self.run.report.failures.append(
                    Failure(stage="feed", url=done.url, message=done.error)
                )
                log.warning("%s: %s", done.url, done.error)
            self.batch.append(done)
            self.batch_entries += len(done.entries)
            if self.batch_entries >= BATCH_ENTRIES or len(self.batch) >= BATCH_FEEDS:
                self.flush()

    def flush(self) -> None:
        """Write what is waiting, in one transaction."""
        if not self.batch:
            return
        new, updated = self.run.store.save_feeds(self.batch, checked_at=self.run.now)
        self.run.report.entries_new += new
        self.run.report.entries_updated += updated
        self.batch, self.batch_entries = [], 0

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)


def fetch_pages(run: Run) -> None:
    """Fetch and extract the pages of recent entries whose feed text is only a teaser."""
    settings = run.config.settings
    since = run.now - _longest_window(run.config)
    todo = run.store.entries_without_page(
        shorter_than=settings.extract_below, since=since, retry_before=run.now - PAGE_RETRY
    )
    if not todo:
        return
    options = FetchOptions(
        user_agent=settings.user_agent,
        timeout=settings.timeout,
        max_bytes=settings.max_bytes,
        concurrency=settings.concurrency,
        per_host=2,
        host_delay=settings.host_delay,
        retries=settings.retries,
        truncate=True,
        accept=PAGE_ACCEPT,
        transport=run.transport,
    )
    # An entry without a link of its own has the feed's URL: its page would be the feed
    # itself, whose other items would become this entry's text; the same goes for items of
    # one feed told apart by fragment (feeds.page_url). Entries of one page share its fetch.
    by_page: dict[str, list[Entry]] = {}
    for entry in todo:
        if url := feeds.page_url(entry):
            by_page.setdefault(url, []).append(entry)
    if not by_page:
        return
    feed_hosts = {f.id: urlsplit(f.url).hostname for f in run.config.feeds}
    requests = [
        Request(
            url=url,
            allow_private=settings.allow_private_networks,
            trusted_host=feed_hosts.get(group[0].feed_id),
        )
        for url, group in by_page.items()
    ]
    advance = run.tick("Fetching articles", len(requests))
    results = fetch_all(requests, options, on_done=lambda _: advance())
    for group, result in zip(by_page.values(), results, strict=True):
        page, error = None, result.error
        if result.status == "ok":
            try:
                page = extract.extract_page(
                    result.body,
                    url=result.final_url or result.url,
                    content_type=result.content_type,
                )
            except extract.ExtractionFailed as exc:
                error = str(exc).removeprefix(f"{result.final_url or result.url}: ")
        # The page may say which article it is (its canonical URL, or where an
        # aggregator's link led): the entry is then stored as that article, one with the
        # same article reached directly or through another feed.
        found = extract.identity(page, result.url) if page is not None else ""
        for entry in group:
            stored_as = entry.canonical_url
            if page is None:
                run.report.failures.append(Failure(stage="page", url=entry.url, message=error))
            else:
                run.report.pages_fetched += 1
                if extract.is_partial(page):
                    run.report.pages_partial += 1
                if found:
                    stored_as = run.store.identify(
                        entry.canonical_url,
                        dedupe.canonical_url(found),
                        found,
                        offsite=not texts.same_site(entry.url, found),
                    )
            run.store.save_page(stored_as, page, fetched_at=run.now, error=error)


def build(
    run: Run, briefing_ids: Sequence[str] = (), *, names: Mapping[str, str] | None = None
) -> list[Built]:
    """Compose, render and write one edition of each briefing (all when none named),
    then the archive pages of every briefing.

    ``names`` gives the edition id to build for a briefing (a scheduled slot, or an
    edition being rebuilt); otherwise it is the local time of ``run.now``. The
    editor's choices and note apply. A briefing with ``review`` gets a draft; an
    approved edition that is rebuilt stays approved; one that is sending or sent
    is not rebuilt.
    """
    config = run.config
    chosen = [b for b in config.briefings if not briefing_ids or b.id in briefing_ids]
    matcher = topic_matcher(config)
    stories = gather_stories(run.store, config, now=run.now, briefings=chosen, matcher=matcher)
    run.report.stories = len(stories)
    env = render.environment(config.settings.templates)
    titles = {t.id: t.title for t in matcher.topics.values()}
    built = []
    advance = run.tick("Building editions", len(chosen))
    for briefing in chosen:
        name = (names or {}).get(briefing.id) or composing.edition_id(run.now, briefing.timezone)
        before = run.store.edition(briefing.id, name)
        if before is not None and before.status in ("sending", "sent", "failed"):
            log.warning("%s %s: already %s, not rebuilt", briefing.id, name, before.status)
            run.report.failures.append(
                Failure(stage="build", url=briefing.id, message=f"{name} already {before.status}")
            )
            advance()
            continue
        edition = composing.compose(
            briefing,
            stories,
            now=run.now,
            timezone=briefing.timezone,
            carried=run.store.carried(
                briefing.id, since=run.now - briefing.repeat_window, besides=name
            ),
            choices=run.store.choices(briefing.id),
            edition=name,
        )
        advance()
        if not edition.stories:
            log.info("%s: no new stories, no edition", briefing.id)
            run.report.without_news.append(briefing.id)
            continue
        note = run.store.note(briefing.id, name)
        edition = replace(
            edition,
            stories=tuple(analysis.with_matches(run.store, edition.stories)),
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


def render_edition(
    config: Config,
    briefing: Briefing,
    edition: Edition,
    *,
    env: Any = None,
    titles: Mapping[str, str] | None = None,
    order: Sequence[str] = (),
    sent: bool = False,
) -> render.Rendered:
    """Every file of an edition, as the build writes it, the sender sends it and the desk
    shows it. ``order`` is a PRO reader's industries: an industry weekly shows the stories
    :func:`compose.for_reader` takes for that reader (or for everyone, without), while the
    whole ``edition.json`` keeps every story the edition holds, for the sender.

    ``sent`` renders for a mailbox: links start at ``[delivery] base_url`` (which is
    ``settings.base_url`` unless set), since a link relative to the edition's folder means
    nothing there. The files written beside each other keep ``settings.base_url``.
    """
    if titles is None:
        titles = {t.id: t.title for t in topic_matcher(config).topics.values()}
    base_url = config.delivery.base_url if sent else config.settings.base_url
    layout = render.Layout.of(
        briefing,
        topic_titles=titles,
        base_url=base_url,
        upgrade_url=config.settings.upgrade_url,
    )
    shown, order = composing.for_reader(edition, briefing, order)
    if order:
        topics = order + tuple(t for t in briefing.topics if t not in order)
        layout = replace(layout, topics=topics)
    rendered = render.render(
        shown,
        env=env if env is not None else render.environment(config.settings.templates),
        timezone=briefing.timezone,
        layout=layout,
    )
    if len(shown.stories) == len(edition.stories):  # all of it shown
        return rendered
    whole = {**rendered.private, "edition.json": render.edition_json(edition)}
    return replace(rendered, private=whole)


def check_templates(config: Config, *, now: datetime) -> None:
    """Render every template as a build would, with a made-up edition of each briefing
    (free and PRO, as written and as sent), its archive and the catalogue; the first
    failure is a :class:`render.RenderError` naming the file and line."""
    env = render.environment(config.settings.templates)
    titles = {t.id: t.title for t in topic_matcher(config).topics.values()}
    listings = {}
    for briefing in config.briefings:
        edition = render.specimen(briefing, now=now)
        for sent in (False, True):
            render_edition(config, briefing, edition, env=env, titles=titles, sent=sent)
        listed = render.Listed(
            edition=edition.edition,
            title=edition.title,
            generated_at=edition.generated_at,
            stories=len(edition.stories),
            headlines=tuple(story.title for story in edition.stories[:3]),
        )
        listings[briefing.id] = [listed]
        render.archive(
            briefing,
            [listed],
            env=env,
            base_url=config.settings.base_url,
            timezone=briefing.timezone,
        )
    render.catalogue(config.briefings, listings, env=env, timezone=config.settings.timezone)


def stray_templates(config: Config) -> list[str]:
    """Files in ``settings.templates`` named like, but not as, a theme file (``web.htm``):
    the built-in file is used instead, one line each. Beside a file of the right name
    (``web.htm`` beside ``web.html``) it is not: theirs is used."""
    import difflib

    folder = config.settings.templates
    if folder is None:
        return []
    found = []
    for path in sorted(folder.iterdir()):
        if path.name in render.TEMPLATE_FILES or not path.is_file():
            continue
        close = difflib.get_close_matches(path.name, render.TEMPLATE_FILES, n=1, cutoff=0.75)
        if close and not (folder / close[0]).is_file():  # else theirs is used, not ours
            found.append(
                f"{path}: not a file of the theme (did you mean {close[0]!r}?); "
                f"the built-in {close[0]} is used"
            )
    return found


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


def write_archive(config: Config, env: Any) -> None:
    """Each briefing's index of editions and Atom feed, and the index of briefings, after
    moving what earlier versions left in the output folder out of it (:func:`secure_output`)."""
    output = config.settings.output
    if output.is_dir():
        sweep(output)
        secure_output(config, env)
    if config.settings.private.is_dir():  # what a crashed run left there too
        for folder in config.settings.private.iterdir():
            if folder.is_dir() and not folder.name.startswith("."):
                sweep(folder)
    listings = {b.id: render.edition_listing(output / b.id) for b in config.briefings}
    for briefing in config.briefings:
        folder = output / briefing.id
        if not listings[briefing.id]:
            continue
        pages = render.archive(
            briefing,
            listings[briefing.id],
            env=env,
            base_url=config.settings.base_url,
            timezone=config.settings.timezone,
        )
        for name, text in pages.items():
            write_file(folder / name, text)
    write_file(
        output / "index.html",
        render.catalogue(config.briefings, listings, env=env, timezone=config.settings.timezone),
    )


def secure_output(config: Config, env: Any = None) -> list[Path]:
    """Take every PRO file out of the output folder; return the edition folders changed.

    Versions before the private folder wrote each edition's PRO renderings (``*.pro.*``)
    and its whole ``edition.json`` beside the free files. Such an edition of a configured
    briefing is written again through :func:`publish`: its whole version goes to the
    private folder (kept when it is there already), and the output folder gets the free
    renderings, with today's teasers, and the public ``edition.json``. An edition of a
    briefing no longer configured moves to the private folder whole, since what is PRO
    in it cannot be told. Editions written since are left alone.
    """
    output = config.settings.output
    briefings = {b.id: b for b in config.briefings}
    changed: list[Path] = []
    titles: dict[str, str] = {}
    for briefing_folder in sorted(p for p in output.iterdir() if p.is_dir()):
        if briefing_folder.name.startswith("."):
            continue
        sweep(briefing_folder)
        for folder in sorted(p for p in briefing_folder.iterdir() if p.is_dir()):
            if folder.name.startswith(".") or not _holds_pro(folder):
                continue
            if not titles:
                titles = {t.id: t.title for t in topic_matcher(config).topics.values()}
            briefing = briefings.get(briefing_folder.name)
            _secure_edition(config, briefing, folder, env=env, titles=titles)
            changed.append(folder)
            log.warning("%s: PRO files moved out of the output folder", folder)
        emptied = (
            briefing_folder.name not in briefings
            and changed
            and changed[-1].parent == briefing_folder
        )
        if emptied and not any(briefing_folder.iterdir()):
            briefing_folder.rmdir()
    return changed


PRO_RENDERINGS = ("index.pro.html", "email.pro.html", "email.pro.txt")


def _holds_pro(folder: Path) -> bool:
    """Whether an edition folder in the output holds PRO files: renderings, or a whole
    ``edition.json``."""
    if any((folder / name).exists() for name in PRO_RENDERINGS):
        return True
    try:
        return render.is_whole(json.loads((folder / "edition.json").read_text(encoding="utf-8")))
    except (OSError, ValueError, AttributeError):
        return False


def _secure_edition(
    config: Config,
    briefing: Briefing | None,
    folder: Path,
    *,
    env: Any,
    titles: Mapping[str, str],
) -> None:
    """Move one edition folder's PRO files from the output to the private folder."""
    _, private = edition_folders(config, folder.parent.name, folder.name)
    make_private_root(config)
    try:
        if briefing is None:  # not ours to render again: all of it goes
            if private.exists():
                shutil.rmtree(folder)
            else:
                private.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(folder, private)  # a rename on one file system
            return
    except OSError as exc:
        raise _output_error(folder, exc) from None
    edition = None
    for text in (_text(private / "edition.json"), _text(folder / "edition.json")):
        with contextlib.suppress(ValueError, KeyError, TypeError, AttributeError):
            if text is not None and render.is_whole(json.loads(text)):
                edition = render.edition_from_json(text)
                break
    if edition is not None:
        publish(config, edition, render_edition(config, briefing, edition, env=env, titles=titles))
        return
    kept = {name: _text(private / name) for name in render.PRIVATE_FILES}
    pro = {name: text for name in PRO_RENDERINGS if (text := _text(folder / name)) is not None}
    write_edition(
        private, {**{n: t for n, t in kept.items() if t is not None}, **pro}, public=False
    )
    for name in pro:
        (folder / name).unlink()


def _text(path: Path) -> str | None:
    """The text of ``path``; None when it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def write_file(path: Path, text: str) -> None:
    """Write a whole file or nothing: a temporary file, then a rename."""
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise _output_error(path, exc) from None


def _output_error(path: Path, exc: OSError, key: str = "settings.output") -> OutputError:
    """One line naming the path, the trouble and what to do about it."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        hint = f"free some space there, or set {key} to another disk"
    elif exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        hint = f"make the folder writable, or set {key} to a writable folder"
    else:
        hint = f"check the folder named in {key}"
    return OutputError(f"{exc.filename or path}: cannot write: {exc.strerror or exc}; {hint}")


def gather_stories(
    store: Store,
    config: Config,
    *,
    now: datetime,
    briefings: Sequence[Briefing] | None = None,
    matcher: topics.Matcher | None = None,
) -> list[Story]:
    """Every kept story with an article in the longest window of ``briefings`` (all of
    the configuration's when None), after analysing the articles that are new or changed
    (:mod:`briefings.analysis`). Their topic matches are left out: :func:`build` reads
    them for the stories an edition shows.

    Only that window is read: building the 18-hour minute alone does not read a week.
    """
    since = now - _longest_window(config, briefings) - EVENT_MARGIN
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
    since = run.now - _longest_window(run.config) - EVENT_MARGIN
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


def topic_matcher(config: Config | None, *, only: set[str] | None = None) -> topics.Matcher:
    """The matcher of the built-in gazetteer plus the config's own topics (or just ``only``)."""
    own = config.topics if config is not None else ()
    every = [*topics.builtin_topics(), *map(topics.user_topic, own)]
    return topics.Matcher([t for t in every if only is None or t.id in only])


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


STAGING = ".staging-"
REPLACED = ".replaced-"
"""Prefixes of the hidden folders an edition passes through; a crash can leave them."""


def edition_folders(config: Config, briefing_id: str, edition_id: str) -> tuple[Path, Path]:
    """Where one edition's files go: (output folder, private folder)."""
    settings = config.settings
    return (
        settings.output / briefing_id / edition_id,
        settings.private / briefing_id / edition_id,
    )


def publish(
    config: Config, edition: Edition, rendered: render.Rendered, *, public: bool = True
) -> tuple[Path, Path]:
    """Write an edition's private files, then its public ones unless ``public`` is False (a
    draft); return both folders.

    The private folder comes first: an edition that readers can see always has its whole
    version beside it for sending. Only the free renderings and the public
    ``edition.json`` reach the output folder.
    """
    output, private = edition_folders(config, edition.briefing, edition.edition)
    make_private_root(config)
    private = write_edition(private, rendered.private, public=False)
    if not public:
        return output, private
    return write_edition(output, rendered.public), private


def publish_approved(config: Config, briefing_id: str, edition_id: str) -> Path:
    """Write an approved draft's public files, read back from its whole edition, and the
    archive pages that list it; return its folder in the output folder."""
    briefing = config.briefing(briefing_id)
    edition = read_edition(config, briefing_id, edition_id)
    env = render.environment(config.settings.templates)
    rendered = render_edition(config, briefing, edition, env=env)
    output, _ = edition_folders(config, briefing_id, edition_id)
    path = write_edition(output, rendered.public)
    write_archive(config, env)
    return path


def make_private_root(config: Config) -> None:
    """Create ``settings.private`` readable by its owner only, if it is missing."""
    try:
        config.settings.private.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise _output_error(config.settings.private, exc, "settings.private") from None


def read_edition(
    config: Config, briefing_id: str, edition_id: str, *, recorded: str = ""
) -> Edition:
    """The whole edition, PRO stories in full, as its build wrote it: from the private
    folder, or else from ``recorded`` (the store's path) or the output folder when an
    earlier version wrote it there and no build has moved it yet. A public
    ``edition.json`` (PRO stories as teasers) is never taken for it."""
    public, private = edition_folders(config, briefing_id, edition_id)
    places = [private, *([Path(recorded)] if recorded else []), public]
    for folder in places:
        path = folder / "edition.json"
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise BriefingsError(f"{path}: cannot read the edition: {exc.strerror}") from None
        try:
            if render.is_whole(json.loads(text)):
                return render.edition_from_json(text)
        except (ValueError, KeyError, TypeError) as exc:
            raise BriefingsError(f"{path}: not an edition.json: {exc}") from None
    raise BriefingsError(
        f"{briefing_id} {edition_id}: the whole edition is not in {private}; "
        f"rebuild it (briefings build {briefing_id})"
    )


def pro_page(
    config: Config, briefing_id: str, edition_id: str, industries: Sequence[str]
) -> str | None:
    """The PRO web page of an edition as a PRO reader with these ``industries`` gets it:
    an industry weekly holding stories of their picks is rendered for them, as their email
    is (:func:`compose.for_reader`); any other page is the one its build wrote to the
    private folder. None when there is no such edition."""
    briefing = next((b for b in config.briefings if b.id == briefing_id), None)
    if briefing is not None and briefing.format == "industry" and industries:
        try:
            edition = read_edition(config, briefing_id, edition_id)
        except BriefingsError:
            return None
        if composing.for_reader(edition, briefing, industries)[1]:
            return render_edition(config, briefing, edition, order=industries).private[
                "index.pro.html"
            ]
    _, private = edition_folders(config, briefing_id, edition_id)
    try:
        return (private / "index.pro.html").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def write_edition(folder: Path, files: dict[str, str], *, public: bool = True) -> Path:
    """Write the edition folder whole or not at all: a temporary folder, then a rename.

    An existing edition of that id is renamed aside first and deleted after, so a crash
    at any moment leaves either edition whole (the old one perhaps hidden), never a mix.
    A ``public`` folder is made readable by all, for publishing; a private one stays
    its owner's.
    """
    staging: Path | None = None
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        sweep(folder.parent)
        staging = Path(tempfile.mkdtemp(prefix=f"{STAGING}{folder.name}-", dir=folder.parent))
        if public:
            staging.chmod(0o755)  # mkdtemp makes it private; an edition is for publishing
        for name, text in files.items():
            (staging / name).write_text(text, encoding="utf-8")
        old = None
        if folder.exists():
            old = Path(tempfile.mkdtemp(prefix=f"{REPLACED}{folder.name}-", dir=folder.parent))
            folder.replace(old / folder.name)
        staging.rename(folder)
        staging = None
        if old is not None:
            shutil.rmtree(old)
    except OSError as exc:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        raise _output_error(
            folder, exc, "settings.output" if public else "settings.private"
        ) from None
    return folder


def sweep(folder: Path) -> None:
    """Remove what a crashed run left in a briefing's folder: staging and replaced
    edition folders, and temporary files. Runs hold the store's lock, so none is live."""
    for path in folder.glob(".*"):
        if path.is_dir() and path.name.startswith(REPLACED):
            for kept in path.iterdir():  # the run stopped between the two renames
                if not (folder / kept.name).exists():
                    kept.rename(folder / kept.name)
        if path.is_dir() and path.name.startswith((STAGING, REPLACED)):
            shutil.rmtree(path, ignore_errors=True)
        elif path.is_file() and path.name.endswith(".tmp"):
            path.unlink(missing_ok=True)


def _longest_window(config: Config, briefings: Sequence[Briefing] | None = None) -> timedelta:
    chosen = config.briefings if briefings is None else briefings
    return max((b.window for b in chosen), default=timedelta(days=1))


@dataclass(slots=True, kw_only=True)
class SendReport:
    """What one sending of one edition did."""

    briefing: str
    edition: str = ""
    sent: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    already: int = 0
    in_doubt: list[str] = field(default_factory=list)
    """Messages a stopped run was sending: held back, as they may have gone out."""
    prepared: int = 0
    skipped_reason: str = ""


def send_edition(
    config: Config,
    store: Store,
    briefing_id: str,
    *,
    senders: Callable[[], deliver.Sender],
    secret: bytes,
    connections: int = 1,
    now: datetime,
    to: str | None = None,
    dry_run: bool = False,
    resend: bool = False,
    edition_name: str | None = None,
) -> SendReport:
    """Send the latest edition of a briefing to its active subscribers, each once.

    The ledger records every message as *sending* before it goes and *sent* or
    *failed* after, each in its own transaction; a run that stops half-way and
    starts again sends only what is left. A message caught in flight by the stop
    is held back as *in doubt* rather than risk sending it twice (with several
    ``connections``, up to one per connection); ``resend`` clears the ledger.
    ``to`` sends one test message and records nothing. ``senders`` makes one
    sender per connection. ``edition_name`` picks an edition other than the latest.

    A message is marked *sending* only once its connection is open and logged in;
    one that never left (no connection, a refused login) is unmarked, and the run
    stops with a :class:`deliver.DeliveryError`. A message that cannot be made (a
    control character in a name) fails its subscriber only.

    Through SMTP, nothing is sent (a test neither) without a base URL: the links would be
    relative, which means nothing in a mailbox (:class:`ConfigError`).

    A draft is not sent (but a test message is); the edition's status goes to
    *sending*, then *sent* when every message is sent or failed for good, or *failed*
    when some are left (no connection) or in doubt.
    """
    if not dry_run and config.delivery.method == "smtp" and config.unlinked_mail():
        raise ConfigError([config.unlinked_mail()])
    briefing = config.briefing(briefing_id)
    report = SendReport(briefing=briefing_id)
    if edition_name is None:
        latest = store.latest_edition(briefing_id)
        if latest is None:
            raise BriefingsError(f"{briefing_id}: no edition has been built yet (run build first)")
        edition_name = latest[0]
    record_of = store.edition(briefing_id, edition_name)
    if record_of is None:
        raise BriefingsError(f"{briefing_id}: there is no edition {edition_name}")
    report.edition = edition_name
    if record_of.status == "draft" and to is None and not dry_run:
        raise BriefingsError(
            f"{briefing_id} {edition_name}: a draft awaiting review; approve it first "
            f"(briefings approve {briefing_id}, or the desk)"
        )
    edition = read_edition(config, briefing_id, edition_name, recorded=record_of.path)
    if to is None and len(edition.stories) < briefing.min_stories:
        report.skipped_reason = (
            f"{len(edition.stories)} stories, fewer than min_stories = {briefing.min_stories}"
        )
        if not dry_run:
            store.move_edition(
                briefing_id, edition_name, "skipped", expected=("approved", "sending"), now=now
            )
        return report
    if to is not None:
        recipients = [Subscriber(email=to, tier="pro", briefings=(briefing_id,))]
    else:
        recipients = store.list_subscribers(briefing=briefing_id, status="active")
    if resend and to is None and not dry_run:
        store.forget_deliveries(briefing_id, report.edition)
    ledger = {} if to is not None else store.ledger(briefing_id, report.edition)
    if PRUNED in ledger:
        raise BriefingsError(
            f"{briefing_id} {edition_name}: sent long ago, and who got it was pruned from the "
            "store (settings.retention); --resend sends it to every subscriber again"
        )
    bodies = _Bodies(config, briefing, edition)
    tz = briefing.timezone
    record = to is None
    lock = threading.Lock()
    local = threading.local()
    opened: list[deliver.Sender] = []
    stop = threading.Event()  # a connection failed: send nothing more

    def deliver_one(email: str, message: deliver.Prepared) -> None:
        if stop.is_set():
            return
        try:
            sender = getattr(local, "sender", None)
            if sender is None:
                sender = local.sender = senders()
                with lock:
                    opened.append(sender)
            sender.open()  # connected and logged in before the message counts as in flight
            if record:
                store.mark_delivery(briefing_id, report.edition, email, "sending", now=now)
            try:
                outcome = sender.send(message)
            except deliver.NotSent:
                if record:  # it never left: a later run sends it
                    store.forget_deliveries(briefing_id, report.edition, email)
                raise
        except deliver.DeliveryError:
            stop.set()
            raise
        if record:
            store.mark_delivery(
                briefing_id, report.edition, email, outcome.status, now=now, error=outcome.error
            )
        with lock:
            if outcome.status == "sent":
                report.sent += 1
            else:
                report.failed.append((email, outcome.error))

    def refuse(email: str, error: str) -> None:
        """A message that cannot be made fails its subscriber only."""
        if record and not dry_run:
            store.mark_delivery(briefing_id, report.edition, email, "failed", now=now, error=error)
        with lock:
            report.failed.append((email, error))

    workers = max(1, connections)
    slots = threading.Semaphore(workers * 2)  # build messages only a little ahead of sending
    tracked = record and not dry_run
    if tracked:
        store.move_edition(
            briefing_id,
            edition_name,
            "sending",
            expected=("approved", "sending", "sent", "failed"),
            now=now,
        )
    finished = False
    try:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="send") as pool:
            pending = []
            for subscriber in recipients:
                if stop.is_set():
                    break
                state = ledger.get(subscriber.email.lower())
                if state in ("sent", "failed"):
                    report.already += 1
                    continue
                if state == "sending":
                    report.in_doubt.append(subscriber.email)
                    continue
                html, text = bodies.of(subscriber)
                try:
                    message = deliver.message(
                        edition=edition,
                        briefing=briefing,
                        subscriber=subscriber,
                        html=html,
                        text=text,
                        delivery=config.delivery,
                        secret=secret,
                        timezone=tz,
                        now=now,
                        test=to is not None,
                    )
                except deliver.DeliveryError as exc:
                    refuse(subscriber.email, str(exc).removeprefix(f"{subscriber.email}: "))
                    continue
                report.prepared += 1
                if dry_run:
                    continue
                slots.acquire()
                job = pool.submit(deliver_one, subscriber.email, message)
                job.add_done_callback(lambda _: slots.release())
                pending.append(job)
            for job in pending:
                job.result()  # a crash in a worker is a crash of the run
        finished = not report.in_doubt
    finally:
        for sender in opened:
            sender.close()
        if tracked:
            # sent: everyone was tried, and each message is sent or failed for good; failed:
            # some are left (no connection) or in doubt, and a later send takes them up
            store.move_edition(
                briefing_id,
                edition_name,
                "sent" if finished else "failed",
                expected=("sending",),
                now=now,
            )
    return report


class _Bodies:
    """The email bodies a subscriber gets: free or PRO, and for PRO industry weeklies only
    the subscriber's industries, in their order (:func:`compose.for_reader`; rendered once
    per distinct order)."""

    def __init__(self, config: Config, briefing: Briefing, edition: Edition) -> None:
        self.config, self.briefing, self.edition = config, briefing, edition
        self.env = render.environment(config.settings.templates)
        self.titles = {t.id: t.title for t in topic_matcher(config).topics.values()}
        self.cache: dict[tuple[str, ...], tuple[str, str]] = {}

    def of(self, subscriber: Subscriber) -> tuple[str, str]:
        tier = "pro" if subscriber.tier == "pro" else "free"
        picks = subscriber.industries if tier == "pro" else ()
        _, order = composing.for_reader(self.edition, self.briefing, picks)
        key = (tier, *order)
        if key not in self.cache:
            files = render_edition(
                self.config,
                self.briefing,
                self.edition,
                env=self.env,
                titles=self.titles,
                order=order,
                sent=True,
            )
            made = files.private if tier == "pro" else files.public
            suffix = ".pro" if tier == "pro" else ""
            self.cache[key] = (made[f"email{suffix}.html"], made[f"email{suffix}.txt"])
        return self.cache[key]


def make_sender(config: Config) -> deliver.Sender:
    """The sender ``[delivery]`` asks for; with several connections, each gets its share
    of ``rate``."""
    if config.delivery.method == "outbox":
        return deliver.OutboxSender(
            config.delivery.outbox, dkim=deliver.dkim_settings(config.delivery)
        )
    share = replace(
        config.delivery, rate=config.delivery.rate / max(1, config.delivery.connections)
    )
    return deliver.SmtpSender(share, dkim=deliver.dkim_settings(config.delivery))
