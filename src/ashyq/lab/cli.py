"""Sub-commands of ashyq.lab: ``ashyq lab up|run|down|bench|scenarios`` and ``ashyq demo``."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    """Add this area's sub-commands to `ashyq`."""
    lab = sub.add_parser(
        "lab",
        help="emulated censored network (namespaces, nftables, tc, middlebox) for tests",
        description=(
            "The lab builds a small internet in Linux network namespaces: probes in several "
            "Kazakh networks and regions, a censor router per network, websites, DNS and the "
            "control outside. Scenarios (data files with their ground truth) switch censor "
            "rules on and off along a scenario clock. Needs root, nft, ip and tc."
        ),
    )
    lab.set_defaults(print_help=lab.print_help)
    lsub = lab.add_subparsers(dest="lab_command", metavar="COMMAND")

    p = lsub.add_parser(
        "scenarios",
        help="list the bundled scenarios",
        description="List the bundled scenarios with their size and title.",
    )
    p.set_defaults(func=cmd_scenarios)

    p = lsub.add_parser(
        "up",
        help="bring a scenario's network up and keep it until Ctrl-C",
        description=(
            "Bring a scenario's network up with the censor rules of one moment of its clock, "
            "print its namespaces and addresses, and keep it until Ctrl-C or SIGTERM."
        ),
    )
    p.add_argument("scenario", help="bundled scenario name or path to a .toml file")
    p.add_argument("--at", help="scenario time whose rules to apply (default: the start)")
    p.add_argument(
        "--for",
        dest="seconds",
        type=float,
        default=None,
        help="stay up this many seconds, then clean up (default: until Ctrl-C)",
    )
    p.set_defaults(func=cmd_up)

    p = lsub.add_parser(
        "run",
        help="run a scenario with the real probe and write its measurements",
        description=(
            "Run a scenario: for every round of its clock, switch the censors' rules and run "
            "`ashyq probe` in every vantage point; write the OONI-format measurements as JSONL."
        ),
    )
    p.add_argument("scenario", help="bundled scenario name or path to a .toml file")
    p.add_argument("--output", "-o", type=Path, help="JSONL file for the measurements")
    p.add_argument(
        "--clock-step",
        help="scenario time between rounds, e.g. 30m, 2h (default: the scenario's own step)",
    )
    p.add_argument(
        "--round-seconds",
        type=float,
        default=0.0,
        help="wall seconds a round lasts at least (default 0: as fast as possible)",
    )
    p.set_defaults(func=cmd_run)

    p = lsub.add_parser(
        "down",
        help="remove lab namespaces and processes left by earlier runs",
        description=(
            "Remove the namespaces (and the processes in them) of earlier or crashed runs. "
            "Labs whose owning process is still running are left alone unless --all."
        ),
    )
    p.add_argument("--all", action="store_true", help="also remove labs still in use")
    p.set_defaults(func=cmd_down)

    p = lsub.add_parser(
        "bench",
        help="run every scenario, judge it and compare with the ground truth",
        description=(
            "Run scenarios, judge each measurement with the analysis and compare with the "
            "ground truth per target x vantage point x round; print a confusion matrix. "
            "Exit status 1 when a censored case is missed or something innocent is accused."
        ),
    )
    p.add_argument(
        "--scenario",
        action="append",
        default=[],
        help="scenario to run (repeatable; default: all bundled scenarios)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument(
        "--parallel",
        type=int,
        default=3,
        help="scenarios run at once, each in its own lab (default 3)",
    )
    p.add_argument("--cases", type=Path, help="also write every case as JSONL to this file")
    p.set_defaults(func=cmd_bench)

    d = sub.add_parser(
        "demo",
        help="the 9 May 2019 scenario end to end: probes, analysis, store, events, dashboard",
        description=(
            "Run the kz-2019-05-09 scenario in the lab with probes in every region, judge "
            "the measurements, feed the collector, store and events, print a readable report "
            "beside the ground truth, and check that the dashboard answers."
        ),
    )
    d.add_argument("--scenario", default="kz-2019-05-09", help=argparse.SUPPRESS)
    d.add_argument(
        "--serve",
        action="store_true",
        help="keep the dashboard running after the report (until Ctrl-C)",
    )
    d.add_argument(
        "--data",
        type=Path,
        default=None,
        metavar="DIR",
        help="data directory for the demo's store (default: a new temporary directory, so the "
        "demo never mixes its emulated measurements into real data)",
    )
    d.set_defaults(func=cmd_demo)


# ------------------------------------------------------------------------------------------


def _cli_error(msg: str) -> Exception:
    from ashyq.cli import CliError

    return CliError(msg)


def _require() -> None:
    from ashyq.lab.netns import missing_requirements

    missing = missing_requirements()
    if missing:
        raise _cli_error("the lab needs " + "; ".join(missing))


def _scenario(name: str):
    from ashyq.lab.scenario import ScenarioError, load

    try:
        return load(name)
    except ScenarioError as exc:
        raise _cli_error(str(exc)) from None


