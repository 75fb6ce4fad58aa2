"""The store: the raw archive (truth) plus derived DuckDB tables (measurements, verdicts,
events). See docs/store.md for the schema, the API and how processes share the file."""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from ashyq.store import archive, sql
from ashyq.store.carry import carry_over
from ashyq.store.identity import (
    Identity,
    InvalidMeasurement,
    check_measurement,
    format_time,
    scrub,
)
from ashyq.store.lock import StoreBusy, StoreLock

DB_NAME = "ashyq.duckdb"
log = logging.getLogger("ashyq.store")
CHUNK = 20_000
SYNC_CHUNK = 5_000  # records per write connection when loading the archive (readers go between)


@dataclass
class IngestResult:
    added: int = 0
    duplicate: int = 0
    rejected: int = 0
    errors: list[str] = field(default_factory=list)  # first 100 reasons, "item N: reason"
    uids: list[str] = field(default_factory=list)  # uids of the added measurements

    def merge(self, other: IngestResult) -> None:
        self.added += other.added
        self.duplicate += other.duplicate
        self.rejected += other.rejected
        self.errors.extend(other.errors[: max(0, 100 - len(self.errors))])
        self.uids.extend(other.uids)

    def to_dict(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "duplicate": self.duplicate,
            "rejected": self.rejected,
            "errors": self.errors,
        }


def _now() -> str:
    return format_time(datetime.now(UTC).replace(tzinfo=None))


def _judge_functions() -> tuple[Callable[[list[dict[str, Any]]], list[Any]] | None, str | None]:
    """A function judging a list of measurements (the analysis' ``judge_all``, which computes
    per-network baselines over the list) and ``RULE_VERSION``; (None, None) if absent."""
    try:
        from ashyq.analysis import verdict as analysis_verdict
    except ImportError:
        return None, None
    version = getattr(analysis_verdict, "RULE_VERSION", None)
    judge_all = getattr(analysis_verdict, "judge_all", None)
    judge = getattr(analysis_verdict, "judge", None)
    if version is None or (judge_all is None and judge is None):
        return None, None

    def judge_many(ms: list[dict[str, Any]]) -> list[Any]:
        if judge_all is not None:
            try:
                return list(judge_all(ms))
            except Exception:  # fall back to one by one, so one bad item costs one verdict
                pass
        out: list[Any] = []
        for m in ms:
            try:
                out.append(judge(m) if judge is not None else None)
            except Exception as exc:  # the rules must never stop ingest
                out.append(exc)
        return out

    return judge_many, str(version)


def measurement_row(ident: Identity, source: str, received_at: str, where: tuple[str, int]):
    return {
        "uid": ident.uid,
        "measurement_uid": ident.measurement_uid,
        "report_id": ident.report_id,
        "input": ident.input,
        "target": ident.target,
        "test_name": ident.test_name,
        "probe_cc": ident.probe_cc,
        "probe_asn": ident.probe_asn,
        "probe_network_name": ident.probe_network_name,
        "region": ident.region,
        "measurement_start_time": format_time(ident.measurement_start_time),
        "source": source,
        "software_name": ident.software_name,
        "software_version": ident.software_version,
        "received_at": received_at,
        "archive_path": where[0],
        "archive_offset": where[1],
    }


