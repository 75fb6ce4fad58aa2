"""An account incident: what a reporter tells about an account blocked, a post removed, a
flood of messages or calls — censorship that network probes cannot see. Validation is pure."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import asdict, dataclass, field, replace
from functools import cache
from importlib import resources
from typing import Any

TYPES = (
    "account_blocked",
    "locked_out",
    "post_removed",
    "copyright_complaint",
    "message_flood",
    "call_flood",
)
STATUSES = ("draft", "in_review", "verified")
PRECISIONS = ("minute", "hour", "day", "month")
# Types that belong to one kind of attack: an account taken down after a flood is one story.
TYPE_FAMILY = {
    "account_blocked": "account",
    "locked_out": "account",
    "message_flood": "account",
    "call_flood": "account",
    "post_removed": "content",
    "copyright_complaint": "content",
}
MAX_TEXT = 20_000


class IncidentError(ValueError):
    """An incident that cannot be recorded as given; the message names the field."""


@dataclass(slots=True)
class Incident:
    platform: str
    type: str
    occurred_at: dt.datetime  # UTC, start of the period
    precision: str = "day"
    account: str | None = None
    account_hashed: bool = False
    person: str | None = None
    outlet: str | None = None
    country_codes: list[str] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)
    numbers: list[str] = field(default_factory=list)
    complainant: str | None = None
    notice_text: str | None = None
    source: str | None = None
    status: str = "draft"
    notes: str | None = None
    incident_id: str | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None

    @property
    def when(self) -> str:
        """occurred_at written to its precision: "2024-03", "2024-03-14", "2024-03-14T09:30"."""
        return format_when(self.occurred_at, self.precision)

    def interval(self) -> tuple[dt.datetime, dt.datetime]:
        """The period the report's time covers, [start, end)."""
        start = self.occurred_at
        if self.precision == "month":
            nxt = dt.datetime(start.year + (start.month == 12), start.month % 12 + 1, 1)
            return start, nxt
        length = {"minute": 60, "hour": 3600, "day": 86400}[self.precision]
        return start, start + dt.timedelta(seconds=length)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["when"] = self.when
        for key in ("occurred_at", "created_at", "updated_at"):
            value = out[key]
            out[key] = value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None
        return out


def format_when(t: dt.datetime, precision: str) -> str:
    return {
        "month": t.strftime("%Y-%m"),
        "day": t.strftime("%Y-%m-%d"),
        "hour": t.strftime("%Y-%m-%dT%H"),
        "minute": t.strftime("%Y-%m-%dT%H:%M"),
    }[precision]


_WHEN = re.compile(
    r"^(?P<y>\d{4})-(?P<m>\d{2})"
    r"(?:-(?P<d>\d{2})(?:[T ](?P<H>\d{2})(?::(?P<M>\d{2})(?::\d{2}(?:\.\d+)?)?)?)?)?"
    r"\s*(?P<tz>Z|[+-]\d{2}:?\d{2})?$"
)


def parse_when(text: str, precision: str | None = None) -> tuple[dt.datetime, str]:
    """A time as a reporter knows it, with its precision: "2024-03" (month), "2024-03-14"
    (day), "2024-03-14T09" (hour), "2024-03-14T09:30" (minute); an offset converts to UTC."""
    m = _WHEN.match(text.strip())
    if not m:
        raise IncidentError(
            f"when: {text!r} is not a time (YYYY-MM, YYYY-MM-DD, YYYY-MM-DDTHH or YYYY-MM-DDTHH:MM)"
        )
    parts = [m.group(k) for k in ("y", "m", "d", "H", "M")]
    given = sum(p is not None for p in parts)
    found = {2: "month", 3: "day", 4: "hour", 5: "minute"}[given]
    try:
        t = dt.datetime(
            int(parts[0]), int(parts[1]), int(parts[2] or 1), int(parts[3] or 0), int(parts[4] or 0)
        )
    except ValueError as exc:
        raise IncidentError(f"when: {text!r}: {exc}") from exc
    tz = m.group("tz")
    if tz and tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        t -= sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    if precision is not None:
        if precision not in PRECISIONS:
            raise IncidentError(f"precision: {precision!r} is not one of {', '.join(PRECISIONS)}")
        if PRECISIONS.index(precision) < PRECISIONS.index(found):
            raise IncidentError(f"precision: {text!r} does not give the {precision}")
        found = precision
    return _truncate(t, found), found


def _truncate(t: dt.datetime, precision: str) -> dt.datetime:
    if precision == "month":
        return t.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if precision == "day":
        return t.replace(hour=0, minute=0, second=0, microsecond=0)
    if precision == "hour":
        return t.replace(minute=0, second=0, microsecond=0)
    return t.replace(second=0, microsecond=0)


