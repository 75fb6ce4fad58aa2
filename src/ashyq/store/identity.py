"""What makes a measurement acceptable, and what identifies it.

Pure functions: ``check_measurement`` validates an OONI-format measurement (ooni/spec
``df-000-base``) and returns its identity row, or raises ``InvalidMeasurement`` with a reason
that can be shown to the sender as it is.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

# OONI measurement_uid: "20240212203347.123456_IT_webconnectivity_0123456789abcdef"; we accept
# any printable token of reasonable length (our own probes may use other shapes).
_UID_RE = re.compile(r"^[A-Za-z0-9._:\-]{8,128}$")
_ASN_RE = re.compile(r"^AS\d{1,10}$")
_CC_RE = re.compile(r"^[A-Z]{2}$")
_TEST_RE = re.compile(r"^[a-z0-9_]{1,64}$")
MAX_INPUT = 2048
MAX_TEXT = 256
EARLIEST = datetime(2012, 1, 1)
SOURCES = ("probe", "ooni")


class InvalidMeasurement(ValueError):
    """The measurement cannot be stored; the message says why."""


@dataclass(frozen=True, slots=True)
class Identity:
    uid: str
    measurement_uid: str | None
    report_id: str | None
    input: str | None
    target: str | None
    test_name: str
    probe_cc: str
    probe_asn: str
    probe_network_name: str | None
    region: str | None
    measurement_start_time: datetime  # naive, UTC
    software_name: str | None
    software_version: str | None


def parse_time(value: Any) -> datetime:
    """OONI's "YYYY-MM-DD hh:mm:ss" (UTC) or ISO 8601; returns naive UTC."""
    if not isinstance(value, str) or not value:
        raise InvalidMeasurement("measurement_start_time: missing or not a string")
    text = value.strip()
    try:
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidMeasurement(
            f"measurement_start_time: {value[:40]!r} is not 'YYYY-MM-DD hh:mm:ss'"
        ) from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed.replace(microsecond=0)


def format_time(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S")


def target_of(input_: str | None, test_name: str) -> str | None:
    """The host name of a URL input (lower case), the input itself when it is a bare host,
    or the test name for app tests without input (``whatsapp``, ``telegram``...)."""
    if not input_ or input_.startswith("["):
        return test_name if test_name not in ("web_connectivity", "urlgetter") else None
    text = input_.strip()
    if "://" in text:
        host = urlsplit(text).hostname
        return host.lower().rstrip(".") if host else None
    host = text.split("/")[0].split(":")[0]
    return host.lower().rstrip(".") or None


def derived_uid(report_id: str | None, input_: str | None, start: str, test_name: str) -> str:
    key = "\x1f".join([report_id or "", input_ or "", start, test_name])
    return "h" + hashlib.sha256(key.encode()).hexdigest()[:40]


def content_uid(m: dict[str, Any]) -> str:
    """For measurements with neither report_id nor measurement_uid: the hash of the whole
    measurement (as stored, so without the probe's address)."""
    body = {k: v for k, v in m.items() if k not in ("probe_ip", "measurement_uid")}
    blob = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return "c" + hashlib.sha256(blob.encode()).hexdigest()[:40]


def measurement_identity(
    m: dict[str, Any], report_id: str | None, input_: str | None, start: str, test_name: str
) -> str:
    """The uid: stable across sources (an OONI measurement imported from a file and from the
    API is the same one), so keyed on report_id + input + time + test when there is a report."""
    if report_id:
        return derived_uid(report_id, input_, start, test_name)
    muid = m.get("measurement_uid")
    if isinstance(muid, str) and muid:
        return muid
    return content_uid(m)


def _opt_text(m: dict[str, Any], key: str, limit: int = MAX_TEXT) -> str | None:
    value = m.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidMeasurement(f"{key}: expected a string, got {type(value).__name__}")
    if len(value) > limit:
        raise InvalidMeasurement(f"{key}: longer than {limit} characters")
    return value


def check_measurement(m: Any, *, now: datetime | None = None) -> Identity:
    """Validate one measurement; return its identity or raise ``InvalidMeasurement``."""
    if not isinstance(m, dict):
        raise InvalidMeasurement(f"a measurement must be a JSON object, got {type(m).__name__}")
    if len(m) == 1 and isinstance(m.get("_bad"), str):  # a reader's note on an unreadable item
        raise InvalidMeasurement(m["_bad"])
    test_name = m.get("test_name")
    if not isinstance(test_name, str) or not _TEST_RE.match(test_name):
        raise InvalidMeasurement("test_name: missing or not like 'web_connectivity'")
    cc = m.get("probe_cc")
    if not isinstance(cc, str) or not _CC_RE.match(cc):
        raise InvalidMeasurement("probe_cc: missing or not a two-letter upper-case country code")
    asn = m.get("probe_asn")
    if not isinstance(asn, str) or not _ASN_RE.match(asn):
        raise InvalidMeasurement("probe_asn: missing or not like 'AS9198'")
    start = parse_time(m.get("measurement_start_time"))
    now = now or datetime.now(UTC).replace(tzinfo=None)
    if start < EARLIEST or start > now + timedelta(days=1):
        raise InvalidMeasurement(f"measurement_start_time: {format_time(start)} is out of range")
    raw_input = m.get("input")
    if isinstance(raw_input, list) and all(isinstance(x, str) for x in raw_input):
        raw_input = json.dumps(raw_input, separators=(",", ":"))  # old tests with several inputs
        if len(raw_input) > MAX_INPUT:
            raise InvalidMeasurement(f"input: longer than {MAX_INPUT} characters")
        input_ = raw_input
    else:
        input_ = _opt_text(m, "input", MAX_INPUT)
    report_id = _opt_text(m, "report_id")
    muid = m.get("measurement_uid")
    if muid in ("", None):
        muid = None
    elif not isinstance(muid, str) or not _UID_RE.match(muid):
        raise InvalidMeasurement("measurement_uid: not a printable token of 8-128 characters")
    test_keys = m.get("test_keys")
    if test_keys is not None and not isinstance(test_keys, dict):
        raise InvalidMeasurement("test_keys: expected an object or null")
    annotations = m.get("annotations")
    if annotations is not None and not isinstance(annotations, dict):
        raise InvalidMeasurement("annotations: expected an object or null")
    region = (annotations or {}).get("region")
    if region is not None and (not isinstance(region, str) or len(region) > MAX_TEXT):
        raise InvalidMeasurement("annotations.region: expected a short string")
    uid = measurement_identity(m, report_id, input_, format_time(start), test_name)
    return Identity(
        uid=uid,
        measurement_uid=muid,
        report_id=report_id,
        input=input_,
        target=target_of(input_, test_name),
        test_name=test_name,
        probe_cc=cc,
        probe_asn=asn,
        probe_network_name=_opt_text(m, "probe_network_name"),
        region=region or None,
        measurement_start_time=start,
        software_name=_opt_text(m, "software_name"),
        software_version=_opt_text(m, "software_version"),
    )


def scrub(m: dict[str, Any]) -> dict[str, Any]:
    """The measurement as it will be kept: the probe's address is never stored."""
    if m.get("probe_ip") not in (None, "127.0.0.1"):
        m = dict(m)
        m["probe_ip"] = "127.0.0.1"
    return m