def verdict_row(ident: Identity, verdict: Any, rule_version: str, now: str) -> dict[str, Any]:
    """A verdicts-table row; an exception from the rules becomes an inconclusive verdict."""
    if isinstance(verdict, BaseException) or verdict is None:
        reason = f"{type(verdict).__name__}: {verdict}" if verdict is not None else "no verdict"
        d: dict[str, Any] = {
            "status": "inconclusive",
            "method": "analysis.error",
            "confidence": 0.0,
            "evidence": [f"the rules failed on this measurement: {reason}"],
        }
    elif hasattr(verdict, "__dataclass_fields__"):  # shallow: no deep copy of the details
        d = {name: getattr(verdict, name) for name in verdict.__dataclass_fields__}
    else:
        d = verdict.to_dict() if hasattr(verdict, "to_dict") else dict(verdict)
    ob = d.get("ooni_blocking")
    return {
        "measurement_uid": ident.uid,
        "rule_version": str(d.get("rule_version") or rule_version),
        "judged_at": now,
        "current": True,
        "report_id": ident.report_id,
        "input": ident.input,
        "target": d.get("target") or ident.target,
        "test_name": ident.test_name,
        "probe_cc": ident.probe_cc,
        "probe_asn": ident.probe_asn,
        "probe_network_name": ident.probe_network_name,
        "region": ident.region,
        "measurement_start_time": format_time(ident.measurement_start_time),
        "status": str(d.get("status") or "inconclusive"),
        "method": d.get("method"),
        "confidence": float(d.get("confidence") or 0.0),
        "evidence": [str(e) for e in (d.get("evidence") or [])],
        "ooni_blocking": None if ob is None else json.dumps(ob),
        "ooni_accessible": d.get("ooni_accessible"),
        "details": json.dumps(d.get("details") or {}, default=str),
    }


def judge_rows(
    items: list[tuple[Identity, dict[str, Any]]], judge_many: Callable, version: str
) -> list[dict[str, Any]]:
    now = _now()
    verdicts = judge_many([m for _, m in items])
    return [
        verdict_row(ident, v, version, now) for (ident, _), v in zip(items, verdicts, strict=True)
    ]


