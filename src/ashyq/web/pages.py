"""Public, read-only pages: overview, events, target, measurement, CSV exports, JSON API."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import quote

import duckdb
from aiohttp import web

from ashyq.web import heatmap, i18n, queries, timeline
from ashyq.web.app import (
    READER_KEY,
    STATE_KEY,
    STORE_KEY,
    HttpError,
    lang_of,
    now_utc,
    render,
)
from ashyq.web.csvexport import to_csv
from ashyq.web.observations import compare
from ashyq.web.regions import KZ_REGIONS

T = TypeVar("T")
MAX_EXPORT_ROWS = 200_000
MAX_RAW_SHOWN = 500_000  # characters of raw JSON shown on the page; the download has it all
HEAT_DAYS = 14  # rows of the hour-of-day heat map
MAX_RECENT = 100  # ended events listed on the overview
MAX_SHOWN_EVENTS = 300  # on the page; the CSV export has them all
ASN_RE = re.compile(r"^AS\d{1,10}$")
TARGET_RE = re.compile(r"^[A-Za-z0-9._:\-]{1,253}$")
KIND_SEVERITY = {"blocking": 3, "outage": 2, "throttling": 1}


async def in_store(request: web.Request, work: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
    """Run ``work(con)`` on a read-only store connection, off the event loop."""
    return await request.app[READER_KEY].run(work)


async def raw_measurement(request: web.Request, uid: str) -> dict[str, Any] | None:
    """The archived measurement (the store's nested connection is the reader's own)."""
    store = request.app[STORE_KEY]
    return await in_store(request, lambda _con: store.measurement(uid))


# ------------------------------------------------------------------ parsing the query string
def parse_when(value: str | None, *, end_of_day: bool = False) -> datetime | None:
    """``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM[:SS]`` (UTC); a bare end date includes that day."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            day = datetime.strptime(text, "%Y-%m-%d")
            return day + timedelta(days=1) if end_of_day else day
        moment = datetime.fromisoformat(text.replace(" ", "T").removesuffix("Z"))
    except (ValueError, OverflowError):
        raise HttpError(400, f"not a date: {text[:40]!r} (use YYYY-MM-DD)") from None
    if moment.tzinfo is not None:  # an explicit offset: compare in UTC like the store
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def parse_network(value: str | None) -> str | None:
    if not value or not value.strip():
        return None
    text = value.strip().upper()
    if text.isdigit():
        text = "AS" + text
    if not ASN_RE.match(text):
        raise HttpError(400, f"not a network: {value[:40]!r} (use an ASN such as AS9198)")
    return text


def parse_target(value: str | None) -> str | None:
    if not value or not value.strip():
        return None
    text = value.strip().lower()
    if not TARGET_RE.match(text):
        raise HttpError(400, f"not a target host name: {value[:60]!r}")
    return text


def parse_text(value: str | None, limit: int = 100) -> str | None:
    if not value or not value.strip():
        return None
    return value.strip()[:limit]


def parse_days(value: str | None, default: int, most: int = 366) -> int:
    if not value:
        return default
    try:
        days = int(value)
    except ValueError:
        raise HttpError(400, f"not a number of days: {value[:20]!r}") from None
    return max(1, min(most, days))


def event_filter(request: web.Request) -> tuple[queries.EventFilter, dict[str, str]]:
    q = request.query
    now = now_utc()
    since = parse_when(q.get("since"))
    until = parse_when(q.get("until"), end_of_day=True)
    if since is None and until is None:
        since = now - timedelta(days=parse_days(q.get("days"), 30))
    if since and until and until <= since:
        raise HttpError(400, "the end date must come after the start date")
    category = parse_text(q.get("category"), 20)
    targets_in: tuple[str, ...] | None = None
    if category:
        cats = request.app[STATE_KEY].categories()
        targets_in = tuple(sorted(t for t, c in cats.items() if c == category.upper()))
    kind = parse_text(q.get("kind"), 20)
    if kind and kind not in KIND_SEVERITY:
        raise HttpError(400, f"unknown event kind: {kind!r}")
    f = queries.EventFilter(
        since=since,
        until=until,
        target=parse_target(q.get("target")),
        targets_in=targets_in,
        network=parse_network(q.get("network")),
        region=parse_text(q.get("region")),
        kind=kind,
    )
    shown = {
        "since": q.get("since", ""),
        "until": q.get("until", ""),
        "target": q.get("target", ""),
        "category": category or "",
        "network": f.network or "",
        "region": f.region or "",
        "kind": kind or "",
    }
    return f, shown


