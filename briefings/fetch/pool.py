"""Fetching many requests: :func:`fetch_all` and :func:`fetch_each` over the adaptive pool of
daemon threads (:func:`_fetch_all`), and politeness per host (:class:`_Politeness`)."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence

import httpx

from ..model import Fetched
from .addresses import _host
from .bodies import ACCEPT_ENCODING
from .client import _Client, fetch_one
from .failures import _error
from .options import FetchOptions, Request
from .transport import Transport


def fetch_all(
    requests: Sequence[Request],
    options: FetchOptions,
    on_done: Callable[[Fetched], None] | None = None,
) -> list[Fetched]:
    """Get every request concurrently; results come back in the order of ``requests``.

    ``on_done`` is called with each result as it arrives, from a fetching thread.
    """
    results: list[Fetched] = [_error(r.url, "not fetched") for r in requests]

    def done(index: int, result: Fetched) -> None:
        results[index] = result
        if on_done is not None:
            on_done(result)

    _fetch_all(requests, options, done)
    return results


def fetch_each(
    requests: Sequence[Request],
    options: FetchOptions,
    on_done: Callable[[Fetched], None],
    stop: threading.Event | None = None,
) -> None:
    """Get every request concurrently, handing each result to ``on_done`` as it arrives
    (from a fetching thread, so ``on_done`` must be thread-safe).

    Nothing is kept here, so a body is freed as soon as ``on_done`` lets go of it.
    """
    _fetch_all(requests, options, lambda _, result: on_done(result), stop)


GROW_AFTER = 0.02
"""Seconds every fetching thread must have waited on its request before another starts."""


class _Politeness:
    """At most ``per_host`` requests at a time per host, started ``delay`` seconds apart."""

    def __init__(self, per_host: int, delay: float) -> None:
        self.per_host = per_host
        self.delay = delay
        self.lock = threading.Lock()
        self.slots: dict[str, threading.Semaphore] = {}
        self.turns: dict[str, threading.Lock] = {}
        self.last: dict[str, float] = {}

    def slot(self, host: str) -> threading.Semaphore:
        with self.lock:
            found = self.slots.get(host)
            if found is None:
                found = self.slots[host] = threading.Semaphore(self.per_host)
            return found

    def wait_turn(self, host: str) -> None:
        if self.delay <= 0:
            return
        with self.lock:
            turn = self.turns.setdefault(host, threading.Lock())
        with turn:
            wait = self.last.get(host, 0.0) + self.delay - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self.last[host] = time.monotonic()


def _fetch_all(
    requests: Sequence[Request],
    options: FetchOptions,
    done: Callable[[int, Fetched], None],
    stop: threading.Event | None = None,
) -> None:
    """Fetch in up to ``options.concurrency`` threads, each taking the next request when free.

    One thread starts; another joins only when every running one has waited on its
    current request for ``GROW_AFTER`` or longer. Servers that answer at once (a poll of
    unchanged feeds, a local mirror) are then served by one thread with no GIL hand-overs
    between threads, and slow ones still get the whole pool within a few tenths of a
    second. httpx's synchronous transport in threads, rather than its asyncio client: per
    request it costs half the CPU (no asyncio, anyio or their per-call bookkeeping), and a
    poll of unchanged feeds is mostly that per-request cost. The threads are daemons, so
    a process told to stop never waits for a slow server: once ``stop`` is set (by the
    caller, or here when the wait is interrupted) no thread starts another request.
    """
    if not requests:
        return
    stop = stop or threading.Event()
    todo: queue.SimpleQueue[tuple[int, Request]] = queue.SimpleQueue()
    for item in enumerate(requests):
        todo.put(item)
    polite = _Politeness(options.per_host, options.host_delay)
    limits = httpx.Limits(
        max_connections=options.concurrency, max_keepalive_connections=options.concurrency
    )
    crashed: list[BaseException] = []
    owned = options.transport is None
    transport = options.transport or Transport(limits=limits)
    client = _Client(
        transport=transport,
        headers=httpx.Headers(
            {
                "User-Agent": options.user_agent,
                "Accept": options.accept,
                "Accept-Encoding": ACCEPT_ENCODING,
            }
        ),
        timeout=httpx.Timeout(options.timeout).as_dict(),
    )
    waiting: list[float | None] = []  # per thread: since when it waits on a request
    drained = threading.Event()
    try:

        def work(n: int) -> None:
            try:
                while not stop.is_set():
                    try:
                        index, request = todo.get_nowait()
                    except queue.Empty:
                        break
                    waiting[n] = time.monotonic()
                    with polite.slot(_host(request.url)):
                        result = fetch_one(client, request, options, polite)
                    waiting[n] = None
                    done(index, result)
            except BaseException as exc:  # handed to the calling thread, which raises it
                crashed.append(exc)
            finally:
                drained.set()

        threads: list[threading.Thread] = []

        def start() -> None:
            waiting.append(None)
            thread = threading.Thread(
                target=work, args=(len(threads),), name=f"fetch-{len(threads)}", daemon=True
            )
            threads.append(thread)
            thread.start()

        start()
        most = min(options.concurrency, len(requests))
        while len(threads) < most and not drained.wait(GROW_AFTER):
            now = time.monotonic()
            if all(since is not None and now - since >= GROW_AFTER for since in waiting):
                start()
        for thread in threads:
            thread.join()
    except BaseException:  # Ctrl-C in the wait: no new request; those under way are left
        stop.set()
        raise
    finally:
        if owned:
            transport.close()
    if crashed:
        raise crashed[0]
