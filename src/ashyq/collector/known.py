"""Which measurement uids are already stored, in bounded memory (the collector's de-duplication).

Keeping every stored uid as a string costs about 100 bytes each (1 GB per 10 million). Instead:

* uids archived by this process and not yet loaded into the tables are kept in full, in
  *generations*: the current one, and those sealed when a load of the archive began;
* once a load that began after a generation was sealed has finished, that generation's uids are
  in the ``measurements`` table, and only an 8-byte hash of each is kept, in sorted arrays
  (``array('Q')``, merged like a binary counter so that there are O(log n) of them);
* a uid whose hash is found there is confirmed on the full uid in the table, so that a hash
  collision can never make a distinct measurement look like a duplicate.

The hash is Python's keyed string hash (SipHash, with a random key per process); it is never
stored, so the index is rebuilt from the table at start-up.
"""

from __future__ import annotations

import heapq
import threading
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable
from typing import Any

from ashyq.store import sql

MASK = (1 << 64) - 1
CHUNK = 500_000


def _hash(uid: str) -> int:
    return hash(uid) & MASK


def _merge(a: array, b: array) -> array:
    out = array("Q")
    out.extend(heapq.merge(a, b))
    return out


class KnownUids:
    """``status(uid)`` says 'yes', 'no' or 'maybe' (confirm with ``confirm``)."""

    def __init__(self, store: Any, hash_fn: Callable[[str], int] = _hash) -> None:
        self.store = store
        self.hash = hash_fn
        self._levels: list[array] = []  # sorted, each at least twice as long as the next
        self._current: set[str] = set()
        self._sealed: list[tuple[int, set[str]]] = []  # (token, uids), oldest first
        self._token = 0
        self._indexed = 0
        self._lock = threading.Lock()  # for writers; readers take snapshots of references

    # ------------------------------------------------------------- building
    def load(self) -> int:
        """Index every uid of the measurements table (at start-up). Returns how many."""
        levels: list[array] = []
        n = 0
        with self.store.connect() as con:
            cur = con.execute(sql.ALL_MEASUREMENT_UIDS)
            while True:
                rows = cur.fetchmany(CHUNK)
                if not rows:
                    break
                n += len(rows)
                levels = self._push(levels, sorted(self.hash(r[0]) for r in rows))
        with self._lock:
            self._levels = levels
            self._indexed = n
        return n

    @staticmethod
    def _push(levels: list[array], sorted_hashes: Iterable[int]) -> list[array]:
        levels = [*levels, array("Q", sorted_hashes)]
        while len(levels) > 1 and len(levels[-2]) <= 2 * len(levels[-1]):
            b = levels.pop()
            a = levels.pop()
            levels.append(_merge(a, b))
        return levels

    def add(self, uids: Iterable[str]) -> None:
        """uids just archived (durable) by this process."""
        self._current.update(uids)

    def seal(self) -> int:
        """Before a load of the archive begins: what was archived so far will be in the tables
        once that load has finished. Returns a token for ``loaded``."""
        with self._lock:
            self._token += 1
            if self._current:
                self._sealed.append((self._token, self._current))
                self._current = set()
            return self._token

    def loaded(self, token: int) -> None:
        """A load that began at ``seal() -> token`` has finished: move the generations sealed
        up to then into the hash index. May run in a worker thread."""
        with self._lock:
            done = [(t, s) for t, s in self._sealed if t <= token]
        if not done:
            return
        hashes = sorted(self.hash(u) for _, s in done for u in s)
        levels = self._push(self._levels, hashes)
        with self._lock:
            self._levels = levels  # the hashes are visible before the full uids go
            self._indexed += sum(len(s) for _, s in done)
            self._sealed = [(t, s) for t, s in self._sealed if t > token]

    # ------------------------------------------------------------- asking
    def status(self, uid: str) -> str:
        if uid in self._current:
            return "yes"
        for _, s in self._sealed:
            if uid in s:
                return "yes"
        h = self.hash(uid)
        for level in self._levels:
            i = bisect_left(level, h)
            if i < len(level) and level[i] == h:
                return "maybe"
        return "no"

    def confirm(self, uids: list[str]) -> set[str]:
        """Which of ``uids`` are in the measurements table (blocking: run it in a thread)."""
        if not uids:
            return set()
        with self.store.connect() as con:
            rows = con.execute(sql.EXISTING_UIDS, [uids]).fetchall()
        return {r[0] for r in rows}

    def __len__(self) -> int:
        return self._indexed + len(self._current) + sum(len(s) for _, s in self._sealed)

    def memory(self) -> dict[str, int]:
        """Approximate sizes: uids held in full, hashes in the index, bytes of the index."""
        full = len(self._current) + sum(len(s) for _, s in self._sealed)
        hashed = sum(len(a) for a in self._levels)
        return {"full_uids": full, "hashed_uids": hashed, "index_bytes": 8 * hashed}
