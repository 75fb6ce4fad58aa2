"""The lab's commands: clear errors, listing, and removing leftovers."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from lab_clients import lab_skip_reason

from ashyq.cli import main
from ashyq.lab import netns


def test_scenarios_are_listed(capsys):
    assert main(["lab", "scenarios"]) == 0
    out = capsys.readouterr().out
    for name in ("kz-2016-12-16", "kz-2019-05-09", "kz-2022-01", "kz-2023-tls"):
        assert name in out


def test_missing_tools_give_one_clear_line(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))  # no ip, nft, tc
    assert main(["lab", "bench"]) == 2
    err = capsys.readouterr().err
    assert "the lab needs" in err and "nft" in err and "Traceback" not in err


def test_unknown_scenario_is_a_user_error(capsys):
    if lab_skip_reason():
        pytest.skip(lab_skip_reason())
    assert main(["lab", "run", "kz-1999"]) == 2
    assert "no scenario 'kz-1999'" in capsys.readouterr().err
    assert main(["lab", "run", "kz-2019-05-09", "--clock-step", "soon"]) == 2
    assert main(["lab", "up", "kz-2019-05-09", "--at", "noon"]) == 2
    assert "--at: not an ISO 8601 time" in capsys.readouterr().err


def test_lab_group_without_subcommand_shows_help(capsys):
    assert main(["lab"]) == 2
    assert "scenarios" in capsys.readouterr().out


@pytest.mark.lab
def test_down_removes_leftovers_of_a_crashed_run_only(capsys):
    if lab_skip_reason():
        pytest.skip(lab_skip_reason())
    # a run that died without cleaning up: a namespace with a process inside, a dead owner
    crashed = netns.Lab()
    ns = crashed.ns("v1")
    netns._OPEN.discard(crashed)
    dead = subprocess.Popen(["true"])
    dead.wait()
    (crashed.state / "owner").write_text(str(dead.pid))
    sleeper = subprocess.Popen(["ip", "netns", "exec", ns, "sleep", "300"])
    live = netns.Lab()  # a run still going on (ours) must survive
    live_ns = live.ns("v1")
    other = f"aqtest{os.getpid()}-not-lab"
    subprocess.run(["ip", "netns", "add", other], check=True)
    try:
        assert main(["lab", "down"]) == 0
        assert ns in capsys.readouterr().out
        names = netns.list_namespaces()
        assert ns not in names and not crashed.state.exists()
        assert sleeper.wait(timeout=10) != 0  # killed
        assert live_ns in names and other in names  # in use, or not the lab's: left alone
    finally:
        live.close()
        subprocess.run(["ip", "netns", "del", other], check=False)
        if sleeper.poll() is None:
            sleeper.kill()
    assert live_ns not in netns.list_namespaces()


@pytest.mark.lab
def test_up_cleans_up_after_itself(capsys):
    if lab_skip_reason():
        pytest.skip(lab_skip_reason())
    before = set(netns.list_namespaces())
    assert main(["lab", "up", "technical-failure", "--for", "0.5"]) == 0
    out = capsys.readouterr().out
    assert "vantage" in out and "censor" in out
    assert set(netns.list_namespaces()) == before


@pytest.mark.lab
def test_sigterm_removes_the_lab():
    if lab_skip_reason():
        pytest.skip(lab_skip_reason())
    import sys
    import time

    before = set(netns.list_namespaces())
    proc = subprocess.Popen(
        [sys.executable, "-m", "ashyq", "lab", "up", "technical-failure"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = ""
        deadline = time.monotonic() + 60
        while "Ctrl-C" not in line and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line and proc.poll() is not None:
                break
        during = set(netns.list_namespaces()) - before
        assert len(during) >= 5
        proc.terminate()
        proc.wait(timeout=30)
        assert not (set(netns.list_namespaces()) & during)
        # no process of the lab survives (their command lines name the run's state directory)
        prefix = next(iter(during)).split("-")[0]
        left = subprocess.run(
            ["pgrep", "-f", f"{netns.STATE_ROOT}/{prefix}"], capture_output=True, text=True
        )
        assert left.stdout.split() == []
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.mark.lab
def test_run_writes_real_measurements_on_the_scenario_clock(tmp_path, capsys):
    if lab_skip_reason():
        pytest.skip(lab_skip_reason())
    out = tmp_path / "m.jsonl"
    tiny = str(Path(__file__).with_name("tiny.toml"))
    # --clock-step 1h samples 10:00, 11:00, 12:00 instead of the file's 10:00, 12:00
    assert main(["lab", "run", tiny, "--output", str(out), "--clock-step", "1h"]) == 0
    ms = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(ms) == 6
    seen = {(m["input"], m["measurement_start_time"]) for m in ms}
    for hour in (10, 11, 12):
        for url in ("https://open.kz/", "https://closed.kz/"):
            assert (url, f"2024-03-01 {hour}:00:00") in seen
    for m in ms:
        assert m["probe_asn"] == "AS9198" and m["probe_cc"] == "KZ"
        assert m["annotations"]["region"] == "Almaty"
        assert m["probe_ip"] == "127.0.0.1"
        failures = {q.get("failure") for q in m["test_keys"].get("queries") or []}
        lied = m["input"] == "https://closed.kz/" and m["measurement_start_time"] >= "2024-03-01 11"
        assert ("dns_nxdomain_error" in failures) == lied, (m["input"], failures)
    assert "6 measurements" in capsys.readouterr().err
