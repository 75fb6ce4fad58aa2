"""Events from the store: heavy aggregation in SQL (store/sql.py), judgement in detect.py."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb

from ashyq.events import detect
from ashyq.events.detect import Bucket, Event, Good, Span
from ashyq.store import sql
from ashyq.store.store import _ndjson


def measurement_interval(con: duckdb.DuckDBPyConnection) -> float:
    """Seconds between two measurements of one target from one network (median), >= 1."""
    row = con.execute(sql.MEASUREMENT_INTERVAL).fetchone()
    value = float(row[0]) if row and row[0] is not None else 3600.0
    return max(1.0, math.ceil(value))


def load_spans(
    con: duckdb.DuckDBPyConnection,
    width: float = 3600.0,
    rounds: list[tuple[str, str, str, int]] | None = None,
) -> tuple[list[Span], list[Good]]:
    """Bad runs (and good runs) per series, leaving out measurements made in ``rounds``
    (outage rounds: country, asn, region, bucket number of width ``width`` seconds)."""
    spans: list[Span] = []
    goods: list[Good] = []
    con.execute(sql.CREATE_OUTAGE_ROUNDS)
    if rounds:
        con.executemany(sql.INSERT_OUTAGE_ROUND, [list(r) for r in rounds])
    rows = con.execute(sql.RUNS, [width, detect.MIN_RUN]).fetchall()
    for cc, target, asn, region, st, n, t0, t1, lgb, fga, methods, conf, uids in rows:
        if st == "ok":
            goods.append(Good(cc, target, asn, region, t0, t1))
            continue
        counts = sorted(((m, int(c)) for m, c in (methods or {}).items()), key=lambda x: -x[1])
        spans.append(
            Span(
                kind=detect.BAD[st],
                country=cc,
                target=target,
                asn=asn,
                region=region,
                first_bad=t0,
                last_bad=t1,
                last_good_before=lgb,
                first_good_after=fga,
                n=int(n),
                methods=tuple(sorted(m for m, _ in counts)),
                method_counts=tuple(counts),
                confidence=float(conf or 0),
                uids=tuple(uids or ()),
            )
        )
    return spans, goods


def load_buckets(con: duckdb.DuckDBPyConnection, width: float) -> list[Bucket]:
    rows = con.execute(sql.OUTAGE_BUCKETS, [width]).fetchall()
    return [
        Bucket(cc, asn, region, int(b), int(nt), int(nf), ff, lf, fo, lo, int(f or 0))
        for cc, asn, region, b, nt, nf, ff, lf, fo, lo, f in rows
    ]


def with_outage_evidence(con: duckdb.DuckDBPyConnection, outages: list[Span]) -> list[Span]:
    out = []
    for o in outages:
        rows = con.execute(
            sql.OUTAGE_UIDS, [o.country, o.asn, o.region, o.first_bad, o.last_bad]
        ).fetchall()
        out.append(replace(o, uids=tuple(r[0] for r in rows)))
    return out


def compute_events(con: duckdb.DuckDBPyConnection) -> list[Event]:
    """Every event in the store's current verdicts."""
    width = measurement_interval(con)
    outages, outage_goods, rounds = detect.find_outages(load_buckets(con, width))
    outages = with_outage_evidence(con, outages)
    spans, goods = load_spans(con, width, rounds)
    return detect.detect(spans, goods, outages, outage_goods, slack=timedelta(seconds=width))


def _fmt(t: datetime | None) -> str | None:
    return None if t is None else t.strftime("%Y-%m-%d %H:%M:%S")


def event_row(e: Event, now: str) -> dict[str, Any]:
    return {
        "event_id": e.event_id,
        "kind": e.kind,
        "target": e.target,
        "scope": e.scope,
        "country": e.country,
        "asns": e.asns,
        "regions": e.regions,
        "networks": json.dumps(e.networks),
        "start": _fmt(e.start),
        "end": _fmt(e.end),
        "last_good_before": _fmt(e.last_good_before),
        "first_good_after": _fmt(e.first_good_after),
        "methods": e.methods,
        "measurements": e.measurements,
        "measurement_uids": e.measurement_uids,
        "confidence": e.confidence,
        "recurrence": e.recurrence,
        "computed_at": now,
    }


def write_events(con: duckdb.DuckDBPyConnection, events: list[Event]) -> None:
    now = _fmt(datetime.now(UTC).replace(tzinfo=None))
    con.execute("BEGIN")
    try:
        con.execute(sql.DELETE_EVENTS)
        if events:
            with _ndjson([event_row(e, now) for e in events]) as tmp:
                con.execute(sql.INSERT_EVENTS, [tmp])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _iso_utc(t: Any) -> str | None:
    if t is None:
        return None
    if isinstance(t, datetime):
        return t.strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(t)


def event_to_json(row: dict[str, Any]) -> dict[str, Any]:
    """An events-table row as the JSON object of `ashyq events --format json`."""
    methods = list(row.get("methods") or [])
    networks = json.loads(row.get("networks") or "[]")
    counts: dict[str, int] = {}
    for n in networks:
        for m in n.get("methods") or []:
            counts[m] = counts.get(m, 0) + int(n.get("measurements") or 0)
    return {
        "event_id": row["event_id"],
        "kind": row["kind"],
        "target": row["target"],
        "scope": row["scope"],
        "country": row["country"],
        "asns": list(row.get("asns") or []),
        "regions": list(row.get("regions") or []),
        "start": _iso_utc(row["start"]),
        "end": _iso_utc(row["end"]),
        "ongoing": row["end"] is None,
        "last_good_before": _iso_utc(row["last_good_before"]),
        "first_good_after": _iso_utc(row["first_good_after"]),
        "method": max(counts, key=counts.__getitem__) if counts else (methods or [None])[0],
        "methods": methods,
        "measurements": row["measurements"],
        "measurement_uids": list(row.get("measurement_uids") or []),
        "confidence": row["confidence"],
        "recurrence": row.get("recurrence"),
        "networks": networks,
    }
