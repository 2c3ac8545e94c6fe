"""The one orchestrator: runs the stages in order and keeps per-item failures.

``fetch`` pulls feeds and article pages into the store; ``build`` turns what
the store holds into editions on disk. Neither raises for a bad feed or page:
each lands in the :class:`RunReport` and the rest carries on.
"""

from __future__ import annotations

import contextlib
import fcntl
import multiprocessing
import os
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from ..config import Briefing, Config
from ..errors import FetchError, StoreError
from ..fetch import (
    FEED_ACCEPT,
    PAGE_ACCEPT,
    FetchOptions,
    Request,
    body_hash,
    fetch_all,
    fetch_each,
)
from ..model import (
    Article,
    Edition,
    Entry,
    Failure,
    Feed,
    FeedState,
    Fetched,
    RunReport,
    Story,
    TopicMatch,
)
from ..store import FeedUpdate, Store
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
from .send import SendReport as SendReport
from .send import make_sender as make_sender
from .send import reader_files as reader_files
from .send import send_edition as send_edition
from .stages import analysis, composing, dedupe, extract, feeds, log, render, texts, topics
from .stages import topic_matcher as topic_matcher

if TYPE_CHECKING:
    import httpx

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
    states = run.store.feed_states(f.url for f in run.config.feeds)
    wanted = [f for f in run.config.feeds if not _left_alone(run, states.get(f.url))]
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
            # A feed is trusted on its own host only: a redirect elsewhere is checked as
            # an article link is, so a feed cannot send the fetcher to 169.254.169.254.
            requests = [
                Request(
                    url=f.url,
                    state=states.get(f.url),
                    allow_private=settings.allow_private_networks,
                    trusted_host=urlsplit(f.url).hostname,
                )
                for f in wanted
            ]
            fetch_each(requests, options, events.put)
        except BaseException as exc:  # handed to the main thread, which raises it
            crashed.append(exc)
        finally:
            events.put(None)

    ingest = _Ingest(run, wanted, states, processes=worker_count(settings.processes))
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
    run.report.feeds += len(run.config.feeds)


def _left_alone(run: Run, state: FeedState | None) -> bool:
    """Whether a feed's server asked not to be asked again yet (its last ``Retry-After``):
    the feed is then not fetched, and the run says so."""
    if state is None or state.wait_until is None or state.wait_until <= run.now:
        return False
    zone = ZoneInfo(run.config.settings.timezone)
    until = f"{state.wait_until.astimezone(zone):%Y-%m-%d %H:%M} {zone.key}"
    message = f"not fetched: its server asked not to be asked again before {until} (Retry-After)"
    run.report.failures.append(Failure(stage="feed", url=state.url, message=message))
    log.warning("%s: %s", state.url, message)
    return True


LONGEST_WAIT = timedelta(days=1)
"""The longest ``Retry-After`` a feed is left alone for: a server asking for a week is more
likely misconfigured than meaning it, and its stories would be gone from every edition."""
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

    def __init__(
        self, run: Run, wanted: Sequence[Feed], states: dict[str, FeedState], *, processes: int
    ) -> None:
        self.run = run
        self.states = states
        self.processes = processes
        self.order = {f.url: n for n, f in enumerate(wanted)}
        self.ids = {f.url: f.id for f in wanted}
        self.pool: ProcessPoolExecutor | None = None
        if processes > 1 and len(wanted) > POOL_AFTER and _can_fork():
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
            wait = None
            if result.retry_after:
                wait = self.run.now + min(timedelta(seconds=result.retry_after), LONGEST_WAIT)
            update = FeedUpdate(url=result.url, state=None, error=result.error, wait_until=wait)
            self._ready(result.url, update)
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
    earliest = min([run.now, *(slots or {}).values()])
    stories = gather_stories(run.store, config, now=earliest, briefings=chosen, matcher=matcher)
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
        slot = (slots or {}).get(briefing.id)
        opens = composing.window_start(slot or run.now, briefing.window, briefing.timezone)
        edition = composing.compose(
            briefing,
            stories,
            now=run.now,
            timezone=briefing.timezone,
            # what the editions since the window opened carried, at least
            carried=run.store.carried(
                briefing.id, since=min(run.now - briefing.repeat_window, opens), besides=name
            ),
            choices=run.store.choices(briefing.id),
            edition=name,
            slot=slot,
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


def _longest_window(config: Config, briefings: Sequence[Briefing] | None = None) -> timedelta:
    chosen = config.briefings if briefings is None else briefings
    return max((b.window for b in chosen), default=timedelta(days=1))
