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
    if type(h) is dict:
        if all(type(k) is str and type(v) is str for k, v in h.items()):
            return h  # the common case: JSON keys are strings, values already strings
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


class HttpObs:
    """The probe's final HTTP response (or failure); the title is read only when asked for."""

    __slots__ = (
        "_title",
        "body",
        "body_length",
        "chain",
        "code",
        "failure",
        "headers",
        "truncated",
        "url",
    )

    def __init__(
        self,
        url: str | None,
        failure: str | None,
        code: int | None,
        body: str | None,
        body_length: int | None,
        headers: dict[str, str],
        chain: list[str],  # URLs of the redirect chain, first to last
        truncated: bool = False,  # the probe stored only the start of the body
    ) -> None:
        self.url = url
        self.failure = failure
        self.code = code
        self.body = body
        self.body_length = body_length
        self.headers = headers
        self.chain = chain
        self.truncated = truncated
        self._title: str | None = None

    @property
    def title(self) -> str:
        if self._title is None:
            self._title = title_of(self.body)
        return self._title


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
    queries = tk.get("queries")
    if not isinstance(queries, list):
        queries = ()
    addrs = out.addrs
    seen: set[str] = set()
    failures: list[str] = []
    for q in queries:
        if type(q) is not dict:
            continue
        qhost = q.get("hostname")
        if host and type(qhost) is str and qhost != host and qhost.lower().rstrip(".") != host:
            continue
        out.queried = True
        engine = q.get("engine")
        if type(engine) is not str:
            engine = "system"
        encrypted = engine in ENCRYPTED_ENGINES
        fail = q.get("failure")
        if fail and type(fail) is str and q.get("query_type") != "AAAA":
            if out.system_failure is None and engine in SYSTEM_ENGINES:
                out.system_failure = fail
            if not encrypted:
                failures.append(fail)
        answers = q.get("answers")
        if type(answers) is not list:
            continue
        for a in answers:
            if type(a) is not dict:
                continue
            ip = a.get("ipv4") or a.get("ipv6")
            if type(ip) is not str:
                cname = a.get("hostname")
                if type(cname) is str and a.get("answer_type") == "CNAME":
                    out.cnames.append(cname)
                continue
            asn = a.get("asn")
            if asn is not None:
                asn = asn if type(asn) is int else as_asn(asn)
            if encrypted:
                out.trusted.add(ip)
                if asn:
                    out.trusted_asns.add(asn)
                continue
            if asn:
                out.asn[ip] = asn
            if ip not in seen:
                seen.add(ip)
                addrs.append(ip)
    if not addrs:
        if failures:
            out.failure = failures[0]
        else:
            dns_fail = tk.get("dns_experiment_failure")
            if dns_fail and type(dns_fail) is str:
                out.failure = dns_fail
    return out


def tcp_obs(tk: dict[str, Any]) -> list[TcpObs]:
    out: list[TcpObs] = []
    conns = tk.get("tcp_connect")
    if type(conns) is not list:
        return out
    for c in conns:
        if type(c) is not dict:
            continue
        ip = c.get("ip")
        if type(ip) is not str:
            continue
        port = c.get("port")
        if type(port) is not int:
            port = None
        st = c.get("status")
        if type(st) is dict:
            fail = st.get("failure") or None
            if fail is not None and type(fail) is not str:
                fail = None
            ok = st.get("success") is True and not fail
        else:
            fail, ok = None, False
        ep = f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"
        out.append(TcpObs(ep, ip, port, ok, fail))
    return out


def tls_obs(tk: dict[str, Any]) -> list[TlsObs]:
    out: list[TlsObs] = []
    hs = tk.get("tls_handshakes")
    if type(hs) is not list:
        return out
    for h in hs:
        if type(h) is not dict:
            continue
        ep = h.get("address")
        if type(ep) is not str:
            ep = ""
        ip = split_endpoint(ep)[0] if ep else ""
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
    reqs = tk.get("requests")
    if type(reqs) is not list:
        return None
    last = None
    for r in reqs:  # OONI lists the chain last request first
        if type(r) is dict:
            last = r
            break
    if last is None:
        return None
    req = _d(last.get("request"))
    resp = _d(last.get("response"))
    raw = resp.get("body")
    body = raw if type(raw) is str else body_text(raw)
    code = resp.get("code")
    if type(code) is not int:
        code = None
    if len(reqs) == 1:
        u = req.get("url")
        chain = [u] if type(u) is str else []
    else:
        chain = [
            u
            for r in reversed(reqs)
            if type(r) is dict and type(u := _d(r.get("request")).get("url")) is str
        ]
    return HttpObs(
        _s(req.get("url")),
        _s(last.get("failure")),
        code or None,
        body,
        _body_bytes(resp, body),
        headers_of(resp),
        chain,
        resp.get("body_is_truncated") is True,
    )


