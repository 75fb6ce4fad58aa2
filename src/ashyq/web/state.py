"""The web's own small, transactional state: users, API tokens, alert rules, alert deliveries,
target categories and the site secret.

It lives in ``<data>/web.sqlite3`` (SQLite in WAL mode), not in the measurement store: it is
written by several processes at once (``ashyq web serve`` and ``ashyq web alerts add`` or
``ashyq web user add`` run beside it), which SQLite allows and a DuckDB file does not, and none
of it is derived from measurements.
"""

from __future__ import annotations

import contextlib
import csv
import io
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from ashyq.web.security import hash_password, hash_token, new_token, verify_password

STATE_FILE = "web.sqlite3"

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    name          TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
    token_hash TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS alert_rules (
    rule_id     INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL,
    target      TEXT,
    category    TEXT,
    network     TEXT,
    region      TEXT,
    kinds       TEXT,
    webhook_url TEXT,
    email       TEXT,
    enabled     INTEGER NOT NULL DEFAULT 1,
    created_at  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS alert_deliveries (
    rule_id  INTEGER NOT NULL,
    event_id TEXT NOT NULL,
    phase    TEXT NOT NULL,
    channel  TEXT NOT NULL,
    sent_at  TEXT NOT NULL,
    ok       INTEGER NOT NULL,
    error    TEXT,
    PRIMARY KEY (rule_id, event_id, phase, channel)
);
CREATE TABLE IF NOT EXISTS target_categories (
    target   TEXT PRIMARY KEY,
    category TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""

EVENT_KINDS = ("blocking", "throttling", "outage")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")


@dataclass(frozen=True, slots=True)
class AlertRule:
    rule_id: int
    name: str
    target: str | None
    category: str | None
    network: str | None
    region: str | None
    kinds: tuple[str, ...]
    webhook_url: str | None
    email: str | None
    enabled: bool
    created_at: str


def validate_webhook_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"webhook must be an http(s) URL: {url!r}")
    return url


def validate_email(address: str) -> str:
    local, at, domain = address.partition("@")
    if not at or not local or "." not in domain or any(c in address for c in " \r\n,;<>"):
        raise ValueError(f"not an e-mail address: {address!r}")
    return address


class WebState:
    """Access to ``web.sqlite3``; safe to share between threads (one lock, short transactions)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._con = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
        self._con.row_factory = sqlite3.Row
        with self._lock:
            self._con.execute("PRAGMA journal_mode=WAL")
            self._con.executescript(SCHEMA)
            self._con.commit()

    @classmethod
    def open(cls, data_dir: Path) -> WebState:
        return cls(Path(data_dir) / STATE_FILE)

    def close(self) -> None:
        with self._lock:
            self._con.close()

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                yield self._con
                self._con.commit()
            except BaseException:
                self._con.rollback()
                raise

    # ---- the site secret (signs sessions and CSRF tokens)
    def secret(self) -> bytes:
        with self._tx() as con:
            row = con.execute("SELECT value FROM settings WHERE key = 'secret'").fetchone()
            if row:
                return bytes.fromhex(row["value"])
            value = secrets.token_bytes(32)
            con.execute(
                "INSERT OR IGNORE INTO settings (key, value) VALUES ('secret', ?)", (value.hex(),)
            )
            row = con.execute("SELECT value FROM settings WHERE key = 'secret'").fetchone()
            return bytes.fromhex(row["value"])

    # ---- users and tokens
    def set_user(self, name: str, password: str) -> None:
        name = name.strip()
        if not name or "|" in name or len(name) > 64:
            raise ValueError("user name must be 1-64 characters without '|'")
        if len(password) < 8:
            raise ValueError("password must have at least 8 characters")
        hashed = hash_password(password)
        with self._tx() as con:
            con.execute(
                "INSERT INTO users (name, password_hash, created_at) VALUES (?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET password_hash = excluded.password_hash",
                (name, hashed, _now()),
            )

    def delete_user(self, name: str) -> bool:
        with self._tx() as con:
            return con.execute("DELETE FROM users WHERE name = ?", (name,)).rowcount > 0

    def users(self) -> list[str]:
        with self._tx() as con:
            return [r["name"] for r in con.execute("SELECT name FROM users ORDER BY name")]

    def check_user(self, name: str, password: str) -> bool:
        with self._tx() as con:
            row = con.execute("SELECT password_hash FROM users WHERE name = ?", (name,)).fetchone()
        return bool(row) and verify_password(password, row["password_hash"])

    def add_token(self, name: str) -> str:
        token = new_token()
        with self._tx() as con:
            con.execute(
                "INSERT INTO tokens (token_hash, name, created_at) VALUES (?, ?, ?)",
                (hash_token(token), name, _now()),
            )
        return token

    def token_owner(self, token: str) -> str | None:
        with self._tx() as con:
            row = con.execute(
                "SELECT name FROM tokens WHERE token_hash = ?", (hash_token(token),)
            ).fetchone()
        return row["name"] if row else None

    def tokens(self) -> list[dict[str, str]]:
        with self._tx() as con:
            rows = con.execute(
                "SELECT name, created_at, token_hash FROM tokens ORDER BY created_at"
            )
            return [
                {"name": r["name"], "created_at": r["created_at"], "id": r["token_hash"][:12]}
                for r in rows
            ]

    def revoke_token(self, token_id: str) -> bool:
        if len(token_id) < 8:
            return False
        with self._tx() as con:
            cur = con.execute("DELETE FROM tokens WHERE token_hash LIKE ?", (token_id + "%",))
            return cur.rowcount > 0

    # ---- alert rules
    def add_rule(
        self,
        *,
        name: str,
        target: str | None = None,
        category: str | None = None,
        network: str | None = None,
        region: str | None = None,
        kinds: tuple[str, ...] = (),
        webhook_url: str | None = None,
        email: str | None = None,
    ) -> AlertRule:
        if not webhook_url and not email:
            raise ValueError("an alert rule needs a webhook URL or an e-mail address (or both)")
        if webhook_url:
            validate_webhook_url(webhook_url)
        if email:
            validate_email(email)
        for kind in kinds:
            if kind not in EVENT_KINDS:
                raise ValueError(f"unknown event kind {kind!r} (one of {', '.join(EVENT_KINDS)})")
        network = _norm_network(network)
        with self._tx() as con:
            cur = con.execute(
                "INSERT INTO alert_rules (name, target, category, network, region, kinds, "
                "webhook_url, email, enabled, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?)",
                (
                    name.strip() or "rule",
                    (target or "").strip().lower() or None,
                    (category or "").strip().upper() or None,
                    network,
                    (region or "").strip() or None,
                    ",".join(kinds) or None,
                    webhook_url or None,
                    email or None,
                    _now(),
                ),
            )
            rule_id = int(cur.lastrowid or 0)
        rule = self.rule(rule_id)
        assert rule is not None
        return rule

    def rule(self, rule_id: int) -> AlertRule | None:
        with self._tx() as con:
            row = con.execute("SELECT * FROM alert_rules WHERE rule_id = ?", (rule_id,)).fetchone()
        return _rule(row) if row else None

    def rules(self, *, enabled_only: bool = False) -> list[AlertRule]:
        sql = "SELECT * FROM alert_rules"
        if enabled_only:
            sql += " WHERE enabled = 1"
        with self._tx() as con:
            return [_rule(r) for r in con.execute(sql + " ORDER BY rule_id")]

    def delete_rule(self, rule_id: int) -> bool:
        with self._tx() as con:
            con.execute("DELETE FROM alert_deliveries WHERE rule_id = ?", (rule_id,))
            return con.execute("DELETE FROM alert_rules WHERE rule_id = ?", (rule_id,)).rowcount > 0

    # ---- alert deliveries (what has been sent, so nothing is sent twice)
    def delivered(self, rule_id: int, event_id: str, phase: str, channel: str) -> bool:
        with self._tx() as con:
            row = con.execute(
                "SELECT ok FROM alert_deliveries WHERE rule_id = ? AND event_id = ? AND phase = ? "
                "AND channel = ?",
                (rule_id, event_id, phase, channel),
            ).fetchone()
        return bool(row and row["ok"])

    def record_delivery(
        self, rule_id: int, event_id: str, phase: str, channel: str, ok: bool, error: str | None
    ) -> None:
        with self._tx() as con:
            con.execute(
                "INSERT INTO alert_deliveries (rule_id, event_id, phase, channel, sent_at, ok, "
                "error) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (rule_id, event_id, phase, "
                "channel) DO UPDATE SET sent_at = excluded.sent_at, ok = excluded.ok, "
                "error = excluded.error",
                (rule_id, event_id, phase, channel, _now(), int(ok), error),
            )

    def deliveries(self, limit: int = 200) -> list[dict[str, object]]:
        with self._tx() as con:
            rows = con.execute(
                "SELECT * FROM alert_deliveries ORDER BY sent_at DESC LIMIT ?", (limit,)
            )
            return [dict(r) for r in rows]

    # ---- target categories (Citizen Lab category codes, from a test list)
    def set_categories(self, mapping: dict[str, str]) -> int:
        with self._tx() as con:
            con.executemany(
                "INSERT INTO target_categories (target, category) VALUES (?, ?) "
                "ON CONFLICT(target) DO UPDATE SET category = excluded.category",
                [(t.lower(), c.upper()) for t, c in mapping.items() if t and c],
            )
        return len(mapping)

    def categories(self) -> dict[str, str]:
        with self._tx() as con:
            return {
                r["target"]: r["category"]
                for r in con.execute("SELECT target, category FROM target_categories")
            }


def _norm_network(network: str | None) -> str | None:
    value = (network or "").strip()
    if not value:
        return None
    if value.isdigit():
        return f"AS{value}"
    if value.upper().startswith("AS") and value[2:].isdigit():
        return "AS" + value[2:]
    return value


def _rule(row: sqlite3.Row) -> AlertRule:
    return AlertRule(
        rule_id=int(row["rule_id"]),
        name=row["name"],
        target=row["target"],
        category=row["category"],
        network=row["network"],
        region=row["region"],
        kinds=tuple(k for k in (row["kinds"] or "").split(",") if k),
        webhook_url=row["webhook_url"],
        email=row["email"],
        enabled=bool(row["enabled"]),
        created_at=row["created_at"],
    )


def parse_test_list(text: str) -> dict[str, str]:
    """``host -> category_code`` from a Citizen Lab test list CSV (url, category_code, ...)."""
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "url" not in reader.fieldnames:
        raise ValueError("not a test list: the CSV needs 'url' and 'category_code' columns")
    if "category_code" not in reader.fieldnames:
        raise ValueError("not a test list: the CSV needs a 'category_code' column")
    out: dict[str, str] = {}
    for row in reader:
        url = (row.get("url") or "").strip()
        code = (row.get("category_code") or "").strip()
        host = urlsplit(url if "://" in url else "http://" + url).hostname
        if host and code:
            out[host.lower()] = code.upper()
    return out
