"""The raw archive: the source of truth, append-only, one directory per day.

Layout: ``DATA/raw/YYYY/MM/DD/<segment>.jsonl.gz`` where the day is the measurement's own
``measurement_start_time`` (UTC), so late uploads land where they belong in time. Each segment
belongs to one writer process and is a sequence of complete gzip members (one per write batch),
each member holding JSON lines of the form::

    {"uid": ..., "source": "probe"|"ooni", "received_at": "YYYY-MM-DD hh:mm:ss", "m": {...}}

A batch is acknowledged only after ``os.fsync`` of the segment (and of its directory when the
segment is new). A crash can leave at most a truncated last member, which readers skip: it was
never acknowledged.
"""

from __future__ import annotations

import gzip
import json
import os
import secrets
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ashyq.store.identity import InvalidMeasurement, format_time, parse_time

SEGMENT_MAX_BYTES = 64 * 1024 * 1024
MAX_OPEN_SEGMENTS = 32


@dataclass(frozen=True, slots=True)
class Record:
    uid: str
    source: str
    received_at: str
    measurement: dict[str, Any]
    encoded: bytes | None = None  # the line, when already made

    def line(self) -> bytes:
        if self.encoded is not None:
            return self.encoded
        return (
            json.dumps(
                {
                    "uid": self.uid,
                    "source": self.source,
                    "received_at": self.received_at,
                    "m": self.measurement,
                },
                separators=(",", ":"),
                ensure_ascii=False,
            ).encode()
            + b"\n"
        )


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class ArchiveWriter:
    """Appends batches of records to this process's segments; thread-safe."""

    def __init__(self, data_dir: Path, compresslevel: int = 3) -> None:
        self.root = data_dir / "raw"
        self.data_dir = data_dir
        self.compresslevel = compresslevel
        self._lock = threading.Lock()
        self._open: dict[str, tuple[Path, Any]] = {}  # day -> (path, file)
        self._tag = f"{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{os.getpid()}-" + (
            secrets.token_hex(3)
        )
        self._seq = 0

    def _segment(self, day: str) -> tuple[Path, Any]:
        current = self._open.pop(day, None)
        if current is not None and current[1].tell() < SEGMENT_MAX_BYTES:
            self._open[day] = current  # most recently used last
            return current
        if current is not None:
            current[1].close()
        while len(self._open) >= MAX_OPEN_SEGMENTS:  # late uploads for many days: close old ones
            oldest = next(iter(self._open))
            self._open.pop(oldest)[1].close()
        directory = self.root / day[0:4] / day[5:7] / day[8:10]
        new_dir = not directory.is_dir()
        directory.mkdir(parents=True, exist_ok=True)
        if new_dir:
            for parent in (
                directory.parent.parent.parent,
                directory.parent.parent,
                directory.parent,
            ):
                _fsync_dir(parent)
        self._seq += 1
        path = directory / f"{self._tag}-{self._seq:04d}.jsonl.gz"
        handle = open(path, "ab")  # noqa: SIM115 - kept open across batches
        _fsync_dir(directory)
        self._open[day] = (path, handle)
        return path, handle

    def append(self, records: list[Record]) -> list[tuple[str, int]]:
        """Write and fsync; returns (relative segment path, member offset) for each record."""
        by_day: dict[str, list[int]] = {}
        for i, rec in enumerate(records):
            day = _day_of(rec)
            by_day.setdefault(day, []).append(i)
        where: list[tuple[str, int]] = [("", 0)] * len(records)
        with self._lock:
            for day, indexes in by_day.items():
                path, handle = self._segment(day)
                offset = handle.tell()
                payload = b"".join(records[i].line() for i in indexes)
                handle.write(gzip.compress(payload, compresslevel=self.compresslevel, mtime=0))
                handle.flush()
                os.fsync(handle.fileno())
                rel = str(path.relative_to(self.data_dir))
                for i in indexes:
                    where[i] = (rel, offset)
        return where

    def close(self) -> None:
        with self._lock:
            for _, handle in self._open.values():
                handle.close()
            self._open.clear()


def read_members(path: Path, offset: int = 0) -> Iterator[tuple[int, int, bytes]]:
    """Yield (member offset, member end, decompressed bytes) of the complete gzip members from
    ``offset``; a truncated member at the end (a crash during a write) is skipped."""
    with open(path, "rb") as f:
        f.seek(offset)
        data = f.read()
    pos = 0
    while pos < len(data):
        d = zlib.decompressobj(wbits=31)
        try:
            out = d.decompress(data[pos:])
        except zlib.error:
            return
        if not d.eof:
            return
        consumed = len(data) - pos - len(d.unused_data)
        yield offset + pos, offset + pos + consumed, out
        pos += consumed


def parse_lines(blob: bytes) -> Iterator[dict[str, Any]]:
    for line in blob.splitlines():
        if line.strip():
            yield json.loads(line)


def segments(data_dir: Path) -> list[Path]:
    """Every archive segment, oldest day first."""
    root = data_dir / "raw"
    if not root.is_dir():
        return []
    return sorted(root.glob("[0-9][0-9][0-9][0-9]/[0-9][0-9]/[0-9][0-9]/*.jsonl.gz"))


def read_member_at(path: Path, offset: int, chunk: int = 1 << 16) -> bytes | None:
    """The decompressed gzip member starting at ``offset`` (reads only that member)."""
    d = zlib.decompressobj(wbits=31)
    parts: list[bytes] = []
    with open(path, "rb") as f:
        f.seek(offset)
        while not d.eof:
            data = f.read(chunk)
            if not data:
                return None  # truncated
            try:
                parts.append(d.decompress(data))
            except zlib.error:
                return None
    return b"".join(parts)


def read_record_at(data_dir: Path, rel_path: str, offset: int, uid: str) -> dict[str, Any] | None:
    path = data_dir / rel_path
    if not path.is_file():
        return None
    blob = read_member_at(path, offset)
    if blob is None:
        return None
    for env in parse_lines(blob):
        if env.get("uid") == uid:
            return env
    return None


def _day_of(rec: Record) -> str:
    """The archive day (YYYY-MM-DD) of a record: its measurement's own start time in UTC,
    whatever ISO form it was written in, else the day it was received."""
    try:
        return format_time(parse_time(rec.measurement.get("measurement_start_time")))[:10]
    except InvalidMeasurement:
        return rec.received_at[:10]
