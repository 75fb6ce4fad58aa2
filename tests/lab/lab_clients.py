"""Plain-socket clients the rule tests run inside vantage namespaces (via ashyq.lab.inns)."""

from __future__ import annotations

import socket
import ssl
import time
from dataclasses import dataclass

import dns.exception
import dns.message
import dns.query
import dns.rcode

from ashyq.lab.netns import missing_requirements


def lab_skip_reason() -> str | None:
    """Why the lab cannot run here (not root, a tool missing), or None."""
    missing = missing_requirements()
    return ("the lab needs " + "; ".join(missing)) if missing else None


@dataclass
class Result:
    outcome: str  # ok | timeout | reset | refused | ssl_error | error
    seconds: float
    data: bytes = b""
    detail: str = ""
    issuer: str = ""


def resolve(server: str, name: str, timeout: float = 2.0) -> tuple[str, list[str]]:
    """(rcode text or "timeout", A answers) from a resolver at server:53."""
    try:
        reply = dns.query.udp(dns.message.make_query(name, "A"), server, timeout=timeout)
    except dns.exception.Timeout:
        return "timeout", []
    answers = [r.address for rr in reply.answer for r in rr if hasattr(r, "address")]
    return dns.rcode.to_text(reply.rcode()), answers


def _classify(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "refused"
    if isinstance(exc, ConnectionResetError):
        return "reset"
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return "timeout"
    if isinstance(exc, ssl.SSLError):
        return "ssl_error"
    return "error"


def fetch(
    ip: str,
    host: str,
    *,
    tls: bool = True,
    cafile: str | None = None,
    timeout: float = 3.0,
) -> Result:
    """GET / from ip with Host/SNI `host`; the whole response, or how it failed."""
    t0 = time.monotonic()
    try:
        with socket.create_connection((ip, 443 if tls else 80), timeout=timeout) as raw:
            sock: socket.socket = raw
            issuer = ""
            if tls:
                ctx = ssl.create_default_context(cafile=cafile)
                sock = ctx.wrap_socket(raw, server_hostname=host)
                cert = sock.getpeercert() or {}
                issuer = dict(x[0] for x in cert.get("issuer", ())).get("commonName", "")
            sock.sendall(f"GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
            data = b""
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
            return Result("ok", time.monotonic() - t0, data, issuer=issuer)
    except Exception as exc:
        return Result(_classify(exc), time.monotonic() - t0, detail=repr(exc))
