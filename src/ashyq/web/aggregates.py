"""Web-owned aggregate tables in the store's DuckDB file, so that pages read a few thousand rows
instead of scanning every verdict:

* ``web_hourly``: verdict counts per target × network × region × UTC hour, sorted by target
  (the target page reads one target's rows; DuckDB skips the other row groups);
* ``web_grid_hourly``: counts per UTC hour × region × network, sorted by hour (the overview);
* ``web_networks``: the latest network name reported for each ASN.
 It is derived data: when it is missing or stale (the verdicts changed since it
was made) the pages read the ``verdicts`` table directly, and ``refresh`` remakes it.
A store rebuild drops it; the next refresh makes it again.
"""

from __future__ import annotations

from typing import Any

import duckdb

META_TABLE = "web_meta"
TABLES = ("web_hourly", "web_grid_hourly", "web_networks")

CREATE = """
CREATE OR REPLACE TABLE web_hourly AS
SELECT target,
       probe_asn AS network,
       region,
       date_trunc('hour', measurement_start_time) AS hour,
       count(*)::INTEGER AS total,
       count(*) FILTER (WHERE status = 'blocked')::INTEGER AS blocked,
       count(*) FILTER (WHERE status = 'throttled')::INTEGER AS throttled,
       count(*) FILTER (WHERE status = 'down')::INTEGER AS down,
       count(*) FILTER (WHERE status = 'ok')::INTEGER AS ok
FROM verdicts
WHERE current AND target IS NOT NULL
GROUP BY ALL
ORDER BY target, hour
"""

CREATE_GRID = """
CREATE OR REPLACE TABLE web_grid_hourly AS
SELECT hour, coalesce(region, '') AS region, network,
       sum(total)::BIGINT AS total, sum(blocked)::BIGINT AS blocked,
       sum(throttled)::BIGINT AS throttled, sum(down)::BIGINT AS down
FROM web_hourly
GROUP BY ALL
ORDER BY hour
"""

CREATE_NETWORKS = """
CREATE OR REPLACE TABLE web_networks AS
SELECT probe_asn AS network, arg_max(probe_network_name, measurement_start_time) AS name
FROM verdicts
WHERE current AND probe_asn IS NOT NULL AND probe_network_name IS NOT NULL
GROUP BY 1
"""


MARK_SQL = (
    "concat_ws('|', (SELECT count(*) FROM verdicts), (SELECT max(computed_at) FROM events), "
    "(SELECT value FROM meta WHERE key = 'events_dirty'))"
)


def source_mark(con: duckdb.DuckDBPyConnection) -> str:
    """Cheap to read, and changes whenever verdicts are added (their count) or re-judged (a
    re-analysis always recomputes the events, which changes their ``computed_at``)."""
    row = con.execute(f"SELECT {MARK_SQL}").fetchone()
    return str(row[0]) if row else ""


def _has(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    row = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND schema_name = 'main'",
        [table],
    ).fetchone()
    return bool(row and row[0])


def made_from(con: duckdb.DuckDBPyConnection) -> str | None:
    if not _has(con, META_TABLE):
        return None
    row = con.execute(f"SELECT value FROM {META_TABLE} WHERE key = 'hourly_source'").fetchone()
    return row[0] if row else None


def usable(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the aggregate tables exist and were made from the verdicts as they are now
    (one cheap statement: it runs on every page view)."""
    present = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main' "
        "AND table_name IN ('web_meta', 'web_hourly', 'web_grid_hourly', 'web_networks')"
    ).fetchone()
    if not present or present[0] != len(TABLES) + 1:
        return False
    row = con.execute(
        f"SELECT (SELECT value FROM web_meta WHERE key = 'hourly_source') = {MARK_SQL}"
    ).fetchone()
    return bool(row and row[0])


def refresh(store: Any, force: bool = False) -> dict[str, Any]:
    """Remake ``web_hourly`` if stale (needs a writable store). Returns what was done."""
    with store.connect() as con:
        mark = source_mark(con)
        if not force and usable(con):
            return {"refreshed": False, "rows": None}
    with store.connect(write=True) as con:
        mark = source_mark(con)
        con.execute("BEGIN")
        try:
            con.execute(CREATE)
            con.execute(CREATE_GRID)
            con.execute(CREATE_NETWORKS)
            con.execute(
                f"CREATE TABLE IF NOT EXISTS {META_TABLE} (key VARCHAR PRIMARY KEY, value VARCHAR)"
            )
            con.execute(f"INSERT OR REPLACE INTO {META_TABLE} VALUES ('hourly_source', ?)", [mark])
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        rows = con.execute("SELECT count(*) FROM web_hourly").fetchone()
    return {"refreshed": True, "rows": rows[0] if rows else 0}
