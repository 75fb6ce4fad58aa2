"""Run the lab bench on every bundled scenario and print its figures and the command.

    sudo .venv/bin/python bench/lab/run_bench.py [--parallel N]

Prints the command, the confusion matrix and the one-line JSON result of
``ashyq lab bench --json`` (every scenario brought up in namespaces, probed with the real
probe, judged with the analysis, compared with the ground truth).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parallel", type=int, default=3, help="scenarios run at once")
    args = ap.parse_args()
    cmd = [
        sys.executable,
        "-m",
        "ashyq",
        "lab",
        "bench",
        "--json",
        "--parallel",
        str(args.parallel),
    ]
    print("command: ashyq lab bench --json --parallel", args.parallel, flush=True)
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if not proc.stdout.strip():
        print(proc.stderr.strip(), file=sys.stderr)
        return proc.returncode or 1
    result = json.loads(proc.stdout)
    keys = (
        "cases",
        "blocked_cases",
        "found_with_right_method",
        "found_with_wrong_method",
        "missed",
        "false_accusations",
        "absent",
        "seconds",
    )
    for k in keys:
        print(f"{k:26} {result[k]}")
    print("confusion matrix (expected technique -> verdict status counts):")
    for row, counts in result["confusion_matrix"].items():
        print(f"  {row:28} {counts}")
    print("json:", json.dumps({k: v for k, v in result.items() if k != "problems"}))
    return proc.returncode


if __name__ == "__main__":
    raise SystemExit(main())
