"""The collector: an HTTP API through which probes upload measurements.

Endpoints (JSON in, JSON out; errors are ``{"error": "..."}`` with a 4xx status):

* ``POST /report`` — open an OONI report: ``{"probe_cc", "probe_asn", "test_name",
  "software_name", "software_version", "data_format_version", "format": "json"}`` →
  ``{"report_id", "backend_version", "supported_formats": ["json"]}``.
* ``POST /report/{report_id}`` — ``{"format": "json", "content": <measurement>}`` →
  ``{"measurement_uid", "status": "added" | "duplicate"}``.
* ``POST /report/{report_id}/close`` → ``{}``.
* ``POST /api/v1/measurements`` — a batch: ``{"measurements": [...]}``, a JSON list, or JSON
  Lines (``application/x-ndjson``) → ``{"added", "duplicate", "rejected", "results": [{"index",
  "status", "measurement_uid" | "error"}]}``.
* ``GET /health`` → ``{"ok": true, ...}``.

Every answer that reports a measurement as ``added`` or ``duplicate`` is sent only after that
measurement is fsync'd in the raw archive. Writes are grouped: all submissions waiting at one
moment share one write and one fsync. A background task loads the archive into the tables.
Duplicates are recognised by uid in bounded memory (known.py): recent uids in full, older ones
by a hash confirmed in the measurements table.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
from aiohttp import web

from ashyq import __version__
from ashyq.collector.known import KnownUids
from ashyq.collector.reports import load_secret, new_report_id, valid_report_id
from ashyq.collector.tokens import Tokens
from ashyq.store import Store
from ashyq.store.archive import Record
from ashyq.store.identity import InvalidMeasurement, check_measurement, format_time, scrub
from ashyq.store.lock import StoreBusy

log = logging.getLogger("ashyq.collector")

MAX_MEASUREMENT_BYTES = 4 * 1024 * 1024
MAX_BATCH_BYTES = 16 * 1024 * 1024
MAX_BATCH_ITEMS = 10_000


class BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _parse_json(body: bytes) -> Any:
    try:
        value = json.loads(body)
    except RecursionError:
        raise BadRequest(400, "the JSON is nested too deeply") from None  # ~1000 levels
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadRequest(400, f"the body is not valid JSON ({exc})") from None
    return value


_CHILD_STORE: Store | None = None


def _load_archive(data_dir: str, recompute_events: bool) -> int:
    """Runs in the loader process: archive -> tables (and events). Returns measurements added."""
    global _CHILD_STORE
    if _CHILD_STORE is None:
        _CHILD_STORE = Store.open(Path(data_dir))
    added = _CHILD_STORE.sync(recompute_events=False)
    if recompute_events:
        _CHILD_STORE.recompute_events()
    return added


@dataclass
class _Batch:
    records: list[Record]
    done: asyncio.Future[None]


@dataclass
class Ingestor:
    """Validates, de-duplicates and durably archives submissions (group fsync)."""

    store: Store
    known: KnownUids | None = None  # made from the store when not given
    inflight: dict[str, asyncio.Future[None]] = field(default_factory=dict)
    queue: asyncio.Queue[_Batch] = field(default_factory=asyncio.Queue)
    dirty: asyncio.Event = field(default_factory=asyncio.Event)
    archived: int = 0
    loaded: int = 0
    events_every: float = 30.0

    async def start(self) -> None:
        if self.known is None:
            self.known = KnownUids(self.store)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self._catch_up)
        # Loading and judging are CPU work: a process of their own keeps the event loop (and
        # so acknowledgements) free of it.
        self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
        self._tasks = [
            asyncio.create_task(self._write_loop()),
            asyncio.create_task(self._load_loop()),
        ]

    def _catch_up(self) -> None:
        self.store.sync(recompute_events=True)
        assert self.known is not None
        self.known.load()

    async def stop(self) -> None:
        for t in getattr(self, "_tasks", []):
            t.cancel()
        for t in getattr(self, "_tasks", []):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        pool = getattr(self, "_pool", None)
        if pool is not None:
            pool.shutdown(wait=True)
        loop = asyncio.get_running_loop()
        self.store.close()
        with contextlib.suppress(Exception):
            await loop.run_in_executor(None, self.store.sync)

    async def submit(
        self, items: list[Any], source: str = "probe", report_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Per item: {"index", "status": added|duplicate|rejected, "measurement_uid"|"error"}.
        Returns once every added or duplicate item is durable."""
        results: list[dict[str, Any]] = []
        records: list[Record] = []
        waits: list[asyncio.Future[None]] = []
        now = format_time(_utcnow())
        loop = asyncio.get_running_loop()
        mine: asyncio.Future[None] = loop.create_future()
        known = self.known
        assert known is not None, "start() first"
        checked: list[tuple[int, Any, str]] = []
        maybe: list[str] = []
        for i, m in enumerate(items):
            if report_id is not None and isinstance(m, dict):
                given = m.get("report_id")
                if given in (None, ""):
                    m = dict(m)
                    m["report_id"] = report_id
                elif given != report_id:
                    results.append(
                        {
                            "index": i,
                            "status": "rejected",
                            "error": "report_id in the measurement differs from the report's",
                        }
                    )
                    continue
            try:
                ident = check_measurement(m)
            except InvalidMeasurement as exc:
                results.append({"index": i, "status": "rejected", "error": str(exc)})
                continue
            state = known.status(ident.uid)
            if state == "yes":
                results.append({"index": i, "status": "duplicate", "measurement_uid": ident.uid})
                continue
            if state == "maybe":
                maybe.append(ident.uid)
            checked.append((i, m, ident.uid))
        # A hash hit on an older uid: confirm on the full uid in the table (off the loop).
        stored: set[str] = set()
        if maybe:
            try:
                stored = await loop.run_in_executor(None, known.confirm, maybe)
            except (StoreBusy, duckdb.Error) as exc:  # answered 503: the probe will retry
                mine.cancel()
                raise OSError(f"cannot check for duplicates now ({exc})") from None
        for i, m, uid in checked:
            if uid in stored or (maybe and known.status(uid) == "yes"):  # archived meanwhile
                results.append({"index": i, "status": "duplicate", "measurement_uid": uid})
                continue
            pending = self.inflight.get(uid)
            if pending is not None:
                waits.append(pending)
                results.append({"index": i, "status": "duplicate", "measurement_uid": uid})
                continue
            try:
                line = Record(uid, source, now, scrub(m)).line()
            except (ValueError, TypeError, RecursionError) as exc:
                results.append(
                    {
                        "index": i,
                        "status": "rejected",
                        "error": f"cannot be stored as JSON ({type(exc).__name__})",
                    }
                )
                continue
            self.inflight[uid] = mine
            records.append(Record(uid, source, now, m, line))
            results.append({"index": i, "status": "added", "measurement_uid": uid})
        results.sort(key=lambda r: r["index"])
        if records:
            await self.queue.put(_Batch(records, mine))
            waits.append(mine)
        else:
            mine.cancel()
        for w in waits:
            await asyncio.shield(w)  # raises if the write failed: nothing acknowledged
        return results

    async def _write_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = await self.queue.get()
            batches = [batch]
            while not self.queue.empty():
                batches.append(self.queue.get_nowait())
            records = [r for b in batches for r in b.records]
            try:
                await loop.run_in_executor(None, self.store.writer.append, records)
            except Exception as exc:
                log.error("archive write failed: %s", exc)
                for r in records:
                    self.inflight.pop(r.uid, None)
                for b in batches:
                    if not b.done.done():
                        b.done.set_exception(OSError(f"the archive could not be written: {exc}"))
                continue
            assert self.known is not None
            self.known.add(r.uid for r in records)
            for r in records:
                self.inflight.pop(r.uid, None)
            self.archived += len(records)
            for b in batches:
                if not b.done.done():
                    b.done.set_result(None)
            self.dirty.set()

    async def _load_loop(self) -> None:
        loop = asyncio.get_running_loop()
        events_pending = False
        last_events = 0.0
        while True:
            timeout = self.events_every if events_pending else None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.dirty.wait(), timeout=timeout)
            if self.dirty.is_set():
                await asyncio.sleep(1.0)  # gather a second of uploads per load
                self.dirty.clear()
            data = str(self.store.data_dir)
            assert self.known is not None
            token = self.known.seal()  # what is archived now is in the tables after this load
            try:
                n = await loop.run_in_executor(self._pool, _load_archive, data, False)
                await loop.run_in_executor(None, self.known.loaded, token)
                self.loaded += n
                events_pending = events_pending or n > 0
                if events_pending and time.monotonic() - last_events >= self.events_every:
                    await loop.run_in_executor(self._pool, _load_archive, data, True)
                    last_events = time.monotonic()
                    events_pending = False
            except Exception as exc:  # the archive keeps everything; retry later
                log.warning("loading the archive into the tables failed: %s", exc)
                if isinstance(exc, BrokenProcessPool):
                    self._pool = ProcessPoolExecutor(
                        1, mp_context=multiprocessing.get_context("spawn")
                    )
                await asyncio.sleep(5.0)
                self.dirty.set()


