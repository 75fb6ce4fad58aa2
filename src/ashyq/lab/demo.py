"""``ashyq demo``: the 9 May 2019 scenario end to end.

Probes in every region measure through their censors and upload to a collector (inside the
lab, beside the control); the store judges and keeps the measurements; events are built from
the verdicts; the dashboard serves them. Each part is used when it is installed; without them
the demo still runs the probes and the analysis and prints a readable report.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from pathlib import Path
from typing import Any

from ashyq.lab import plan as planmod
from ashyq.lab.bench import host_of
from ashyq.lab.network import LabNetwork
from ashyq.lab.scenario import expected

WEB_PORT = 8471


def _say(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _data_dir(args: argparse.Namespace) -> Path:
    if getattr(args, "data", None):
        path = Path(args.data)
        path.mkdir(parents=True, exist_ok=True)
        return path
    return Path(tempfile.mkdtemp(prefix="ashyq-demo-"))


def run_demo(args: argparse.Namespace) -> int:
    from ashyq.lab.cli import _run, _scenario
    from ashyq.lab.netns import install_signal_handlers

    install_signal_handlers()
    scenario = _scenario(args.scenario)
    data = _data_dir(args)
    _say(f"demo: {scenario.title}")
    _say(f"data directory: {data}")

    def on_up(net: LabNetwork) -> None:
        from ashyq.lab import inns

        net.lab.spawn(
            net.inet,
            [
                sys.executable,
                "-m",
                "ashyq",
                "collector",
                "serve",
                "--data",
                str(data),
                "--listen",
                f"{planmod.COLLECTOR_IP}:{planmod.COLLECTOR_PORT}",
                "--open",
                "--events-every",
                "2",
            ],
            log="collector.log",
        )
        inns.wait_tcp(net.inet, planmod.COLLECTOR_IP, planmod.COLLECTOR_PORT, timeout=30)
        _say(f"collector listening at {planmod.COLLECTOR_IP}:{planmod.COLLECTOR_PORT} (in the lab)")

    queues = Path(tempfile.mkdtemp(prefix="ashyq-demo-queues-"))

    def probe_args(vantage: str) -> list[str]:
        return [
            "--upload",
            f"http://{planmod.COLLECTOR_IP}:{planmod.COLLECTOR_PORT}",
            "--upload-wait",
            "10",
            "--data",
            str(queues / vantage),
        ]

    run = _run(scenario, progress=_say, on_up=on_up, extra_probe_args=probe_args)
    for f in run.failures:
        _say(f"probe failure: {f}")
    measurements = [m.measurement for m in run.measured]

    from ashyq.analysis.verdict import judge_all
    from ashyq.lab.bench import compare, summarize
    from ashyq.store.store import Store

    verdicts = list(judge_all(measurements))
    with Store.open(data) as store:
        result = store.add_measurements(measurements)  # what the collector missed, if any
        events = store.events()
        stats = store.stats()
    _say(
        f"store: {stats.get('measurements', '?')} measurements, "
        f"{stats.get('verdicts', '?')} verdicts ({result.added} added here, "
        f"{result.duplicate} already uploaded)"
    )

    print(render_report(scenario, run.measured, verdicts, events))
    sm = summarize(compare(scenario, run.measured, verdicts))
    print(
        f"\nAgainst the ground truth: {sm.found_with_right_method} of {sm.blocked_cases} "
        f"censored cases found with the right method, {sm.found_with_wrong_method} with "
        f"another method, {sm.missed} missed; {sm.false_accusations} false accusations "
        f"in {sm.cases - sm.blocked_cases} uncensored cases."
    )
    serve_dashboard(data, args)
    return 0


def render_report(scenario, measured, verdicts, events) -> str:
    lines = [f"\n{scenario.title}\n", scenario.description, ""]
    by_round: dict[int, list[tuple[Any, Any]]] = defaultdict(list)
    for i, m in enumerate(measured):
        by_round[m.round].append((m, verdicts[i] if verdicts else None))
    vantages = {v.id: v for v in scenario.vantages}
    for r, when in enumerate(scenario.times()):
        lines.append(f"== {when:%Y-%m-%d %H:%M} UTC ==")
        rows = sorted(
            by_round.get(r, []), key=lambda mv: (mv[0].vantage, host_of(mv[0].measurement) or "")
        )
        for m, v in rows:
            host = host_of(m.measurement) or "?"
            va = vantages[m.vantage]
            net = scenario.network(va.network)
            truth = expected(scenario, host, va, when)
            truth_text = truth.technique if truth.censored else "not censored"
            if v is None:
                got = "(not judged)"
            else:
                got = v.status + (f" by {v.method}" if v.method else "")
            mark = ""
            if v is not None:
                accusing = v.status in ("blocked", "throttled")
                mark = "  <-- differs from the ground truth" if accusing != truth.censored else ""
            lines.append(
                f"  {net.asn:8} {va.region:10} {host:18} {got:48} truth: {truth_text}{mark}"
            )
        lines.append("")
    if events:
        lines.append(f"Events found in the store ({len(events)}):")
        for e in events:
            asns = ",".join(str(a) for a in e.get("asns") or [])
            regions = ",".join(str(r) for r in e.get("regions") or [])
            methods = ",".join(str(m) for m in e.get("methods") or [])
            lines.append(
                f"  {e.get('kind') or '?':10} {e.get('target') or '(everything)':18} "
                f"{e.get('scope') or '':9} {asns:16} {regions:18} "
                f"{e.get('start') or '?'} -> {e.get('end') or 'ongoing'}  {methods}"
            )
    return "\n".join(lines)


def _free_port(preferred: int) -> int:
    import socket

    for port in (preferred, 0):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return s.getsockname()[1]
    return preferred


def serve_dashboard(data: Path, args: argparse.Namespace) -> None:
    port = _free_port(WEB_PORT)
    url = f"http://127.0.0.1:{port}/"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ashyq",
            "web",
            "serve",
            "--data",
            str(data),
            "--listen",
            f"127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        ok = False
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(url, timeout=2) as resp:
                    ok = resp.status == 200
                    break
            except OSError:
                time.sleep(0.3)
        if not ok:
            err = proc.stderr.read().decode(errors="replace")[-500:] if proc.poll() else ""
            print(f"\nThe dashboard did not start: {err.strip()}")
            return
        serve = args.serve or (sys.stdin.isatty() and os.environ.get("CI") is None)
        if not serve:
            print(f"\nThe dashboard answered at {url}; see it with: ashyq web serve --data {data}")
            return
        print(f"\nDashboard: {url}  (Ctrl-C to stop)", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            proc.wait()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, 15)
            proc.wait(timeout=10)
