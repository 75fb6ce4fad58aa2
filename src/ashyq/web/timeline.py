"""Geometry of the events timeline: one row per target × network, one bar per event.

Pure functions: events in, rows of bars (positions in SVG user units) out. The templates draw
them; nothing here knows about HTML.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

LABEL_WIDTH = 260
CHART_WIDTH = 700
ROW_HEIGHT = 22
AXIS_HEIGHT = 28
MIN_BAR = 3.0
KIND_ORDER = {"blocking": 0, "throttling": 1, "outage": 2}


@dataclass(frozen=True, slots=True)
class Bar:
    event_id: str
    kind: str
    x: float
    width: float
    start: datetime
    end: datetime | None
    method: str


@dataclass(slots=True)
class Row:
    target: str | None
    network: str
    y: float = 0.0
    bars: list[Bar] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True, slots=True)
class Timeline:
    rows: list[Row]
    ticks: list[Tick]
    since: datetime
    until: datetime
    width: int
    height: int
    label_width: int = LABEL_WIDTH
    chart_width: int = CHART_WIDTH
    row_height: int = ROW_HEIGHT
    axis_height: int = AXIS_HEIGHT


def _x(moment: datetime, since: datetime, until: datetime) -> float:
    span = (until - since).total_seconds() or 1.0
    offset = (moment - since).total_seconds()
    return LABEL_WIDTH + max(0.0, min(1.0, offset / span)) * CHART_WIDTH


def _ticks(since: datetime, until: datetime) -> list[Tick]:
    span = until - since
    if span <= timedelta(days=2):
        step, fmt = timedelta(hours=6), "%m-%d %H:%M"
    elif span <= timedelta(days=16):
        step, fmt = timedelta(days=1), "%m-%d"
    elif span <= timedelta(days=120):
        step, fmt = timedelta(days=7), "%Y-%m-%d"
    else:
        step, fmt = timedelta(days=30), "%Y-%m"
    first = since.replace(minute=0, second=0, microsecond=0)
    if step >= timedelta(days=1):
        first = first.replace(hour=0)
    ticks: list[Tick] = []
    moment = first
    while moment <= until and len(ticks) < 40:
        if moment >= since:
            ticks.append(Tick(_x(moment, since, until), moment.strftime(fmt)))
        moment += step
    return ticks


def layout(
    events: Iterable[Mapping[str, Any]], since: datetime, until: datetime, now: datetime
) -> Timeline:
    """Rows sorted by target then network; an ongoing event's bar runs to ``now``."""
    if until <= since:
        raise ValueError("the timeline needs since < until")
    rows: dict[tuple[str, str], Row] = {}
    for event in events:
        start: datetime = event["start"]
        end: datetime | None = event.get("end")
        shown_end = end or now
        if shown_end < since or start > until:
            continue
        networks = list(event.get("asns") or []) or ["all networks"]
        target = event.get("target")
        methods = event.get("methods") or []
        x0 = _x(start, since, until)
        x1 = _x(max(shown_end, start), since, until)
        bar = Bar(
            event_id=str(event["event_id"]),
            kind=str(event["kind"]),
            x=x0,
            width=max(MIN_BAR, x1 - x0),
            start=start,
            end=end,
            method=", ".join(str(m) for m in methods),
        )
        for network in networks:
            key = (target or "", str(network))
            row = rows.get(key)
            if row is None:
                row = rows[key] = Row(target=target, network=str(network))
            row.bars.append(bar)
    ordered = sorted(rows.values(), key=lambda r: (r.target is None, r.target or "", r.network))
    for index, row in enumerate(ordered):
        row.y = AXIS_HEIGHT + index * ROW_HEIGHT
        row.bars.sort(key=lambda b: (b.start, KIND_ORDER.get(b.kind, 9)))
    height = AXIS_HEIGHT + max(1, len(ordered)) * ROW_HEIGHT + 6
    return Timeline(
        rows=ordered,
        ticks=_ticks(since, until),
        since=since,
        until=until,
        width=LABEL_WIDTH + CHART_WIDTH + 10,
        height=height,
    )