# ------------------------------------------------------------------ overview
def _cells_of(event: dict[str, Any]) -> dict[tuple[str, str], list[str]]:
    """(region, network) cells an event touches, each with the methods seen there."""
    cells: dict[tuple[str, str], list[str]] = {}
    for n in event["networks"]:
        if n.get("asn"):
            methods = n.get("methods") if isinstance(n.get("methods"), list) else None
            key = (str(n.get("region") or ""), str(n.get("asn")))
            cells.setdefault(key, []).extend(str(m) for m in (methods or event["methods"]))
    if cells:
        return cells
    regions = event["regions"] or [""]
    return {(r, a): list(event["methods"]) for r in regions for a in event["asns"]}


def _new_cell(total: int = 0, failing: int = 0) -> dict[str, Any]:
    return {
        "total": total,
        "failing": failing,
        "kinds": set(),
        "ongoing": False,
        "targets": set(),
        "methods": set(),
    }


def build_grid(
    cells: list[dict[str, Any]], events: list[dict[str, Any]]
) -> tuple[list[str], list[str], dict[tuple[str, str], dict[str, Any]]]:
    grid: dict[tuple[str, str], dict[str, Any]] = {}
    for c in cells:
        failing = int(c["blocked"] or 0) + int(c["throttled"] or 0) + int(c["down"] or 0)
        grid[(c["region"], c["network"])] = _new_cell(int(c["total"] or 0), failing)
    for ev in events:
        for key, methods in _cells_of(ev).items():
            cell = grid.setdefault(key, _new_cell())
            cell["kinds"].add(ev["kind"])
            cell["methods"].update(methods)
            cell["ongoing"] = cell["ongoing"] or ev["end"] is None
            if ev["target"]:
                cell["targets"].add(ev["target"])
    for cell in grid.values():
        kinds = sorted(cell["kinds"], key=lambda k: -KIND_SEVERITY.get(k, 0))
        cell["worst"] = kinds[0] if kinds else ("ok" if cell["total"] else "none")
        cell["targets"] = sorted(cell["targets"])
        cell["methods"] = sorted(cell["methods"])
    seen_regions = {r for r, _ in grid if r}
    regions = list(KZ_REGIONS) + sorted(seen_regions - set(KZ_REGIONS))
    if any(r == "" for r, _ in grid):
        regions.append("")
    networks = sorted({n for _, n in grid})
    return regions, networks, grid


