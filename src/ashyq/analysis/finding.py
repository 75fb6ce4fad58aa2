"""A judgement before it is dressed with the measurement's identity (see ``verdict.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Finding:
    status: str
    method: str | None
    confidence: float
    evidence: list[str]
    ooni_blocking: str | bool | None = None
    ooni_accessible: bool | None = None
    details: dict[str, Any] = field(default_factory=dict)


def asn_text(asn: int | None) -> str:
    return f"AS{asn}" if asn else "an unknown AS"


def addrs_text(addrs: list[str], asn: dict[str, int] | None = None, limit: int = 4) -> str:
    """'1.2.3.4 (AS15133), 5.6.7.8' for evidence sentences."""
    parts = []
    for a in addrs[:limit]:
        n = (asn or {}).get(a)
        parts.append(f"{a} in AS{n}" if n else a)
    if len(addrs) > limit:
        parts.append(f"and {len(addrs) - limit} more")
    return ", ".join(parts) if parts else "no address"
