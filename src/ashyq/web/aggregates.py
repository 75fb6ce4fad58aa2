"""``web_hourly``: verdict counts per target × network × region × UTC hour, kept by the web in
the store's DuckDB file so that a target page reads a few thousand rows instead of scanning
every verdict. It is derived data: when it is missing or stale (the verdicts changed since it
was made) the pages read the ``verdicts`` table directly, and ``refresh`` remakes it.
A store rebuild drops it; the next refresh makes it again.
"""

from __future__ import annotations

from typing import Any

import duckdb

META_TABLE = "web_meta"

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


def source_mark(con: duckdb.DuckDBPyConnection) -> str:
    """Changes whenever verdicts are added, re-judged or retired."""
    row = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE current), max(judged_at) FROM verdicts"
    ).fetchone()
    return "|".join(str(v) for v in (row or ()))


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
    """Whether ``web_hourly`` exists and was made from the verdicts as they are now."""
    if not _has(con, "web_hourly"):
        return False
    return made_from(con) == source_mark(con)


def refresh(store: Any, force: bool = False) -> dict[str, Any]:
    """Remake ``web_hourly`` if stale (needs a writable store). Returns what was done."""
    with store.connect() as con:
        mark = source_mark(con)
        if not force and _has(con, "web_hourly") and made_from(con) == mark:
            return {"refreshed": False, "rows": None}
    with store.connect(write=True) as con:
        mark = source_mark(con)
        con.execute("BEGIN")
        try:
            con.execute(CREATE)
            con.execute(
                f"CREATE TABLE IF NOT EXISTS {META_TABLE} (key VARCHAR PRIMARY KEY, value VARCHAR)"
            )
            con.execute(
                f"INSERT OR REPLACE INTO {META_TABLE} VALUES ('hourly_source', ?)", [mark]
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        rows = con.execute("SELECT count(*) FROM web_hourly").fetchone()
    return {"refreshed": True, "rows": rows[0] if rows else 0}
