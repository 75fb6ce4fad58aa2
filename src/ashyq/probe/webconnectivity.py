"""Web Connectivity: measure one URL and build one OONI measurement (df-000 + ts-017, v0.5).

Stages: DNS (system resolver and DNS over UDP), TCP connect to every address, TLS handshake
with SNI on every HTTPS endpoint, HTTP GET with redirects, and the control's answer for the same
URL. Only observations are recorded; judging them is the analysis' work.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import os
import secrets
import ssl
import string
import sys
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from ashyq import __version__
from ashyq.probe import dns as pdns
from ashyq.probe.asndb import AsnDB
from ashyq.probe.errors import GENERIC_TIMEOUT, FailureError
from ashyq.probe.http import FetchResult, Ready, fetch
from ashyq.probe.privacy import scrub
from ashyq.probe.tcp import connect
from ashyq.probe.thclient import ask_control, control_request
from ashyq.probe.tls import handshake, make_context
from ashyq.probe.trace import Trace, endpoint

TEST_NAME = "web_connectivity"
TEST_VERSION = "0.5.28"  # the OONI data format ashyq follows
SOFTWARE_NAME = "ashyq"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


class Clock:
    """Wall-clock time, or a lab clock that starts at a given instant and runs at real speed."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self.lab = start is not None
        self._origin = start.astimezone(dt.UTC) if start else None
        self._t0 = time.monotonic()

    def now(self) -> dt.datetime:
        if self._origin is None:
            return dt.datetime.now(dt.UTC)
        return self._origin + dt.timedelta(seconds=time.monotonic() - self._t0)


@dataclass
class ProbeConfig:
    cc: str = "ZZ"
    asn: str = "AS0"
    network_name: str = ""
    region: str | None = None
    resolver: tuple[str, int] | None = ("1.1.1.1", 53)
    system_resolver: bool = True
    ca_file: str | None = None
    control: str | None = None
    timeout: float = 10.0
    url_timeout: float = 60.0
    clock: Clock = field(default_factory=Clock)
    report_id: str = ""
    test_start_time: str = ""
    asn_db: AsnDB | None = None  # IP-to-ASN table: fills answers' asn and as_org_name
    resolv_conf: str = "/etc/resolv.conf"  # where the system resolver's address is read

    def __post_init__(self) -> None:
        start = self.clock.now()
        if not self.test_start_time:
            self.test_start_time = start.strftime(TIME_FORMAT)
        if not self.report_id:
            self.report_id = make_report_id(start, self.cc, self.asn)


def system_resolver_ip(resolv_conf: str = "/etc/resolv.conf") -> str | None:
    """The first ``nameserver`` of resolv.conf: the address getaddrinfo asks (None if none)."""
    try:
        st = os.stat(resolv_conf)
    except OSError:
        return None
    return _first_nameserver(resolv_conf, st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=8)
def _first_nameserver(resolv_conf: str, _mtime_ns: int, _size: int) -> str | None:
    try:
        with open(resolv_conf, encoding="utf-8", errors="replace") as f:
            lines = f.read(1 << 16).splitlines()
    except OSError:
        return None
    for line in lines:
        fields = line.split("#")[0].split(";")[0].split()
        if len(fields) >= 2 and fields[0] == "nameserver":
            addr = fields[1].split("%")[0]
            if pdns.is_ip(addr):
                return addr
    return None


def resolver_ip(cfg: ProbeConfig) -> str | None:
    """``resolver_ip`` of the measurement: the system resolver's address when the system
    resolver is measured, else the configured DNS-over-UDP resolver's."""
    if cfg.system_resolver:
        found = system_resolver_ip(cfg.resolv_conf)
        if found is not None:
            return found
    return cfg.resolver[0] if cfg.resolver else None


def annotate_asns(queries: list[dict[str, Any]], db: AsnDB | None) -> None:
    """Fill ``asn`` and ``as_org_name`` of every A/AAAA answer from the IP-to-ASN table."""
    if db is None:
        return
    for q in queries:
        for a in q.get("answers") or []:
            addr = a.get("ipv4") or a.get("ipv6")
            if addr:
                info = db.lookup(addr)
                a["asn"] = info.asn if info else 0
                a["as_org_name"] = info.name if info else ""


def make_report_id(when: dt.datetime, cc: str, asn: str) -> str:
    alphabet = string.ascii_letters + string.digits
    rand = "".join(secrets.choice(alphabet) for _ in range(40))
    num = asn[2:] if asn.upper().startswith("AS") else asn
    return f"{when.strftime('%Y%m%dT%H%M%SZ')}_webconnectivity_{cc}_{num}_n1_{rand}"


