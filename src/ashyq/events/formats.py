"""Writing events as a table, JSON, CSV, or CSV shaped like Access Now's #KeepItOn STOP data."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import Any

CSV_COLUMNS = (
    "event_id",
    "kind",
    "target",
    "scope",
    "country",
    "asns",
    "regions",
    "start",
    "end",
    "last_good_before",
    "first_good_after",
    "method",
    "methods",
    "measurements",
    "confidence",
    "recurrence",
)

# Columns of Access Now's #KeepItOn STOP data set (the yearly shutdown tracker), in its order.
STOP_COLUMNS = (
    "start_date_type",
    "start_date",
    "country",
    "geo_scope",
    "area_name",
    "shutdown_type",
    "affected_network",
    "shutdown_extent",
    "ordered_by",
    "decision_maker",
    "actual_cause",
    "actual_cause_details",
    "info_source",
    "info_source_link",
    "shutdown_status",
    "end_date",
    "duration",
    "gov_justification",
    "gov_ack",
    "facebook_affected",
    "twitter_affected",
    "whatsapp_affected",
    "instagram_affected",
    "telegram_affected",
    "other_affected",
    "sms_affected",
    "phonecall_affected",
    "telcos_involved",
    "election",
    "violence",
    "hr_abuse_reported",
    "users_targeted",
    "users_target_detail",
    "event",
    "an_link",
    "region",
)

COUNTRIES = {
    "KZ": ("Kazakhstan", "Asia"),
    "KG": ("Kyrgyzstan", "Asia"),
    "UZ": ("Uzbekistan", "Asia"),
    "TJ": ("Tajikistan", "Asia"),
    "TM": ("Turkmenistan", "Asia"),
    "RU": ("Russia", "Europe"),
    "BY": ("Belarus", "Europe"),
    "IR": ("Iran", "Asia"),
    "CN": ("China", "Asia"),
    "IT": ("Italy", "Europe"),
    "US": ("United States", "Americas"),
}

PLATFORMS = {
    "facebook_affected": ("facebook.com", "fb.com", "fbcdn.net", "facebook_messenger"),
    "twitter_affected": ("twitter.com", "x.com", "twimg.com"),
    "whatsapp_affected": ("whatsapp.com", "whatsapp.net", "whatsapp"),
    "instagram_affected": ("instagram.com", "cdninstagram.com"),
    "telegram_affected": ("telegram.org", "t.me", "telegram.me", "telegram"),
}


def _platform(target: str | None) -> str | None:
    if not target:
        return None
    for column, names in PLATFORMS.items():
        for name in names:
            if target == name or target.endswith("." + name):
                return column
    return None


def _date(value: str | None) -> str:
    if not value:
        return ""
    t = datetime.fromisoformat(value.rstrip("Z"))
    return f"{t.month}/{t.day}/{t.year}"


def _hours(e: dict[str, Any]) -> str:
    if not e.get("end"):
        return ""
    t0 = datetime.fromisoformat(e["start"].rstrip("Z"))
    t1 = datetime.fromisoformat(e["end"].rstrip("Z"))
    return f"{(t1 - t0).total_seconds() / 3600:.1f}"


def stop_rows(events: list[dict[str, Any]]) -> list[dict[str, str]]:
    """STOP-shaped rows. Outages become full-network shutdowns, blocking becomes a
    service-based shutdown, throttling a throttle. Columns ashyq cannot know (who ordered
    it, the official justification...) stay empty."""
    rows = []
    for e in events:
        name, region = COUNTRIES.get(e.get("country") or "", (e.get("country") or "", ""))
        platform = _platform(e.get("target"))
        row = dict.fromkeys(STOP_COLUMNS, "")
        row.update(
            {
                "start_date_type": "Exact",
                "start_date": _date(e["start"]),
                "country": name,
                "geo_scope": {"national": "National", "regional": "Regional"}.get(
                    e["scope"], "Local"
                ),
                "area_name": ", ".join(e.get("regions") or []),
                "shutdown_type": "Throttle" if e["kind"] == "throttling" else "Shutdown",
                "affected_network": ", ".join(e.get("asns") or []),
                "shutdown_extent": "Full network" if e["kind"] == "outage" else "Service-based",
                "info_source": "ashyq measurements",
                "info_source_link": f"event:{e['event_id']}",
                "shutdown_status": "Ongoing" if e.get("end") is None else "Ended",
                "end_date": _date(e.get("end")),
                "duration": _hours(e),
                "other_affected": ""
                if e["kind"] == "outage" or platform
                else (e.get("target") or ""),
                "telcos_involved": ", ".join(e.get("asns") or []),
                "event": (
                    f"{e['kind']} of {e.get('target') or 'the internet'} ({e.get('method')}), "
                    f"{e['measurements']} measurements, confidence {e['confidence']}"
                    + (f", {e['recurrence']}" if e.get("recurrence") else "")
                ),
                "region": region,
            }
        )
        for column in PLATFORMS:
            row[column] = "Yes" if platform == column or e["kind"] == "outage" else "No"
        rows.append(row)
    return rows


def _cell(value: Any) -> Any:
    if isinstance(value, list):
        value = ";".join(str(v) for v in value)
    if isinstance(value, str) and value[:1] in ("=", "+", "@", "\t", "\r"):
        value = "'" + value  # never a formula in a reader's spreadsheet
    return value


def to_csv(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(columns), extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: _cell(r.get(k)) for k in columns})
    return buf.getvalue()


def to_json(events: list[dict[str, Any]]) -> str:
    return json.dumps(events, indent=2, ensure_ascii=False)


def to_table(events: list[dict[str, Any]]) -> str:
    if not events:
        return "no events\n"
    header = (
        "KIND",
        "TARGET",
        "SCOPE",
        "NETWORKS",
        "REGIONS",
        "START (UTC)",
        "END (UTC)",
        "METHOD",
        "N",
        "CONF",
    )
    lines = [header]
    for e in events:
        lines.append(
            (
                e["kind"],
                e.get("target") or "*",
                e["scope"],
                ",".join(e.get("asns") or []),
                ",".join(e.get("regions") or []) or "-",
                (e["start"] or "").replace("T", " ").rstrip("Z")[:16],
                (e["end"] or "ongoing").replace("T", " ").rstrip("Z")[:16],
                e.get("method") or "-",
                str(e["measurements"]),
                f"{e['confidence']:.2f}",
            )
        )
    widths = [max(len(row[i]) for row in lines) for i in range(len(header))]
    out = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in lines
    ]
    for e in events:
        if e.get("recurrence"):
            out.append(f"  {e.get('target') or '*'}: {e['recurrence']}")
    return "\n".join(out) + "\n"
