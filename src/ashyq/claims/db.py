"""Where claims and incidents live: tables in the store's DuckDB file, plus a journal.

Connections come from ``ashyq.store.Store`` (short connections under the store's lock). Our
tables are created from our own DDL files on first use. The store treats its tables as derived
from the measurement archive and may remake its file; claims and incidents are not derived,
so every write is also appended to ``DATA/journal/<table>.jsonl`` and a table found empty is
refilled from its journal.

Functions here take ``where``: a ``Store``, a data directory, or an open DuckDB connection
(the caller's transaction and lock; no journal then unless the connection's file is known).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb

from ashyq.store import Store

Where = Store | Path | str | duckdb.DuckDBPyConnection
Replay = Callable[[duckdb.DuckDBPyConnection, dict[str, Any]], None]

_SCHEMAS: dict[str, str] = {"claims": "ashyq.claims", "incidents": "ashyq.incidents"}
_REPLAY: dict[str, Replay] = {}
_GUARD = threading.Lock()


def register_replay(table: str, replay: Replay) -> None:
    """How to put one journal record back into ``table``."""
    _REPLAY[table] = replay


def ddl(table: str) -> str:
    return resources.files(_SCHEMAS[table]).joinpath("schema.sql").read_text()


def _data_dir_of(con: duckdb.DuckDBPyConnection) -> Path | None:
    try:
        rows = con.execute("SELECT file FROM pragma_database_list WHERE name = current_database()")
        row = rows.fetchone()
    except duckdb.Error:
        return None
    return Path(row[0]).parent if row and row[0] else None


def journal_path(data_dir: Path, table: str) -> Path:
    return data_dir / "journal" / f"{table}.jsonl"


def append_journal(data_dir: Path | None, table: str, record: dict[str, Any]) -> None:
    if data_dir is None:
        return
    path = journal_path(data_dir, table)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record, ensure_ascii=False, default=str, sort_keys=True)
    with _GUARD, path.open("a", encoding="utf-8") as fh:
        fh.write(line + "\n")
        fh.flush()


def read_journal(data_dir: Path, table: str) -> Iterator[dict[str, Any]]:
    path = journal_path(data_dir, table)
    if not path.exists():
        return
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short by a crash: the rest is still good


def ensure(con: duckdb.DuckDBPyConnection, table: str, data_dir: Path | None) -> None:
    """Create the table if needed; refill it from the journal when it is empty."""
    con.execute(ddl(table))
    if data_dir is None or table not in _REPLAY:
        return
    if con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]:
        return
    for record in read_journal(data_dir, table):
        _REPLAY[table](con, record)


@contextmanager
def connection(
    where: Where, table: str, write: bool = False
) -> Iterator[tuple[duckdb.DuckDBPyConnection, Path | None]]:
    """A connection with ``table`` ready, and the data dir (for the journal) when known."""
    if isinstance(where, duckdb.DuckDBPyConnection):
        data_dir = _data_dir_of(where)
        ensure(where, table, data_dir)
        yield where, data_dir
        return
    store = where if isinstance(where, Store) else _open_store(Path(where))
    data_dir = store.data_dir
    if write:
        with store.connect(write=True) as con:
            ensure(con, table, data_dir)
            yield con, data_dir
        return
    if not store.read_only and _needs_ensure(store, table, data_dir):
        with store.connect(write=True) as con:
            ensure(con, table, data_dir)
    with store.connect(write=False) as con:
        try:
            con.execute(f"SELECT 1 FROM {table} LIMIT 0")
        except duckdb.CatalogException:
            con.execute(ddl(table).replace("CREATE TABLE", "CREATE TEMP TABLE"))
        yield con, data_dir


_STORES: dict[Path, Store] = {}


def _open_store(path: Path) -> Store:
    """One Store object per data directory in this process (opening checks the schema)."""
    key = path.resolve()
    with _GUARD:
        store = _STORES.get(key)
    if store is None or not store.db_path.exists():
        store = Store.open(path)
        with _GUARD:
            _STORES[key] = store
    return store


_ENSURED: set[tuple[Path, str]] = set()


def _needs_ensure(store: Store, table: str, data_dir: Path) -> bool:
    """Whether a read must first create, update or refill the table (the DDL runs once per
    process and file, so columns added in a later version appear in older files)."""
    key = (store.db_path.resolve(), table)
    if key not in _ENSURED:
        _ENSURED.add(key)
        return True
    with store.connect(write=False) as con:
        try:
            empty = not con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        except duckdb.CatalogException:
            return True
    return empty and journal_path(data_dir, table).exists()
