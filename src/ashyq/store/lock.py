"""Who may open the DuckDB file, and how.

DuckDB lets one process open a file read-write, or several processes open it read-only, never
both at once. ashyq therefore never keeps the database open: every use is a short connection
taken under an advisory lock on ``DATA/store.lock`` — shared for readers, exclusive for
writers — so the collector, the web server and CLI commands can all run at the same time and
simply take turns. Within one process a re-entrant thread lock serialises connections (DuckDB
refuses two connections with different read-only settings to one file in one process).
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class StoreBusy(RuntimeError):
    """The store stayed locked by another process for longer than the timeout."""


_THREAD_LOCKS: dict[str, threading.RLock] = {}
_GUARD = threading.Lock()
_DEPTH = threading.local()  # per thread: {lock path: nesting depth}


def _thread_lock(path: Path) -> threading.RLock:
    key = str(path.resolve())
    with _GUARD:
        lock = _THREAD_LOCKS.get(key)
        if lock is None:
            lock = _THREAD_LOCKS[key] = threading.RLock()
        return lock


class StoreLock:
    def __init__(self, path: Path, timeout: float = 120.0) -> None:
        self.path = path
        self.timeout = timeout
        self._tlock = _thread_lock(path)
        self._key = str(path.resolve())

    def _depths(self) -> dict[str, int]:
        depths = getattr(_DEPTH, "map", None)
        if depths is None:
            depths = _DEPTH.map = {}
        return depths

    def held(self) -> bool:
        """Whether this thread already holds the file lock (of any StoreLock on this path)."""
        return self._depths().get(self._key, 0) > 0

    @contextmanager
    def hold(self, exclusive: bool) -> Iterator[None]:
        depths = self._depths()
        depth = depths.get(self._key, 0)
        with self._tlock:
            if depth:  # re-entered in the same thread: the outer hold already has the file lock
                depths[self._key] = depth + 1
                try:
                    yield
                finally:
                    depths[self._key] = depth
                return
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
                deadline = time.monotonic() + self.timeout
                while True:
                    try:
                        fcntl.flock(fd, mode | fcntl.LOCK_NB)
                        break
                    except BlockingIOError:
                        if time.monotonic() > deadline:
                            raise StoreBusy(
                                f"the store at {self.path.parent} is busy (locked by another "
                                f"process for more than {self.timeout:.0f} s)"
                            ) from None
                        time.sleep(0.02)
                depths[self._key] = 1
                try:
                    yield
                finally:
                    depths[self._key] = 0
                    fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)
