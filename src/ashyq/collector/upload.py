"""A probe's upload queue: measurements wait on disk until the collector has them.

``UploadQueue(queue_dir, collector_url, token=None)``

* ``put(measurement)`` writes the measurement to ``queue_dir/pending/`` (temporary file, fsync,
  rename, fsync of the directory) before it returns: from then on a crash, a reboot or a cut
  network cannot lose it.
* ``drain(deadline=None)`` uploads what waits, in batches, to the collector's batch endpoint;
  a file is deleted only after the collector acknowledged it (which it does once the
  measurement is durable on its side). When the collector cannot be reached, or answers 5xx or
  429, it waits with exponential backoff (0.5 s doubling to 60 s, with jitter) and retries
  until ``deadline``. A measurement the collector rejects as invalid is moved to
  ``queue_dir/rejected/`` with the reason, never dropped silently.

Measurements are sent unchanged, so one uploaded days late keeps its own
``measurement_start_time`` and lands on its own day in the collector's archive and tables.
"""

from __future__ import annotations

import fcntl
import json
import os
import random
import secrets
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BATCH = 500
MAX_BACKOFF = 60.0


@dataclass
class DrainResult:
    uploaded: int = 0  # acknowledged as added
    duplicate: int = 0  # acknowledged as already stored
    rejected: int = 0  # refused as invalid (moved to rejected/)
    remaining: int = 0  # still waiting in the queue
    attempts: int = 0  # HTTP requests made
    last_error: str | None = None

    @property
    def done(self) -> bool:
        return self.remaining == 0


class UploadQueue:
    def __init__(self, queue_dir: Path, collector_url: str, token: str | None = None) -> None:
        self.dir = Path(queue_dir)
        self.pending = self.dir / "pending"
        self.rejected = self.dir / "rejected"
        self.pending.mkdir(parents=True, exist_ok=True)
        url = collector_url.rstrip("/")
        self.url = url if url.endswith("/api/v1/measurements") else url + "/api/v1/measurements"
        self.token = token
        self._seq = 0

    # ------------------------------------------------------------------ put
    def put(self, measurement: dict[str, Any]) -> None:
        """Queue one measurement; durable on disk when this returns."""
        blob = json.dumps(measurement, ensure_ascii=False, separators=(",", ":")).encode()
        self._seq += 1
        name = f"{time.time_ns():020d}-{os.getpid()}-{self._seq:06d}-{secrets.token_hex(3)}"
        tmp = self.pending / f".{name}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, blob)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.rename(tmp, self.pending / f"{name}.json")
        dfd = os.open(self.pending, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)

    def __len__(self) -> int:
        return len(self._files())

    def _files(self) -> list[Path]:
        return sorted(self.pending.glob("*.json"))

    # ------------------------------------------------------------------ drain
    def _post(self, items: list[dict[str, Any]]) -> tuple[int, Any]:
        body = json.dumps({"measurements": items}, ensure_ascii=False).encode()
        req = urllib.request.Request(self.url, data=body, method="POST")
        req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                return resp.status, json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as exc:
            try:
                payload = json.loads(exc.read() or b"{}")
            except (json.JSONDecodeError, OSError):
                payload = {}
            return exc.code, payload

    def drain(self, deadline: float | None = None) -> DrainResult:
        """Upload everything queued. ``deadline`` is a ``time.time()`` at which to give up
        (a value below 10**9 is taken as seconds from now); None: until the queue is empty."""
        if deadline is not None and deadline < 1e9:
            deadline = time.time() + deadline
        result = DrainResult()
        lock = open(self.dir / "drain.lock", "a")  # noqa: SIM115 - held for the whole drain
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            self._drain(result, deadline)
        finally:
            lock.close()
        result.remaining = len(self._files())
        return result

    def _drain(self, result: DrainResult, deadline: float | None) -> None:
        backoff = 0.5
        batch = BATCH
        while True:
            files = self._files()[:batch]
            if not files:
                return
            items: list[dict[str, Any]] = []
            kept: list[Path] = []
            for f in files:
                try:
                    items.append(json.loads(f.read_bytes()))
                    kept.append(f)
                except (OSError, json.JSONDecodeError) as exc:
                    self._reject(f, f"unreadable in the queue: {exc}")
                    result.rejected += 1
            if not items:
                continue
            result.attempts += 1
            try:
                status, payload = self._post(items)
            except (OSError, urllib.error.URLError, json.JSONDecodeError) as exc:
                status, payload = 0, {"error": str(exc)}
            if status == 200 and isinstance(payload.get("results"), list):
                backoff = 0.5
                for r in payload["results"]:
                    f = kept[int(r["index"])]
                    if r["status"] == "added":
                        result.uploaded += 1
                        f.unlink(missing_ok=True)
                    elif r["status"] == "duplicate":
                        result.duplicate += 1
                        f.unlink(missing_ok=True)
                    else:
                        result.rejected += 1
                        self._reject(f, str(r.get("error")))
                continue
            result.last_error = (
                f"HTTP {status}: {payload.get('error')}" if status else str(payload.get("error"))
            )
            if status == 413 and batch > 1:
                batch = max(1, batch // 2)
                continue
            if status in (401, 403):
                return  # a bad token does not get better by retrying; the queue keeps all
            if deadline is not None and time.time() + backoff > deadline:
                return
            time.sleep(backoff * (0.75 + random.random() / 2))
            backoff = min(MAX_BACKOFF, backoff * 2)

    def _reject(self, f: Path, reason: str) -> None:
        self.rejected.mkdir(parents=True, exist_ok=True)
        target = self.rejected / f.name
        os.replace(f, target)
        target.with_suffix(".reason.txt").write_text(reason + "\n")
