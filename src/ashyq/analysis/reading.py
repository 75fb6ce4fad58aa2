"""Reading measurements: JSONL, .jsonl.gz, single JSON documents, OONI API answers, stdin.

``iter_records`` streams: a JSONL file is read line by line (constant memory), and every bad
line gives one ``ReadError`` naming the file and the line, then reading goes on. A file whose
first line is not a complete JSON value is read as one JSON document (pretty-printed
measurements, OONI API answers); such documents are limited to ``MAX_DOCUMENT_BYTES``.

What counts as a measurement: an object with ``test_name`` or ``test_keys``. Wrappers are
opened: OONI API answers ``{"raw_measurement": "<json>" | {...}}``, ``{"measurement": {...}}``,
lists ``{"results": [...]}`` and top-level JSON arrays.
"""

from __future__ import annotations

import gzip
import io
import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

try:  # orjson parses 2-4x faster; the standard library is the fallback
    import orjson

    _loads = orjson.loads
    _JSONError: tuple[type[Exception], ...] = (orjson.JSONDecodeError, ValueError)
except ImportError:  # pragma: no cover - depends on the environment
    _loads = json.loads
    _JSONError = (ValueError,)

MAX_DOCUMENT_BYTES = 512 * 1024 * 1024
MAX_UNWRAP_DEPTH = 4


@dataclass(frozen=True, slots=True)
class ReadError:
    """One input that could not be read as a measurement."""

    source: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line is not None else self.source
        return f"{where}: {self.message}"


@dataclass(frozen=True, slots=True)
class Record:
    """One measurement and where it came from."""

    source: str
    line: int | None
    measurement: dict[str, Any]


def loads(data: bytes | str) -> Any:
    """Parse JSON (orjson when available)."""
    return _loads(data)


def is_measurement(obj: Any) -> bool:
    return isinstance(obj, dict) and ("test_keys" in obj or "test_name" in obj)


def unwrap(obj: Any, depth: int = 0) -> Iterator[dict[str, Any] | str]:
    """Yield the measurements inside ``obj``, or a message (str) for what is not one."""
    if is_measurement(obj):
        yield obj
        return
    if depth >= MAX_UNWRAP_DEPTH:
        yield "nested too deeply to be an OONI measurement"
        return
    if isinstance(obj, list):
        if not obj:
            yield "an empty JSON array, no measurement"
        for item in obj:
            yield from unwrap(item, depth + 1)
        return
    if isinstance(obj, dict):
        raw = obj.get("raw_measurement")
        if isinstance(raw, str):
            try:
                raw = loads(raw)
            except _JSONError as exc:
                yield f"raw_measurement is not valid JSON ({_short(exc)})"
                return
        if isinstance(raw, dict):
            yield from unwrap(raw, depth + 1)
            return
        for key in ("measurement", "data"):
            inner = obj.get(key)
            if isinstance(inner, dict):
                yield from unwrap(inner, depth + 1)
                return
        results = obj.get("results")
        if isinstance(results, list):
            yield from unwrap(results, depth + 1)
            return
        yield "a JSON object without test_name or test_keys: not an OONI measurement"
        return
    yield f"expected a JSON object, got {type(obj).__name__}"


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:160]


def _open_binary(path: str, stdin: IO[bytes] | None) -> IO[bytes]:
    if path == "-":
        raw: IO[bytes] = stdin if stdin is not None else sys.stdin.buffer
    else:
        raw = open(path, "rb")  # noqa: SIM115 - closed by the caller
    if not hasattr(raw, "peek"):
        raw = io.BufferedReader(io.BytesIO(raw.read()))  # type: ignore[arg-type]
    head = raw.peek(2)[:2]  # type: ignore[attr-defined]
    if head == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    return raw


