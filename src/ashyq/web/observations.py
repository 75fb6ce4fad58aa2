"""Probe vs control, side by side: the facts a reader compares, taken from a raw OONI
Web Connectivity measurement (ooni/spec ts-017). Pure and defensive: any field may be missing,
of the wrong type, or hostile; everything returned is plain data for escaping templates.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from typing import Any

TITLE_RE = re.compile(r"<title[^>]*>(.*?)</title", re.IGNORECASE | re.DOTALL)
MAX_TEXT = 300


@dataclass(frozen=True, slots=True)
class Side:
    dns: list[str] = field(default_factory=list)
    dns_failure: str | None = None
    tcp: list[str] = field(default_factory=list)
    tls: list[str] = field(default_factory=list)
    certificates: list[str] = field(default_factory=list)
    status: int | None = None
    title: str | None = None
    body_length: int | None = None
    http_failure: str | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Comparison:
    probe: Side
    control: Side
    body: str | None  # the probe's response body, as text (shown escaped, never rendered)
    body_truncated: bool


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _short(value: Any, limit: int = MAX_TEXT) -> str:
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def body_text(body: Any) -> str | None:
    """OONI bodies are strings or ``{"format": "base64", "data": ...}`` objects."""
    if isinstance(body, str):
        return body
    if isinstance(body, dict) and body.get("format") == "base64":
        try:
            raw = base64.b64decode(str(body.get("data", "")), validate=False)
        except (binascii.Error, ValueError):
            return None
        return raw.decode("utf-8", errors="replace")
    return None


def title_of(body: str | None) -> str | None:
    if not body:
        return None
    match = TITLE_RE.search(body[:200_000])
    if not match:
        return None
    return _short(" ".join(match.group(1).split()))


def describe_certificate(entry: Any) -> str:
    """Subject and issuer of one certificate of a chain (``peer_certificates`` entry)."""
    raw: bytes | None = None
    if isinstance(entry, dict) and entry.get("format") == "base64":
        try:
            raw = base64.b64decode(str(entry.get("data", "")))
        except (binascii.Error, ValueError):
            raw = None
    if raw is None:
        return "certificate (unreadable)"
    try:
        from cryptography import x509

        cert = x509.load_der_x509_certificate(raw)
        subject = cert.subject.rfc4514_string()
        issuer = cert.issuer.rfc4514_string()
        return _short(f"subject: {subject} — issuer: {issuer}")
    except Exception:
        return f"certificate of {len(raw)} bytes (not parseable)"


def _headers(response: dict[str, Any]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for item in _list(response.get("headers_list"))[:40]:
        if isinstance(item, list) and len(item) == 2:
            out.append((_short(item[0], 80), _short(item[1], 200)))
    if not out:
        for key, value in list(_dict(response.get("headers")).items())[:40]:
            out.append((_short(key, 80), _short(value, 200)))
    return out


def compare(measurement: Any) -> Comparison:
    m = _dict(measurement)
    tk = _dict(m.get("test_keys"))
    # probe side
    addrs: list[str] = []
    failures: list[tuple[int, str]] = []  # A queries first: an empty AAAA answer says little
    for query in _list(tk.get("queries")):
        q = _dict(query)
        if q.get("failure"):
            failures.append((0 if q.get("query_type") == "A" else 1, _short(q.get("failure"))))
        for answer in _list(q.get("answers")):
            a = _dict(answer)
            value = a.get("ipv4") or a.get("ipv6") or a.get("hostname")
            if value and _short(value) not in addrs:
                addrs.append(_short(value))
    dns_failure = min(failures)[1] if failures else None
    if tk.get("dns_experiment_failure"):
        dns_failure = _short(tk.get("dns_experiment_failure"))
    tcp = [
        f"{_short(_dict(c).get('ip'), 60)}:{_dict(c).get('port')} "
        f"{'ok' if _dict(_dict(c).get('status')).get('success') else 'failed'}"
        + (
            f" ({_short(_dict(_dict(c).get('status')).get('failure'), 80)})"
            if _dict(_dict(c).get("status")).get("failure")
            else ""
        )
        for c in _list(tk.get("tcp_connect"))[:20]
    ]
    tls: list[str] = []
    certs: list[str] = []
    for hs in _list(tk.get("tls_handshakes"))[:20]:
        h = _dict(hs)
        tls.append(
            f"{_short(h.get('address') or '', 80)} SNI {_short(h.get('server_name') or '-', 120)}: "
            + (_short(h.get("failure"), 120) if h.get("failure") else "ok")
        )
        if not certs:
            certs = [describe_certificate(c) for c in _list(h.get("peer_certificates"))[:6]]
    requests = _list(tk.get("requests"))
    first = _dict(requests[0]) if requests else {}
    response = _dict(first.get("response"))
    body = body_text(response.get("body"))
    probe = Side(
        dns=addrs,
        dns_failure=dns_failure,
        tcp=tcp,
        tls=tls,
        certificates=certs,
        status=_int(response.get("code")),
        title=title_of(body),
        body_length=len(body.encode("utf-8")) if body is not None else None,
        http_failure=_short(first.get("failure") or tk.get("http_experiment_failure"))
        if (first.get("failure") or tk.get("http_experiment_failure"))
        else None,
        headers=_headers(response),
    )
    # control side (the test helper's answer)
    control = _dict(tk.get("control"))
    cdns = _dict(control.get("dns"))
    chttp = _dict(control.get("http_request"))
    ctcp = [
        f"{_short(k, 80)} {'ok' if _dict(v).get('status') else 'failed'}"
        + (f" ({_short(_dict(v).get('failure'), 80)})" if _dict(v).get("failure") else "")
        for k, v in list(_dict(control.get("tcp_connect")).items())[:20]
    ]
    ctls = [
        f"{_short(k, 80)} SNI {_short(_dict(v).get('server_name') or '-', 120)}: "
        + (_short(_dict(v).get("failure"), 120) if _dict(v).get("failure") else "ok")
        for k, v in list(_dict(control.get("tls_handshake")).items())[:20]
    ]
    control_side = Side(
        dns=[_short(a) for a in _list(cdns.get("addrs"))[:20]],
        dns_failure=_short(cdns["failure"]) if cdns.get("failure") else None,
        tcp=ctcp,
        tls=ctls,
        status=_int(chttp.get("status_code")),
        title=_short(chttp["title"]) if isinstance(chttp.get("title"), str) else None,
        body_length=_int(chttp.get("body_length")),
        http_failure=_short(chttp["failure"]) if chttp.get("failure") else None,
        headers=[
            (_short(k, 80), _short(v, 200))
            for k, v in list(_dict(chttp.get("headers")).items())[:40]
        ],
    )
    truncated = bool(response.get("body_is_truncated"))
    if body is not None and len(body) > 100_000:
        body, truncated = body[:100_000], True
    return Comparison(probe=probe, control=control_side, body=body, body_truncated=truncated)
