"""Carrying what is not derived from the archive across a rebuild.

``Store.rebuild`` makes a new DuckDB file from the archive and swaps it in. Other parts of ashyq
keep tables of their own in the same file (claims, incidents, web aggregates, ...), which the
archive cannot remake; they are copied from the old file into the new one before the swap,
with their DDL (constraints, defaults), ENUM types, sequences (at their current value), indexes
and views.
"""

from __future__ import annotations

import logging

import duckdb

from ashyq.store import sql

log = logging.getLogger("ashyq.store")

# The store's own tables: made from the archive (or store state remade with them).
DERIVED_TABLES = frozenset({"measurements", "verdicts", "events", "archive_segments", "meta"})
DERIVED_VIEWS = frozenset({"current_verdicts"})


class CarryError(RuntimeError):
    """A table of the old file could not be copied: the rebuild must not swap."""


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _full(schema: str, name: str, db: str | None = None) -> str:
    return ".".join(_q(p) for p in ((db,) if db else ()) + (schema, name))


def _derived(schema: str, name: str, derived: frozenset[str]) -> bool:
    return schema == "main" and name in derived


def carry_over(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Copy every non-derived table of the attached ``old`` database into the connection's
    own (new) database. Returns the names copied ("schema.table"). Raises CarryError when a
    table cannot be copied at all."""
    for (schema,) in con.execute(sql.OLD_SCHEMAS).fetchall():
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {_q(schema)}")
    for schema, name in con.execute(sql.OLD_ENUM_TYPES).fetchall():
        try:  # the tables' DDL spells their ENUMs out; the named type is for later DDL
            con.execute(
                f"CREATE TYPE {_full(schema, name)} AS ENUM "
                f"(SELECT unnest(enum_range(NULL::{_full(schema, name, 'old')})))"
            )
        except duckdb.Error as exc:
            log.warning("type %s.%s not carried over: %s", schema, name, exc)
    for schema, name, ddl in con.execute(sql.OLD_SEQUENCES).fetchall():
        try:
            con.execute(ddl)  # its START is the old sequence's next value
        except duckdb.Error as exc:
            raise CarryError(f"sequence {schema}.{name}: {exc}") from None
    pending = [
        (s, t, ddl)
        for s, t, ddl in con.execute(sql.OLD_TABLES).fetchall()
        if not _derived(s, t, DERIVED_TABLES)
    ]
    copied: list[str] = []
    # Tables referring to others (foreign keys) need those first: retry until no progress.
    while pending:
        left = []
        for schema, name, ddl in pending:
            try:
                _copy_with_ddl(con, schema, name, ddl)
            except duckdb.Error:
                left.append((schema, name, ddl))
                continue
            copied.append(f"{schema}.{name}")
        if len(left) == len(pending):
            for schema, name, _ in left:  # the data matters more than the constraints
                _copy_plain(con, schema, name)
                copied.append(f"{schema}.{name}")
            break
        pending = left
    done = set(copied)
    for schema, table, ddl in con.execute(sql.OLD_INDEXES).fetchall():
        if f"{schema}.{table}" in done:
            try:
                con.execute(ddl)
            except duckdb.Error as exc:  # an index is an optimisation: keep going
                log.warning("index on %s.%s not carried over: %s", schema, table, exc)
    for schema, view, ddl in con.execute(sql.OLD_VIEWS).fetchall():
        if not _derived(schema, view, DERIVED_VIEWS):
            try:
                con.execute(ddl)
            except duckdb.Error as exc:
                log.warning("view %s.%s not carried over: %s", schema, view, exc)
    con.execute(sql.CARRY_META)
    return copied


def _copy_with_ddl(con: duckdb.DuckDBPyConnection, schema: str, name: str, ddl: str) -> None:
    con.execute("BEGIN")
    try:
        con.execute(ddl)
        con.execute(f"INSERT INTO {_full(schema, name)} SELECT * FROM {_full(schema, name, 'old')}")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _copy_plain(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> None:
    try:
        con.execute(f"DROP TABLE IF EXISTS {_full(schema, name)}")
        con.execute(
            f"CREATE TABLE {_full(schema, name)} AS SELECT * FROM {_full(schema, name, 'old')}"
        )
    except duckdb.Error as exc:
        raise CarryError(f"table {schema}.{name}: {exc}") from None
    log.warning("table %s.%s carried over without its constraints", schema, name)
