"""Sustained ingest through the collector's HTTP API, from a second process.

Starts `ashyq collector serve` as its own process on loopback, then this process uploads
web_connectivity-sized measurements (~3 KB each) for --seconds with --clients concurrent
connections, in batches of --batch through POST /api/v1/measurements (and, with --single,
one by one through the OONI report endpoints). Counts only acknowledged (durable)
measurements; then checks that the store holds every one of them.

    .venv/bin/python bench/collector/bench_collector.py [--seconds 20] [--batch 200] [--resend 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from ashyq.store import Store

TEST_KEYS = {
    "queries": [
        {
            "hostname": "vlast.kz",
            "query_type": "A",
            "engine": "system",
            "failure": None,
            "answers": [
                {"answer_type": "A", "ipv4": f"185.22.64.{k}", "ttl": 300} for k in range(4)
            ],
        }
    ],
    "tcp_connect": [
        {"ip": "185.22.64.10", "port": 443, "status": {"success": True, "failure": None}}
    ]
    * 4,
    "requests": [
        {
            "failure": None,
            "request": {
                "method": "GET",
                "url": "https://vlast.kz/",
                "headers": {"User-Agent": "x" * 100},
            },
            "response": {
                "code": 200,
                "body": "<html>" + "y" * 1500 + "</html>",
                "headers": {"Server": "nginx"},
            },
        }
    ],
    "control": {
        "dns": {"addrs": ["185.22.64.10"], "failure": None},
        "http_request": {"status_code": 200, "body_length": 51234, "failure": None},
    },
    "blocking": False,
    "accessible": True,
}


def measurement(client: int, i: int) -> dict:
    return {
        "test_name": "web_connectivity",
        "probe_cc": "KZ",
        "probe_asn": f"AS{9198 + client % 3}",
        "probe_ip": "127.0.0.1",
        "report_id": f"20240509T000000Z_webconnectivity_KZ_9198_n1_c{client:02d}",
        "input": f"https://site{i % 1000}.kz/{i}",
        "measurement_start_time": f"2024-05-{1 + i // 86400 % 28:02d} "
        f"{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}",
        "annotations": {"region": "Almaty"},
        "software_name": "ashyq",
        "software_version": "0.1",
        "test_keys": TEST_KEYS,
    }


async def client_loop(
    url: str, client: int, batch: int, until: float, single: bool
) -> tuple[int, int]:
    acked = 0
    added = 0
    i = 0
    async with aiohttp.ClientSession() as session:
        if single:
            async with session.post(
                url + "/report",
                json={"probe_cc": "KZ", "probe_asn": "AS9198", "test_name": "web_connectivity"},
            ) as r:
                rid = (await r.json())["report_id"]
        while time.monotonic() < until:
            if single:
                m = measurement(client, i)
                m["report_id"] = rid
                i += 1
                async with session.post(
                    f"{url}/report/{rid}", json={"format": "json", "content": m}
                ) as r:
                    acked += r.status == 200
                    added += r.status == 200 and (await r.json())["status"] == "added"
            else:
                items = [measurement(client, i + k) for k in range(batch)]
                i += batch
                async with session.post(
                    url + "/api/v1/measurements", json={"measurements": items}
                ) as r:
                    body = await r.json()
                    acked += body["added"] + body["duplicate"]
                    added += body["added"]
    return acked, added


async def run(url: str, clients: int, batch: int, seconds: float, single: bool) -> tuple[int, int]:
    """(acknowledged, of which added) over all clients."""
    until = time.monotonic() + seconds
    counts = await asyncio.gather(
        *(client_loop(url, c, batch, until, single) for c in range(clients))
    )
    return sum(c[0] for c in counts), sum(c[1] for c in counts)


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--single", action="store_true", help="one measurement per request")
    parser.add_argument(
        "--resend",
        type=float,
        default=0,
        help="then send the same measurements again for this many seconds (all duplicates, "
        "each confirmed in the table)",
    )
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="ashyq-bench-collector-"))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ashyq",
            "collector",
            "serve",
            "--data",
            str(data),
            "--listen",
            "127.0.0.1:0",
            "--open",
            "--events-every",
            "3600",
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        line = proc.stdout.readline()
        url = line.split("listening on ")[1].split()[0]
        started = time.monotonic()
        acked, _ = asyncio.run(run(url, args.clients, args.batch, args.seconds, args.single))
        elapsed = time.monotonic() - started
        resent = again = 0
        if args.resend:
            t = time.monotonic()
            resent, again = asyncio.run(
                run(url, args.clients, args.batch, args.resend, args.single)
            )
            resend_elapsed = time.monotonic() - t
    finally:
        main_cpu = _cpu_seconds(proc.pid)
        proc.terminate()
        proc.wait(120)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_cpu = usage.ru_utime + usage.ru_stime  # the collector and its loader process
    store = Store.open(data)
    store.sync()
    stored = store.stats()["measurements"]
    mode = "single submissions" if args.single else f"batches of {args.batch}"
    print(
        f"collector CPU: {server_cpu:.1f} s for {acked:,} measurements "
        f"({server_cpu / max(acked, 1) * 1e6:.0f} us each, acknowledging and loading into the "
        f"tables with verdicts); load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    print(
        f"  of which the HTTP process (validate, archive, fsync, acknowledge): {main_cpu:.1f} s "
        f"({main_cpu / max(acked, 1) * 1e6:.0f} us each, including start-up)"
    )
    print(
        f"{acked:,} measurements acknowledged in {elapsed:.1f} s: {acked / elapsed:,.0f}/s "
        f"({mode}, {args.clients} clients); {stored:,} in the store afterwards"
    )
    if args.resend:
        print(
            f"resent: {resent:,} measurements already stored answered in {resend_elapsed:.1f} s: "
            f"{resent / resend_elapsed:,.0f}/s, {resent - again:,} as duplicates, "
            f"{again:,} stored twice"
        )
    flags = " --single" if args.single else f" --batch {args.batch}"
    flags += f" --resend {args.resend:g}" if args.resend else ""
    print(
        f"command: .venv/bin/python bench/collector/bench_collector.py --seconds {args.seconds:g}"
        f" --clients {args.clients}{flags}"
    )
    if stored < acked:
        raise SystemExit("LOST MEASUREMENTS")
    if again:
        raise SystemExit("DUPLICATES STORED")


if __name__ == "__main__":
    main()