def _utcnow():
    from datetime import UTC, datetime

    return datetime.now(UTC).replace(tzinfo=None)


def make_app(
    data_dir: Path, open_access: bool = False, events_every: float = 30.0
) -> web.Application:
    store = Store.open(data_dir)
    ingestor = Ingestor(store, events_every=events_every)
    tokens = Tokens(data_dir)
    secret = load_secret(data_dir)

    @web.middleware
    async def errors(request: web.Request, handler):
        try:
            return await handler(request)
        except BadRequest as exc:
            return _error(exc.status, exc.message)
        except web.HTTPRequestEntityTooLarge:
            return _error(413, f"the body is larger than {MAX_BATCH_BYTES} bytes")
        except web.HTTPException as exc:
            if exc.status >= 400:
                return _error(exc.status, exc.reason or "error")
            raise
        except OSError as exc:
            return _error(503, f"not stored, try again later: {exc}")
        except Exception as exc:  # never crash the service on one request
            log.exception("internal error")
            return _error(500, f"internal error ({type(exc).__name__})")

    def authorise(request: web.Request) -> str | None:
        if open_access:
            return None
        header = request.headers.get("Authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else None
        token = token or request.headers.get("X-Ashyq-Token")
        name = tokens.check(token)
        if name is None:
            raise BadRequest(
                401,
                "a valid upload token is needed (Authorization: Bearer TOKEN; "
                "issue one with `ashyq collector token add NAME`)",
            )
        return name

    async def read_body(request: web.Request, limit: int) -> bytes:
        if request.content_length is not None and request.content_length > limit:
            raise BadRequest(413, f"the body is larger than {limit} bytes")
        body = await request.read()
        if len(body) > limit:
            raise BadRequest(413, f"the body is larger than {limit} bytes")
        return body

    async def open_report(request: web.Request) -> web.Response:
        authorise(request)
        meta = _parse_json(await read_body(request, 64 * 1024))
        if not isinstance(meta, dict):
            raise BadRequest(400, "expected a JSON object describing the report")
        test_name = meta.get("test_name")
        cc = meta.get("probe_cc")
        asn = meta.get("probe_asn")
        if not isinstance(test_name, str) or not test_name.replace("_", "").isalnum():
            raise BadRequest(400, "test_name: missing or not like 'web_connectivity'")
        if not isinstance(cc, str) or len(cc) != 2 or not cc.isalpha() or not cc.isupper():
            raise BadRequest(400, "probe_cc: missing or not a two-letter upper-case code")
        if not isinstance(asn, str) or not asn.startswith("AS") or not asn[2:].isdigit():
            raise BadRequest(400, "probe_asn: missing or not like 'AS9198'")
        if meta.get("format", "json") != "json":
            raise BadRequest(400, "only format 'json' is supported")
        rid = new_report_id(secret, test_name.lower()[:64], cc, asn)
        return web.json_response(
            {
                "report_id": rid,
                "backend_version": f"ashyq {__version__}",
                "supported_formats": ["json"],
            }
        )

    def check_report(report_id: str) -> None:
        if not valid_report_id(secret, report_id):
            raise BadRequest(404, "unknown report_id: open a report with POST /report first")

    async def submit_to_report(request: web.Request) -> web.Response:
        authorise(request)
        report_id = request.match_info["report_id"]
        check_report(report_id)
        doc = _parse_json(await read_body(request, MAX_MEASUREMENT_BYTES))
        if not isinstance(doc, dict):
            raise BadRequest(400, 'expected {"format": "json", "content": {...}}')
        if doc.get("format", "json") != "json":
            raise BadRequest(400, "only format 'json' is supported")
        content = doc.get("content")
        if isinstance(content, str):
            content = _parse_json(content.encode())
        if not isinstance(content, dict):
            raise BadRequest(400, "content: expected the measurement as a JSON object")
        [result] = await ingestor.submit([content], report_id=report_id)
        if result["status"] == "rejected":
            raise BadRequest(400, f"invalid measurement: {result['error']}")
        return web.json_response(
            {"measurement_uid": result["measurement_uid"], "status": result["status"]}
        )

    async def close_report(request: web.Request) -> web.Response:
        authorise(request)
        check_report(request.match_info["report_id"])
        return web.json_response({})

    async def batch(request: web.Request) -> web.Response:
        authorise(request)
        body = await read_body(request, MAX_BATCH_BYTES)
        ctype = request.headers.get("Content-Type", "")
        if "ndjson" in ctype or "jsonl" in ctype:
            items: Any = []
            for n, line in enumerate(body.splitlines(), 1):
                if line.strip():
                    try:
                        items.append(_parse_json(line))
                    except BadRequest as exc:
                        raise BadRequest(400, f"line {n}: {exc.message}") from None
        else:
            doc = _parse_json(body)
            items = doc.get("measurements") if isinstance(doc, dict) else doc
        if not isinstance(items, list):
            raise BadRequest(400, 'expected {"measurements": [...]}, a JSON list or JSON Lines')
        if len(items) > MAX_BATCH_ITEMS:
            raise BadRequest(413, f"at most {MAX_BATCH_ITEMS} measurements per batch")
        results = await ingestor.submit(items)
        counts = {
            s: sum(1 for r in results if r["status"] == s)
            for s in ("added", "duplicate", "rejected")
        }
        return web.json_response({**counts, "results": results})

    async def health(request: web.Request) -> web.Response:
        return web.json_response(
            {
                "ok": True,
                "version": __version__,
                "archived": ingestor.archived,
                "loaded": ingestor.loaded,
                "known": len(ingestor.known or ()),
                "known_memory": ingestor.known.memory() if ingestor.known else {},
            }
        )

    async def on_startup(app: web.Application) -> None:
        await ingestor.start()

    async def on_cleanup(app: web.Application) -> None:
        await ingestor.stop()

    app = web.Application(middlewares=[errors], client_max_size=MAX_BATCH_BYTES + 1024)
    app["ingestor"] = ingestor
    app.router.add_post("/report", open_report)
    app.router.add_post("/report/{report_id}", submit_to_report)
    app.router.add_post("/report/{report_id}/close", close_report)
    app.router.add_post("/api/v1/measurements", batch)
    app.router.add_get("/health", health)
    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    return app


async def serve(
    data_dir: Path, host: str, port: int, open_access: bool = False, events_every: float = 30.0
) -> None:
    import signal

    app = make_app(data_dir, open_access=open_access, events_every=events_every)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0]
    print(f"collector listening on http://{host}:{bound[1]} (data: {data_dir})", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
