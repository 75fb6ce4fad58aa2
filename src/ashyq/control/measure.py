"""The control's measurement of a URL (OONI test helper, ts-017), sharing the probe's stages."""

from __future__ import annotations

import asyncio
import ssl
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ashyq.probe import dns as pdns
from ashyq.probe.asndb import AsnDB
from ashyq.probe.errors import GENERIC_TIMEOUT, FailureError
from ashyq.probe.http import DEFAULT_HEADERS, Ready, fetch
from ashyq.probe.netpolicy import is_bogon, public_only
from ashyq.probe.tcp import BOGON_REFUSED, ConnectPolicy, connect
from ashyq.probe.tls import handshake, make_context
from ashyq.probe.trace import Trace, endpoint

MAX_ENDPOINTS = 32

# ip_info flags, as OONI's test helper sets them
FLAG_RESOLVED_BY_PROBE = 1
FLAG_RESOLVED_BY_TH = 2
FLAG_BOGON = 4
FLAG_VALID_FOR_DOMAIN = 8


class BadRequest(ValueError):
    """The control request is not a valid ts-017 request."""


@dataclass
class ControlConfig:
    resolver: tuple[str, int] | None = None  # DNS over UDP; None: the system resolver
    lab: bool = False  # allow loopback/private/bogon addresses (lab and tests only)
    ca_file: str | None = None
    step_timeout: float = 10.0
    request_timeout: float = 30.0
    max_inflight: int = 64
    max_body: int = 64 * 1024
    asn_db: AsnDB | None = None  # IP-to-ASN table for ip_info[addr].asn


def parse_endpoint(text: str) -> tuple[str, int]:
    if not isinstance(text, str):
        raise BadRequest("tcp_connect entries must be strings")
    if text.startswith("["):
        host, sep, port = text[1:].partition("]:")
    else:
        host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not pdns.is_ip(host) or not 0 < int(port) < 65536:
        raise BadRequest(f"bad endpoint {text!r}: want IP:PORT")
    return host, int(port)


def validate(request: Any) -> tuple[str, list[tuple[str, int]], dict[str, str]]:
    if not isinstance(request, dict):
        raise BadRequest("the request must be a JSON object")
    url = request.get("http_request")
    if not isinstance(url, str) or len(url) > 4096:
        raise BadRequest("http_request must be a URL")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadRequest("http_request must be an http:// or https:// URL")
    try:
        _ = parts.port
    except ValueError as exc:
        raise BadRequest(f"bad port in http_request: {exc}") from None
    eps = request.get("tcp_connect") or []
    if not isinstance(eps, list):
        raise BadRequest("tcp_connect must be a list of IP:PORT strings")
    endpoints = [parse_endpoint(e) for e in eps][:MAX_ENDPOINTS]  # more are not measured
    headers = dict(DEFAULT_HEADERS)
    given = request.get("http_request_headers") or {}
    if isinstance(given, dict):
        for key in ("User-Agent", "Accept", "Accept-Language"):
            value = given.get(key)
            if isinstance(value, list) and value and isinstance(value[0], str):
                headers[key] = value[0][:512]
    return url, endpoints, headers


async def _lookup(host: str, cfg: ControlConfig, trace: Trace) -> pdns.Lookup:
    if pdns.is_ip(host):
        return pdns.Lookup([], [host], None)
    if cfg.resolver is not None:
        return await pdns.udp_lookup(host, cfg.resolver, trace, cfg.step_timeout)
    return await pdns.system_lookup(host, trace, cfg.step_timeout)


async def _http(
    url: str,
    cfg: ControlConfig,
    lookup: pdns.Lookup,
    trace: Trace,
    ctx: ssl.SSLContext,
    *,
    policy: ConnectPolicy | None,
    headers: dict[str, str],
    started: float,
    first: Ready | None,
) -> dict[str, Any]:
    """Fetch the URL (redirects followed); the ``http_request`` part of the answer."""

    async def resolve(name: str) -> list[str]:
        lk = await _lookup(name, cfg, trace)
        if not lk.addrs:
            raise FailureError(lk.failure or "dns_no_answer")
        return lk.addrs

    http: dict[str, Any] = {
        "body_length": -1,
        "discovered_h3_endpoint": "",
        "failure": None,
        "title": "",
        "headers": {},
        "status_code": -1,
        "download_kbit_s": None,
    }
    remaining = cfg.request_timeout - (time.monotonic() - started)
    if not lookup.addrs:
        http["failure"] = lookup.failure or "dns_no_answer"
    elif not cfg.lab and all(is_bogon(a) for a in lookup.addrs):
        http["failure"] = BOGON_REFUSED
    else:
        addrs = [a for a in lookup.addrs if cfg.lab or not is_bogon(a)]
        try:
            result = await asyncio.wait_for(
                fetch(
                    url,
                    trace=trace,
                    timeout=cfg.step_timeout,
                    ctx=ctx,
                    resolve=resolve,
                    first_addrs=addrs,
                    policy=policy,
                    headers=headers,
                    ready=first,
                ),
                max(remaining, 0.1),
            )
            hop = result.final
            http["failure"] = result.failure
            if hop is not None and hop.status is not None:
                http["status_code"] = hop.status
                http["headers"] = dict(hop.headers)
                http["body_length"] = len(hop.body)
                entry = hop.entry["response"]
                http["title"] = entry.get("x_title", "")
                http["x_body_sha256"] = entry.get("x_body_sha256")
                tp = result.throughput()
                if tp is not None and result.failure is None:
                    http["download_kbit_s"] = tp["kbit_s"]
        except TimeoutError:
            http["failure"] = GENERIC_TIMEOUT

    return http


