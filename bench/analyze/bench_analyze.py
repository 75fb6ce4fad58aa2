"""Benchmark: parse + verdict for one million web_connectivity measurements, streaming.

The input is made by varying the shared samples (OONI's 27 QA measurements and the real
web_connectivity measurements of ooni/backend's fastpath tests, read from ../shared): each
line is a sample with another host name, network, start time and report id. Lines are made on
the fly, so memory stays constant; peak RSS is printed at the end.

    .venv/bin/python bench/analyze/bench_analyze.py [--count 1000000] \
        [--oonidata-python /tmp/oonivenv/bin/python] [--compare-count 50000]

With ``--oonidata-python`` (a Python where ``oonidata`` from PyPI is installed, in its own
virtual environment) the same input is also given to OONI's ``oonidata.dataclient.
load_measurement`` and the ratio is printed. oonidata 0.3.0 on PyPI parses measurements into
its models; its verdict pipeline (``oonipipeline``) is not on PyPI, so that comparison is
ashyq's parse + verdict against oonidata's parse alone.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))

from ashyq.analysis.fingerprints import PROJECT_FINGERPRINTS, load_fingerprints  # noqa: E402
from ashyq.analysis.reading import loads  # noqa: E402
from ashyq.analysis.verdict import JudgeContext, judge  # noqa: E402

SHARED = ROOT.parent / "shared" / "research" / "ooni"
NETS = [b"AS9198", b"AS21299", b"AS29355", b"AS35104", b"AS41798", b"AS50482"]


def samples() -> list[tuple[bytes, bytes, bytes]]:
    """(serialized measurement, its host, its probe_asn key) for every web_connectivity one."""
    files = sorted((SHARED / "wc_qa_generated").glob("*.measurement.json"))
    files += sorted((SHARED / "fastpath_fixtures").glob("*.json"))
    out = []
    for f in files:
        m = json.loads(f.read_text())
        if m.get("test_name") != "web_connectivity" or not isinstance(m.get("input"), str):
            continue
        host = m["input"].split("/")[2].split(":")[0]
        asn = f'"probe_asn":"{m.get("probe_asn")}"'.encode()
        out.append((json.dumps(m, separators=(",", ":")).encode(), host.encode(), asn))
    if not out:
        raise SystemExit(f"no samples found under {SHARED}")
    return out


def lines(count: int) -> Iterator[bytes]:
    base = samples()
    asn_keys = [(b'"probe_asn":"' + a + b'"') for a in NETS]
    for i in range(count):
        doc, host, asn = base[i % len(base)]
        variant = host.replace(b".", b"-%d." % (i % 5000), 1)
        line = doc.replace(host, variant).replace(asn, asn_keys[i % len(NETS)], 1)
        yield line.replace(b'"measurement_start_time":"20', b'"measurement_start_time":"20', 1)


BATCH = 2000


def run_ashyq(
    source: Iterator[bytes], ctx: JudgeContext
) -> tuple[int, float, float, dict[str, int]]:
    """(count, CPU s of parse + verdict, CPU s of making the lines, verdicts per status).

    Lines are made in batches of ``BATCH`` (constant memory); only the parse + verdict of each
    batch is timed as the figure, making the lines is timed apart.
    """
    counts: dict[str, int] = {}
    n = 0
    spent = made = 0.0
    clock = time.process_time  # CPU time of this process: the per-core figure
    while True:
        t0 = clock()
        batch = list(itertools.islice(source, BATCH))
        t1 = clock()
        made += t1 - t0
        if not batch:
            break
        for raw in batch:
            v = judge(loads(raw), context=ctx)
            counts[v.status] = counts.get(v.status, 0) + 1
        spent += clock() - t1
        n += len(batch)
    return n, spent, made, counts


OONIDATA_SCRIPT = """
import sys, time, orjson
from oonidata.dataclient import load_measurement
n = bad = 0
t0 = time.process_time()
with open(sys.argv[1], 'rb') as f:
    for line in f:
        try:
            load_measurement(orjson.loads(line))
        except Exception:
            bad += 1
        n += 1
print(n, time.process_time() - t0, bad)
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=1_000_000)
    ap.add_argument("--oonidata-python", default=None)
    ap.add_argument("--compare-count", type=int, default=50_000)
    ap.add_argument(
        "--no-scan-cache",
        action="store_true",
        help="scan every body for blockpage fingerprints afresh (the input repeats the samples' "
        "bodies, which the cache of recent scans would otherwise remember)",
    )
    args = ap.parse_args()
    db = load_fingerprints([SHARED / "fingerprints", PROJECT_FINGERPRINTS])
    if args.no_scan_cache:
        db.scan_cache_size = 0
    ctx = JudgeContext(fingerprints=db)
    print(f"fingerprints loaded: {db.count}; cache of body scans: {db.scan_cache_size}")
    wall0 = time.perf_counter()
    n, secs, made, counts = run_ashyq(lines(args.count), ctx)
    wall = time.perf_counter() - wall0
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rate = n / secs
    print(
        f"ashyq: {n} measurements parsed and judged: {secs:.1f} s CPU "
        f"(making the lines: {made:.1f} s CPU more), {wall:.1f} s wall in all"
    )
    print(f"ashyq: {rate:,.0f} measurements/s per core; peak RSS {rss_mb:.0f} MB")
    print(f"verdicts: {counts}")
    if args.oonidata_python:
        with tempfile.NamedTemporaryFile("wb", suffix=".jsonl", delete=False) as tmp:
            for raw in lines(args.compare_count):
                tmp.write(raw + b"\n")
        try:
            with open(tmp.name, "rb") as f:
                n1, s1, _, _ = run_ashyq((ln.rstrip(b"\n") for ln in f), ctx)
            r = subprocess.run(
                [args.oonidata_python, "-c", OONIDATA_SCRIPT, tmp.name],
                capture_output=True,
                text=True,
                timeout=3600,
            )
            if r.returncode != 0:
                print(f"oonidata could not run: {r.stderr.strip().splitlines()[-1:]}")
            else:
                n2, s2, bad2 = r.stdout.split()
                r2 = int(n2) / float(s2)
                r1 = n1 / s1
                print(
                    f"same {n1} lines: ashyq parse+verdict {r1:,.0f}/s; "
                    f"oonidata load_measurement (parse only) {r2:,.0f}/s; "
                    f"ratio ashyq/oonidata {r1 / r2:.2f}; oonidata rejected {bad2} of {n2} lines"
                )
        finally:
            os.unlink(tmp.name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
