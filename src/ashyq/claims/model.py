"""What the extractor produces: a report with its claims, each with its evidence."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Kind = Literal["blocking", "throttling", "outage", "account"]
KINDS: tuple[str, ...] = ("blocking", "throttling", "outage", "account")


@dataclass(frozen=True, slots=True)
class Evidence:
    """A sentence of the report; start/end are character offsets into the original input."""

    start: int
    end: int
    text: str
    role: str = "claim"  # claim | not_affected | explanation


@dataclass(slots=True)
class Claim:
    kind: str
    targets: list[str]
    not_affected: list[str] = field(default_factory=list)
    places: list[str] = field(default_factory=list)
    scope: str | None = None  # national | local | None (not said)
    isps: list[str] = field(default_factory=list)  # providers named: "Kazakhtelecom"
    asns: list[str] = field(default_factory=list)  # their networks: "AS9198"
    date: str | None = None  # YYYY-MM-DD
    date_text: str | None = None  # the words the date came from
    date_source: str | None = None  # explicit | relative | context | published | partial
    official_explanation: str | None = None
    hedged: bool = False
    language: str | None = None
    confidence: float = 0.0
    evidence: list[Evidence] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["evidence"] = [asdict(e) for e in self.evidence]
        return out

    def fingerprint(self, source: str) -> str:
        """A stable id: the same claim from the same report is stored once."""
        key = json.dumps(
            [source, self.kind, sorted(self.targets), [(e.start, e.end) for e in self.evidence]],
            ensure_ascii=False,
        )
        return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


@dataclass(slots=True)
class Report:
    source: str  # file name, URL or "-"
    language: str  # kk | ru | en | ar | mixed | unknown
    language_shares: dict[str, float]
    published: str | None
    claims: list[Claim]
    official_explanation: str | None = None
    sha256: str = ""  # of the original input

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        # each claim with the id it has (or will have) in the store
        out["claims"] = [
            {"claim_id": c.fingerprint(self.source), **c.to_dict()} for c in self.claims
        ]
        return out
