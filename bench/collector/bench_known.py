"""Memory and speed of the collector's de-duplication index (ashyq.collector.known).

Fills a real store's measurements table with --count uids (64 hex characters, like the sha256
identities), then: builds the index from the table as the collector does at start-up, answers
lookups of stored and unknown uids, and takes generations of new uids as the loader finishes
its loads. Compares the index's memory with a Python set of the same uids.

    .venv/bin/python bench/collector/bench_known.py [--count 2000000]
"""

from __future__ import annotations

import argparse
import gc
import tempfile
import time
import tracemalloc
from pathlib import Path

from ashyq.collector.known import KnownUids
from ashyq.store import Store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2_000_000)
    parser.add_argument("--generation", type=int, default=20_000, help="uids per load")
    args = parser.parse_args()
    n = args.count
    store = Store.open(Path(tempfile.mkdtemp(prefix="ashyq-bench-known-")))
    with store.connect(write=True) as con:
        con.execute(
            "INSERT INTO measurements (uid) SELECT sha256(i::VARCHAR) FROM range(?) t(i)", [n]
        )
        stored = [r[0] for r in con.execute("SELECT uid FROM measurements LIMIT 100000").fetchall()]

    known = KnownUids(store)
    t = time.perf_counter()
    known.load()
    build = time.perf_counter() - t
    del known
    gc.collect()
    tracemalloc.start()  # a second build, traced (tracing slows it down)
    known = KnownUids(store)
    known.load()
    index_bytes = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()

    with store.connect() as con:
        uids = [r[0] for r in con.execute("SELECT uid FROM measurements").fetchall()]
    gc.collect()
    tracemalloc.start()
    as_set = set(uids)
    set_bytes = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    strings = sum(len(u) + 49 for u in uids)  # each str object: 49 bytes + 1 per ASCII char
    del as_set, uids
    gc.collect()

    unknown = [f"x{i:063x}" for i in range(100_000)]
    t = time.perf_counter()
    hits = sum(known.status(u) == "maybe" for u in stored)
    misses = sum(known.status(u) == "no" for u in unknown)
    lookup = (time.perf_counter() - t) / (len(stored) + len(unknown))
    t = time.perf_counter()
    confirmed = len(known.confirm(stored[:1000]))
    confirm = time.perf_counter() - t

    t = time.perf_counter()
    loads = 50
    for g in range(loads):
        known.add(f"g{g}-{i:060x}" for i in range(args.generation))
        known.loaded(known.seal())
    per_load = (time.perf_counter() - t) / loads
    mem = known.memory()

    print(f"{n:,} stored uids; index built from the table in {build:.1f} s")
    print(
        f"memory: index {index_bytes / n:.1f} bytes/uid ({index_bytes / 2**20:.0f} MiB), "
        f"a set of the uids {(set_bytes + strings) / n:.0f} bytes/uid "
        f"({(set_bytes + strings) / 2**20:.0f} MiB)"
    )
    print(
        f"lookups: {lookup * 1e6:.2f} us each ({hits:,}/{len(stored):,} stored found, "
        f"{len(unknown) - misses} of {len(unknown):,} unknown needed a check in the table); "
        f"confirming 1,000 hash hits in the table: {confirm * 1e3:.0f} ms ({confirmed} found)"
    )
    print(
        f"a load of {args.generation:,} new uids moved into the index: {per_load * 1e3:.0f} ms "
        f"on average over {loads} loads; {len(known._levels)} sorted arrays, "
        f"{mem['hashed_uids']:,} hashes"
    )
    print(f"command: .venv/bin/python bench/collector/bench_known.py --count {n}")


if __name__ == "__main__":
    main()
