"""Citizen Lab test lists: ``url,category_code,category_description,date_added,source,notes``."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

COLUMNS = ("url", "category_code", "category_description", "date_added", "source", "notes")


@dataclass(frozen=True)
class Target:
    url: str
    category_code: str | None = None


def check_url(url: str) -> str | None:
    """Why ``url`` cannot be measured, or None when it can."""
    if not url:
        return "empty URL"
    if any(c.isspace() for c in url) or len(url) > 2048:
        return f"not a URL: {url[:80]!r}"
    try:
        parts = urlsplit(url)
        _ = parts.port
    except ValueError as exc:
        return f"not a URL ({exc}): {url[:80]!r}"
    if parts.scheme not in ("http", "https"):
        return f"not an http:// or https:// URL: {url[:80]!r}"
    if not parts.hostname:
        return f"URL without a host: {url[:80]!r}"
    return None


def read_testlist(path: Path) -> tuple[list[Target], list[str]]:
    """Read a test list; return (targets, one error message per broken line)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path} is not UTF-8 text (byte {exc.start})") from None
    if "\x00" in text:
        raise ValueError(f"{path} contains NUL bytes: not a CSV test list")
    reader = csv.reader(io.StringIO(text, newline=""))
    targets: list[Target] = []
    errors: list[str] = []
    header: list[str] | None = None
    seen: set[str] = set()
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append(f"{path}:{reader.line_num}: malformed CSV ({exc})")
            continue
        line = reader.line_num
        if not row or all(not c.strip() for c in row):
            continue
        if header is None:
            header = [c.strip().lower() for c in row]
            if "url" not in header:
                raise ValueError(
                    f"{path}:{line}: no 'url' column in the header; a Citizen Lab test list "
                    f"starts with: {','.join(COLUMNS)}"
                )
            continue
        if len(row) != len(header):
            errors.append(f"{path}:{line}: {len(row)} fields where the header has {len(header)}")
            continue
        record = dict(zip(header, row, strict=True))
        url = record.get("url", "").strip()
        problem = check_url(url)
        if problem:
            errors.append(f"{path}:{line}: {problem}")
            continue
        if url in seen:
            continue
        seen.add(url)
        code = (record.get("category_code") or "").strip() or None
        targets.append(Target(url, code))
    if header is None:
        raise ValueError(f"{path} is empty: no header line")
    return targets, errors