async def th_measure(request: Any, cfg: ControlConfig) -> dict[str, Any]:
    """Answer one ts-017 request. Raises :class:`BadRequest` for invalid input."""
    url, requested, headers = validate(request)
    started = time.monotonic()
    parts = urlsplit(url)
    host = parts.hostname or ""
    url_port = parts.port or (443 if parts.scheme == "https" else 80)
    policy = None if cfg.lab else public_only
    trace = Trace()
    ctx: ssl.SSLContext = make_context(cfg.ca_file)

    lookup = await _lookup(host, cfg, trace)
    dns_answer = {"failure": lookup.failure, "addrs": lookup.addrs}

    endpoints: list[tuple[str, int]] = list(dict.fromkeys(requested))
    for addr in lookup.addrs:
        if (addr, url_port) not in endpoints and len(endpoints) < MAX_ENDPOINTS:
            endpoints.append((addr, url_port))

    tcp: dict[str, dict[str, Any]] = {}
    tls: dict[str, dict[str, Any]] = {}

    async def one(ip: str, port: int) -> None:
        key = endpoint(ip, port)
        entry, conn = await connect(ip, port, trace, cfg.step_timeout, policy=policy)
        failure = entry["status"]["failure"]
        tcp[key] = {"status": conn is not None, "failure": failure}
        if conn is None:
            return
        try:
            if port == 443 or (parts.scheme == "https" and port == url_port):
                result = await handshake(conn, host, trace, cfg.step_timeout, ctx)
                tls[key] = {
                    "server_name": host,
                    "status": result.stream is not None,
                    "failure": result.entry["failure"],
                    "x_handshake_ms": result.entry["x_handshake_ms"],
                }
                if result.stream is not None:
                    if parts.scheme == "https" and port == url_port:
                        ready[(ip, port)] = Ready(
                            conn, result.stream, result.entry["negotiated_protocol"]
                        )
                        return
                    result.stream.close()
            elif parts.scheme == "http" and port == url_port:
                ready[(ip, port)] = Ready(conn, None)
                return
        except BaseException:
            conn.close()
            raise
        conn.close()

    ready: dict[tuple[str, int], Ready] = {}
    first: Ready | None = None
    try:
        await asyncio.gather(*(one(ip, port) for ip, port in endpoints))
        # the GET goes on the first of the control's own addresses that answered
        first = next((ready[(a, url_port)] for a in lookup.addrs if (a, url_port) in ready), None)
    finally:
        for r in ready.values():
            if r is not first:
                r.conn.close()
    try:
        http = await _http(
            url,
            cfg,
            lookup,
            trace,
            ctx,
            policy=policy,
            headers=headers,
            started=started,
            first=first,
        )
    finally:
        if first is not None:
            first.conn.close()

    ip_info: dict[str, dict[str, int]] = {}
    for ip in {*(ip for ip, _ in requested), *lookup.addrs}:
        flags = 0
        if any(ip == r for r, _ in requested):
            flags |= FLAG_RESOLVED_BY_PROBE
        if ip in lookup.addrs:
            flags |= FLAG_RESOLVED_BY_TH
        if is_bogon(ip):
            flags |= FLAG_BOGON
        if any(v["status"] for k, v in tls.items() if k.startswith((ip + ":", f"[{ip}]:"))):
            flags |= FLAG_VALID_FOR_DOMAIN
        ip_info[ip] = {"asn": cfg.asn_db.asn(ip) if cfg.asn_db else 0, "flags": flags}

    return {
        "tcp_connect": tcp,
        "tls_handshake": tls,
        "quic_handshake": {},
        "http_request": http,
        "http3_request": None,
        "dns": dns_answer,
        "ip_info": ip_info,
    }
