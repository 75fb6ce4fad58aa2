"""The evidence report of one event: a self-contained HTML page (inline CSS and SVG, no
script, its own Content-Security-Policy) and the same page printed to PDF by Chromium."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
from aiohttp import web
from markupsafe import Markup

from ashyq import __version__
from ashyq.web import queries, security
from ashyq.web.app import CONFIG_KEY, HttpError, now_utc, render
from ashyq.web.observations import compare
from ashyq.web.pages import canonical_json, in_store, raw_measurement, sha256_of

SAMPLES = 4
PDF_TIMEOUT = 90.0
_PDF_LOCK = asyncio.Semaphore(1)
CHART_W = 720
CHART_H = 140


def sample_uids(uids: list[str], count: int = SAMPLES) -> list[str]:
    """The first and last failing measurements of an event (its edges in time)."""
    if len(uids) <= count:
        return list(uids)
    head = count // 2 + count % 2
    return list(uids[:head]) + list(uids[-(count - head) :])


def chart(hourly: list[dict[str, Any]], since: datetime, until: datetime) -> dict[str, Any]:
    """Bars per hour: height = measurements, dark part = failing ones."""
    span = max(1.0, (until - since).total_seconds())
    top = max((int(r["total"]) for r in hourly), default=1) or 1
    width = max(2.0, CHART_W * 3600 / span - 1)
    bars = []
    for r in hourly:
        x = 40 + (r["hour"] - since).total_seconds() / span * CHART_W
        h_total = (CHART_H - 30) * int(r["total"]) / top
        h_fail = (CHART_H - 30) * int(r["failing"]) / top
        bars.append(
            {
                "x": round(x, 1),
                "w": round(width, 1),
                "total_y": round(CHART_H - 20 - h_total, 1),
                "total_h": round(h_total, 1),
                "fail_y": round(CHART_H - 20 - h_fail, 1),
                "fail_h": round(h_fail, 1),
                "hour": r["hour"],
                "total": r["total"],
                "failing": r["failing"],
            }
        )
    return {"bars": bars, "width": CHART_W + 60, "height": CHART_H, "top": top}


def _css() -> Markup:
    text = (Path(__file__).parent / "static" / "report.css").read_text("utf-8")
    if "</" in text:
        raise ValueError("report.css must not contain '</'")
    return Markup(text)  # our own stylesheet file, never measured data


async def report_context(request: web.Request, event_id: str) -> dict[str, Any]:
    now = now_utc()

    def work(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
        ev = queries.event(con, event_id)
        if ev is None:
            return {"event": None}
        since = ev["start"] - timedelta(hours=12)
        until = (ev["end"] or now) + timedelta(hours=12)
        uids = sample_uids(ev["measurement_uids"])
        return {
            "event": ev,
            "since": since,
            "until": until,
            "hourly": queries.event_hourly(con, ev, since, until),
            "samples": queries.recent_measurements(con, None, len(uids) or 1, uids=uids),
        }

    data = await in_store(request, work)
    ev = data["event"]
    if ev is None:
        raise HttpError(404, "no such event")
    samples = []
    for row in sorted(data["samples"], key=lambda r: r["measurement_start_time"]):
        raw = await raw_measurement(request, row["measurement_uid"])
        samples.append(
            {
                "verdict": row,
                "raw_json": canonical_json(raw).decode("utf-8") if raw is not None else None,
                "sha256": sha256_of(raw) if raw is not None else None,
                "cmp": compare(raw) if raw is not None else None,
            }
        )
    return {
        "event": ev,
        "chart": chart(data["hourly"], data["since"], data["until"]),
        "since": data["since"],
        "until": data["until"],
        "samples": samples,
        "generated": now,
        "version": __version__,
        "report_css": _css(),
        "meta_csp": security.REPORT_META_CSP,
        "base_url": request.app[CONFIG_KEY].base_url,
    }


async def report_html(request: web.Request) -> web.Response:
    event_id = request.match_info["event_id"]
    context = await report_context(request, event_id)
    response = render(request, "report.html", **context)
    if request.query.get("download"):
        response.headers["Content-Disposition"] = (
            f'attachment; filename="ashyq-report-{_safe_name(event_id)}.html"'
        )
    return response


def _safe_name(text: str) -> str:
    return "".join(c for c in text if c.isalnum() or c in "-_")[:64] or "event"


async def print_pdf(html: str, chromium: str) -> bytes:
    """Print an HTML document with headless Chromium; raises HttpError when that fails."""
    if not (os.path.isfile(chromium) and os.access(chromium, os.X_OK)):
        raise HttpError(503, f"PDF export needs Chromium at {chromium}")
    async with _PDF_LOCK:
        tmp = tempfile.mkdtemp(prefix="ashyq-pdf-")
        try:
            page = Path(tmp) / "report.html"
            out = Path(tmp) / "report.pdf"
            page.write_text(html, "utf-8")
            proc = await asyncio.create_subprocess_exec(
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--no-pdf-header-footer",
                f"--user-data-dir={tmp}/profile",
                f"--print-to-pdf={out}",
                page.as_uri(),
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
            )
            try:
                _, err = await asyncio.wait_for(proc.communicate(), PDF_TIMEOUT)
            except TimeoutError:
                proc.kill()
                await proc.wait()
                raise HttpError(504, "Chromium took too long to print the report") from None
            data = out.read_bytes() if out.exists() else b""
            if not data.startswith(b"%PDF"):
                tail = (err or b"").decode("utf-8", "replace")[-300:]
                raise HttpError(500, f"Chromium did not print a PDF: {tail}")
            return data
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


async def report_pdf(request: web.Request) -> web.Response:
    event_id = request.match_info["event_id"]
    context = await report_context(request, event_id)
    html = render(request, "report.html", **context).text or ""
    pdf = await print_pdf(html, request.app[CONFIG_KEY].chromium)
    response = web.Response(body=pdf, content_type="application/pdf")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="ashyq-report-{_safe_name(event_id)}.pdf"'
    )
    return response


def add_routes(app: web.Application) -> None:
    app.router.add_get("/events/{event_id}/report.html", report_html)
    app.router.add_get("/events/{event_id}/report.pdf", report_pdf)
