"""What a web_connectivity measurement observed, pulled out once into plain values.

Pure functions over the measurement dict (ooni/spec ts-017, versions 0.0.1 to 0.5.x, plus
ashyq's extensions ``test_keys.throughput`` and ``test_keys.control.http_request.download_kbit_s``).
Everything tolerates missing or mistyped fields: a field of the wrong type counts as absent.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from typing import Any

from ashyq.analysis.bogons import is_bogon, split_endpoint

#: resolvers whose answers are encrypted end to end and so count with the control's
ENCRYPTED_ENGINES = frozenset({"doh", "doh3", "dot"})
SYSTEM_ENGINES = frozenset({"system", "getaddrinfo", "go", "android"})
#: ip_info flag meaning "the test helper validated TLS for the domain at this address"
#: (ooni/probe-cli internal/model/th.go: THIPInfoFlagValidForDomain = 1 << 3)
IPINFO_VALID_FOR_DOMAIN = 8

_TITLE_RE = re.compile(r"<title[^>]*>([^<]{0,400})", re.IGNORECASE)


def _d(x: Any) -> dict[str, Any]:
    return x if isinstance(x, dict) else {}


def _l(x: Any) -> list[Any]:
    return x if isinstance(x, list) else []


def _s(x: Any) -> str | None:
    return x if isinstance(x, str) and x else None


def _num(x: Any) -> float | None:
    if isinstance(x, bool) or not isinstance(x, int | float):
        return None
    return float(x)


def as_asn(x: Any) -> int | None:
    """15133, "AS15133" or "15133" -> 15133; 0 and junk -> None."""
    if isinstance(x, bool):
        return None
    if isinstance(x, int):
        return x or None
    if isinstance(x, str):
        t = x.upper().removeprefix("AS")
        if t.isdigit():
            return int(t) or None
    return None


def body_text(body: Any) -> str | None:
    """OONI bodies are strings or ``{"format": "base64", "data": "..."}``."""
    if isinstance(body, str):
        return body
    if isinstance(body, dict) and body.get("format") == "base64":
        data = body.get("data")
        if isinstance(data, str):
            try:
                return base64.b64decode(data, validate=False).decode("utf-8", "replace")
            except (binascii.Error, ValueError):
                return None
    return None


def title_of(body: str | None) -> str:
    if not body:
        return ""
    m = _TITLE_RE.search(body, 0, 65536)
    return " ".join(m.group(1).split()) if m else ""


def headers_of(response: dict[str, Any]) -> dict[str, str]:
    h = response.get("headers")
    out: dict[str, str] = {}
    if isinstance(h, dict):
        for k, v in h.items():
            if isinstance(k, str):
                if isinstance(v, list):
                    v = v[0] if v and isinstance(v[0], str) else ""
                out[k] = v if isinstance(v, str) else str(v)
    if not out:
        for pair in _l(response.get("headers_list")):
            if isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str):
                val = body_text(pair[1]) if not isinstance(pair[1], str) else pair[1]
                out.setdefault(pair[0], val or "")
    return out


@dataclass(slots=True)
class DnsObs:
    addrs: list[str] = field(default_factory=list)  # probe's unencrypted answers, in order
    asn: dict[str, int] = field(default_factory=dict)  # address -> ASN (probe-side lookups)
    failure: str | None = None  # failure of the probe's main (A/ANY) lookup when no address
    system_failure: str | None = None  # the system resolver's failure, even if others answered
    trusted: set[str] = field(default_factory=set)  # encrypted-resolver answers
    trusted_asns: set[int] = field(default_factory=set)
    cnames: list[str] = field(default_factory=list)
    queried: bool = False


@dataclass(slots=True)
class TcpObs:
    endpoint: str
    ip: str
    port: int | None
    ok: bool
    failure: str | None


@dataclass(slots=True)
class TlsObs:
    endpoint: str
    ip: str
    ok: bool
    failure: str | None
    server_name: str | None
    no_tls_verify: bool
    certs: list[Any]
    seconds: float | None


@dataclass(slots=True)
class HttpObs:
    url: str | None
    failure: str | None
    code: int | None
    body: str | None
    body_length: int | None
    headers: dict[str, str]
    title: str
    chain: list[str]  # URLs of the redirect chain, first to last
    truncated: bool = False  # the probe stored only the start of the body (body_is_truncated)


@dataclass(slots=True)
class ControlObs:
    present: bool = False
    failure: str | None = None
    dns_failure: str | None = None
    addrs: list[str] = field(default_factory=list)
    asns: set[int] = field(default_factory=set)
    addr_asn: dict[str, int] = field(default_factory=dict)
    valid_tls_addrs: set[str] = field(default_factory=set)
    tcp: dict[str, tuple[bool, str | None]] = field(default_factory=dict)
    tls: dict[str, tuple[bool, str | None]] = field(default_factory=dict)
    http_failure: str | None = None
    http_present: bool = False
    http_code: int | None = None
    http_body_length: int | None = None
    http_title: str = ""
    http_headers: dict[str, str] = field(default_factory=dict)
    kbit_s: float | None = None


def dns_obs(tk: dict[str, Any], host: str | None) -> DnsObs:
    out = DnsObs()
    seen: set[str] = set()
    failures: list[str] = []
    for q in _l(tk.get("queries")):
        if not isinstance(q, dict):
            continue
        qhost = q.get("hostname")
        if host and isinstance(qhost, str) and qhost.lower().rstrip(".") != host:
            continue
        out.queried = True
        engine = q.get("engine") if isinstance(q.get("engine"), str) else "system"
        qtype = q.get("query_type")
        fail = _s(q.get("failure"))
        encrypted = engine in ENCRYPTED_ENGINES
        if fail:
            if engine in SYSTEM_ENGINES and qtype != "AAAA" and out.system_failure is None:
                out.system_failure = fail
            if not encrypted and qtype != "AAAA":
                failures.append(fail)
        for a in _l(q.get("answers")):
            if not isinstance(a, dict):
                continue
            ip = a.get("ipv4") or a.get("ipv6")
            if not isinstance(ip, str):
                cname = a.get("hostname")
                if isinstance(cname, str) and a.get("answer_type") == "CNAME":
                    out.cnames.append(cname)
                continue
            asn = as_asn(a.get("asn"))
            if encrypted:
                out.trusted.add(ip)
                if asn:
                    out.trusted_asns.add(asn)
                continue
            if asn:
                out.asn[ip] = asn
            if ip not in seen:
                seen.add(ip)
                out.addrs.append(ip)
    if not out.addrs and failures:
        out.failure = failures[0]
    dns_fail = _s(tk.get("dns_experiment_failure"))
    if not out.addrs and out.failure is None and dns_fail:
        out.failure = dns_fail
    return out


def tcp_obs(tk: dict[str, Any]) -> list[TcpObs]:
    out = []
    for c in _l(tk.get("tcp_connect")):
        if not isinstance(c, dict):
            continue
        ip = c.get("ip")
        if not isinstance(ip, str):
            continue
        port = c.get("port") if isinstance(c.get("port"), int) else None
        st = _d(c.get("status"))
        fail = _s(st.get("failure"))
        ok = st.get("success") is True and not fail
        ep = f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"
        out.append(TcpObs(ep, ip, port, ok, fail))
    return out


def tls_obs(tk: dict[str, Any]) -> list[TlsObs]:
    out = []
    for h in _l(tk.get("tls_handshakes")):
        if not isinstance(h, dict):
            continue
        ep = h.get("address")
        if not isinstance(ep, str):
            ep = ""
        ip, _port = split_endpoint(ep) if ep else ("", None)
        fail = _s(h.get("failure"))
        t0, t = _num(h.get("t0")), _num(h.get("t"))
        secs = t - t0 if t0 is not None and t is not None and t >= t0 else None
        out.append(
            TlsObs(
                ep,
                ip,
                not fail,
                fail,
                _s(h.get("server_name")),
                h.get("no_tls_verify") is True,
                _l(h.get("peer_certificates")),
                secs,
            )
        )
    return out


def http_obs(tk: dict[str, Any]) -> HttpObs | None:
    reqs = [r for r in _l(tk.get("requests")) if isinstance(r, dict)]
    if not reqs:
        return None
    last = reqs[0]  # OONI lists the chain last request first
    req = _d(last.get("request"))
    resp = _d(last.get("response"))
    body = body_text(resp.get("body"))
    code = resp.get("code") if isinstance(resp.get("code"), int) else None
    chain = [u for r in reversed(reqs) if isinstance(u := _d(r.get("request")).get("url"), str)]
    return HttpObs(
        url=_s(req.get("url")),
        failure=_s(last.get("failure")),
        code=code or None,
        body=body,
        body_length=len(body) if body is not None else None,
        headers=headers_of(resp),
        title=title_of(body),
        chain=chain,
        truncated=resp.get("body_is_truncated") is True,
    )


def control_obs(tk: dict[str, Any]) -> ControlObs:
    c = tk.get("control")
    out = ControlObs()
    out.failure = _s(tk.get("control_failure"))
    if not isinstance(c, dict) or not c:
        return out
    out.present = True
    dns = _d(c.get("dns"))
    out.dns_failure = _s(dns.get("failure"))
    out.addrs = [a for a in _l(dns.get("addrs")) if isinstance(a, str)]
    for ip, info in _d(c.get("ip_info")).items():
        info = _d(info)
        asn = as_asn(info.get("asn"))
        if asn:
            out.addr_asn[ip] = asn
            if ip in out.addrs or not out.addrs:
                out.asns.add(asn)
        flags = info.get("flags")
        if isinstance(flags, int) and flags & IPINFO_VALID_FOR_DOMAIN:
            out.valid_tls_addrs.add(ip)
    for ep, st in _d(c.get("tcp_connect")).items():
        st = _d(st)
        out.tcp[ep] = (st.get("status") is True, _s(st.get("failure")))
    for ep, st in _d(c.get("tls_handshake")).items():
        st = _d(st)
        ok = st.get("status") is True
        out.tls[ep] = (ok, _s(st.get("failure")))
        if ok:
            out.valid_tls_addrs.add(split_endpoint(ep)[0])
    hr = c.get("http_request")
    if isinstance(hr, dict) and hr:
        out.http_present = True
        out.http_failure = _s(hr.get("failure"))
        code = hr.get("status_code")
        out.http_code = code if isinstance(code, int) and code > 0 else None
        bl = hr.get("body_length")
        out.http_body_length = bl if isinstance(bl, int) and bl >= 0 else None
        out.http_title = hr.get("title") if isinstance(hr.get("title"), str) else ""
        hh = hr.get("headers")
        if isinstance(hh, dict):
            out.http_headers = hh  # JSON object keys are always strings
        out.kbit_s = _num(hr.get("download_kbit_s"))
    return out


#: a speed means something only over enough data or time: a 2 KB page is all latency
THROUGHPUT_MIN_BYTES = 64 * 1024
THROUGHPUT_MIN_SECONDS = 2.0


def throughput_kbit_s(tk: dict[str, Any]) -> float | None:
    """The probe's download speed from ashyq's ``test_keys.throughput`` extension.

    None when absent, or when the transfer was too small and too short to measure a speed
    (under ``THROUGHPUT_MIN_BYTES`` and under ``THROUGHPUT_MIN_SECONDS``).
    """
    tp = tk.get("throughput")
    if not isinstance(tp, dict):
        return None
    nbytes, secs = _num(tp.get("bytes")), _num(tp.get("seconds"))
    if (
        nbytes is not None
        and nbytes < THROUGHPUT_MIN_BYTES
        and (secs is None or secs < THROUGHPUT_MIN_SECONDS)
    ):
        return None
    k = _num(tp.get("kbit_s"))
    if k is not None and k >= 0:
        return k
    b, s = _num(tp.get("bytes")), _num(tp.get("seconds"))
    if b is not None and s and s > 0:
        return b * 8 / 1000 / s
    return None


def tls_handshake_seconds(tk: dict[str, Any], host: str | None) -> float | None:
    """The fastest successful TLS handshake to the target (from tls_handshakes[].t0/t)."""
    best = None
    for h in _l(tk.get("tls_handshakes")):
        if not isinstance(h, dict) or h.get("failure"):
            continue
        sn = h.get("server_name")
        if host and isinstance(sn, str) and sn.lower() != host:
            continue
        t0, t = _num(h.get("t0")), _num(h.get("t"))
        if t0 is None or t is None or t < t0:
            continue
        d = t - t0
        if best is None or d < best:
            best = d
    return best


def bogon_addrs(addrs: list[str]) -> list[str]:
    return [a for a in addrs if is_bogon(a)]
