"""TLS handshake with SNI over a measured TCP connection (OONI ``tls_handshakes`` entries).

The handshake verifies the chain and the host name with OpenSSL (system CA bundle, or a given
CA file), and the whole certificate chain the server sent is recorded even when verification
fails, so an interception certificate is visible in the data.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import ssl
from dataclasses import dataclass
from typing import Any

from cryptography import x509

from ashyq.probe.errors import classify
from ashyq.probe.tcp import Connection
from ashyq.probe.trace import Trace, endpoint

_DER = 2  # _ssl.ENCODING_DER


@functools.lru_cache(maxsize=16)
def make_context(ca_file: str | None = None, verify: bool = True) -> ssl.SSLContext:
    """A client context: TLS 1.2+, ALPN http/1.1, system CAs (plus ``ca_file`` when given).

    Loading the system CA bundle is costly, so contexts are made once and shared.
    """
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if verify:
        ctx.load_default_certs()
        if ca_file:
            ctx.load_verify_locations(cafile=ca_file)
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


class TLSStream:
    """A TLS session over an asyncio stream pair, driven through memory BIOs."""

    def __init__(self, conn: Connection, ctx: ssl.SSLContext, server_name: str | None) -> None:
        self.conn = conn
        self._in = ssl.MemoryBIO()
        self._out = ssl.MemoryBIO()
        self.obj = ctx.wrap_bio(self._in, self._out, server_hostname=server_name)

    async def _flush(self) -> None:
        data = self._out.read()
        if data:
            self.conn.writer.write(data)
            await self.conn.writer.drain()

    async def _fill(self) -> None:
        data = await self.conn.reader.read(65536)
        if data:
            self._in.write(data)
        else:
            self._in.write_eof()

    async def handshake(self) -> None:
        while True:
            try:
                self.obj.do_handshake()
                await self._flush()
                return
            except ssl.SSLWantReadError:
                await self._flush()
                await self._fill()

    async def read(self, n: int = 65536) -> bytes:
        while True:
            try:
                return self.obj.read(n)
            except ssl.SSLWantReadError:
                await self._flush()
                await self._fill()
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                return b""

    async def write(self, data: bytes) -> None:
        self.obj.write(data)
        await self._flush()

    def close(self) -> None:
        self.conn.close()

    def chain_der(self) -> list[bytes]:
        """The certificates the server sent, leaf first (also after a failed verification)."""
        inner = getattr(self.obj, "_sslobj", None)
        getter = getattr(inner, "get_unverified_chain", None)
        if getter is not None:
            try:
                chain = getter()
                if chain:
                    return [c.public_bytes(_DER) for c in chain]
            except Exception:
                pass
        try:
            leaf = self.obj.getpeercert(binary_form=True)
        except (ValueError, ssl.SSLError):
            leaf = None
        return [leaf] if leaf else []


def summarize_certificate(der: bytes) -> dict[str, Any]:
    """Decoded facts of one DER certificate (ashyq extension ``x_certificates``).

    The same certificates come back on every connection to a site (and intermediates on many
    sites), so decoded summaries are kept (a fresh copy is returned each time)."""
    out = dict(_summary(bytes(der)))
    if isinstance(out.get("san"), list):
        out["san"] = list(out["san"])
    return out


@functools.lru_cache(maxsize=512)
def _summary(der: bytes) -> dict[str, Any]:
    out: dict[str, Any] = {"sha256": hashlib.sha256(der).hexdigest()}
    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError as exc:
        out["error"] = f"undecodable certificate: {exc}"
        return out
    out["subject"] = cert.subject.rfc4514_string()
    out["issuer"] = cert.issuer.rfc4514_string()
    out["not_before"] = cert.not_valid_before_utc.strftime("%Y-%m-%d %H:%M:%S")
    out["not_after"] = cert.not_valid_after_utc.strftime("%Y-%m-%d %H:%M:%S")
    out["serial"] = format(cert.serial_number, "x")
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        out["san"] = [str(v) for v in san.get_values_for_type(x509.DNSName)] + [
            str(v) for v in san.get_values_for_type(x509.IPAddress)
        ]
    except x509.ExtensionNotFound:
        out["san"] = []
    except ValueError:
        out["san"] = None
    try:
        bc = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
        out["is_ca"] = bc.ca
    except (x509.ExtensionNotFound, ValueError):
        out["is_ca"] = False
    return out


@dataclass
class TLSResult:
    entry: dict[str, Any]
    stream: TLSStream | None


async def handshake(
    conn: Connection,
    server_name: str,
    trace: Trace,
    timeout: float,
    ctx: ssl.SSLContext,
    *,
    tags: list[str] | None = None,
) -> TLSResult:
    """Run a TLS handshake on ``conn``; return the OONI entry and the stream on success."""
    tid = trace.transaction()
    address = endpoint(conn.ip, conn.port)
    t0 = trace.now()
    trace.event("tls_handshake_start", t0, address=address, transaction_id=tid, tags=tags)
    stream = TLSStream(conn, ctx, server_name)
    failure: str | None = None
    try:
        await asyncio.wait_for(stream.handshake(), timeout)
    except Exception as exc:
        failure = classify(exc)
    t = trace.now()
    trace.event(
        "tls_handshake_done", t0, address=address, failure=failure, transaction_id=tid, tags=tags
    )
    chain = stream.chain_der()
    version = cipher = alpn = ""
    if failure is None:
        version = stream.obj.version() or ""
        c = stream.obj.cipher()
        cipher = c[0] if c else ""
        alpn = stream.obj.selected_alpn_protocol() or ""
    entry: dict[str, Any] = {
        "network": "tcp",
        "address": address,
        "cipher_suite": cipher,
        "failure": failure,
        "negotiated_protocol": alpn,
        "no_tls_verify": ctx.verify_mode == ssl.CERT_NONE,
        "peer_certificates": [
            {"data": base64.b64encode(d).decode(), "format": "base64"} for d in chain
        ],
        "server_name": server_name,
        "t0": t0,
        "t": t,
        "tags": list(tags or []),
        "tls_version": version,
        "transaction_id": tid,
        # ashyq extensions
        "x_handshake_ms": round((t - t0) * 1000, 3),
        "x_certificates": [summarize_certificate(d) for d in chain],
    }
    if failure is not None:
        stream.close()
        return TLSResult(entry, None)
    return TLSResult(entry, stream)
