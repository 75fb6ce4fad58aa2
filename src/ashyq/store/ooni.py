"""Reading OONI measurements: files (JSONL, gzip, API JSON) and OONI's public API.

API shapes (api.ooni.io, documented at https://api.ooni.io/apidocs):
``GET /api/v1/measurements?probe_cc=KZ&since=...&until=...&limit=N&offset=M`` returns
``{"metadata": {"count", "limit", "offset", "next_url", ...}, "results": [{"measurement_uid",
"report_id", "input", "test_name", "measurement_start_time", "probe_asn", "probe_cc",
"measurement_url", "anomaly", "confirmed", "failure", ...}]}``; the full measurement is at
``GET /api/v1/raw_measurement?measurement_uid=UID``.
"""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp

DEFAULT_API = "https://api.ooni.io"


class ImportProblem(ValueError):
    """A file or an API answer that cannot be read; the message says which and why."""


def _items_of(doc: Any) -> Iterator[Any]:
    """Measurements inside one JSON document of any of OONI's shapes."""
    if isinstance(doc, list):
        for item in doc:
            yield from _items_of(item)
    elif isinstance(doc, dict):
        if "raw_measurement" in doc:  # /api/v1/measurement_meta?full=true
            raw = doc["raw_measurement"]
            if isinstance(raw, str):
                try:
                    raw = json.loads(raw)
                except json.JSONDecodeError:
                    yield {"_bad": "raw_measurement is not valid JSON"}
                    return
            if isinstance(raw, dict) and doc.get("measurement_uid"):
                raw.setdefault("measurement_uid", doc["measurement_uid"])
            yield raw
        elif isinstance(doc.get("results"), list):  # a listing page
            for item in doc["results"]:
                if isinstance(item, dict) and "test_keys" not in item:
                    yield {
                        "_bad": "a listing entry without its raw measurement "
                        "(download with --country/--since/--until)"
                    }
                else:
                    yield item
        else:
            yield doc
    else:
        yield doc


def read_file(path: Path) -> Iterator[Any]:
    """Every measurement in a file: JSON Lines or one JSON document, gzip'd or not.
    A line that is not JSON yields ``{"_bad": reason}`` (counted as rejected)."""
    try:
        with open(path, "rb") as f:
            magic = f.read(2)
    except OSError as exc:
        raise ImportProblem(f"{path}: {exc.strerror or exc}") from None
    opener = gzip.open if magic == b"\x1f\x8b" else open
    try:
        with opener(path, "rb") as f:
            first = b""
            for line in f:
                if line.strip():
                    first = line
                    break
            try:
                json.loads(first or b"null")
                jsonl = True
            except (json.JSONDecodeError, UnicodeDecodeError):
                jsonl = False  # a pretty-printed document spread over lines
            f.seek(0)
            if not jsonl:
                try:
                    yield from _items_of(json.loads(f.read()))
                except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                    raise ImportProblem(f"{path}: not valid JSON or JSON Lines ({exc})") from None
                return
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    doc = json.loads(line)
                except (json.JSONDecodeError, UnicodeDecodeError):
                    yield {"_bad": f"line {n} is not valid JSON"}
                    continue
                yield from _items_of(doc)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise ImportProblem(f"{path}: cannot read ({exc})") from None


async def _get_json(session: aiohttp.ClientSession, url: str, tries: int = 4) -> Any:
    delay = 0.5
    for attempt in range(tries):
        try:
            async with session.get(url) as resp:
                if resp.status in (429, 500, 502, 503, 504) and attempt < tries - 1:
                    await asyncio.sleep(delay)
                    delay *= 2
                    continue
                if resp.status != 200:
                    raise ImportProblem(f"{url}: HTTP {resp.status}")
                try:
                    return await resp.json(content_type=None)
                except (json.JSONDecodeError, ValueError):
                    raise ImportProblem(f"{url}: the answer is not JSON") from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            if attempt == tries - 1:
                raise ImportProblem(f"{url}: {type(exc).__name__}: {exc}") from None
            await asyncio.sleep(delay)
            delay *= 2
    raise ImportProblem(f"{url}: no answer")


async def download(
    api: str,
    country: str,
    since: str,
    until: str,
    test_name: str | None = None,
    limit: int | None = None,
    page_size: int = 100,
    concurrency: int = 8,
    on_page: Callable[[int, int | None], None] | None = None,
) -> AsyncIterator[list[dict[str, Any]]]:
    """Yield lists of raw measurements, one per listing page."""
    params: dict[str, Any] = {
        "probe_cc": country.upper(),
        "since": since,
        "until": until,
        "limit": page_size,
        "offset": 0,
        "order_by": "measurement_start_time",
        "order": "asc",
    }
    if test_name:
        params["test_name"] = test_name
    url: str | None = f"{api.rstrip('/')}/api/v1/measurements?{urlencode(params)}"
    seen = 0
    timeout = aiohttp.ClientTimeout(total=120)
    sem = asyncio.Semaphore(concurrency)
    async with aiohttp.ClientSession(timeout=timeout) as session:

        async def fetch(entry: dict[str, Any]) -> dict[str, Any]:
            uid = entry.get("measurement_uid")
            raw_url = entry.get("measurement_url") or (
                f"{api.rstrip('/')}/api/v1/raw_measurement?{urlencode({'measurement_uid': uid})}"
            )
            async with sem:
                raw = await _get_json(session, raw_url)
            if isinstance(raw, dict) and uid:
                raw.setdefault("measurement_uid", uid)
            return raw

        while url:
            page = await _get_json(session, url)
            if not isinstance(page, dict) or not isinstance(page.get("results"), list):
                raise ImportProblem(f"{url}: not an OONI measurement listing")
            entries = [e for e in page["results"] if isinstance(e, dict)]
            if limit is not None:
                entries = entries[: max(0, limit - seen)]
            raws = await asyncio.gather(*(fetch(e) for e in entries))
            seen += len(entries)
            meta = page.get("metadata") or {}
            if on_page:
                on_page(seen, meta.get("count") if isinstance(meta.get("count"), int) else None)
            yield list(raws)
            if limit is not None and seen >= limit:
                break
            nxt = meta.get("next_url")
            url = nxt if isinstance(nxt, str) and nxt and entries else None
