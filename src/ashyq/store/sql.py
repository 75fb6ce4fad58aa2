"""Every SQL statement of the store besides the DDL in schema.sql (DuckDB dialect)."""

from __future__ import annotations

from importlib import resources

from ashyq.sqlfilter import Filters

SCHEMA_VERSION = "1"


def schema() -> str:
    return resources.files("ashyq.store").joinpath("schema.sql").read_text()


MEASUREMENT_COLUMNS = (
    "uid",
    "measurement_uid",
    "report_id",
    "input",
    "target",
    "test_name",
    "probe_cc",
    "probe_asn",
    "probe_network_name",
    "region",
    "measurement_start_time",
    "source",
    "software_name",
    "software_version",
    "received_at",
    "archive_path",
    "archive_offset",
)

VERDICT_COLUMNS = (
    "measurement_uid",
    "rule_version",
    "judged_at",
    "current",
    "report_id",
    "input",
    "target",
    "test_name",
    "probe_cc",
    "probe_asn",
    "probe_network_name",
    "region",
    "measurement_start_time",
    "status",
    "method",
    "confidence",
    "evidence",
    "ooni_blocking",
    "ooni_accessible",
    "details",
)

_TYPES = {
    "measurement_start_time": "TIMESTAMP",
    "received_at": "TIMESTAMP",
    "judged_at": "TIMESTAMP",
    "archive_offset": "BIGINT",
    "current": "BOOLEAN",
    "confidence": "DOUBLE",
    "evidence": "VARCHAR[]",
    "ooni_accessible": "BOOLEAN",
    "asns": "VARCHAR[]",
    "regions": "VARCHAR[]",
    "methods": "VARCHAR[]",
    "measurement_uids": "VARCHAR[]",
    "start": "TIMESTAMP",
    "end": "TIMESTAMP",
    "last_good_before": "TIMESTAMP",
    "first_good_after": "TIMESTAMP",
    "computed_at": "TIMESTAMP",
    "measurements": "INTEGER",
}


def _json_columns(columns: tuple[str, ...]) -> str:
    inner = ", ".join(f"\"{c}\": '{_TYPES.get(c, 'VARCHAR')}'" for c in columns)
    return "{" + inner + "}"


def read_ndjson(columns: tuple[str, ...]) -> str:
    """A table expression over a newline-delimited JSON file given as the first parameter."""
    return (
        "read_json(?, format = 'newline_delimited', timestampformat = '%Y-%m-%d %H:%M:%S', "
        f"columns = {_json_columns(columns)})"
    )


STAGE_MEASUREMENTS = (
    "CREATE OR REPLACE TEMP TABLE stage_m AS "
    f"SELECT DISTINCT ON (uid) * FROM {read_ndjson(MEASUREMENT_COLUMNS)}"
)
NEW_STAGED_UIDS = "SELECT uid FROM stage_m WHERE uid NOT IN (SELECT uid FROM measurements)"
INSERT_STAGED_MEASUREMENTS = (
    "INSERT INTO measurements SELECT * FROM stage_m WHERE uid NOT IN (SELECT uid FROM measurements)"
)
DROP_STAGE = "DROP TABLE IF EXISTS stage_m"

EXISTING_UIDS = "SELECT uid FROM measurements WHERE uid IN (SELECT unnest(?::VARCHAR[]))"

INSERT_VERDICTS = f"INSERT OR REPLACE INTO verdicts SELECT * FROM {read_ndjson(VERDICT_COLUMNS)}"
RETIRE_OLD_VERDICTS = "UPDATE verdicts SET current = false WHERE rule_version <> ? AND current"
DELETE_RULE_VERSION = "DELETE FROM verdicts WHERE rule_version = ?"

SEGMENT_OFFSETS = "SELECT path, loaded_bytes FROM archive_segments"
SEGMENT_OFFSET = "SELECT loaded_bytes FROM archive_segments WHERE path = ?"
SET_SEGMENT_OFFSET = "INSERT OR REPLACE INTO archive_segments VALUES (?, ?, now()::TIMESTAMP)"

