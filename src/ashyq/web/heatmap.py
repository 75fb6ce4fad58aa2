"""The hour-of-day × day heat map of a target, in Kazakhstan's local time (Asia/Almaty).

Counts are aggregated per UTC hour in SQL; this module moves them to local time (the offset
changed from UTC+6 to UTC+5 on 2024-03-01, which ``zoneinfo`` knows) and lays out the grid.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

LOCAL_ZONE = ZoneInfo("Asia/Almaty")
CELL = 16
LEFT = 84
TOP = 24


@dataclass(frozen=True, slots=True)
class Cell:
    day: date
    hour: int
    total: int
    failing: int
    x: int
    y: int

    @property
    def share(self) -> float:
        return self.failing / self.total if self.total else 0.0

    @property
    def level(self) -> int:
        """0 (no data), 1 (all fine) .. 5 (all failing): a CSS class, not a colour."""
        if not self.total:
            return 0
        return 1 + min(4, int(self.share * 4 + 0.999)) if self.failing else 1


@dataclass(frozen=True, slots=True)
class HeatMap:
    days: list[date]
    cells: list[Cell]
    width: int
    height: int
    cell: int = CELL
    left: int = LEFT
    top: int = TOP


def to_local(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(LOCAL_ZONE)


def build(hourly: Iterable[tuple[datetime, int, int]], last_days: int = 14) -> HeatMap:
    """``hourly`` rows are (UTC hour, measurements, failing measurements)."""
    per_hour: dict[datetime, tuple[int, int]] = {}
    for hour, total, failing in hourly:  # several networks share an hour: convert it once
        t, f = per_hour.get(hour, (0, 0))
        per_hour[hour] = (t + int(total), f + int(failing))
    grid: dict[tuple[date, int], tuple[int, int]] = {}
    for hour, (total, failing) in per_hour.items():
        local = to_local(hour)
        key = (local.date(), local.hour)
        t, f = grid.get(key, (0, 0))
        grid[key] = (t + total, f + failing)
    if not grid:
        return HeatMap(days=[], cells=[], width=LEFT + 24 * CELL, height=TOP)
    newest = max(day for day, _ in grid)
    days = [newest - timedelta(days=i) for i in range(last_days - 1, -1, -1)]
    cells: list[Cell] = []
    for row, day in enumerate(days):
        for hour in range(24):
            total, failing = grid.get((day, hour), (0, 0))
            cells.append(Cell(day, hour, total, failing, LEFT + hour * CELL, TOP + row * CELL))
    return HeatMap(
        days=days, cells=cells, width=LEFT + 24 * CELL + 4, height=TOP + len(days) * CELL
    )
