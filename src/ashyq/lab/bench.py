"""Compare the analysis's verdicts with a scenario's ground truth.

A case is one target × vantage point × round of the scenario clock. A censored case is found
when the verdict has the expected status and one of the accepted methods; it is missed when the
verdict does not accuse (ok, down, inconclusive) or the measurement is absent. A false
accusation is a ``blocked`` or ``throttled`` verdict where nothing was censored.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ashyq.lab.runner import Measured, ScenarioRun
from ashyq.lab.scenario import Expected, Scenario, expected, method_matches

ACCUSING = ("blocked", "throttled")
COLUMNS = ("ok", "blocked", "throttled", "down", "inconclusive", "absent")


@dataclass(frozen=True, slots=True)
class Case:
    scenario: str
    target: str
    vantage: str
    round: int
    when: str
    expected: Expected
    status: str  # the verdict's status, or "absent"
    method: str | None
    outcome: str  # found | wrong_method | missed | false_accusation | right | other
    evidence: tuple[str, ...] = ()  # the verdict's own words, for the report

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "target": self.target,
            "vantage": self.vantage,
            "round": self.round,
            "time": self.when,
            "censored": self.expected.censored,
            "technique": self.expected.technique,
            "expected_status": self.expected.status,
            "accepted_methods": list(self.expected.methods),
            "status": self.status,
            "method": self.method,
            "outcome": self.outcome,
            "evidence": list(self.evidence),
        }


def classify(exp: Expected, status: str, method: str | None) -> str:
    if exp.censored:
        if status == exp.status and method_matches(method, exp.methods):
            return "found"
        if status in ACCUSING:
            return "wrong_method"
        return "missed"
    if status in ACCUSING:
        return "false_accusation"
    if exp.status is None or status == exp.status:
        return "right"
    return "other"


def host_of(measurement: dict[str, Any]) -> str | None:
    url = measurement.get("input")
    if not isinstance(url, str):
        return None
    host = urlsplit(url).hostname
    return host.lower().rstrip(".") if host else None


def compare(
    scenario: Scenario,
    measured: list[Measured],
    verdicts: list[Any],
) -> list[Case]:
    """Cases of one scenario run; `verdicts` are judge_all's output, one per measurement."""
    got: dict[tuple[str, str, int], tuple[str, str | None, tuple[str, ...]]] = {}
    for m, v in zip(measured, verdicts, strict=True):
        host = host_of(m.measurement)
        if host is None:
            continue
        evidence = tuple(str(e) for e in (getattr(v, "evidence", None) or ())[:3])
        got[(host, m.vantage, m.round)] = (str(v.status), v.method, evidence)
    vantages = {v.id: v for v in scenario.vantages}
    cases = []
    for r, when in enumerate(scenario.times()):
        for vid, vantage in vantages.items():
            for site in scenario.sites:
                exp = expected(scenario, site.host, vantage, when)
                status, method, evidence = got.get((site.host, vid, r), ("absent", None, ()))
                cases.append(
                    Case(
                        scenario.name,
                        site.host,
                        vid,
                        r,
                        when.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        exp,
                        status,
                        method,
                        classify(exp, status, method),
                        evidence,
                    )
                )
    return cases


@dataclass
class Summary:
    cases: int = 0
    blocked_cases: int = 0
    found_with_right_method: int = 0
    found_with_wrong_method: int = 0
    missed: int = 0
    false_accusations: int = 0
    not_censored_right: int = 0
    absent: int = 0
    seconds: float = 0.0
    matrix: dict[str, Counter] = field(default_factory=dict)  # expected → status counts
    per_technique: dict[str, Counter] = field(default_factory=dict)
    scenarios: dict[str, dict[str, int]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "cases": self.cases,
            "blocked_cases": self.blocked_cases,
            "found_with_right_method": self.found_with_right_method,
            "found_with_wrong_method": self.found_with_wrong_method,
            "missed": self.missed,
            "false_accusations": self.false_accusations,
            "not_censored_right": self.not_censored_right,
            "absent": self.absent,
            "seconds": round(self.seconds, 1),
            "confusion_matrix": {k: dict(v) for k, v in sorted(self.matrix.items())},
            "per_technique": {k: dict(v) for k, v in sorted(self.per_technique.items())},
            "scenarios": self.scenarios,
            "probe_failures": self.failures,
            "problems": self.problems,
        }

    @property
    def perfect(self) -> bool:
        return (
            self.cases > 0
            and self.missed == 0
            and self.false_accusations == 0
            and self.found_with_right_method == self.blocked_cases
        )