GET_META = "SELECT value FROM meta WHERE key = ?"
SET_META = "INSERT OR REPLACE INTO meta VALUES (?, ?)"

MEASUREMENT_LOCATION = "SELECT archive_path, archive_offset FROM measurements WHERE uid = ?"
ALL_MEASUREMENT_UIDS = "SELECT uid FROM measurements"

COPY_OLD_VERDICTS = (
    "INSERT OR IGNORE INTO verdicts SELECT * REPLACE (false AS current) FROM old.verdicts "
    "WHERE rule_version <> ? AND measurement_uid IN (SELECT uid FROM measurements)"
)

STATS = {
    "measurements": "SELECT count(*) FROM measurements",
    "measurements_by_source": "SELECT source, count(*) FROM measurements GROUP BY 1 ORDER BY 1",
    "first_measurement": "SELECT min(measurement_start_time)::VARCHAR FROM measurements",
    "last_measurement": "SELECT max(measurement_start_time)::VARCHAR FROM measurements",
    "countries": "SELECT probe_cc, count(*) FROM measurements GROUP BY 1 ORDER BY 2 DESC",
    "verdicts": "SELECT count(*) FROM verdicts",
    "current_verdicts_by_status": (
        "SELECT status, count(*) FROM verdicts WHERE current GROUP BY 1 ORDER BY 1"
    ),
    "rule_versions": ("SELECT rule_version, count(*) FROM verdicts GROUP BY 1 ORDER BY 1"),
    "unjudged": (
        "SELECT count(*) FROM measurements WHERE uid NOT IN "
        "(SELECT measurement_uid FROM verdicts WHERE current)"
    ),
    "events_by_kind": "SELECT kind, count(*) FROM events GROUP BY 1 ORDER BY 1",
}


def events_query(
    since: str | None,
    until: str | None,
    country: str | None,
    target: str | None,
    kind: str | None,
    scope: str | None,
) -> tuple[str, list[object]]:
    """Events overlapping [since, until), newest first."""
    f = Filters()
    f.add("coalesce(\"end\", first_good_after, TIMESTAMP '9999-01-01') >= ?::TIMESTAMP", since)
    f.add('"start" < ?::TIMESTAMP', until)
    f.add("country = ?", country and country.upper())
    f.add("target = ?", target and target.lower())
    f.add("kind = ?", kind)
    f.add("scope = ?", scope)
    return f'SELECT * FROM events WHERE {f.sql} ORDER BY "start", kind, target', f.params


def verdicts_query(
    target: str | None,
    since: str | None,
    until: str | None,
    asn: str | None,
    country: str | None,
    current_only: bool,
    limit: int | None,
) -> tuple[str, list[object]]:
    f = Filters(*(["current"] if current_only else []))
    f.add("target = ?", target and target.lower())
    f.add("measurement_start_time >= ?::TIMESTAMP", since)
    f.add("measurement_start_time < ?::TIMESTAMP", until)
    f.add("probe_asn = ?", asn and asn.upper())
    f.add("probe_cc = ?", country and country.upper())
    sql = (
        f"SELECT * FROM verdicts WHERE {f.sql} "
        "ORDER BY measurement_start_time, probe_asn, region, rule_version"
    )
    if limit:
        sql += f" LIMIT {int(limit)}"
    return sql, f.params


# --------------------------------------------------------------------------- events
# Verdict rows usable for events: current, timed, and with a target. `sk` is an integer key of
# the series (country, target, ASN, region): sorting and grouping on it is far cheaper than on
# four strings.
_EVENT_ROWS = """
    SELECT coalesce(probe_cc, '') AS cc, target, coalesce(probe_asn, '') AS asn,
           coalesce(region, '') AS region, measurement_start_time AS t, status AS st,
           method, coalesce(confidence, 0) AS c, measurement_uid AS uid,
           hash(probe_cc, target, probe_asn, region) AS sk
    FROM verdicts
    WHERE current AND target IS NOT NULL AND measurement_start_time IS NOT NULL
"""