def _progress(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def cmd_scenarios(args: argparse.Namespace) -> int:
    from ashyq.lab.scenario import available, load

    for name in available():
        s = load(name)
        print(
            f"{name:20} {len(s.networks)} networks, {len(s.vantages)} vantage points, "
            f"{len(s.sites)} sites, {len(s.rules)} rules, {s.rounds} rounds - {s.title}"
        )
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    from ashyq.lab import network
    from ashyq.lab.netns import install_signal_handlers
    from ashyq.lab.scenario import ScenarioError, parse_time

    _require()
    scenario = _scenario(args.scenario)
    try:
        when = parse_time(args.at, "--at") if args.at else scenario.start
    except ScenarioError as exc:
        raise _cli_error(str(exc)) from None
    install_signal_handlers()
    try:
        net = network.up(scenario)
    except RuntimeError as exc:
        raise _cli_error(f"{scenario.name}: {exc}") from None
    try:
        net.apply(when)
        p = net.plan
        print(f"lab {net.lab.prefix} up: scenario {scenario.name}, rules of {when:%Y-%m-%d %H:%M}Z")
        sites = ", ".join(f"{h}={ip}" for h, ip in p.site_ip.items())
        print(f"  internet    {net.inet}: sites {sites}")
        for nid, ns in net.censors.items():
            print(f"  censor      {ns}: {scenario.network(nid).asn} {scenario.network(nid).name}")
        for v in p.vantages:
            print(
                f"  vantage     {net.vantage_ns[v.vantage.id]}: {v.vantage.id} {v.address} "
                f"resolver {v.resolver}"
            )
        print(f"  control     {p.control_url} ({'running' if net.control else 'not available'})")
        print(f"  CA file     {net.ca_file}")
        first = p.vantages[0]
        print(
            f"try: ip netns exec {net.vantage_ns[first.vantage.id]} {sys.executable} -m ashyq "
            f"probe --no-system-resolver --resolver {first.resolver} --control {p.control_url} "
            f"--ca-file {net.ca_file} {scenario.sites[0].url}"
        )
        print("Ctrl-C to take it down.", flush=True)
        deadline = None if args.seconds is None else time.monotonic() + args.seconds
        while deadline is None or time.monotonic() < deadline:
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        net.close()
        print("lab removed", file=sys.stderr)
    return 0


def _clock_step(text: str | None) -> dt.timedelta | None:
    from ashyq.lab.scenario import ScenarioError, parse_duration

    if not text:
        return None
    try:
        return parse_duration(text, "--clock-step")
    except ScenarioError as exc:
        raise _cli_error(str(exc)) from None


def _run(scenario, **kw):
    from ashyq.lab.netns import LabUnavailable
    from ashyq.lab.runner import ProbeUnavailable, run_scenario

    try:
        return run_scenario(scenario, **kw)
    except (ProbeUnavailable, LabUnavailable) as exc:
        raise _cli_error(str(exc)) from None
    except RuntimeError as exc:  # a command or a server of the lab failed: say which
        raise _cli_error(f"{scenario.name}: {exc}") from None


def cmd_run(args: argparse.Namespace) -> int:
    from ashyq.lab.netns import install_signal_handlers
    from ashyq.lab.runner import with_clock_step

    _require()
    scenario = with_clock_step(_scenario(args.scenario), _clock_step(args.clock_step))
    install_signal_handlers()
    run = _run(scenario, progress=_progress, round_seconds=args.round_seconds)
    out = sys.stdout if args.output is None else open(args.output, "w", encoding="utf-8")  # noqa: SIM115
    try:
        for m in run.measured:
            out.write(json.dumps(m.measurement, ensure_ascii=False) + "\n")
    finally:
        if out is not sys.stdout:
            out.close()
    for f in run.failures:
        _progress(f"probe failure: {f}")
    _progress(
        f"{scenario.name}: {len(run.measured)} measurements in {run.seconds:.0f} s"
        + (f", written to {args.output}" if args.output else "")
    )
    return 1 if run.failures and not run.measured else 0


def run_bench(names: list[str], parallel: int = 3, progress=_progress):
    """Run scenarios (several at once), judge and compare; returns (summary, cases)."""
    from ashyq.lab import bench, netns

    scenarios = [_scenario(n) for n in names]
    t0 = time.monotonic()
    runs = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def one(s):
        try:
            r = _run(s, progress=progress)
            with lock:
                runs.append(r)
        except BaseException as exc:  # reported after every lab is down
            errors.append(exc)

    pool = ThreadPoolExecutor(max_workers=max(1, parallel))
    try:
        list(pool.map(one, scenarios))
    except BaseException:
        # Ctrl-C or SIGTERM: take every lab down now; the threads then fail fast.
        for lab in list(netns._OPEN):
            lab.close()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    if errors:
        raise errors[0]
    runs.sort(key=lambda r: names.index(r.scenario.name) if r.scenario.name in names else 0)
    try:
        cases = bench.bench_runs(runs)
    except ImportError as exc:
        msg = f"the analysis (ashyq.analysis.verdict.judge_all) is missing: {exc}"
        raise _cli_error(msg) from None
    failures = [f"{r.scenario.name}: {f}" for r in runs for f in r.failures]
    summary = bench.summarize(cases, time.monotonic() - t0, failures)
    return summary, cases


def cmd_bench(args: argparse.Namespace) -> int:
    from ashyq.lab import bench
    from ashyq.lab.netns import install_signal_handlers
    from ashyq.lab.scenario import available

    _require()
    install_signal_handlers()
    names = args.scenario or available()
    summary, cases = run_bench(names, args.parallel)
    if args.cases:
        with open(args.cases, "w", encoding="utf-8") as fh:
            for c in cases:
                fh.write(json.dumps(c.to_dict()) + "\n")
    if args.json:
        print(json.dumps({"scenarios_run": names, **summary.to_dict()}, ensure_ascii=False))
    else:
        print(bench.render_report(summary))
    return 0 if summary.perfect else 1


def cmd_demo(args: argparse.Namespace) -> int:
    from ashyq.lab.demo import run_demo

    _require()
    return run_demo(args)


def cmd_down(args: argparse.Namespace) -> int:
    from ashyq.lab.netns import down

    _require()
    removed = down(everything=args.all)
    print(f"removed {len(removed)} namespaces" + (": " + ", ".join(removed) if removed else ""))
    return 0
