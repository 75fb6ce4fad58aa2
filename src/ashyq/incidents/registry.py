"""Recording and reading incidents (thin I/O over the store's connection).

``where`` is a ``Store``, a data directory, or an open DuckDB connection (see claims/db.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import secrets
import uuid
from pathlib import Path
from typing import Any

import duckdb

from ashyq.claims import db
from ashyq.incidents.model import Incident, IncidentError
from ashyq.sqlfilter import Filters

COLUMNS = (
    "incident_id",
    "platform",
    "type",
    "occurred_at",
    "precision",
    "account",
    "account_hashed",
    "person",
    "outlet",
    "country_codes",
    "prefixes",
    "numbers",
    "complainant",
    "notice_text",
    "source",
    "status",
    "notes",
    "created_at",
    "updated_at",
)
_QUOTED = ", ".join(f'"{c}"' for c in COLUMNS)
_INSERT = f"INSERT OR REPLACE INTO incidents ({_QUOTED}) VALUES ({', '.join('?' for _ in COLUMNS)})"
_SALT_KEY = "account_salt"
# hashed accounts: keyed (current) and plain salted SHA-256 (older registries, imports)
HASH_PREFIXES = ("hmac-sha256:", "sha256:")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def _salt(con: duckdb.DuckDBPyConnection, data_dir: Any) -> str:
    row = con.execute("SELECT value FROM incident_meta WHERE key = ?", [_SALT_KEY]).fetchone()
    if row:
        return row[0]
    salt = secrets.token_hex(16)
    con.execute("INSERT INTO incident_meta VALUES (?, ?)", [_SALT_KEY, salt])
    db.append_journal(data_dir, "incidents", {"__meta__": _SALT_KEY, "value": salt})
    return salt


def account_key_path() -> Path:
    """Where the secret key for hashed accounts lives: ``$ASHYQ_ACCOUNT_KEY_FILE``, else the
    user's configuration directory — never the data directory, so that a copy of the data
    (a backup, a seized server) cannot recover accounts by trying every phone number."""
    env = os.environ.get("ASHYQ_ACCOUNT_KEY_FILE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "ashyq" / "account.key"


def account_key() -> bytes:
    """The secret key (``$ASHYQ_ACCOUNT_KEY``, else the key file, made on first use)."""
    env = os.environ.get("ASHYQ_ACCOUNT_KEY")
    if env:
        return env.encode("utf-8")
    path = account_key_path()
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = secrets.token_hex(32).encode("ascii")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # made by another process meanwhile
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as f:
        f.write(key + b"\n")
    return key


def hash_account(salt: str, account: str) -> str:
    """Keyed hash (HMAC-SHA-256 with the secret key kept outside the data directory) of an
    account name or number, salted per store; spaces, dashes and case are ignored, so the
    same account always gives the same hash."""
    norm = "".join(account.split()).replace("-", "").lower()
    digest = hmac.new(account_key(), (salt + norm).encode("utf-8"), hashlib.sha256)
    return "hmac-sha256:" + digest.hexdigest()


def _row(inc: Incident) -> list[Any]:
    d = {c: getattr(inc, c) for c in COLUMNS}
    return [d[c] for c in COLUMNS]


def _record(inc: Incident) -> dict[str, Any]:
    out = {c: getattr(inc, c) for c in COLUMNS}
    for key in ("occurred_at", "created_at", "updated_at"):
        out[key] = out[key].isoformat() if out[key] else None
    return out


def _replay(con: duckdb.DuckDBPyConnection, record: dict[str, Any]) -> None:
    if "__meta__" in record:
        con.execute(
            "INSERT OR REPLACE INTO incident_meta VALUES (?, ?)",
            [record["__meta__"], record["value"]],
        )
        return
    con.execute(_INSERT, [record.get(c) for c in COLUMNS])


db.register_replay("incidents", _replay)


def _prepare(
    con: duckdb.DuckDBPyConnection, data_dir: Any, inc: Incident, hash_account_: bool
) -> Incident:
    now = _now()
    inc.incident_id = inc.incident_id or "inc-" + uuid.uuid4().hex[:12]
    inc.created_at = inc.created_at or now
    inc.updated_at = now
    if hash_account_ and inc.account and not inc.account_hashed:
        inc.account = hash_account(_salt(con, data_dir), inc.account)
        inc.account_hashed = True
    if inc.account_hashed and inc.account and not inc.account.startswith(HASH_PREFIXES):
        raise IncidentError("account: marked hashed but is not a hmac-sha256: value")
    return inc


def add_incident(where: db.Where, incident: Incident, hash_account: bool = False) -> str:
    """Record an incident (a new one, or replace one with the same incident_id). Returns its id.

    With ``hash_account`` the account is stored only as a salted SHA-256 (the salt is kept in
    this data directory, so the same account gives the same hash here and nowhere else).
    """
    with db.connection(where, "incidents", write=True) as (con, data_dir):
        inc = _prepare(con, data_dir, incident, hash_account)
        con.execute(_INSERT, _row(inc))
    db.append_journal(data_dir, "incidents", _record(inc))
    return inc.incident_id or ""


def add_incidents(
    where: db.Where, incidents: list[Incident], hash_accounts: bool = False
) -> list[str]:
    """Record several incidents in one transaction: all of them, or none."""
    with db.connection(where, "incidents", write=True) as (con, data_dir):
        con.execute("BEGIN TRANSACTION")
        try:
            prepared = [_prepare(con, data_dir, inc, hash_accounts) for inc in incidents]
            for inc in prepared:
                con.execute(_INSERT, _row(inc))
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    for inc in prepared:
        db.append_journal(data_dir, "incidents", _record(inc))
    return [inc.incident_id or "" for inc in prepared]


def set_status(where: db.Where, incident_id: str, status: str) -> Incident:
    """Move an incident to draft, in_review or verified."""
    found = get_incident(where, incident_id)
    if found is None:
        raise IncidentError(f"incident_id: no incident {incident_id}")
    from ashyq.incidents.model import STATUSES

    if status not in STATUSES:
        raise IncidentError(f"status: {status!r} is not one of {', '.join(STATUSES)}")
    found.status = status
    add_incident(where, found)
    return found


def _from_row(names: list[str], row: tuple[Any, ...]) -> Incident:
    d = dict(zip(names, row, strict=True))
    for key in ("country_codes", "prefixes", "numbers"):
        d[key] = list(d[key] or [])
    return Incident(**d)


def list_incidents(
    where: db.Where,
    platform: str | None = None,
    type: str | None = None,
    status: str | None = None,
    since: str | None = None,
    until: str | None = None,
    limit: int | None = None,
) -> list[Incident]:
    """Recorded incidents, oldest first, optionally filtered (since/until on occurred_at)."""
    f = Filters()
    f.add("platform = ?", platform)
    f.add("type = ?", type)
    f.add("status = ?", status)
    f.add("occurred_at >= ?::TIMESTAMP", since)
    f.add("occurred_at < ?::TIMESTAMP", until)
    statement = f"SELECT {_QUOTED} FROM incidents WHERE {f.sql} ORDER BY occurred_at, incident_id"
    if limit:
        statement += f" LIMIT {int(limit)}"
    with db.connection(where, "incidents") as (con, _):
        cur = con.execute(statement, f.params)
        names = [d[0] for d in cur.description]
        return [_from_row(names, r) for r in cur.fetchall()]


def get_incident(where: db.Where, incident_id: str) -> Incident | None:
    with db.connection(where, "incidents") as (con, _):
        cur = con.execute(f"SELECT {_QUOTED} FROM incidents WHERE incident_id = ?", [incident_id])
        names = [d[0] for d in cur.description]
        row = cur.fetchone()
    return _from_row(names, row) if row else None
