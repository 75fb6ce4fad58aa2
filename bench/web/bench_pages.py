"""Load time of the overview, events and target pages over a store of N measurements.

Generates the store directly in DuckDB (INSERT ... SELECT FROM range(N): measurements, their
current verdicts, and events), starts `ashyq web serve` on loopback, and times sequential GET
requests per page (p50, p95). Run from the repository root:

    .venv/bin/python bench/web/bench_pages.py --measurements 10000000 --requests 40

With --aggregate (the default) `ashyq web aggregate` makes the web_hourly table first; with
--no-aggregate the target page reads the verdicts table directly.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from ashyq.store.store import Store

DAYS = 90
TARGETS = 1000
NETWORKS = 10
REGIONS = 20


def generate(data: Path, n: int) -> None:
    store = Store.open(data)
    with store.connect(write=True) as con:
        con.execute("SET preserve_insertion_order = true")
        start = time.perf_counter()
        # time grows with i (so recent rows sit together, as with real ingest)
        con.execute(
            f"""
            CREATE TEMP TABLE gen AS
            SELECT i,
                   'bench' || lpad(i::VARCHAR, 10, '0') AS uid,
                   't' || ((i * 7919) % {TARGETS}) || '.kz' AS target,
                   'AS' || (9000 + (i % {NETWORKS})) AS asn,
                   'region' || ((i // 3) % {REGIONS}) AS region,
                   (now()::TIMESTAMP - INTERVAL {DAYS} DAY)
                     + to_microseconds((i * ({DAYS} * 86400000000 // {n}))::BIGINT) AS t
            FROM range({n}) r(i)
            """
        )
        con.execute(
            """
            INSERT INTO measurements
            SELECT uid, uid, 'report-' || (i // 100), 'https://' || target || '/', target,
                   'web_connectivity', 'KZ', asn, 'Network ' || asn, region, t, 'probe',
                   'ashyq', '0.1.0', t, 'raw/none.jsonl.gz', 0
            FROM gen
            """
        )
        # targets whose number ends in 7 are blocked in the evening (Almaty 19-23 = UTC 14-18)
        con.execute(
            """
            INSERT INTO verdicts
            SELECT uid, 'bench-1', t, true, 'report-' || (i // 100), 'https://' || target || '/',
                   target, 'web_connectivity', 'KZ', asn, 'Network ' || asn, region, t,
                   CASE WHEN target LIKE '%7.kz' AND hour(t) BETWEEN 14 AND 18 THEN 'blocked'
                        WHEN i % 997 = 0 THEN 'down' ELSE 'ok' END,
                   CASE WHEN target LIKE '%7.kz' AND hour(t) BETWEEN 14 AND 18
                        THEN 'dns.nxdomain' ELSE NULL END,
                   0.9, ['generated'], 'false', true, '{}'
            FROM gen
            """
        )
        con.execute(
            f"""
            INSERT INTO events
            SELECT 'bench-ev-' || e, 'blocking', 't' || ((e % 100) * 10 + 7) || '.kz',
                   'network', 'KZ', ['AS' || (9000 + e % {NETWORKS})],
                   ['region' || (e % {REGIONS})], '[]',
                   now()::TIMESTAMP - INTERVAL {DAYS} DAY + INTERVAL 1 DAY * (e // 100)
                     + INTERVAL 14 HOUR,
                   CASE WHEN e >= 8900 THEN NULL ELSE now()::TIMESTAMP - INTERVAL {DAYS} DAY
                     + INTERVAL 1 DAY * (e // 100) + INTERVAL 18 HOUR END,
                   NULL, NULL, ['dns.nxdomain'], 50, [], 0.9, NULL, now()::TIMESTAMP
            FROM range(9000) r(e)
            """
        )
        con.execute("DROP TABLE gen")
        con.execute("CHECKPOINT")
        print(f"generated {n:,} measurements in {time.perf_counter() - start:.1f} s", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def time_pages(base: str, requests: int) -> dict[str, list[float]]:
    pages = {
        "overview": ["/"],
        "events": ["/events", "/events?network=AS9003", "/events?days=7"],
        "target": [f"/targets/t{k}.kz" for k in range(7, TARGETS, 37)],
    }
    out: dict[str, list[float]] = {}
    async with aiohttp.ClientSession() as s:
        for name, paths in pages.items():
            async with s.get(base + paths[0]) as r:  # warm-up
                await r.read()
                if r.status != 200:
                    raise RuntimeError(f"{paths[0]}: HTTP {r.status}")
            times = []
            for i in range(requests):
                path = paths[i % len(paths)]
                t0 = time.perf_counter()
                async with s.get(base + path) as r:
                    await r.read()
                    if r.status != 200:
                        raise RuntimeError(f"{path}: HTTP {r.status}")
                times.append((time.perf_counter() - t0) * 1000)
            out[name] = times
    return out


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--measurements", type=int, default=10_000_000)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--data", type=Path, help="reuse (or keep) the store in this directory")
    parser.add_argument("--no-aggregate", dest="aggregate", action="store_false")
    args = parser.parse_args()
    tmp = None
    data = args.data
    if data is None:
        tmp = tempfile.mkdtemp(prefix="ashyq-bench-web-")
        data = Path(tmp)
    try:
        if not (data / "ashyq.duckdb").exists() or not Store.open(data).query(
            "SELECT 1 FROM measurements LIMIT 1"
        ):
            generate(data, args.measurements)
        exe = [sys.executable, "-m", "ashyq"]
        if args.aggregate:
            t0 = time.perf_counter()
            subprocess.run([*exe, "web", "aggregate", "--data", str(data)], check=True)
            print(f"web_hourly made in {time.perf_counter() - t0:.1f} s", flush=True)
        else:
            with Store.open(data).connect(write=True) as con:
                con.execute("DROP TABLE IF EXISTS web_hourly")
        port = free_port()
        env = dict(os.environ)
        server = subprocess.Popen(
            [
                *exe,
                "web",
                "serve",
                "--listen",
                f"127.0.0.1:{port}",
                "--data",
                str(data),
                "--alerts-interval",
                "0",
            ],
            env=env,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", port), 0.2).close()
                    break
                except OSError:
                    time.sleep(0.2)
            load_before = os.getloadavg()[0]
            results = asyncio.run(time_pages(base, args.requests))
        finally:
            server.terminate()
            server.wait(10)
        store = Store.open(data, read_only=True)
        rows = store.query("SELECT count(*) AS n FROM measurements")
        print(f"store: {rows[0]['n']:,} measurements; aggregate: {args.aggregate}")
        print(f"load average before/after: {load_before:.1f} / {os.getloadavg()[0]:.1f}")
        opened = []
        for _ in range(20):  # the fixed cost every page pays: one short store connection
            t0 = time.perf_counter()
            with store.connect() as con:
                con.execute("SELECT 1").fetchall()
            opened.append((time.perf_counter() - t0) * 1000)
        print(
            f"store.connect() + SELECT 1: p50 {pct(opened, 0.5):.0f} ms, "
            f"p95 {pct(opened, 0.95):.0f} ms"
        )
        print("page      p50 ms  p95 ms  (n requests, sequential)")
        for name, times in results.items():
            print(f"{name:9} {pct(times, 0.5):6.0f}  {pct(times, 0.95):6.0f}  ({len(times)})")
        print("command: " + " ".join([sys.executable, *sys.argv]))
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