@dataclass
class _State:
    queries: list[dict[str, Any]] = field(default_factory=list)
    tcp_connect: list[dict[str, Any]] = field(default_factory=list)
    tls_handshakes: list[dict[str, Any]] = field(default_factory=list)
    fetch: FetchResult | None = None
    control_request: dict[str, Any] | None = None
    control: dict[str, Any] | None = None
    control_failure: str | None = None
    dns_failure: str | None = None
    http_failure: str | None = None
    timed_out: bool = False
    error: str | None = None
    ready: dict[tuple[str, int], Ready] = field(default_factory=dict)

    def close_ready(self, keep: Ready | None = None) -> None:
        for r in self.ready.values():
            if r is not keep:
                r.conn.close()
        self.ready = {}


def _ports(parts: Any) -> list[int]:
    if parts.port:
        return [parts.port]
    if parts.scheme == "https":
        return [443]
    return [80, 443]


async def _endpoint(
    ip: str,
    port: int,
    sni: str,
    tls: bool,
    cfg: ProbeConfig,
    ctx: ssl.SSLContext,
    trace: Trace,
    state: _State,
) -> None:
    tags = ["tcptls_experiment"] if tls else ["tcp_experiment"]
    entry, conn = await connect(ip, port, trace, cfg.timeout, tags=tags)
    state.tcp_connect.append(entry)
    if conn is None:
        return
    try:
        if tls:
            result = await handshake(conn, sni, trace, cfg.timeout, ctx, tags=tags)
            state.tls_handshakes.append(result.entry)
            if result.stream is not None:
                # kept open: the GET may be sent on it (OONI's fetch_body endpoint)
                state.ready[(ip, port)] = Ready(
                    conn, result.stream, result.entry["negotiated_protocol"]
                )
                return
        else:
            state.ready[(ip, port)] = Ready(conn, None)
            return
    except BaseException:
        conn.close()
        raise
    conn.close()


async def _run(
    url: str, cfg: ProbeConfig, trace: Trace, state: _State, session: aiohttp.ClientSession | None
) -> None:
    parts = urlsplit(url)
    host = parts.hostname or ""
    ctx = make_context(cfg.ca_file)
    # 1. DNS
    addrs: list[str] = []
    if pdns.is_ip(host):
        addrs = [host]
    else:
        jobs = []
        if cfg.system_resolver:
            jobs.append(pdns.system_lookup(host, trace, cfg.timeout))
        if cfg.resolver is not None:
            jobs.append(pdns.udp_lookup(host, cfg.resolver, trace, cfg.timeout))
        lookups = await asyncio.gather(*jobs)
        for lk in lookups:
            state.queries.extend(lk.entries)
            addrs.extend(a for a in lk.addrs if a not in addrs)
        if lookups:
            state.dns_failure = lookups[0].failure
    ports = _ports(parts)
    url_port = parts.port or (443 if parts.scheme == "https" else 80)
    # 2. the control, in parallel with our own measurement
    control_task = None
    if cfg.control and session is not None:
        eps = [endpoint(a, p) for p in ports for a in addrs]
        state.control_request = control_request(url, eps)
        control_task = asyncio.ensure_future(
            ask_control(session, cfg.control, state.control_request, cfg.timeout * 3)
        )
    try:
        # 3. TCP (and TLS on HTTPS endpoints) to every address
        await asyncio.gather(
            *(
                _endpoint(a, p, host, p == 443 or parts.scheme == "https", cfg, ctx, trace, state)
                for a in addrs
                for p in ports
            )
        )
        # 4. HTTP, on the first connection that worked on the URL's port (TLS included)
        ready = next(
            (state.ready[(a, url_port)] for a in addrs if (a, url_port) in state.ready), None
        )
        state.close_ready(keep=ready)
        if ready is not None:

            async def resolve(name: str) -> list[str]:
                if cfg.system_resolver:
                    lk = await pdns.system_lookup(name, trace, cfg.timeout, ["http"])
                else:
                    assert cfg.resolver is not None
                    lk = await pdns.udp_lookup(name, cfg.resolver, trace, cfg.timeout, ["http"])
                state.queries.extend(lk.entries)
                if not lk.addrs:
                    raise FailureError(lk.failure or "dns_no_answer")
                return lk.addrs

            state.fetch = FetchResult([], [], [])
            result = await fetch(
                url,
                trace=trace,
                timeout=cfg.timeout,
                ctx=ctx,
                resolve=resolve,
                first_addrs=[ready.conn.ip],
                result=state.fetch,
                ready=ready,
            )
            state.http_failure = result.failure
        elif addrs:
            # no endpoint to send the GET on: the URL's own port tells why
            eps = {endpoint(a, url_port) for a in addrs}
            tls_fail = [h["failure"] for h in state.tls_handshakes if h["address"] in eps]
            tcp_fail = [
                e["status"]["failure"]
                for e in state.tcp_connect
                if e["port"] == url_port and e["status"]["failure"]
            ]
            state.http_failure = next(iter(tls_fail + tcp_fail), None)
        else:
            state.http_failure = state.dns_failure
    finally:
        state.close_ready()
        if control_task is not None:
            try:
                state.control, state.control_failure = await control_task
            except asyncio.CancelledError:
                control_task.cancel()
                state.control_failure = GENERIC_TIMEOUT
                raise


