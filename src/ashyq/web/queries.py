"""Every SQL statement of the web pages, over the store's schema (src/ashyq/store/schema.sql).

Each function takes an open DuckDB connection (``Store.connect()``) and returns plain Python
data. The heavy per-target statements read ``web_hourly`` (see ``aggregates.py``) when it is
present and fresh, else the ``verdicts`` table itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import duckdb

from ashyq.sqlfilter import Filters

FAILING = ("blocked", "throttled", "down")
EVENT_COLUMNS = (
    "event_id",
    "kind",
    "target",
    "scope",
    "country",
    "asns",
    "regions",
    "networks",
    '"start"',
    '"end"',
    "last_good_before",
    "first_good_after",
    "methods",
    "measurements",
    "measurement_uids",
    "confidence",
    "recurrence",
)


@dataclass(frozen=True, slots=True)
class EventFilter:
    since: datetime | None = None
    until: datetime | None = None
    target: str | None = None
    targets_in: tuple[str, ...] | None = None  # from a category; () matches nothing
    network: str | None = None  # "AS9198"
    region: str | None = None
    kind: str | None = None


def _rows(cur: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _event(row: dict[str, Any]) -> dict[str, Any]:
    row["asns"] = list(row.get("asns") or [])
    row["regions"] = list(row.get("regions") or [])
    row["methods"] = list(row.get("methods") or [])
    row["measurement_uids"] = list(row.get("measurement_uids") or [])
    try:
        networks = json.loads(row.get("networks") or "[]")
    except (TypeError, ValueError):
        networks = []
    row["networks"] = (
        [n for n in networks if isinstance(n, dict)] if isinstance(networks, list) else []
    )
    return row


def _event_where(f: EventFilter) -> tuple[list[str], list[Any]]:
    w = Filters()
    w.add("coalesce(\"end\", TIMESTAMP '9999-01-01') >= ?", f.since)
    w.add('"start" < ?', f.until)
    w.add("target = ?", f.target and f.target.lower())
    w.add("list_contains(?::VARCHAR[], target)", _listed(f.targets_in))
    w.add("list_contains(asns, ?)", f.network)
    w.add("list_contains(regions, ?)", f.region)
    w.add("kind = ?", f.kind)
    return w.clauses or ["true"], w.params


def _listed(values: tuple[str, ...] | list[str] | None) -> list[str] | None:
    return None if values is None else list(values)


def events(
    con: duckdb.DuckDBPyConnection,
    f: EventFilter,
    limit: int = 2000,
    with_uids: bool = False,
    newest_first: bool = False,
) -> list[dict[str, Any]]:
    """Events overlapping [since, until) that match the filter, oldest first (or the newest
    ``limit`` of them), without their measurement uids unless asked: those are heavy."""
    where, params = _event_where(f)
    columns = [c for c in EVENT_COLUMNS if with_uids or c != "measurement_uids"]
    order = '"start" DESC, kind, target' if newest_first else '"start", kind, target'
    sql = (
        f"SELECT {', '.join(columns)} FROM events WHERE {' AND '.join(where)} "
        f"ORDER BY {order} LIMIT {int(limit)}"
    )
    return [_event(r) for r in _rows(con.execute(sql, params))]


def events_with(con: duckdb.DuckDBPyConnection, uid: str) -> list[dict[str, Any]]:
    """Events that list this measurement among their failing ones."""
    columns = [c for c in EVENT_COLUMNS if c != "measurement_uids"]
    sql = (
        f"SELECT {', '.join(columns)} FROM events WHERE list_contains(measurement_uids, ?) "
        'ORDER BY "start" LIMIT 20'
    )
    return [_event(r) for r in _rows(con.execute(sql, [uid]))]


def count_events(con: duckdb.DuckDBPyConnection, f: EventFilter) -> int:
    where, params = _event_where(f)
    row = con.execute(f"SELECT count(*) FROM events WHERE {' AND '.join(where)}", params).fetchone()
    return int(row[0]) if row else 0


def event(con: duckdb.DuckDBPyConnection, event_id: str) -> dict[str, Any] | None:
    rows = _rows(
        con.execute(f"SELECT {', '.join(EVENT_COLUMNS)} FROM events WHERE event_id = ?", [event_id])
    )
    return _event(rows[0]) if rows else None


def filter_choices(con: duckdb.DuckDBPyConnection) -> dict[str, list[Any]]:
    """Values for the filter menus: targets, networks (with names) and regions seen in events."""
    targets = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT target FROM events WHERE target IS NOT NULL ORDER BY 1 LIMIT 2000"
        ).fetchall()
    ]
    networks = [
        r[0] for r in con.execute("SELECT DISTINCT unnest(asns) FROM events ORDER BY 1").fetchall()
    ]
    regions = [
        r[0]
        for r in con.execute("SELECT DISTINCT unnest(regions) FROM events ORDER BY 1").fetchall()
    ]
    return {"targets": targets, "networks": networks, "regions": regions}


def network_names(
    con: duckdb.DuckDBPyConnection, since: datetime, use_aggregate: bool = False
) -> dict[str, str]:
    """ASN -> the network name probes reported most recently (from recent verdicts)."""
    if use_aggregate:
        return dict(con.execute("SELECT network, name FROM web_networks").fetchall())
    rows = con.execute(
        "SELECT probe_asn, arg_max(probe_network_name, measurement_start_time) FROM verdicts "
        "WHERE current AND measurement_start_time >= ? AND probe_asn IS NOT NULL "
        "GROUP BY 1",
        [since],
    ).fetchall()
    return {asn: name for asn, name in rows if name}


def grid(
    con: duckdb.DuckDBPyConnection, since: datetime, use_aggregate: bool = False
) -> list[dict[str, Any]]:
    """Per region × network since ``since``: measurements and failing ones."""
    if use_aggregate:
        return _rows(
            con.execute(
                "SELECT region, network, sum(total) AS total, sum(blocked) AS blocked, "
                "sum(throttled) AS throttled, sum(down) AS down FROM web_grid_hourly "
                "WHERE hour >= date_trunc('hour', ?::TIMESTAMP) GROUP BY 1, 2 ORDER BY 1, 2",
                [since],
            )
        )
    return _rows(
        con.execute(
            "SELECT coalesce(region, '') AS region, probe_asn AS network, "
            "count(*) AS total, "
            "count(*) FILTER (WHERE status = 'blocked') AS blocked, "
            "count(*) FILTER (WHERE status = 'throttled') AS throttled, "
            "count(*) FILTER (WHERE status = 'down') AS down "
            "FROM verdicts WHERE current AND measurement_start_time >= ? "
            "GROUP BY 1, 2 ORDER BY 1, 2",
            [since],
        )
    )


def last_measurement_time(con: duckdb.DuckDBPyConnection) -> datetime | None:
    row = con.execute("SELECT max(measurement_start_time) FROM measurements").fetchone()
    return row[0] if row else None


def has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    row = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
    ).fetchone()
    return bool(row and row[0])


def last_time_of(con: duckdb.DuckDBPyConnection, target: str) -> datetime | None:
    """When the target was last measured (any network)."""
    row = con.execute(
        "SELECT max(measurement_start_time) FROM verdicts WHERE current AND target = ?", [target]
    ).fetchone()
    return row[0] if row else None


def target_counts(
    con: duckdb.DuckDBPyConnection,
    target: str,
    since: datetime,
    use_aggregate: bool,
    *,
    grain: str = "hour",
    by_network: bool = True,
) -> list[dict[str, Any]]:
    """Counts of one target per UTC ``grain`` ("hour" or "day"), per network or all together:
    columns hour (start of the hour or day), [network], total, blocked, throttled, down, ok."""
    if grain not in ("hour", "day"):
        raise ValueError("grain is 'hour' or 'day'")
    group = "1, network" if by_network else "1"
    network = "network, " if by_network else ""
    if use_aggregate:
        sql = (
            f"SELECT date_trunc('{grain}', hour) AS hour, {network}sum(total) AS total, "
            "sum(blocked) AS blocked, sum(throttled) AS throttled, sum(down) AS down, "
            "sum(ok) AS ok FROM web_hourly WHERE target = ? AND hour >= ? "
            f"GROUP BY {group} ORDER BY 1"
        )
    else:
        sql = (
            f"SELECT date_trunc('{grain}', measurement_start_time) AS hour, "
            f"{'probe_asn AS network, ' if by_network else ''}count(*) AS total, "
            "count(*) FILTER (WHERE status = 'blocked') AS blocked, "
            "count(*) FILTER (WHERE status = 'throttled') AS throttled, "
            "count(*) FILTER (WHERE status = 'down') AS down, "
            "count(*) FILTER (WHERE status = 'ok') AS ok "
            "FROM verdicts WHERE current AND target = ? AND measurement_start_time >= ? "
            f"GROUP BY {group} ORDER BY 1"
        )
    return _rows(con.execute(sql, [target, since]))


def recent_measurements(
    con: duckdb.DuckDBPyConnection,
    target: str | None,
    limit: int = 50,
    *,
    network: str | None = None,
    region: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    uids: list[str] | None = None,
) -> list[dict[str, Any]]:
    """Current verdicts (one per measurement), newest first."""
    w = _verdict_filters(target, None, network, region, since, until)
    w.add("list_contains(?::VARCHAR[], measurement_uid)", uids)
    sql = (
        "SELECT measurement_uid, measurement_start_time, target, input, test_name, probe_cc, "
        "probe_asn, probe_network_name, region, status, method, confidence, evidence, "
        f"rule_version FROM verdicts WHERE {w.sql}"
        f" ORDER BY measurement_start_time DESC LIMIT {int(limit)}"
    )
    return _rows(con.execute(sql, w.params))


def _verdict_filters(
    target: str | None,
    targets_in: tuple[str, ...] | None,
    network: str | None,
    region: str | None,
    since: datetime | None,
    until: datetime | None,
) -> Filters:
    """Current verdicts of a target (or any of a list), network, region and time range."""
    w = Filters("current")
    w.add("target = ?", target)
    w.add("list_contains(?::VARCHAR[], target)", _listed(targets_in))
    w.add("probe_asn = ?", network)
    w.add("region = ?", region)
    w.add("measurement_start_time >= ?", since)
    w.add("measurement_start_time < ?", until)
    return w


def verdicts_of(con: duckdb.DuckDBPyConnection, uid: str) -> list[dict[str, Any]]:
    """Every verdict of one measurement, the current one first."""
    rows = _rows(
        con.execute(
            "SELECT * FROM verdicts WHERE measurement_uid = ? "
            "ORDER BY current DESC, judged_at DESC",
            [uid],
        )
    )
    for r in rows:
        try:
            r["details"] = json.loads(r.get("details") or "{}")
        except (TypeError, ValueError):
            r["details"] = {}
        r["evidence"] = list(r.get("evidence") or [])
    return rows


def measurement_row(con: duckdb.DuckDBPyConnection, uid: str) -> dict[str, Any] | None:
    rows = _rows(
        con.execute(
            "SELECT uid, measurement_uid, report_id, input, target, test_name, probe_cc, "
            "probe_asn, probe_network_name, region, measurement_start_time, source, "
            "software_name, software_version, received_at FROM measurements WHERE uid = ?",
            [uid],
        )
    )
    return rows[0] if rows else None


def event_hourly(
    con: duckdb.DuckDBPyConnection, ev: dict[str, Any], since: datetime, until: datetime
) -> list[dict[str, Any]]:
    """Per UTC hour around an event: measurements and failing ones of its target and networks."""
    w = _verdict_filters(ev.get("target"), None, None, None, since, until)
    w.add("list_contains(?::VARCHAR[], probe_asn)", list(ev["asns"]) if ev.get("asns") else None)
    return _rows(
        con.execute(
            "SELECT date_trunc('hour', measurement_start_time) AS hour, count(*) AS total, "
            "count(*) FILTER (WHERE status IN ('blocked', 'throttled', 'down')) AS failing "
            f"FROM verdicts WHERE {w.sql} GROUP BY 1 ORDER BY 1",
            w.params,
        )
    )


def measurements_export(
    con: duckdb.DuckDBPyConnection,
    *,
    target: str | None,
    targets_in: tuple[str, ...] | None,
    network: str | None,
    region: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
) -> tuple[list[str], list[tuple[Any, ...]]]:
    w = _verdict_filters(target, targets_in, network, region, since, until)
    cur = con.execute(
        "SELECT measurement_uid, measurement_start_time, target, input, test_name, probe_cc, "
        "probe_asn, probe_network_name, region, status, method, confidence, "
        f"array_to_string(evidence, ' | ') AS evidence, rule_version FROM verdicts WHERE {w.sql}"
        f" ORDER BY measurement_start_time LIMIT {int(limit)}",
        w.params,
    )
    return [d[0] for d in cur.description], cur.fetchall()


def window(now: datetime, days: int) -> tuple[datetime, datetime]:
    return now - timedelta(days=days), now
