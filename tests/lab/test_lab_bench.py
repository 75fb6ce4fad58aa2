"""The bench: comparison with the ground truth (pure), and every scenario run for real."""

from __future__ import annotations

import json

import pytest
from lab_clients import lab_skip_reason

from ashyq.analysis.model import Verdict
from ashyq.cli import main
from ashyq.lab.bench import classify, compare, render_report, summarize
from ashyq.lab.runner import Measured
from ashyq.lab.scenario import Expected, available, load


def verdict(status: str, method: str | None) -> Verdict:
    return Verdict(
        measurement_uid="u",
        report_id=None,
        input=None,
        target=None,
        test_name="web_connectivity",
        probe_cc="KZ",
        probe_asn="AS9198",
        probe_network_name=None,
        region=None,
        measurement_start_time=None,
        status=status,  # type: ignore[arg-type]
        method=method,
        confidence=0.9,
        evidence=(),
        ooni_blocking=None,
        ooni_accessible=None,
        rule_version="test",
    )


def test_classify():
    censored = Expected(True, "blocked", ("dns.nxdomain",), "dns.nxdomain")
    assert classify(censored, "blocked", "dns.nxdomain") == "found"
    assert classify(censored, "blocked", "tcp.timeout") == "wrong_method"
    assert classify(censored, "throttled", "dns.nxdomain") == "wrong_method"
    assert classify(censored, "down", None) == "missed"
    assert classify(censored, "absent", None) == "missed"
    innocent = Expected(False, "down", (), "down")
    assert classify(innocent, "down", None) == "right"
    assert classify(innocent, "inconclusive", None) == "other"
    assert classify(innocent, "blocked", "http.diff") == "false_accusation"
    assert classify(Expected(False, None, (), "slow"), "ok", None) == "right"


def test_compare_counts_every_case_and_absent_measurements():
    s = load("kz-2019-05-09")
    vp = "kt-almaty"
    morning = s.times()[0]
    measured = [
        Measured(vp, 0, morning, {"input": "https://holanews.kz/"}),
        Measured(vp, 0, morning, {"input": "https://tengrinews.kz/"}),
        Measured(vp, 0, morning, {"input": "http://vlast.kz/"}),
    ]
    verdicts = [
        verdict("blocked", "dns.nxdomain"),
        verdict("blocked", "http.diff"),
        verdict("ok", None),
    ]
    cases = compare(s, measured, verdicts)
    assert len(cases) == len(s.sites) * len(s.vantages) * s.rounds
    got = {(c.target, c.vantage, c.round): c.outcome for c in cases}
    assert got[("holanews.kz", vp, 0)] == "found"
    assert got[("tengrinews.kz", vp, 0)] == "false_accusation"
    assert got[("vlast.kz", vp, 0)] == "missed"
    assert got[("informburo.kz", vp, 0)] == "missed"  # no measurement at all
    summary = summarize(cases, 1.0)
    d = summary.to_dict()
    assert d["false_accusations"] == 1 and d["found_with_right_method"] == 1
    assert d["cases"] == len(cases) and d["missed"] == d["blocked_cases"] - 1
    assert not summary.perfect
    report = render_report(summary)
    assert (
        "expected \\ verdict" in report
        and "false_accusation: kz-2019-05-09 tengrinews.kz" in report
    )


@pytest.fixture(scope="module")
def bench_result(tmp_path_factory):
    reason = lab_skip_reason()
    if reason:
        pytest.skip(reason)
    cases_file = tmp_path_factory.mktemp("bench") / "cases.jsonl"
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["lab", "bench", "--json", "--parallel", "3", "--cases", str(cases_file)])
    result = json.loads(out.getvalue())
    cases = [json.loads(line) for line in cases_file.read_text().splitlines()]
    return code, result, cases


@pytest.mark.lab
@pytest.mark.timeout(600)
def test_bench_measures_every_case(bench_result):
    _code, result, cases = bench_result
    assert set(result["scenarios_run"]) == set(available())
    assert result["cases"] == len(cases) > 200
    assert result["probe_failures"] == []
    assert result["absent"] == 0  # every target measured at every vantage point and round
    techniques = {c["technique"] for c in cases if c["censored"]}
    assert techniques >= {
        "dns.nxdomain",
        "dns.bogon",
        "dns.blockpage",
        "ip.blackhole",
        "tcp.reset",
        "tls.timeout",
        "tls.reset",
        "http.blockpage",
        "tls.mitm",
        "throttle",
        "shutdown",
    }
    innocent = {c["technique"] for c in cases if not c["censored"]}
    assert innocent == {"normal", "down", "slow", "cdn", "challenge", "geoblock"}
    assert isinstance(result["seconds"], float)


@pytest.mark.lab
def test_bench_finds_every_censored_case_and_accuses_no_innocent(bench_result):
    code, result, cases = bench_result
    problems = [c for c in cases if c["outcome"] in ("missed", "false_accusation", "wrong_method")]
    assert problems == []
    assert result["missed"] == 0
    assert result["false_accusations"] == 0
    assert result["found_with_right_method"] == result["blocked_cases"] > 100
    assert code == 0