@cache
def _calling_codes() -> dict[str, str]:
    raw = resources.files("ashyq.incidents").joinpath("calling_codes.toml").read_bytes()
    return dict(tomllib.loads(raw.decode("utf-8"))["codes"])


def country_of_number(number: str) -> tuple[str, str] | None:
    """(prefix, country) of an international number such as "+44 7700 900123"."""
    digits = re.sub(r"[^\d]", "", number)
    if number.strip().startswith("00"):
        digits = digits[2:]
    elif not number.strip().startswith("+"):
        return None
    codes = _calling_codes()
    for length in (3, 2, 1):
        code = digits[:length]
        if code in codes:
            # +7: Kazakhstan's ranges are two digits long, then Russia
            if code == "7" and digits[:2] in codes:
                continue
            return f"+{code[0] if code[:1] == '7' else code}", codes[code]
    return None


def canonical_platform(name: str) -> str:
    """ "WhatsApp", "Ватсап", "واتساب" → "whatsapp"; unknown names lower-cased."""
    from ashyq.claims.lexicon import platforms
    from ashyq.claims.text import normalise

    text = normalise(name.strip())
    for entity in platforms():
        m = entity.pattern.search(text)
        if m and m.start() == 0 and entity.kind == "platform":
            return entity.name
    return text.lower()


def _clean(value: Any, name: str, limit: int = 500) -> str | None:
    if value is None:
        return None
    text = str(value).replace("\x00", "").strip()
    if len(text) > limit:
        raise IncidentError(f"{name}: longer than {limit} characters")
    return text or None


def _list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    items = value if isinstance(value, list | tuple) else re.split(r"[;,|]", str(value))
    return [str(v).strip() for v in items if str(v).strip()]


def _bool(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value or "").strip().lower()
    if text in ("", "0", "false", "no", "n"):
        return False
    if text in ("1", "true", "yes", "y"):
        return True
    raise IncidentError(f"{name}: {value!r} is not true or false")


def incident_from_fields(data: dict[str, Any]) -> Incident:
    """Validate fields (from the CLI, a form, CSV or JSON) into an Incident."""
    platform = _clean(data.get("platform"), "platform", 100)
    if not platform:
        raise IncidentError("platform: missing")
    kind = (_clean(data.get("type"), "type", 50) or "").lower().replace("-", "_").replace(" ", "_")
    if kind not in TYPES:
        raise IncidentError(f"type: {data.get('type')!r} is not one of {', '.join(TYPES)}")
    status = (_clean(data.get("status"), "status", 20) or "draft").lower().replace(" ", "_")
    if status not in STATUSES:
        raise IncidentError(f"status: {data.get('status')!r} is not one of {', '.join(STATUSES)}")
    when = data.get("when") or data.get("occurred_at")
    if not when:
        raise IncidentError("when: missing")
    if isinstance(when, dt.datetime):
        when = when.strftime("%Y-%m-%dT%H:%M")
    precision = _clean(data.get("precision"), "precision", 10)
    occurred_at, precision = parse_when(str(when), precision)
    countries = [c.upper() for c in _list(data.get("country_codes"))]
    for c in countries:
        if not re.fullmatch(r"[A-Z]{2}", c):
            raise IncidentError(f"country_codes: {c!r} is not a two-letter country code")
    prefixes = []
    for p in _list(data.get("prefixes")):
        p = "+" + p.lstrip("+").strip()
        if not re.fullmatch(r"\+\d{1,4}", p):
            raise IncidentError(f"prefixes: {p!r} is not a calling-code prefix such as +44")
        prefixes.append(p)
    numbers = _list(data.get("numbers"))
    for n in numbers:
        if not re.fullmatch(r"\+?[\d\s\-().]{4,24}", n):
            raise IncidentError(f"numbers: {n!r} is not a phone number")
        found = country_of_number(n)
        if found:
            if found[0] not in prefixes:
                prefixes.append(found[0])
            if found[1] not in countries:
                countries.append(found[1])
    return Incident(
        platform=canonical_platform(platform),
        type=kind,
        occurred_at=occurred_at,
        precision=precision,
        account=_clean(data.get("account"), "account", 200),
        account_hashed=_bool(data.get("account_hashed"), "account_hashed"),
        person=_clean(data.get("person"), "person", 200),
        outlet=_clean(data.get("outlet"), "outlet", 200),
        country_codes=countries,
        prefixes=prefixes,
        numbers=numbers,
        complainant=_clean(data.get("complainant"), "complainant", 300),
        notice_text=_clean(data.get("notice_text"), "notice_text", MAX_TEXT),
        source=_clean(data.get("source"), "source", 1000),
        status=status,
        notes=_clean(data.get("notes"), "notes", MAX_TEXT),
        incident_id=_clean(data.get("incident_id"), "incident_id", 64),
    )


def with_id(incident: Incident, incident_id: str) -> Incident:
    return replace(incident, incident_id=incident_id)
