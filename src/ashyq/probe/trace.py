"""The measurement clock and the network events of one measurement (OONI ``network_events``)."""

from __future__ import annotations

import itertools
import time
from typing import Any

MAX_EVENTS = 2000  # a hostile server cannot make a measurement grow without bound


class Trace:
    """Times are seconds since the measurement started, as OONI's ``t0``/``t``."""

    def __init__(self) -> None:
        self.zero = time.perf_counter()
        self.events: list[dict[str, Any]] = []
        self._ids = itertools.count(1)

    def now(self) -> float:
        return round(time.perf_counter() - self.zero, 6)

    def transaction(self) -> int:
        return next(self._ids)

    def event(
        self,
        operation: str,
        t0: float,
        *,
        address: str | None = None,
        failure: str | None = None,
        num_bytes: int | None = None,
        transaction_id: int | None = None,
        tags: list[str] | None = None,
        proto: str = "tcp",
    ) -> None:
        if len(self.events) >= MAX_EVENTS:
            return
        ev: dict[str, Any] = {
            "address": address,
            "failure": failure,
            "operation": operation,
            "proto": proto,
            "t0": t0,
            "t": self.now(),
            "transaction_id": transaction_id,
            "tags": list(tags or []),
        }
        if num_bytes is not None:
            ev["num_bytes"] = num_bytes
        self.events.append(ev)


def endpoint(ip: str, port: int) -> str:
    """``"1.2.3.4:443"`` or ``"[2001:db8::1]:443"`` (OONI's endpoint spelling)."""
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"