async def measure(
    url: str, cfg: ProbeConfig, session: aiohttp.ClientSession | None = None
) -> dict[str, Any]:
    """Measure ``url``; never raises for network failures (they are data)."""
    started = cfg.clock.now()
    t_begin = time.monotonic()
    trace = Trace()
    state = _State()
    try:
        await asyncio.wait_for(_run(url, cfg, trace, state, session), cfg.url_timeout)
    except (asyncio.CancelledError, KeyboardInterrupt):
        raise
    except TimeoutError:
        state.timed_out = True
        if state.control is None and cfg.control:
            state.control_failure = state.control_failure or GENERIC_TIMEOUT
        if state.http_failure is None and (state.fetch is None or state.fetch.failure is None):
            state.http_failure = GENERIC_TIMEOUT
        if state.fetch is not None:
            for hop in state.fetch.hops:  # the hop cut short
                if hop.entry.get("t") is None:
                    hop.failure = hop.failure or GENERIC_TIMEOUT
                    hop.entry["t"] = trace.now()
                    hop.entry["failure"] = hop.failure
            state.fetch.failure = state.fetch.failure or GENERIC_TIMEOUT
    except Exception as exc:  # a bug must cost one measurement's tail, never the run
        state.error = f"{type(exc).__name__}: {exc}"
        state.http_failure = state.http_failure or f"unknown_failure: {exc}"
        if state.fetch is not None:
            for hop in state.fetch.hops:
                if hop.entry.get("t") is None:
                    hop.entry["t"] = trace.now()
                    hop.entry["failure"] = hop.failure or state.http_failure
    m = build_measurement(url, cfg, started, time.monotonic() - t_begin, trace, state)
    return scrub(m)


def build_measurement(
    url: str,
    cfg: ProbeConfig,
    started: dt.datetime,
    runtime: float,
    trace: Trace,
    state: _State,
) -> dict[str, Any]:
    fetched = state.fetch
    annotate_asns(state.queries, cfg.asn_db)
    res_ip = resolver_ip(cfg)
    res_info = cfg.asn_db.lookup(res_ip) if cfg.asn_db is not None and res_ip else None
    annotations: dict[str, str] = {
        "engine_name": SOFTWARE_NAME,
        "engine_version": __version__,
        "platform": sys.platform,
    }
    if cfg.region:
        annotations["region"] = cfg.region
    if cfg.clock.lab:
        annotations["x_lab_clock"] = "true"
    test_keys: dict[str, Any] = {
        "agent": "redirect",
        "client_resolver": None,
        "retries": None,
        "socksproxy": None,
        "network_events": trace.events,
        "queries": state.queries,
        "tcp_connect": state.tcp_connect + (fetched.tcp_connect if fetched else []),
        "tls_handshakes": state.tls_handshakes + (fetched.tls_handshakes if fetched else []),
        "requests": fetched.requests() if fetched else [],
        "x_control_request": state.control_request,
        "control": state.control or {},
        "control_failure": state.control_failure,
        "dns_experiment_failure": state.dns_failure,
        "http_experiment_failure": state.http_failure,
        "throughput": fetched.throughput() if fetched else None,
        "x_url_timed_out": state.timed_out,
        "x_probe_error": state.error,
        "x_resolver": endpoint(*cfg.resolver) if cfg.resolver else None,
        # judgement fields of OONI's probe: ashyq's probe leaves them to the analysis
        "dns_consistency": None,
        "blocking": None,
        "accessible": None,
    }
    return {
        "annotations": annotations,
        "data_format_version": "0.2.0",
        "extensions": {
            "dnst": 0,
            "httpt": 0,
            "netevents": 0,
            "tcpconnect": 0,
            "tlshandshake": 0,
        },
        "input": url,
        "measurement_start_time": started.strftime(TIME_FORMAT),
        "probe_asn": cfg.asn,
        "probe_cc": cfg.cc,
        "probe_ip": "127.0.0.1",
        "probe_network_name": cfg.network_name,
        "report_id": cfg.report_id,
        "resolver_asn": f"AS{res_info.asn}" if res_info else None,
        "resolver_ip": res_ip,
        "resolver_network_name": res_info.name if res_info else None,
        "software_name": SOFTWARE_NAME,
        "software_version": __version__,
        "test_helpers": {"backend": {"address": cfg.control, "type": "https"}}
        if cfg.control
        else {},
        "test_keys": test_keys,
        "test_name": TEST_NAME,
        "test_runtime": round(runtime, 6),
        "test_start_time": cfg.test_start_time,
        "test_version": TEST_VERSION,
    }
