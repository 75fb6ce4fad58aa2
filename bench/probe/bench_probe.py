"""Benchmark: 500 URLs on loopback sites that answer after 50 ms, one at a time vs concurrently.

Starts a DNS server, a site server and the control as separate processes (as in the lab), writes
a Citizen Lab test list of 500 distinct hosts, and runs ``ashyq probe --list`` twice: with
``--concurrency 1`` (OONI Probe's way: one URL at a time) and with the default concurrency.
Prints both times, the ratio, and whether both runs recorded the same verdict-relevant results.

    .venv/bin/python bench/probe/bench_probe.py [--urls 500] [--delay 0.05]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PY = sys.executable
CPU_SECONDS: list[float] = []  # CPU time of each probe run (start-up included)


def start(cmd: list[str], pattern: str) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stream = proc.stderr if "control" in cmd else proc.stdout
    assert stream is not None
    line = stream.readline()
    m = re.search(pattern, line)
    if not m:
        proc.kill()
        raise SystemExit(f"could not start {cmd}: {line!r}")
    return proc, int(m.group(1))


def key_facts(m: dict[str, Any]) -> tuple[Any, ...]:
    """What a verdict depends on, leaving out timings."""
    tk = m["test_keys"]
    req = tk["requests"][0]["response"] if tk["requests"] else {}
    ctrl = tk.get("control") or {}
    return (
        tk["dns_experiment_failure"],
        tuple(
            sorted(a["ipv4"] for q in tk["queries"] for a in (q["answers"] or []) if "ipv4" in a)
        ),
        tuple(sorted((e["ip"], e["port"], e["status"]["failure"]) for e in tk["tcp_connect"])),
        tk["http_experiment_failure"],
        req.get("code"),
        req.get("x_title"),
        req.get("x_body_sha256"),
        tk["control_failure"],
        (ctrl.get("http_request") or {}).get("status_code"),
        (ctrl.get("http_request") or {}).get("title"),
    )


def verdicts(ms: dict[str, dict[str, Any]]) -> dict[str, tuple[str, str | None]] | None:
    try:
        from ashyq.analysis.verdict import judge
    except ImportError:
        return None
    return {u: (v.status, v.method) for u, m in ms.items() for v in [judge(m)]}


def run(listfile: Path, out: Path, common: list[str], extra: list[str]) -> tuple[float, float]:
    """Run the probe; return (seconds measuring, as the probe reports it; wall-clock seconds)."""
    t = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    cmd = [PY, "-m", "ashyq", "probe", "--list", str(listfile), "-o", str(out), "--no-progress"]
    proc = subprocess.run([*cmd, *common, *extra], check=True, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    CPU_SECONDS.append(cpu)
    m = re.search(r"measured \d+ URL\(s\) in ([\d.]+) s", proc.stderr)
    return (float(m.group(1)) if m else wall), wall


def load(path: Path) -> dict[str, dict[str, Any]]:
    return {m["input"]: m for m in map(json.loads, path.read_text().splitlines())}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--urls", type=int, default=500)
    ap.add_argument("--delay", type=float, default=0.05)
    ap.add_argument("--no-control", action="store_true", help="measure without the control")
    ap.add_argument(
        "--concurrency", type=int, help="for the concurrent run (default: the probe's default)"
    )
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ashyq-bench-probe-"))
    (tmp / "zone.json").write_text(json.dumps({"*.bench.test": ["127.0.0.1"]}))
    (tmp / "site.json").write_text(
        json.dumps(
            {
                "listen": "127.0.0.1:0",
                "sites": {"*.bench.test": {"title": "Bench site", "delay": args.delay}},
            }
        )
    )
    procs = []
    try:
        dns, dns_port = start(
            [
                PY,
                "-m",
                "ashyq.servers.dns",
                "--listen",
                "127.0.0.1:0",
                "--zone",
                str(tmp / "zone.json"),
            ],
            r":(\d+)\s*$",
        )
        procs.append(dns)
        site, site_port = start(
            [PY, "-m", "ashyq.servers.site", "--config", str(tmp / "site.json")], r":(\d+)\s*$"
        )
        procs.append(site)
        common = [
            "--resolver",
            f"127.0.0.1:{dns_port}",
            "--no-system-resolver",
            "--cc",
            "KZ",
            "--asn",
            "AS9198",
            "--timeout",
            "10",
        ]
        if not args.no_control:
            control, control_port = start(
                [
                    PY,
                    "-m",
                    "ashyq",
                    "control",
                    "serve",
                    "--listen",
                    "127.0.0.1:0",
                    "--lab",
                    "--resolver",
                    f"127.0.0.1:{dns_port}",
                    "--max-inflight",
                    "64",
                ],
                r"127\.0\.0\.1:(\d+)/",
            )
            procs.append(control)
            common += ["--control", f"http://127.0.0.1:{control_port}/"]
        listfile = tmp / "list.csv"
        rows = ["url,category_code,category_description,date_added,source,notes"]
        rows += [
            f"http://site{i}.bench.test:{site_port}/,NEWS,News Media,2024-01-01,bench,"
            for i in range(args.urls)
        ]
        listfile.write_text("\n".join(rows) + "\n")
        t_seq, w_seq = run(listfile, tmp / "seq.jsonl", common, ["--concurrency", "1"])
        par_args = ["--concurrency", str(args.concurrency)] if args.concurrency else []
        par_label = (
            f"--concurrency {args.concurrency}"
            if args.concurrency
            else "default concurrency (32, 2 per host)"
        )
        t_par, w_par = run(listfile, tmp / "par.jsonl", common, par_args)
        seq, par = load(tmp / "seq.jsonl"), load(tmp / "par.jsonl")
        assert len(seq) == len(par) == args.urls, (len(seq), len(par))
        same = sum(1 for u in seq if key_facts(seq[u]) == key_facts(par[u]))
        ok = sum(1 for m in par.values() if m["test_keys"]["http_experiment_failure"] is None)
        print(
            f"urls: {args.urls}, each answering after {args.delay * 1000:.0f} ms"
            f"{'' if args.no_control else ', with the control'}"
        )
        print(
            f"one at a time (--concurrency 1): {t_seq:.1f} s measuring, {w_seq:.1f} s wall "
            f"({args.urls / t_seq:.1f} URL/s)"
        )
        print(
            f"{par_label}: {t_par:.1f} s measuring, {w_par:.1f} s wall "
            f"({args.urls / t_par:.1f} URL/s)"
        )
        print(
            f"speed-up: {t_seq / t_par:.1f}x measuring ({w_seq / w_par:.1f}x wall-clock, which "
            "includes the interpreter start-up of each run)"
        )
        print(
            f"probe CPU time (user+system, start-up included): {CPU_SECONDS[0]:.1f} s one at a "
            f"time, {CPU_SECONDS[1]:.1f} s concurrently; load average now "
            f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}"
        )
        print(
            f"successful fetches: {ok}/{args.urls}; same verdict-relevant observations in both "
            f"runs: {same}/{args.urls}"
        )
        vs, vp = verdicts(seq), verdicts(par)
        if vs is not None and vp is not None:
            vsame = sum(1 for u in vs if vs[u] == vp[u])
            statuses: dict[str, int] = {}
            for st, _method in vp.values():
                statuses[st] = statuses.get(st, 0) + 1
            print(
                f"same verdict (ashyq.analysis.verdict.judge) in both runs: {vsame}/{args.urls};"
                f" verdicts of the concurrent run: {statuses}"
            )
        print("command: .venv/bin/python bench/probe/bench_probe.py " + " ".join(sys.argv[1:]))
        return 0 if same == args.urls else 1
    finally:
        for p in procs:
            p.terminate()
            p.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