def _body_bytes(resp: dict[str, Any], body: str | None) -> int | None:
    """The body's size in bytes, as the control reports its own: the probe's recorded byte
    count when there is one, else the UTF-8 length of the text (not its character count)."""
    n = resp.get("x_body_length")
    if type(n) is int and n >= 0:
        return n
    if body is None:
        return None
    return len(body) if body.isascii() else len(body.encode("utf-8", "surrogatepass"))


def control_obs(tk: dict[str, Any]) -> ControlObs:
    c = tk.get("control")
    out = ControlObs()
    out.failure = _s(tk.get("control_failure"))
    if type(c) is not dict or not c:
        return out
    out.present = True
    dns = c.get("dns")
    if type(dns) is dict:
        out.dns_failure = _s(dns.get("failure"))
        addrs = dns.get("addrs")
        if type(addrs) is list:
            out.addrs = [a for a in addrs if type(a) is str]
    ctl_addrs = out.addrs
    ip_info = c.get("ip_info")
    if type(ip_info) is dict:
        for ip, info in ip_info.items():
            if type(info) is not dict:
                continue
            asn = info.get("asn")
            if asn is not None:
                asn = asn if type(asn) is int and asn > 0 else as_asn(asn)
            if asn:
                out.addr_asn[ip] = asn
                if not ctl_addrs or ip in ctl_addrs:
                    out.asns.add(asn)
            flags = info.get("flags")
            if type(flags) is int and flags & IPINFO_VALID_FOR_DOMAIN:
                out.valid_tls_addrs.add(ip)
    tcp = c.get("tcp_connect")
    if type(tcp) is dict:
        for ep, st in tcp.items():
            if type(st) is dict:
                out.tcp[ep] = (st.get("status") is True, _s(st.get("failure")))
            else:
                out.tcp[ep] = (False, None)
    tls = c.get("tls_handshake")
    if type(tls) is dict:
        for ep, st in tls.items():
            if type(st) is not dict:
                out.tls[ep] = (False, None)
                continue
            ok = st.get("status") is True
            out.tls[ep] = (ok, _s(st.get("failure")))
            if ok:
                out.valid_tls_addrs.add(split_endpoint(ep)[0])
    hr = c.get("http_request")
    if type(hr) is dict and hr:
        out.http_present = True
        out.http_failure = _s(hr.get("failure"))
        code = hr.get("status_code")
        out.http_code = code if type(code) is int and code > 0 else None
        bl = hr.get("body_length")
        out.http_body_length = bl if type(bl) is int and bl >= 0 else None
        title = hr.get("title")
        out.http_title = title if type(title) is str else ""
        hh = hr.get("headers")
        if type(hh) is dict:
            out.http_headers = hh  # JSON object keys are always strings
        out.kbit_s = _num(hr.get("download_kbit_s"))
    return out


#: a speed means something only over enough data or time: a 2 KB page is all latency
THROUGHPUT_MIN_BYTES = 64 * 1024
THROUGHPUT_MIN_SECONDS = 2.0
#: ... and never from less than this (a whole small page that took long is latency)
THROUGHPUT_FLOOR_BYTES = 16 * 1024


def throughput_kbit_s(tk: dict[str, Any]) -> float | None:
    """The probe's download speed from ashyq's ``test_keys.throughput`` extension.

    None when absent, without a byte count, or when the transfer was too small to measure a
    speed: under ``THROUGHPUT_MIN_BYTES`` unless it ran ``THROUGHPUT_MIN_SECONDS`` or more
    (a download cut by the time limit) and still moved ``THROUGHPUT_FLOOR_BYTES``.
    """
    tp = tk.get("throughput")
    if not isinstance(tp, dict):
        return None
    nbytes, secs = _num(tp.get("bytes")), _num(tp.get("seconds"))
    if nbytes is None or (
        nbytes < THROUGHPUT_MIN_BYTES
        and (secs is None or secs < THROUGHPUT_MIN_SECONDS or nbytes < THROUGHPUT_FLOOR_BYTES)
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
