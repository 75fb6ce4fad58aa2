"""``ashyq analyze``: a verdict, with its evidence, for every measurement in the given files."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ashyq.analysis.fingerprints import fingerprint_paths, load_fingerprints
from ashyq.analysis.output import VerdictWriter
from ashyq.analysis.reading import ReadError, Record, iter_records
from ashyq.analysis.verdict import JudgeContext, NetworkBaselines, judge

DESCRIPTION = """\
Judge OONI-format measurements (ashyq's own or public OONI ones): one verdict per measurement
with a status (ok, blocked, throttled, down, inconclusive), a method in stage.outcome form
(dns.nxdomain, tls.timeout, http.blockpage:<name>, throughput.throttled...), a confidence, the
evidence in plain words, and OONI's coarse labels for comparison.

Input: JSON lines (.jsonl), gzip-compressed JSON lines (.jsonl.gz), single JSON documents, OONI
API answers; '-' reads standard input. A bad line gives one error on stderr (file:line) and
reading goes on; the exit code is non-zero only when nothing could be read.

Throttling is also judged against a per-network baseline (probe ASN + region) of the other
targets in the input, which needs a first pass over the files (--no-baseline skips it).
"""


def register(sub: argparse._SubParsersAction) -> None:
    """Add this area's sub-commands to `ashyq`."""
    p = sub.add_parser(
        "analyze",
        help="judge measurements: a verdict with evidence for each",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="measurement file(s), '-' for stdin")
    p.add_argument(
        "--format",
        choices=("jsonl", "csv", "table"),
        default=None,
        help="output format (default: table on a terminal, jsonl otherwise)",
    )
    p.add_argument(
        "--fingerprints",
        action="append",
        metavar="DIR",
        default=None,
        help=(
            "directory (or CSV file) of blockpage/DNS fingerprints in OONI's format, e.g. a copy "
            "of github.com/ooni/blocking-fingerprints; repeatable (default: $ASHYQ_FINGERPRINTS). "
            "ashyq's own Kazakh fingerprints in data/fingerprints are always added"
        ),
    )
    p.add_argument(
        "--no-baseline",
        action="store_true",
        help="do not compute per-network baselines (one pass, no baseline throttling rule)",
    )
    p.add_argument("-o", "--output", metavar="FILE", help="write verdicts to FILE, not stdout")
    p.set_defaults(func=run)


def _records(paths: list[str]) -> Iterator[Record | ReadError]:
    return iter_records(paths)


def run(args: argparse.Namespace) -> int:
    from ashyq.cli import CliError

    paths: list[str] = list(args.files)
    spooled: str | None = None
    try:
        if not args.no_baseline and "-" in paths:
            # the baseline needs two passes: keep standard input in a temporary file
            fd, spooled = tempfile.mkstemp(prefix="ashyq-stdin-", suffix=".jsonl")
            with os.fdopen(fd, "wb") as tmp:
                shutil.copyfileobj(sys.stdin.buffer, tmp, 1 << 20)
            paths = [spooled if p == "-" else p for p in paths]
        fp_paths = fingerprint_paths(args.fingerprints)
        db = load_fingerprints(fp_paths)
        for e in db.errors:
            print(f"ashyq analyze: fingerprints: {e}", file=sys.stderr)
        if args.fingerprints and not db.sources:
            raise CliError("no fingerprint file could be read from --fingerprints")
        ctx = JudgeContext(fingerprints=db)
        if not args.no_baseline:
            nb = NetworkBaselines()
            for rec in _records(paths):
                if isinstance(rec, Record):
                    nb.add(rec.measurement)
            ctx.baselines = nb
        fmt = args.format or ("table" if sys.stdout.isatty() and not args.output else "jsonl")
        out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout  # noqa: SIM115
        judged = errors = 0
        progress = sys.stderr.isatty()
        try:
            writer = VerdictWriter(out, fmt)
            for rec in _records(paths):
                if isinstance(rec, ReadError):
                    errors += 1
                    shown = str(rec).replace(spooled, "<stdin>") if spooled else str(rec)
                    print(f"ashyq analyze: {shown}", file=sys.stderr)
                    continue
                writer.write(judge(rec.measurement, context=ctx))
                judged += 1
                if progress and judged % 100_000 == 0:
                    print(f"ashyq analyze: {judged} measurements judged...", file=sys.stderr)
            writer.close()
        finally:
            if args.output:
                out.close()
        print(
            f"ashyq analyze: {judged} measurement(s) judged, {errors} input error(s)",
            file=sys.stderr,
        )
        if judged == 0:
            raise CliError("no measurement could be read from " + ", ".join(args.files))
        return 0
    finally:
        if spooled:
            Path(spooled).unlink(missing_ok=True)
