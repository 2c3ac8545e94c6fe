"""A run's state and surroundings: the :class:`Run` every stage is given, the store it
opens, and the lock that keeps two runs of one configuration apart."""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from ..config import Briefing, Config
from ..errors import StoreError
from ..model import (
    Edition,
    RunReport,
)
from ..store import Store

if TYPE_CHECKING:
    import httpx


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


@contextmanager
def interrupts_held() -> Iterator[None]:
    """Hold back SIGINT from the calling thread while it may start worker processes: a
    process started now inherits the blocked signal, so Ctrl-C does not interrupt a
    spawned worker while it imports, before :func:`_worker_start` can ignore it. A Ctrl-C
    meanwhile reaches this process once the block is lifted."""
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


def _worker_start() -> None:
    """In a worker: close the inherited run-lock descriptors (a lock lasts while any
    process has it open, so a worker outliving a killed run would otherwise hold it), leave
    Ctrl-C to the parent, and on Linux ask to die with the parent.

    A terminal's Ctrl-C interrupts every process of its group: the parent stops the run
    and the pool, while a worker interrupted too would print a traceback of its own.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for handle in list(_HELD):
        with contextlib.suppress(OSError):
            os.close(handle)
    _HELD.clear()
    if sys.platform == "linux":
        with contextlib.suppress(OSError, AttributeError):
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def longest_window(config: Config, briefings: Sequence[Briefing] | None = None) -> timedelta:
    """The longest window of ``briefings`` (all of them by default): how far back a run
    reads."""
    chosen = config.briefings if briefings is None else briefings
    return max((b.window for b in chosen), default=timedelta(days=1))