def iter_records(
    paths: Iterable[str | Path], *, stdin: IO[bytes] | None = None
) -> Iterator[Record | ReadError]:
    """Stream measurements from files (``-`` is standard input), with one error per bad line."""
    for p in paths:
        name = str(p)
        try:
            fh = _open_binary(name, stdin)
        except OSError as exc:
            yield ReadError(name, None, f"cannot open ({exc.strerror or exc})")
            continue
        try:
            yield from _iter_stream(name, fh)
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            yield ReadError(name, None, f"cannot read further ({_short(exc)})")
        finally:
            if name != "-":
                fh.close()


def _iter_stream(name: str, fh: IO[bytes]) -> Iterator[Record | ReadError]:
    lines: Iterator[bytes] = iter(fh)
    lineno = 0
    seen = False
    for raw_line in lines:
        lineno += 1
        line = raw_line.strip()
        if not line:
            continue
        if not seen:
            seen = True
            try:
                obj = loads(line)
            except _JSONError:
                if line[:1] in (b"{", b"["):
                    # not a complete value on one line: a pretty-printed JSON document, or
                    # JSON lines whose first line is broken
                    yield from _read_document(name, raw_line, fh)
                    return
                yield ReadError(name, lineno, _json_message(line))
                continue
            yield from _records(name, lineno, obj)
            continue
        yield from _one_line(name, lineno, line)
    if not seen:
        yield ReadError(name, None, "empty input, no measurement")


def _one_line(name: str, lineno: int, line: bytes) -> Iterator[Record | ReadError]:
    try:
        obj = loads(line)
    except _JSONError:
        yield ReadError(name, lineno, _json_message(line))
        return
    yield from _records(name, lineno, obj)


def _json_message(line: bytes) -> str:
    try:
        json.loads(line)
    except UnicodeDecodeError:
        return "invalid JSON (not UTF-8 text)"
    except json.JSONDecodeError as exc:
        return f"invalid JSON ({exc.msg} at column {exc.colno})"
    except ValueError as exc:
        return f"invalid JSON ({_short(exc)})"
    return "invalid JSON"


def _records(name: str, lineno: int | None, obj: Any) -> Iterator[Record | ReadError]:
    for item in unwrap(obj):
        if isinstance(item, str):
            yield ReadError(name, lineno, item)
        else:
            yield Record(name, lineno, item)


def _read_document(name: str, first: bytes, fh: IO[bytes]) -> Iterator[Record | ReadError]:
    data = first + fh.read(MAX_DOCUMENT_BYTES + 1)
    if len(data) <= MAX_DOCUMENT_BYTES:
        try:
            obj = loads(data)
        except _JSONError:
            pass
        else:
            yield from _records(name, None, obj)
            return
        if data.count(b"\n") > 1 and data.split(b"\n", 2)[1].strip()[:1] not in (b"{", b"["):
            # one document over many lines, and it is broken: one error for the file
            yield ReadError(name, None, _document_message(data))
            return
    # JSON lines after all (a broken first line, or too large for one document): go on
    # line by line, with the buffered bytes first and then the rest of the stream
    lineno = 0
    parts = data.split(b"\n")
    tail = parts.pop()
    for part in parts:
        lineno += 1
        if part.strip():
            yield from _one_line(name, lineno, part.strip())
    for raw in fh:
        if tail:
            raw, tail = tail + raw, b""
        lineno += 1
        if raw.strip():
            yield from _one_line(name, lineno, raw.strip())
    if tail.strip():
        yield from _one_line(name, lineno + 1, tail.strip())


def _document_message(data: bytes) -> str:
    try:
        json.loads(data)
    except json.JSONDecodeError as exc:
        return f"invalid JSON document (line {exc.lineno}: {exc.msg} at column {exc.colno})"
    except (ValueError, UnicodeDecodeError) as exc:
        return f"invalid JSON document ({_short(exc)})"
    return "invalid JSON document"


def iter_measurements_from_bytes(data: bytes, name: str = "<bytes>") -> list[Record | ReadError]:
    """Read measurements held in memory (tests, HTTP uploads)."""
    return list(_iter_stream(name, io.BytesIO(data)))
