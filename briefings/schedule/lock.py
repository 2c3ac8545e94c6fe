"""The lock a running scheduler holds on its store (:func:`lock_path`), and who holds it
(:func:`holder`)."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from .. import pipeline
from ..config import Config
from ..errors import StoreError


def lock_path(config: Config) -> Path:
    """The file a running scheduler holds locked, beside the store's run lock."""
    run = pipeline.lock_path(config)
    return run.with_name(run.name.removesuffix(".lock") + ".schedule.lock")


def holder(config: Config) -> str | None:
    """The pid of the ``briefings schedule`` running on this store (``"unknown"`` when it
    wrote none), or None when none runs. Creates nothing."""
    try:
        handle = os.open(lock_path(config), os.O_RDONLY)
    except OSError:
        return None  # never started here, or unreadable: as good as none
    try:
        fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return os.pread(handle, 32, 0).decode("ascii", "replace").strip() or "unknown"
    finally:
        os.close(handle)  # closing drops a lock taken
    return None


def _hold(path: Path) -> int:
    """Lock ``path`` for as long as this process keeps the returned descriptor open."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StoreError(f"{path}: cannot create the lock file: {exc.strerror}") from None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(handle, 32, 0).decode("ascii", "replace").strip()
        os.close(handle)
        raise StoreError(
            f"{path}: another briefings schedule (pid {holder or 'unknown'}) runs on this "
            "database; stop it first"
        ) from None
    os.ftruncate(handle, 0)
    os.pwrite(handle, f"{os.getpid()}\n".encode(), 0)
    return handle
