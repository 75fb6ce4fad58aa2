"""The verdict: what the analysis says of one measurement, with the facts behind it.

This is the contract between the analysis and everything that consumes verdicts (the store,
events, ``ashyq check``, the lab bench, the web pages). Fields may be added; none renamed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Status = Literal["ok", "blocked", "throttled", "down", "inconclusive"]
STATUSES: tuple[str, ...] = ("ok", "blocked", "throttled", "down", "inconclusive")


@dataclass(frozen=True, slots=True)
class Verdict:
    # identity of the measurement judged
    measurement_uid: str  # OONI's measurement_uid, else a stable hash of report_id + input + time
    report_id: str | None
    input: str | None
    target: str | None  # the host name of `input` (lower case), or the app for app tests
    test_name: str
    probe_cc: str | None
    probe_asn: str | None  # "AS9198"
    probe_network_name: str | None
    region: str | None  # from annotations["region"] when the probe's volunteer chose one
    measurement_start_time: str | None  # "YYYY-MM-DD hh:mm:ss" UTC, as in the measurement
    # the judgement
    status: Status
    method: str | None  # "stage.outcome", e.g. "dns.nxdomain", "http.blockpage:ooni.kz_1"
    confidence: float  # 0..1
    evidence: tuple[str, ...]  # facts in plain words, with values
    ooni_blocking: (
        str | bool | None
    )  # "dns" | "tcp_ip" | "http-failure" | "http-diff" | False | None
    ooni_accessible: bool | None
    rule_version: str  # which rules produced this verdict (for re-analysis provenance)
    details: dict[str, Any] = field(default_factory=dict)  # numbers behind the evidence

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["evidence"] = list(self.evidence)
        return out