async def overview(request: web.Request) -> web.Response:
    days = parse_days(request.query.get("days"), 7, 90)
    now = now_utc()
    since = now - timedelta(days=days)

    def work(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
        from ashyq.web.aggregates import usable

        agg = usable(con)
        evs = queries.events(con, queries.EventFilter(since=since))
        return {
            "events": evs,
            "cells": queries.grid(con, since, agg),
            "names": queries.network_names(con, since, agg),
            "last": queries.last_measurement_time(con),
        }

    data = await in_store(request, work)
    evs = data["events"]
    ongoing = sorted(
        (e for e in evs if e["end"] is None), key=lambda e: -KIND_SEVERITY.get(e["kind"], 0)
    )
    recent = sorted(
        (e for e in evs if e["end"] is not None), key=lambda e: e["start"], reverse=True
    )
    regions, networks, grid = build_grid(data["cells"], evs)
    more = max(0, len(recent) - MAX_RECENT)
    older = None  # nothing in the window but older data: point to its last days
    last = data["last"]
    if not evs and isinstance(last, datetime) and last < since:
        older = {
            "since": (last - timedelta(days=days)).strftime("%Y-%m-%d"),
            "until": last.strftime("%Y-%m-%d"),
        }
    return render(
        request,
        "overview.html",
        days=days,
        now=now,
        ongoing=ongoing,
        recent=recent[:MAX_RECENT],
        more=more,
        older=older,
        regions=regions,
        networks=networks,
        grid=grid,
        names=data["names"],
        last=data["last"],
    )


# ------------------------------------------------------------------ events
def chart_span(
    evs: list[dict[str, Any]], f: queries.EventFilter, asked_since: str | None, now: datetime
) -> tuple[datetime, datetime]:
    """The time axis of the timeline: the dates asked for; without a start date, from a little
    before the first event shown (so that a few days of events are not squeezed to slivers)."""
    until = f.until or now
    since = f.since or now - timedelta(days=30)
    if not asked_since and evs:
        first = min(e["start"] for e in evs)
        last = max((e["end"] or now) for e in evs)
        pad = max(timedelta(hours=2), (min(until, last) - first) / 20)
        since = max(since, first - pad)
    if until <= since:
        until = since + timedelta(hours=1)
    return since, until


def chart_rows(chart: timeline.Timeline, lang: str) -> list[dict[str, Any]]:
    """The timeline's rows with every text and number ready to print: one translation per
    kind instead of one per bar keeps a page of hundreds of events fast to render."""
    kinds = {k: i18n.translate(lang, f"kind.{k}") for k in KIND_SEVERITY}
    ongoing = i18n.translate(lang, "events.ongoing")
    everything = i18n.translate(lang, "events.all_targets")
    rows = []
    for row in chart.rows:
        name = row.target or everything
        if len(name) > 28:
            name = name[:27] + "…"
        bars = [
            {
                "href": f"/events/{quote(bar.event_id, safe='')}/report.html",
                "kind": bar.kind,
                "x": f"{bar.x:.1f}",
                "w": f"{bar.width:.1f}",
                "title": f"{kinds.get(bar.kind, bar.kind)} {bar.method}: "
                f"{bar.start:%Y-%m-%d %H:%M} – "
                + (f"{bar.end:%Y-%m-%d %H:%M}" if bar.end else ongoing),
            }
            for bar in row.bars
        ]
        rows.append(
            {
                "target": row.target or "",
                "network": row.network,
                "label": f"{name} · {row.network}",
                "text_y": row.y + 15,
                "bar_y": row.y + 4,
                "bars": bars,
            }
        )
    return rows


async def events_page(request: web.Request) -> web.Response:
    f, shown = event_filter(request)
    now = now_utc()

    def work(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
        return {
            "events": queries.events(con, f, limit=MAX_SHOWN_EVENTS, newest_first=True),
            "total": queries.count_events(con, f),
            "choices": queries.filter_choices(con),
        }

    data = await in_store(request, work)
    evs = data["events"]
    truncated = data["total"] > len(evs)
    chart = timeline.layout(evs, *chart_span(evs, f, request.query.get("since"), now), now)
    categories = sorted(set(request.app[STATE_KEY].categories().values()))
    query = request.query_string
    return render(
        request,
        "events.html",
        events=evs,
        total=data["total"],
        truncated=truncated,
        chart=chart,
        chart_rows=chart_rows(chart, lang_of(request)),
        shown=shown,
        choices=data["choices"],
        categories=categories,
        query=query,
        kinds=list(KIND_SEVERITY),
    )


async def events_csv(request: web.Request) -> web.Response:
    f, _ = event_filter(request)
    evs = await in_store(request, lambda con: queries.events(con, f, limit=MAX_EXPORT_ROWS))
    columns = [
        "event_id", "kind", "target", "scope", "country", "networks", "regions", "start", "end",
        "methods", "measurements", "confidence", "recurrence",
    ]  # fmt: skip
    rows = [
        [
            e["event_id"],
            e["kind"],
            e["target"],
            e["scope"],
            e["country"],
            e["asns"],
            e["regions"],
            e["start"],
            e["end"],
            e["methods"],
            e["measurements"],
            e["confidence"],
            e["recurrence"],
        ]
        for e in evs
    ]
    return csv_response(to_csv(columns, rows), "ashyq-events.csv")


async def measurements_csv(request: web.Request) -> web.Response:
    f, _ = event_filter(request)

    def work(con: duckdb.DuckDBPyConnection) -> tuple[list[str], list[tuple[Any, ...]]]:
        return queries.measurements_export(
            con,
            target=f.target,
            targets_in=f.targets_in,
            network=f.network,
            region=f.region,
            since=f.since,
            until=f.until,
            limit=MAX_EXPORT_ROWS,
        )

    columns, rows = await in_store(request, work)
    return csv_response(to_csv(columns, rows), "ashyq-measurements.csv")


def csv_response(text: str, filename: str) -> web.Response:
    response = web.Response(body=text.encode("utf-8"), content_type="text/csv", charset="utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


async def events_json(request: web.Request) -> web.Response:
    f, _ = event_filter(request)
    evs = await in_store(request, lambda con: queries.events(con, f))
    for e in evs:
        for key in ("start", "end", "last_good_before", "first_good_after"):
            if isinstance(e.get(key), datetime):
                e[key] = e[key].strftime("%Y-%m-%dT%H:%M:%SZ")
        e.pop("measurement_uids", None)
    return web.json_response({"events": evs})


# ------------------------------------------------------------------ target
def network_history(
    hourly: list[dict[str, Any]], since: datetime, days: int
) -> dict[str, list[dict[str, Any]]]:
    """Per network, one entry per UTC day: measurements, failing, and the worst status."""
    per: dict[str, dict[Any, dict[str, int]]] = {}
    for row in hourly:
        day = row["hour"].date()
        d = per.setdefault(row["network"] or "?", {}).setdefault(
            day, {"total": 0, "blocked": 0, "throttled": 0, "down": 0}
        )
        for key in d:
            d[key] += int(row[key] or 0)
    out: dict[str, list[dict[str, Any]]] = {}
    first = since.date()
    for network, by_day in sorted(per.items()):
        strip = []
        for i in range(days):
            day = first + timedelta(days=i + 1)
            d = by_day.get(day, {"total": 0, "blocked": 0, "throttled": 0, "down": 0})
            if not d["total"]:
                worst = "none"
            elif d["blocked"]:
                worst = "blocked"
            elif d["throttled"]:
                worst = "throttled"
            elif d["down"]:
                worst = "down"
            else:
                worst = "ok"
            strip.append({"day": day, "worst": worst, **d})
        out[network] = strip
    return out


def recent_of(
    con: duckdb.DuckDBPyConnection,
    target: str,
    now: datetime,
    hourly: list[dict[str, Any]] | None = None,
    count: int = 50,
) -> list[dict[str, Any]]:
    """The newest verdicts of a target. The hourly counts say from which hour on there are
    enough of them, so DuckDB reads only the newest row groups of the time-ordered store;
    without counts, look at the last day first and widen only when that is not enough."""
    if hourly:
        seen = 0
        for row in sorted(hourly, key=lambda r: r["hour"], reverse=True):
            seen += int(row["total"] or 0)
            if seen >= count:
                return queries.recent_measurements(con, target, count, since=row["hour"])
    for days in (1, 7, None):
        since = now - timedelta(days=days) if days else None
        rows = queries.recent_measurements(con, target, count, since=since)
        if len(rows) >= count or days is None:
            return rows
    return []


async def target_page(request: web.Request) -> web.Response:
    target = parse_target(request.match_info["target"])
    assert target is not None
    days = parse_days(request.query.get("days"), 30, 120)
    now = now_utc()

    def work(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
        from ashyq.web.aggregates import usable

        agg = usable(con)
        end = now
        since = (end - timedelta(days=days)).replace(hour=0, minute=0, second=0, microsecond=0)
        daily = queries.target_counts(con, target, since, agg, grain="day")
        if not daily:  # nothing recent: show the days up to the target's last measurement
            last = queries.last_time_of(con, target)
            if last is None:
                return {"missing": True}
            end = last
            since = (end - timedelta(days=days)).replace(hour=0, minute=0, second=0, microsecond=0)
            daily = queries.target_counts(con, target, since, agg, grain="day")
        heat_since = end - timedelta(days=HEAT_DAYS + 1)
        hourly = queries.target_counts(con, target, heat_since, agg, by_network=False)
        return {
            "missing": False,
            "end": end,
            "since": since,
            "events": queries.events(
                con, queries.EventFilter(since=since, target=target), limit=500
            ),
            "daily": daily,
            "hourly": hourly,
            "recent": recent_of(con, target, end, hourly),
        }

    data = await in_store(request, work)
    if data["missing"]:
        raise HttpError(404, f"no measurements of {target}")
    history = network_history(data["daily"], data["since"], days)
    heat = heatmap.build(
        [
            (r["hour"], r["total"], int(r["blocked"]) + int(r["throttled"]) + int(r["down"]))
            for r in data["hourly"]
        ],
        last_days=HEAT_DAYS,
    )
    return render(
        request,
        "target.html",
        target=target,
        days=days,
        until=data["end"],
        events=sorted(data["events"], key=lambda e: e["start"], reverse=True),
        history=history,
        heat=heat,
        recent=data["recent"],
    )


# ------------------------------------------------------------------ measurement
def canonical_json(measurement: Any) -> bytes:
    """The bytes that the published SHA-256 covers: sorted keys, no spaces, UTF-8."""
    return json.dumps(
        measurement, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")


def sha256_of(measurement: Any) -> str:
    return hashlib.sha256(canonical_json(measurement)).hexdigest()


async def measurement_page(request: web.Request) -> web.Response:
    uid = request.match_info["uid"]
    if len(uid) > 200:
        raise HttpError(400, "measurement id too long")

    def work(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
        return {
            "row": queries.measurement_row(con, uid),
            "verdicts": queries.verdicts_of(con, uid),
            "events": queries.events_with(con, uid),
        }

    data = await in_store(request, work)
    if data["row"] is None:
        raise HttpError(404, "no such measurement")
    raw = await raw_measurement(request, uid)
    raw_json = json.dumps(raw, indent=2, ensure_ascii=False) if raw is not None else None
    raw_cut = raw_json is not None and len(raw_json) > MAX_RAW_SHOWN
    return render(
        request,
        "measurement.html",
        m=data["row"],
        events=data["events"],
        verdicts=data["verdicts"],
        verdict=data["verdicts"][0] if data["verdicts"] else None,
        cmp=compare(raw) if raw is not None else None,
        raw_json=raw_json[:MAX_RAW_SHOWN] if raw_json is not None else None,
        raw_cut=raw_cut,
        sha256=sha256_of(raw) if raw is not None else None,
    )


async def measurement_json(request: web.Request) -> web.Response:
    """The raw measurement, exactly the bytes the published SHA-256 covers, as a download."""
    uid = request.match_info["uid"]
    if len(uid) > 200:
        raise HttpError(400, "measurement id too long")
    raw = await raw_measurement(request, uid)
    if raw is None:
        raise HttpError(404, "no such measurement")
    response = web.Response(body=canonical_json(raw), content_type="application/json")
    name = "".join(c for c in uid if c.isalnum() or c in "._-")[:100] or "measurement"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.json"'
    return response


async def healthz(request: web.Request) -> web.Response:
    return web.Response(text="ok\n")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", overview)
    app.router.add_get("/events", events_page)
    app.router.add_get("/events.json", events_json)
    app.router.add_get("/export/events.csv", events_csv)
    app.router.add_get("/export/measurements.csv", measurements_csv)
    app.router.add_get("/targets/{target}", target_page)
    app.router.add_get("/measurements/{uid}.json", measurement_json)
    app.router.add_get("/measurements/{uid}", measurement_page)
    app.router.add_get("/healthz", healthz)