# The typical time between two measurements of one target from one network (seconds).
MEASUREMENT_INTERVAL = f"""
    SELECT median(span / (n - 1)) FROM (
        SELECT epoch(max(t)) - epoch(min(t)) AS span, count(*) AS n
        FROM ({_EVENT_ROWS}) GROUP BY sk HAVING count(*) > 1
    ) WHERE span > 0
"""

# Runs of equal status per series (gaps and islands: a change of status starts a run); the
# bounds of each run (last good before, first good after) are taken over the runs, which are
# far fewer than the rows. Measurements in outage rounds (bucket width ?) are left out.
# Returns the bad runs of >= ? measurements, plus the good runs of the
# same (country, target) pairs (they decide national vs. regional vs. network scope).
RUNS = f"""
WITH v AS (
    SELECT e.* FROM ({_EVENT_ROWS} AND status IN ('ok', 'blocked', 'throttled')) AS e
    WHERE NOT EXISTS (
        SELECT 1 FROM outage_rounds AS o
        WHERE o.cc = e.cc AND o.asn = e.asn AND o.region = e.region
          AND o.bucket = floor(epoch(e.t) / ?)::BIGINT
    )
),
w AS (
    SELECT *, CASE WHEN st IS DISTINCT FROM lag(st) OVER s THEN 1 ELSE 0 END AS chg
    FROM v WINDOW s AS (PARTITION BY sk ORDER BY t)
),
g AS (
    SELECT *, sum(chg) OVER (PARTITION BY sk ORDER BY t ROWS UNBOUNDED PRECEDING) AS run
    FROM w
),
r AS (
    SELECT sk, run, any_value(cc) AS cc, any_value(target) AS target, any_value(asn) AS asn,
        any_value(region) AS region, any_value(st) AS st, count(*) AS n,
        min(t) AS t0, max(t) AS t1,
        histogram(method) FILTER (WHERE st <> 'ok') AS methods, avg(c) AS confidence,
        list(uid ORDER BY t) FILTER (WHERE st <> 'ok') AS uids
    FROM g GROUP BY sk, run
),
b AS (
    SELECT *,
        max(CASE WHEN st = 'ok' THEN t1 END) OVER (
            PARTITION BY sk ORDER BY run ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
        ) AS last_good_before,
        min(CASE WHEN st = 'ok' THEN t0 END) OVER (
            PARTITION BY sk ORDER BY run ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING
        ) AS first_good_after
    FROM r
),
bad AS (SELECT * FROM b WHERE st <> 'ok' AND n >= ?),
pairs AS (SELECT DISTINCT cc, target FROM bad)
SELECT cc, target, asn, region, st, n, t0, t1, last_good_before, first_good_after,
       methods, confidence, uids[1:200] AS uids
FROM bad
UNION ALL
SELECT r.cc, r.target, r.asn, r.region, r.st, r.n, r.t0, r.t1, NULL, NULL, NULL, NULL, NULL
FROM r JOIN pairs USING (cc, target) WHERE r.st = 'ok'
"""

# A failure that can belong to an outage: the control failed too (down), nothing usable
# came back (inconclusive), or the probe met silence before any connection: its DNS or its TCP
# connect timed out or failed. Any later failure (a TLS or HTTP timeout or reset, a blockpage,
# a forged DNS answer, a refused connection, an interception certificate) needed a network
# that carries traffic: it is censorship of that target, never evidence of an outage.
_SILENT = r"^(dns|tcp)\.(timeout|failure)$"


def _outage_failure(status: str, method: str) -> str:
    return (
        f"({status} IN ('down', 'inconclusive') OR ({status} = 'blocked' "
        f"AND regexp_matches(coalesce({method}, ''), '{_SILENT}')))"
    )


_OUTAGE_FAIL = _outage_failure("st", "method")

