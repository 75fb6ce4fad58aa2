"""One thread that reads the store for every page, keeping its connection for a moment.

Opening a DuckDB connection costs tens of milliseconds on an idle machine and a few hundred on
a busy one, more than the queries of a page. The store never keeps a connection open (other
processes take turns through its lock, see docs/store.md), so this reader keeps one only
briefly: it is reused by the requests that follow within ``idle`` seconds, and always closed
after ``hold`` seconds, so a writer in another process waits at most about that long.
All work runs in this one thread: the store's thread lock and its nested connections stay
consistent, and DuckDB work is serialised as it would be anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import duckdb

T = TypeVar("T")


class StoreReader:
    def __init__(self, store: Any, hold: float = 1.0, idle: float = 0.25) -> None:
        self.store = store
        self.hold = hold
        self.idle = idle
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ashyq-store")
        self._context: contextlib.AbstractContextManager[duckdb.DuckDBPyConnection] | None = None
        self._con: duckdb.DuckDBPyConnection | None = None
        self._opened = 0.0
        self._last = 0.0
        self._pending = 0
        self._guard = threading.Lock()

    # ---- in the reader thread
    def _open(self) -> duckdb.DuckDBPyConnection:
        now = time.monotonic()
        if self._con is not None and now - self._opened > self.hold:
            self._close()
            time.sleep(0.05)  # let a writer waiting on the store lock (it polls) get in
            now = time.monotonic()
        if self._con is None:
            context = self.store.connect()
            self._con = context.__enter__()
            self._context = context
            self._opened = now
        return self._con

    def _close(self) -> None:
        context, self._context, self._con = self._context, None, None
        if context is not None:
            context.__exit__(None, None, None)

    def _job(self, work: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        try:
            con = self._open()
            try:
                return work(con)
            except duckdb.Error:
                self._close()  # e.g. the file was swapped by a rebuild: reopen next time
                raise
        finally:
            self._last = time.monotonic()
            with self._guard:
                self._pending -= 1
                nobody_waits = self._pending == 0
            if nobody_waits and self.idle <= 0:
                self._close()

    def _close_if_idle(self) -> None:
        with self._guard:
            busy = self._pending > 0
        if not busy and time.monotonic() - self._last >= self.idle * 0.9:
            self._close()

    # ---- from the event loop
    async def run(self, work: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """Run ``work(con)`` in the reader thread with a read-only store connection."""
        loop = asyncio.get_running_loop()
        with self._guard:
            self._pending += 1
        try:
            return await loop.run_in_executor(self._executor, self._job, work)
        finally:
            if self.idle > 0:
                loop.call_later(self.idle, self._schedule_close)

    def _schedule_close(self) -> None:
        with contextlib.suppress(RuntimeError):  # the executor was shut down
            self._executor.submit(self._close_if_idle)

    def shutdown(self) -> None:
        with contextlib.suppress(RuntimeError):
            self._executor.submit(self._close).result(timeout=30)
        self._executor.shutdown(wait=True)
