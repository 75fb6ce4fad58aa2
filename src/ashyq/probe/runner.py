"""Run many measurements with bounded concurrency, writing each one as it completes."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TextIO
from urllib.parse import urlsplit

import aiohttp

from ashyq.probe import dns as pdns
from ashyq.probe.testlist import Target
from ashyq.probe.webconnectivity import ProbeConfig, measure


class Sink(Protocol):
    def put(self, measurement: dict[str, Any]) -> None: ...


@dataclass
class RunSummary:
    measured: int = 0
    seconds: float = 0.0
    failures: dict[str, int] = field(default_factory=dict)


def to_line(measurement: dict[str, Any]) -> str:
    return json.dumps(measurement, ensure_ascii=False, separators=(",", ":")) + "\n"


async def run_targets(
    targets: Sequence[Target],
    cfg: ProbeConfig,
    out: TextIO | None,
    *,
    concurrency: int = 32,
    per_host: int = 2,
    sink: Sink | None = None,
    on_done: Callable[[dict[str, Any]], None] | None = None,
) -> RunSummary:
    """Measure every target; each finished measurement is written (and flushed) at once."""
    summary = RunSummary()
    started = time.monotonic()
    overall = asyncio.Semaphore(max(1, concurrency))
    hosts: dict[str, asyncio.Semaphore] = {}
    timeout = aiohttp.ClientTimeout(total=cfg.timeout * 3 + 5)
    pdns.reserve_gai_threads(concurrency)
    connector = aiohttp.TCPConnector(limit=max(4, concurrency))  # keep-alive to the control
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:

        async def one(target: Target) -> None:
            host = (urlsplit(target.url).hostname or "").lower()
            sem = hosts.setdefault(host, asyncio.Semaphore(max(1, per_host)))
            async with sem, overall:
                m = await measure(target.url, cfg, session if cfg.control else None)
            if target.category_code:
                m["annotations"]["x_category_code"] = target.category_code
            if out is not None:
                out.write(to_line(m))
                out.flush()
            if sink is not None:
                sink.put(m)
            summary.measured += 1
            failure = m["test_keys"].get("http_experiment_failure") or "none"
            summary.failures[failure] = summary.failures.get(failure, 0) + 1
            if on_done is not None:
                on_done(m)

        await asyncio.gather(*(one(t) for t in targets))
    summary.seconds = time.monotonic() - started
    return summary