def summarize(cases: Iterable[Case], seconds: float = 0.0, failures: list[str] | None = None):
    s = Summary(seconds=seconds, failures=list(failures or []))
    for c in cases:
        s.cases += 1
        row = (
            c.expected.technique
            if c.expected.censored
            else f"not censored ({c.expected.technique})"
        )
        s.matrix.setdefault(row or "?", Counter())[c.status] += 1
        per = s.scenarios.setdefault(c.scenario, Counter())
        per["cases"] += 1
        per[c.outcome] += 1
        if c.status == "absent":
            s.absent += 1
        if c.expected.censored:
            s.blocked_cases += 1
            s.per_technique.setdefault(c.expected.technique or "?", Counter())[c.outcome] += 1
        if c.outcome == "found":
            s.found_with_right_method += 1
        elif c.outcome == "wrong_method":
            s.found_with_wrong_method += 1
        elif c.outcome == "missed":
            s.missed += 1
        elif c.outcome == "false_accusation":
            s.false_accusations += 1
        elif c.outcome == "right":
            s.not_censored_right += 1
        if c.outcome in ("wrong_method", "missed", "false_accusation"):
            s.problems.append(c.to_dict())
    s.scenarios = {k: dict(v) for k, v in s.scenarios.items()}
    return s


def judge(measurements: list[dict[str, Any]]) -> list[Any]:
    """The analysis's verdicts (``ashyq.analysis.verdict.judge_all``)."""
    from ashyq.analysis.verdict import judge_all

    return list(judge_all(measurements))


def bench_runs(runs: list[ScenarioRun], judge_fn: Callable[[list], list] = judge) -> list[Case]:
    cases: list[Case] = []
    for run in runs:
        verdicts = judge_fn([m.measurement for m in run.measured])
        cases += compare(run.scenario, run.measured, verdicts)
    return cases


def render_matrix(summary: Summary) -> str:
    """The confusion matrix as text: expected (rows) × verdict status (columns)."""
    rows = sorted(summary.matrix)
    width = max([len(r) for r in rows] + [20])
    head = "expected \\ verdict".ljust(width) + "".join(c.rjust(13) for c in COLUMNS)
    lines = [head, "-" * len(head)]
    for r in rows:
        counts = summary.matrix[r]
        lines.append(r.ljust(width) + "".join(str(counts.get(c, 0)).rjust(13) for c in COLUMNS))
    return "\n".join(lines)


def render_report(summary: Summary) -> str:
    out = [render_matrix(summary), ""]
    out.append(
        f"cases {summary.cases}, censored {summary.blocked_cases}, found with the right method "
        f"{summary.found_with_right_method}, wrong method {summary.found_with_wrong_method}, "
        f"missed {summary.missed}, false accusations {summary.false_accusations}, "
        f"absent {summary.absent}, {summary.seconds:.0f} s"
    )
    for p in summary.problems[:40]:
        out.append(
            f"  {p['outcome']}: {p['scenario']} {p['target']} at {p['vantage']} {p['time']}: "
            f"expected {p['technique']} ({p['expected_status']}), got {p['status']} "
            f"{p['method'] or ''}".rstrip()
        )
        for e in p.get("evidence", [])[:2]:
            out.append(f"      {e}")
    if len(summary.problems) > 40:
        out.append(f"  ... and {len(summary.problems) - 40} more")
    for f in summary.failures:
        out.append(f"  probe failure: {f}")
    return "\n".join(out)