class Store:
    """Open with ``Store.open(data_dir, read_only=False)``; every method opens and closes its
    own short DuckDB connection under the store lock (see lock.py)."""

    def __init__(self, data_dir: Path, read_only: bool = False, lock_timeout: float = 120.0):
        self.data_dir = Path(data_dir)
        self.read_only = read_only
        self.db_path = self.data_dir / DB_NAME
        self.lock = StoreLock(self.data_dir / "store.lock", timeout=lock_timeout)
        self._writer: archive.ArchiveWriter | None = None
        self._local = threading.local()
        self._writer_lock = threading.Lock()
        self.carried: list[str] = []  # tables the last rebuild carried over (schema.table)

    # ----------------------------------------------------------------- opening
    @classmethod
    def open(cls, data_dir: Path, read_only: bool = False, lock_timeout: float = 120.0) -> Store:
        data_dir = Path(data_dir)
        data_dir.mkdir(parents=True, exist_ok=True)
        store = cls(data_dir, read_only=read_only, lock_timeout=lock_timeout)
        store._ensure_schema()
        return store

    def _ensure_schema(self) -> None:
        if self.db_path.exists():
            with self.lock.hold(exclusive=False):
                con = duckdb.connect(str(self.db_path), read_only=True)
                try:
                    row = con.execute(sql.GET_META, ["schema_version"]).fetchone()
                except duckdb.Error:
                    row = None
                finally:
                    con.close()
            if row and row[0] == sql.SCHEMA_VERSION:
                return
        with self.lock.hold(exclusive=True):
            con = duckdb.connect(str(self.db_path))
            try:
                con.execute(sql.schema())
                con.execute(sql.SET_META, ["schema_version", sql.SCHEMA_VERSION])
            finally:
                con.close()

    @property
    def writer(self) -> archive.ArchiveWriter:
        with self._writer_lock:
            if self._writer is None:
                self._writer = archive.ArchiveWriter(self.data_dir)
            return self._writer

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def connect(self, write: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A short-lived connection: shared lock and read-only for reads, exclusive for writes.
        Nested calls in one thread reuse the outer connection."""
        outer = getattr(self._local, "con", None)
        if outer is not None:
            if write and not self._local.write:
                raise RuntimeError("a write was asked for inside a read-only connection")
            yield outer
            return
        if write and self.read_only:
            raise PermissionError("this store was opened read-only")
        with self.lock.hold(exclusive=write):
            con = duckdb.connect(str(self.db_path), read_only=not write)
            self._local.con, self._local.write = con, write
            try:
                yield con
            finally:
                self._local.con = None
                con.close()

    def query(self, statement: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        """Run a read-only SQL statement; rows as dicts."""
        with self.connect() as con:
            cur = con.execute(statement, params or [])
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    # ----------------------------------------------------------------- ingest
    def add_measurements(
        self,
        measurements: Iterable[Any],
        source: str = "probe",
        progress: Callable[[IngestResult], None] | None = None,
        recompute_events: bool = True,
    ) -> IngestResult:
        """Validate, archive (fsync'd) and load measurements; duplicates are counted, not
        stored twice; invalid ones are counted with a reason."""
        if source not in ("probe", "ooni"):
            raise ValueError("source must be 'probe' or 'ooni'")
        total = IngestResult()
        # One write connection per chunk, with a pause between chunks, so that readers (the
        # web server) get their turn during a long import.
        self.sync(recompute_events=False)
        chunk: list[Any] = []
        index = 0
        for m in measurements:
            chunk.append(m)
            if len(chunk) >= CHUNK:
                total.merge(self._add_chunk(chunk, source, index))
                index += len(chunk)
                chunk = []
                if progress:
                    progress(total)
                time.sleep(0.05)
        if chunk:
            total.merge(self._add_chunk(chunk, source, index))
            if progress:
                progress(total)
        if total.added and recompute_events:
            self.recompute_events()
        return total

    def check_and_archive(
        self, measurements: list[Any], source: str, known: Callable[[str], bool], base: int = 0
    ) -> tuple[IngestResult, list[tuple[int, str, str]]]:
        """Validate and archive (fsync) without touching the tables: the collector's fast path.
        ``known(uid)`` says whether a uid is already stored. Returns the result and, per item,
        (index, status, detail) with status 'added' | 'duplicate' | 'rejected'."""
        result = IngestResult()
        outcome: list[tuple[int, str, str]] = []
        records: list[archive.Record] = []
        seen: set[str] = set()
        now = _now()
        for i, m in enumerate(measurements):
            try:
                ident = check_measurement(m)
            except InvalidMeasurement as exc:
                result.rejected += 1
                if len(result.errors) < 100:
                    result.errors.append(f"item {base + i}: {exc}")
                outcome.append((i, "rejected", str(exc)))
                continue
            if ident.uid in seen or known(ident.uid):
                result.duplicate += 1
                outcome.append((i, "duplicate", ident.uid))
                continue
            seen.add(ident.uid)
            records.append(archive.Record(ident.uid, source, now, scrub(m)))
            result.added += 1
            result.uids.append(ident.uid)
            outcome.append((i, "added", ident.uid))
        if records:
            self.writer.append(records)
        return result, outcome

    def _add_chunk(self, chunk: list[Any], source: str, base: int) -> IngestResult:
        with self.connect(write=True) as con:
            candidates: list[str] = []
            for m in chunk:
                with suppress(InvalidMeasurement):
                    candidates.append(check_measurement(m).uid)
            existing = {r[0] for r in con.execute(sql.EXISTING_UIDS, [candidates]).fetchall()}
            result, _ = self.check_and_archive(chunk, source, existing.__contains__, base)
            self.sync(recompute_events=False)
        return result

    def sync(self, recompute_events: bool = False) -> int:
        """Load archive records not yet in the tables (after a crash, or what the collector
        archived); judge the new measurements. Returns how many measurements were added.
        Each chunk is loaded under its own write connection, with a pause between chunks, so
        that readers (the web, the collector's duplicate checks) get their turn during a long
        load; a chunk another process loaded meanwhile is skipped."""
        added = 0
        nested = getattr(self._local, "con", None) is not None or self.lock.held()
        with self.connect() as con:
            loaded = dict(con.execute(sql.SEGMENT_OFFSETS).fetchall())
        for path in archive.segments(self.data_dir):
            rel = str(path.relative_to(self.data_dir))
            start = int(loaded.get(rel, 0))
            if path.stat().st_size <= start:
                continue
            batch: list[tuple[dict[str, Any], str, int]] = []
            end = start
            for offset, member_end, blob in archive.read_members(path, start):
                for env in archive.parse_lines(blob):
                    batch.append((env, rel, offset))
                end = member_end
                if len(batch) >= SYNC_CHUNK:
                    added += self._load_chunk(batch, rel, end)
                    batch = []
                    if not nested:
                        time.sleep(0.05)
            if end > start:
                added += self._load_chunk(batch, rel, end)
        if added and recompute_events:
            self.recompute_events()
        return added

    def _load_chunk(self, batch: list[tuple[dict[str, Any], str, int]], rel: str, end: int) -> int:
        with self.connect(write=True) as con:
            row = con.execute(sql.SEGMENT_OFFSET, [rel]).fetchone()
            if row is not None and int(row[0]) >= end:
                return 0  # loaded by another process meanwhile
            return self._load(con, batch, rel, end)

    def _load(
        self,
        con: duckdb.DuckDBPyConnection,
        batch: list[tuple[dict[str, Any], str, int]],
        rel: str,
        end: int,
    ) -> int:
        rows: list[dict[str, Any]] = []
        raws: dict[str, tuple[Identity, dict[str, Any]]] = {}
        for env, path, offset in batch:
            try:
                ident = check_measurement(env["m"], now=datetime(9999, 1, 1))
            except (InvalidMeasurement, KeyError, TypeError):
                continue  # cannot happen for what we archived; never let it stop a load
            rows.append(
                measurement_row(
                    ident, env.get("source", "probe"), env["received_at"], (path, offset)
                )
            )
            raws.setdefault(ident.uid, (ident, env["m"]))
        con.execute("BEGIN")
        try:
            new: list[str] = []
            if rows:
                with _ndjson(rows) as tmp:
                    con.execute(sql.STAGE_MEASUREMENTS, [tmp])
                new = [r[0] for r in con.execute(sql.NEW_STAGED_UIDS).fetchall()]
                con.execute(sql.INSERT_STAGED_MEASUREMENTS)
                con.execute(sql.DROP_STAGE)
            judge, version = _judge_functions()
            if judge is not None and version is not None and new:
                verdicts = judge_rows([raws[u] for u in new], judge, version)
                with _ndjson(verdicts) as tmp:
                    con.execute(sql.INSERT_VERDICTS, [tmp])
            con.execute(sql.SET_SEGMENT_OFFSET, [rel, end])
            if new:
                con.execute(sql.SET_META, ["events_dirty", _token()])
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        return len(new)

    # ----------------------------------------------------------------- re-making
    def rebuild(self, progress: Callable[[int], None] | None = None) -> int:
        """Remake every derived table from the raw archive into a fresh file, keep the verdicts
        of older rule versions (their provenance) and every table that is not derived from the
        archive (see carry.py), then swap the new file in atomically. An old file that cannot
        be read is moved aside (``ashyq.duckdb.unreadable-<time>``), never deleted."""
        if self.read_only:
            raise PermissionError("this store was opened read-only")
        with self.lock.hold(exclusive=True):
            fresh = self.data_dir / (DB_NAME + ".rebuild")
            for p in (fresh, Path(str(fresh) + ".wal")):
                p.unlink(missing_ok=True)
            other = Store(self.data_dir, lock_timeout=self.lock.timeout)
            other.db_path = fresh
            other._ensure_schema()
            added = other.sync(recompute_events=False)
            if progress:
                progress(added)
            _, version = _judge_functions()
            unreadable = False
            con = duckdb.connect(str(fresh))
            try:
                if self.db_path.exists():
                    quoted = str(self.db_path).replace("'", "''")
                    try:
                        con.execute(f"ATTACH '{quoted}' AS old (READ_ONLY)")
                    except duckdb.Error as exc:
                        log.warning("the old table file cannot be read: %s", exc)
                        unreadable = True
                    if not unreadable:
                        try:
                            con.execute(sql.COPY_OLD_VERDICTS, [version or ""])
                            self.carried = carry_over(con)
                        finally:
                            con.execute("DETACH old")
                con.execute(sql.SET_META, ["events_dirty", _token()])
                con.execute("CHECKPOINT")
            finally:
                con.close()
            if unreadable:
                aside = self.data_dir / f"{DB_NAME}.unreadable-{time.strftime('%Y%m%dT%H%M%S')}"
                os.replace(self.db_path, aside)
                wal = Path(str(self.db_path) + ".wal")
                if wal.exists():
                    os.replace(wal, Path(str(aside) + ".wal"))
            os.replace(fresh, self.db_path)
            Path(str(self.db_path) + ".wal").unlink(missing_ok=True)
            self.recompute_events()
        return added

    def iter_raw(self) -> Iterator[dict[str, Any]]:
        """Every archived envelope, in archive order (duplicates included)."""
        for path in archive.segments(self.data_dir):
            for _, _, blob in archive.read_members(path):
                yield from archive.parse_lines(blob)

    def reanalyze(self, progress: Callable[[int], None] | None = None) -> int:
        """Judge every stored measurement with the current rules. Verdicts of other rule
        versions are kept with ``current = false``. Returns how many were judged."""
        judge, version = _judge_functions()
        if judge is None or version is None:
            raise RuntimeError("no rules available: ashyq.analysis.verdict is not installed")
        done = 0
        with self.connect(write=True) as con:
            self.sync()
            stored = {r[0] for r in con.execute(sql.ALL_MEASUREMENT_UIDS).fetchall()}
            con.execute("BEGIN")
            try:
                con.execute(sql.DELETE_RULE_VERSION, [version])
                seen: set[str] = set()
                rows: list[tuple[Identity, dict[str, Any]]] = []
                for env in self.iter_raw():
                    uid = env.get("uid")
                    if uid not in stored or uid in seen:
                        continue
                    seen.add(uid)
                    try:
                        ident = check_measurement(env["m"], now=datetime(9999, 1, 1))
                    except InvalidMeasurement:
                        continue
                    rows.append((ident, env["m"]))
                    if len(rows) >= CHUNK:
                        done += self._write_verdicts(con, judge_rows(rows, judge, version))
                        rows = []
                        if progress:
                            progress(done)
                done += self._write_verdicts(con, judge_rows(rows, judge, version))
                con.execute(sql.RETIRE_OLD_VERDICTS, [version])
                con.execute(sql.SET_META, ["events_dirty", _token()])
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
            self.recompute_events()
        return done

    @staticmethod
    def _write_verdicts(con: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]]) -> int:
        if rows:
            with _ndjson(rows) as tmp:
                con.execute(sql.INSERT_VERDICTS, [tmp])
        return len(rows)

    # ----------------------------------------------------------------- events
    def recompute_events(self) -> int:
        """Recompute the events table from the current verdicts. Returns the event count.
        The computation reads under a shared lock (readers go on); only writing the result
        takes the store for itself."""
        from ashyq.events.build import compute_events, write_events

        with self.connect() as con:
            seen = _meta(con, "events_dirty")
            events = compute_events(con)
        with self.connect(write=True) as con:
            write_events(con, events)
            if _meta(con, "events_dirty") == seen:  # nothing new arrived meanwhile
                con.execute(sql.SET_META, ["events_dirty", "0"])
        return len(events)

    def events_dirty(self) -> bool:
        with self.connect() as con:
            value = _meta(con, "events_dirty")
        return value not in (None, "0")

    def events(
        self,
        since: str | datetime | None = None,
        until: str | datetime | None = None,
        country: str | None = None,
        target: str | None = None,
        kind: str | None = None,
        scope: str | None = None,
    ) -> list[dict[str, Any]]:
        """Events overlapping [since, until) as JSON-ready dicts (see docs/store.md).
        Recomputes them first when new verdicts arrived and the store is writable."""
        from ashyq.events.build import event_to_json

        inside_read = getattr(self._local, "con", None) is not None and not self._local.write
        if not self.read_only and not inside_read and self.events_dirty():
            self.recompute_events()
        statement, params = sql.events_query(_t(since), _t(until), country, target, kind, scope)
        return [event_to_json(r) for r in self.query(statement, params)]

    # ----------------------------------------------------------------- reading
    def verdicts_for(
        self,
        target: str | None,
        since: str | datetime | None = None,
        until: str | datetime | None = None,
        asn: str | None = None,
        country: str | None = None,
        current_only: bool = True,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Verdict rows (dicts with the Verdict fields + rule_version, judged_at, current),
        in time order. ``target=None`` means every target."""
        statement, params = sql.verdicts_query(
            target, _t(since), _t(until), asn, country, current_only, limit
        )
        rows = self.query(statement, params)
        for r in rows:
            r["details"] = json.loads(r["details"] or "{}")
            r["ooni_blocking"] = (
                None if r["ooni_blocking"] is None else json.loads(r["ooni_blocking"])
            )
            r["evidence"] = list(r["evidence"] or [])
            r["measurement_start_time"] = _s(r["measurement_start_time"])
            r["judged_at"] = _s(r["judged_at"])
        return rows

    def measurement(self, uid: str) -> dict[str, Any] | None:
        """The raw measurement as archived (probe_ip scrubbed), or None."""
        with self.connect() as con:
            row = con.execute(sql.MEASUREMENT_LOCATION, [uid]).fetchone()
        if row is None:
            return None
        env = archive.read_record_at(self.data_dir, row[0], int(row[1]), uid)
        return None if env is None else env["m"]

    def stats(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        with self.connect() as con:
            for key, statement in sql.STATS.items():
                rows = con.execute(statement).fetchall()
                out[key] = rows[0][0] if len(rows[0] if rows else ()) == 1 else dict(rows)
            loaded = dict(con.execute(sql.SEGMENT_OFFSETS).fetchall())
        segs = archive.segments(self.data_dir)
        size = sum(p.stat().st_size for p in segs)
        pending = sum(
            max(0, p.stat().st_size - int(loaded.get(str(p.relative_to(self.data_dir)), 0)))
            for p in segs
        )
        out["archive"] = {"segments": len(segs), "bytes": size, "pending_bytes": pending}
        out["data_dir"] = str(self.data_dir)
        return out


def open_for_cli(data_dir: Path, read_only: bool = False) -> Store:
    """``Store.open`` for commands: a damaged file or a busy store becomes a one-line error."""
    from ashyq.cli import CliError

    try:
        return Store.open(data_dir, read_only=read_only)
    except duckdb.Error as exc:
        raise CliError(
            f"cannot open the store in {data_dir} ({str(exc).splitlines()[0]}); "
            f"`ashyq store rebuild --data {data_dir}` remakes it from the raw archive"
        ) from None
    except StoreBusy as exc:
        raise CliError(str(exc)) from None


def _token() -> str:
    return f"{time.time_ns()}-{os.getpid()}"


def _meta(con: duckdb.DuckDBPyConnection, key: str) -> str | None:
    row = con.execute(sql.GET_META, [key]).fetchone()
    return None if row is None else row[0]


def _t(value: str | datetime | None) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return format_time(value)
    return str(value)


def _s(value: Any) -> Any:
    return format_time(value) if isinstance(value, datetime) else value


@contextmanager
def _ndjson(rows: list[dict[str, Any]]) -> Iterator[str]:
    fd, name = tempfile.mkstemp(prefix="ashyq-", suffix=".ndjson")
    try:
        with os.fdopen(fd, "w") as f:
            for r in rows:
                f.write(json.dumps(r, default=str))
                f.write("\n")
        yield name
    finally:
        os.unlink(name)
