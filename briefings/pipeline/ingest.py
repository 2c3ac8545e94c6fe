"""Ingest: feeds and article pages fetched into the store, downloads, parsing (in worker
processes when there are many) and storing overlapping."""

from __future__ import annotations

import multiprocessing
import os
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import replace
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from ..errors import shown_url
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
    Entry,
    Failure,
    Feed,
    FeedState,
    Fetched,
)
from ..store import FeedUpdate
from .stages import dedupe, extract, feeds, log, texts

if TYPE_CHECKING:
    pass

from .running import Run, _worker_start, interrupts_held, longest_window

PAGE_RETRY = timedelta(hours=6)
"""How long a page that could not be fetched or read waits before it is tried again."""


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
    stop = threading.Event()

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
            fetch_each(requests, options, events.put, stop)
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
    except BaseException:
        # Ctrl-C, or a crash here: no request starts after this, and the download
        # threads, daemons, are not waited for (a slow server would hold the exit).
        stop.set()
        raise
    finally:
        if not stop.is_set():
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
    log.warning("%s: %s", shown_url(state.url), message)
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
        self.zones = {f.url: f.timezone for f in wanted}
        self.pool: ProcessPoolExecutor | None = None
        self.pool_forked = False
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
            self.pool_forked = True
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
            moved = shown_url(result.moved_to)
            message = f"moved permanently to {moved}; put that URL in feeds.toml"
            self.run.report.failures.append(Failure(stage="feed", url=result.url, message=message))
            log.warning("%s: %s", shown_url(result.url), message)
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
            zone=self.zones[result.url],
        )
        header = replace(result, body=b"")  # what storing needs once the body is parsed
        if self.processes > 1 and self.parsed_here >= POOL_AFTER:
            if self.pool is None:
                # spawned, not forked: other threads are running
                self.pool = ProcessPoolExecutor(
                    self.processes,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_worker_start,
                )
                log.info("parsing feeds in %d spawned processes", self.processes)
            if self.pool_forked:
                future = self.pool.submit(job)
            else:
                # A submission may spawn a worker. Only then is SIGINT held back: while it
                # is, a Ctrl-C goes to another thread and may reach the run late, or never.
                with interrupts_held():
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
            log.warning("%s: %s", shown_url(header.url), message)
            entries = tuple(feeds.newest(list(entries), limit))
        self.run.report.entries_seen += len(entries)
        log.info("%s: %d entries", shown_url(header.url), len(entries))
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
                log.warning("%s: %s", shown_url(done.url), done.error)
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
    since = run.now - longest_window(run.config)
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