# Measurement rounds per network: distinct targets and failing targets per time bucket of
# width ? seconds. Failing: see _outage_failure (an outage also cuts the control).
# Two levels of grouping (per target, then per round) instead of count(DISTINCT ...).
OUTAGE_BUCKETS = f"""
WITH v AS ({_EVENT_ROWS}),
pt AS (
    SELECT hash(cc, asn, region) AS nk, floor(epoch(t) / ?)::BIGINT AS bucket,
        any_value(cc) AS cc, any_value(asn) AS asn, any_value(region) AS region,
        bool_or({_OUTAGE_FAIL}) AS fail,
        min(t) FILTER (WHERE {_OUTAGE_FAIL}) AS first_fail,
        max(t) FILTER (WHERE {_OUTAGE_FAIL}) AS last_fail,
        min(t) FILTER (WHERE st = 'ok') AS first_ok, max(t) FILTER (WHERE st = 'ok') AS last_ok,
        count(*) FILTER (WHERE {_OUTAGE_FAIL}) AS failed
    FROM v GROUP BY nk, bucket, target
)
SELECT any_value(cc), any_value(asn), any_value(region), bucket, count(*) AS targets,
    count(*) FILTER (WHERE fail) AS failed_targets, min(first_fail), max(last_fail),
    min(first_ok), max(last_ok), sum(failed)::BIGINT
FROM pt GROUP BY nk, bucket
"""

# Outage rounds found in Python, kept out of run detection (a temporary table per connection).
CREATE_OUTAGE_ROUNDS = (
    "CREATE OR REPLACE TEMP TABLE outage_rounds "
    "(cc VARCHAR, asn VARCHAR, region VARCHAR, bucket BIGINT)"
)
INSERT_OUTAGE_ROUND = "INSERT INTO outage_rounds VALUES (?, ?, ?, ?)"

# The failing measurements of one outage (network and time span), for its evidence.
OUTAGE_UIDS = f"""
    SELECT measurement_uid FROM verdicts
    WHERE current AND coalesce(probe_cc, '') = ? AND coalesce(probe_asn, '') = ?
      AND coalesce(region, '') = ? AND measurement_start_time BETWEEN ? AND ?
      AND {_outage_failure("status", "method")}
    ORDER BY measurement_start_time LIMIT 200
"""

EVENT_COLUMNS = (
    "event_id",
    "kind",
    "target",
    "scope",
    "country",
    "asns",
    "regions",
    "networks",
    "start",
    "end",
    "last_good_before",
    "first_good_after",
    "methods",
    "measurements",
    "measurement_uids",
    "confidence",
    "recurrence",
    "computed_at",
)
DELETE_EVENTS = "DELETE FROM events"
INSERT_EVENTS = "INSERT OR REPLACE INTO events SELECT * FROM " + read_ndjson(EVENT_COLUMNS)

# Rebuild: tables, sequences, indexes and views of the old file that are not derived from the
# archive are carried over into the new one (see carry.py). ``old`` is the attached old file.
OLD_SCHEMAS = (
    "SELECT DISTINCT schema_name FROM duckdb_schemas() WHERE database_name = 'old' "
    "AND NOT internal AND schema_name NOT IN ('main', 'information_schema', 'pg_catalog')"
)
OLD_ENUM_TYPES = (
    "SELECT schema_name, type_name FROM duckdb_types() "
    "WHERE database_name = 'old' AND NOT internal AND logical_type = 'ENUM'"
)
OLD_SEQUENCES = (
    "SELECT schema_name, sequence_name, sql FROM duckdb_sequences() "
    "WHERE database_name = 'old' AND NOT temporary ORDER BY schema_name, sequence_name"
)
OLD_TABLES = (
    "SELECT schema_name, table_name, sql FROM duckdb_tables() "
    "WHERE database_name = 'old' AND NOT internal AND NOT temporary "
    "ORDER BY schema_name, table_name"
)
OLD_INDEXES = (
    "SELECT schema_name, table_name, sql FROM duckdb_indexes() "
    "WHERE database_name = 'old' AND sql IS NOT NULL"
)
OLD_VIEWS = (
    "SELECT schema_name, view_name, sql FROM duckdb_views() "
    "WHERE database_name = 'old' AND NOT internal AND NOT temporary"
)
CARRY_META = (
    "INSERT OR IGNORE INTO meta SELECT key, value FROM old.meta "
    "WHERE key NOT IN ('schema_version', 'events_dirty')"
)
