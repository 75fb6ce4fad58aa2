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
    """Canonical platform name: "WhatsApp", "Ватсап", "واتساب" → "whatsapp" (else lower case)."""
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


def _list(value: Any, spaces: bool = False) -> list[str]:
    """A list from a list, or from text separated by ; , | (and spaces if asked)."""
    if value is None or value == "":
        return []
    if isinstance(value, list | tuple):
        items: list[Any] = []
        for v in value:
            items += _list(v, spaces) if isinstance(v, str) else [v]
    else:
        items = re.split(r"[;,|\s]+" if spaces else r"[;,|]", str(value))
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


def _platform(data: dict[str, Any]) -> str:
    platform = _clean(data.get("platform"), "platform", 100)
    if not platform:
        raise IncidentError("platform: missing")
    return canonical_platform(platform)


def _type(data: dict[str, Any]) -> str:
    kind = (_clean(data.get("type"), "type", 50) or "").lower().replace("-", "_").replace(" ", "_")
    if kind not in TYPES:
        raise IncidentError(f"type: {data.get('type')!r} is not one of {', '.join(TYPES)}")
    return kind


def _status(data: dict[str, Any]) -> str:
    status = (_clean(data.get("status"), "status", 20) or "draft").lower().replace(" ", "_")
    if status not in STATUSES:
        raise IncidentError(f"status: {data.get('status')!r} is not one of {', '.join(STATUSES)}")
    return status


def _when(data: dict[str, Any]) -> tuple[dt.datetime, str]:
    when = data.get("when") or data.get("occurred_at")
    if not when:
        raise IncidentError("when: missing")
    if isinstance(when, dt.datetime):
        when = when.strftime("%Y-%m-%dT%H:%M")
    return parse_when(str(when), _clean(data.get("precision"), "precision", 10))


def _indicators(data: dict[str, Any]) -> tuple[list[str], list[str], list[str]]:
    countries = list(dict.fromkeys(c.upper() for c in _list(data.get("country_codes"), True)))
    for c in countries:
        if not re.fullmatch(r"[A-Z]{2}", c):
            raise IncidentError(f"country_codes: {c!r} is not a two-letter country code")
    prefixes: list[str] = []
    for p in _list(data.get("prefixes"), True):
        p = "+" + p.lstrip("+").strip()
        if not re.fullmatch(r"\+\d{1,4}", p):
            raise IncidentError(f"prefixes: {p!r} is not a calling-code prefix such as +44")
        if p not in prefixes:
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
    return countries, prefixes, numbers


def _account(data: dict[str, Any]) -> tuple[str | None, bool]:
    account = _clean(data.get("account"), "account", 200)
    hashed = _bool(data.get("account_hashed"), "account_hashed")
    if hashed and account and not re.fullmatch(r"(hmac-)?sha256:[0-9a-f]{64}", account):
        raise IncidentError("account: marked hashed but is not a hmac-sha256:<64 hex digits> value")
    return account, hashed


_TEXT_LIMITS = {
    "person": 200,
    "outlet": 200,
    "complainant": 300,
    "notice_text": MAX_TEXT,
    "source": 1000,
    "notes": MAX_TEXT,
    "incident_id": 64,
}


def _texts(data: dict[str, Any]) -> dict[str, str | None]:
    return {k: _clean(data.get(k), k, limit) for k, limit in _TEXT_LIMITS.items()}


_CHECKS = (_platform, _type, _status, _when, _indicators, _account, _texts)


def field_errors(data: dict[str, Any]) -> dict[str, str]:
    """Every problem of a form at once: field name → message (empty: all good)."""
    errors: dict[str, str] = {}
    for check in _CHECKS:
        try:
            check(data)
        except IncidentError as exc:
            field_name, _, message = str(exc).partition(": ")
            errors.setdefault(field_name, message)
    return errors


def incident_from_fields(data: dict[str, Any]) -> Incident:
    """Validate fields (from the CLI, a form, CSV or JSON) into an Incident.

    Raises IncidentError("field: message") for the first problem; ``field_errors`` lists all.
    """
    occurred_at, precision = _when(data)
    countries, prefixes, numbers = _indicators(data)
    account, hashed = _account(data)
    return Incident(
        platform=_platform(data),
        type=_type(data),
        occurred_at=occurred_at,
        precision=precision,
        account=account,
        account_hashed=hashed,
        country_codes=countries,
        prefixes=prefixes,
        numbers=numbers,
        status=_status(data),
        **_texts(data),
    )


def with_id(incident: Incident, incident_id: str) -> Incident:
    return replace(incident, incident_id=incident_id)
