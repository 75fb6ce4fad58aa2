"""Ten million verdict rows to events.

Generates the rows directly in DuckDB (not timed): N targets × networks, one measurement per
target and network every `interval`, with planted national, network, throttling and outage
episodes; then times `Store.recompute_events()` (SQL runs + outage buckets + merging).

    .venv/bin/python bench/events/bench_events.py [--rows 10000000] [--data DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from ashyq.store import Store

GENERATE = """
INSERT INTO verdicts
WITH nets AS (
    SELECT n AS net, 'AS' || (9000 + n % {asns}) AS asn,
           ['Almaty', 'Astana', 'Shymkent', 'Karaganda', 'Aktobe'][1 + n // {asns} % 5] AS region
    FROM range({nets}) t(n)
),
tg AS (SELECT n AS tgt, 'site' || n || '.kz' AS target FROM range({targets}) t(n)),
steps AS (SELECT n AS step FROM range({steps}) t(n)),
grid AS (
    SELECT net, asn, region, tgt, target, step,
           TIMESTAMP '2024-01-01' + to_seconds(step * {interval} + (hash(net, tgt) % 600)::BIGINT)
               AS t
    FROM nets, tg, steps
)
SELECT
    'b' || net::VARCHAR || '-' || tgt::VARCHAR || '-' || step::VARCHAR AS measurement_uid,
    'bench-1', TIMESTAMP '2024-06-01', true, NULL, 'https://' || target || '/', target,
    'web_connectivity', 'KZ', asn, NULL, region, t,
    CASE
        -- a national block of targets 0..9, steps 100..140
        WHEN tgt < 10 AND step BETWEEN 100 AND 140 THEN 'blocked'
        -- network blocks: every 7th target on every 3rd network, periodically
        WHEN tgt % 7 = 0 AND net % 3 = 0 AND step % 200 BETWEEN 20 AND 31 THEN 'blocked'
        -- throttling of targets 10..14 on network 1
        WHEN tgt BETWEEN 10 AND 14 AND net = 1 AND step BETWEEN 300 AND 360 THEN 'throttled'
        -- an outage of network 2 (everything fails)
        WHEN net = 2 AND step BETWEEN 500 AND 520 THEN 'blocked'
        -- flukes
        WHEN hash(net, tgt, step) % 97 = 0 THEN 'blocked'
        WHEN hash(net, tgt, step) % 89 = 0 THEN 'inconclusive'
        ELSE 'ok'
    END AS status,
    CASE WHEN tgt % 2 = 0 THEN 'dns.nxdomain' ELSE 'tls.timeout' END AS method,
    0.9, [], NULL, NULL, '{{}}'
FROM grid
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the verdicts already in --data (skip generating them)",
    )
    args = parser.parse_args()
    nets, targets, interval = 20, 500, 3600
    steps = max(2, args.rows // (nets * targets))
    data = args.data or Path(tempfile.mkdtemp(prefix="ashyq-bench-events-"))
    store = Store.open(data)
    started = time.monotonic()
    with store.connect(write=True) as con:
        if not args.reuse:
            con.execute("DELETE FROM verdicts")
            con.execute(
                GENERATE.format(asns=4, nets=nets, targets=targets, steps=steps, interval=interval)
            )
            con.execute("CHECKPOINT")
        rows = con.execute("SELECT count(*) FROM verdicts").fetchone()[0]
    what = "reused" if args.reuse else f"generated in {time.monotonic() - started:.1f} s:"
    print(
        f"{rows:,} verdict rows {what} ({nets} networks x {targets} targets x {steps} rounds)",
        file=sys.stderr,
    )
    started = time.monotonic()
    cpu = time.process_time()
    n = store.recompute_events()
    elapsed = time.monotonic() - started
    cpu = time.process_time() - cpu
    load = os.getloadavg()[0]
    kinds = store.query("SELECT kind, scope, count(*) AS n FROM events GROUP BY ALL ORDER BY ALL")
    print(f"events: {n:,} " + ", ".join(f"{k['kind']}/{k['scope']} {k['n']}" for k in kinds))
    print(
        f"{rows:,} verdict rows -> {n:,} events in {elapsed:.1f} s ({rows / elapsed:,.0f} rows/s;"
        f" {cpu:.1f} s of CPU on {os.cpu_count()} cores, load average {load:.1f})"
    )
    print(
        f"command: .venv/bin/python bench/events/bench_events.py --rows {args.rows}"
        + (f" --data {args.data} --reuse" if args.reuse else "")
    )


if __name__ == "__main__":
    main()
