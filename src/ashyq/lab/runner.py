"""Run a scenario: bring its network up, advance the scenario clock round by round, switch the
censors' rules, and run the real probe (``ashyq probe``) in every vantage point's namespace.

Scenario time runs faster than wall time: a round lasts as long as its probes take (or at
least ``round_seconds``), whatever the scenario's step. What the probe does is real.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ashyq.lab import network as netmod
from ashyq.lab.netns import Lab
from ashyq.lab.scenario import Scenario

PROBE_DEADLINE = 300.0  # wall seconds one probe run may take before it is stopped
PROBE_TIMEOUT = 3.0  # the probe's time bound per step: a stalled handshake costs this much
Progress = Callable[[str], None]


class ProbeUnavailable(RuntimeError):
    """``ashyq probe`` or ``ashyq control serve`` is not there (yet)."""


@dataclass
class Measured:
    """One measurement with the lab facts it was taken under (not written into it)."""

    vantage: str
    round: int
    when: dt.datetime
    measurement: dict[str, Any]


@dataclass
class ScenarioRun:
    scenario: Scenario
    measured: list[Measured] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # probe runs that failed, with why
    seconds: float = 0.0
    prefix: str = ""


def with_clock_step(scenario: Scenario, step: dt.timedelta | None) -> Scenario:
    """The scenario sampled every `step` of scenario time over the same span."""
    if step is None or step == scenario.step:
        return scenario
    span = scenario.step * max(scenario.rounds - 1, 0)
    rounds = math.floor(span / step) + 1
    return replace(scenario, step=step, rounds=max(rounds, 1))


def citizenlab_csv(scenario: Scenario) -> str:
    """The scenario's sites as a Citizen Lab test list."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["url", "category_code", "category_description", "date_added", "source", "notes"])
    for s in scenario.sites:
        w.writerow([s.url, "NEWS", "News Media", "2016-01-01", "ashyq-lab", s.title])
    return out.getvalue()


def probe_available() -> bool:
    return netmod.cli_has("probe")


def probe_command(
    net: netmod.LabNetwork,
    vantage_id: str,
    when: dt.datetime,
    out: Path,
    test_list: Path,
    extra: list[str] | None = None,
) -> list[str]:
    va = net.plan.vantage(vantage_id)
    network = net.scenario.network(va.vantage.network)
    return [
        sys.executable,
        "-m",
        "ashyq",
        "probe",
        "--control",
        net.plan.control_url,
        "--resolver",
        va.resolver,
        "--ca-file",
        str(net.ca_file),
        "--cc",
        "KZ",
        "--asn",
        network.asn,
        "--network-name",
        network.name,
        "--region",
        va.vantage.region,
        "--lab-clock",
        when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "--output",
        str(out),
        "--list",
        str(test_list),
        "--no-system-resolver",
        "--timeout",
        f"{PROBE_TIMEOUT:g}",
        "--no-progress",
        *(extra or []),
    ]


def run_round(
    net: netmod.LabNetwork,
    index: int,
    when: dt.datetime,
    run: ScenarioRun,
    *,
    extra_probe_args: Callable[[str], list[str]] | None = None,
) -> None:
    """Apply the rules of scenario time `when` and probe from every vantage point at once."""
    net.apply(when)
    state = net.lab.state
    test_list = state / "test-list.csv"
    if not test_list.exists():
        test_list.write_text(citizenlab_csv(net.scenario))
    procs: list[tuple[str, Path, subprocess.Popen, Path]] = []
    for va in net.plan.vantages:
        vid = va.vantage.id
        out = state / f"m-{index}-{vid}.jsonl"
        out.unlink(missing_ok=True)
        log = state / f"probe-{index}-{vid}.log"
        extra = extra_probe_args(vid) if extra_probe_args else None
        cmd = probe_command(net, vid, when, out, test_list, extra)
        with open(log, "wb") as lf:
            proc = subprocess.Popen(
                ["ip", "netns", "exec", net.vantage_ns[vid], *cmd],
                stdout=lf,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        net.lab.procs.append(proc)
        procs.append((vid, out, proc, log))
    deadline = time.monotonic() + PROBE_DEADLINE
    for vid, out, proc, log in procs:
        try:
            code = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            code = -9
        lines = out.read_text(encoding="utf-8").splitlines() if out.exists() else []
        got = 0
        for line in lines:
            if not line.strip():
                continue
            try:
                m = json.loads(line)
            except json.JSONDecodeError:
                run.failures.append(f"round {index} {vid}: unreadable line in probe output")
                continue
            run.measured.append(Measured(vid, index, when, m))
            got += 1
        if code != 0 or got == 0:
            tail = log.read_text(errors="replace").strip().splitlines()[-3:]
            run.failures.append(
                f"round {index} {vid}: probe exit {code}, {got} measurements: " + " | ".join(tail)
            )


def run_scenario(
    scenario: Scenario,
    *,
    progress: Progress | None = None,
    round_seconds: float = 0.0,
    on_up: Callable[[netmod.LabNetwork], None] | None = None,
    keep_up: Callable[[netmod.LabNetwork], None] | None = None,
    extra_probe_args: Callable[[str], list[str]] | None = None,
) -> ScenarioRun:
    """Run every round of a scenario in a fresh lab, which is always removed afterwards."""
    if not probe_available():
        raise ProbeUnavailable("`ashyq probe` is not available in this installation yet")
    say = progress or (lambda _msg: None)
    t0 = time.monotonic()
    lab = Lab()
    run = ScenarioRun(scenario, prefix=lab.prefix)
    try:
        net = netmod.up(scenario, lab)
        if not net.control:
            raise ProbeUnavailable("`ashyq control serve` is not available yet")
        say(f"{scenario.name}: lab up ({lab.prefix}, {len(net.plan.vantages)} vantage points)")
        if on_up is not None:
            on_up(net)
        for i, when in enumerate(scenario.times()):
            started = time.monotonic()
            run_round(net, i, when, run, extra_probe_args=extra_probe_args)
            n = sum(1 for m in run.measured if m.round == i)
            say(
                f"{scenario.name}: round {i + 1}/{scenario.rounds} at {when:%Y-%m-%d %H:%M}Z: "
                f"{n} measurements"
            )
            rest = round_seconds - (time.monotonic() - started)
            if rest > 0:
                time.sleep(rest)
        if keep_up is not None:
            keep_up(net)
    finally:
        lab.close()
    run.seconds = time.monotonic() - t0
    return run
