"""HTTP GET with redirects, every hop measured (OONI ``requests`` entries), with throughput.

HTTP/1.1 is spoken with h11 over a measured TCP connection (and TLS for https). The body is
capped; its length, SHA-256 and ``<title>`` are recorded, and for the last hop the download is
sampled over time (``throughput``).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import html
import re
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import h11

from ashyq.probe.dns import is_ip
from ashyq.probe.errors import (
    EOF_ERROR,
    GENERIC_TIMEOUT,
    HTTP_INVALID_REDIRECT,
    TOO_MANY_REDIRECTS,
    FailureError,
    classify,
)
from ashyq.probe.tcp import Connection, ConnectPolicy, connect
from ashyq.probe.tls import handshake
from ashyq.probe.trace import Trace, endpoint

BODY_CAP = 512 * 1024
MAX_REDIRECTS = 10
MAX_SAMPLES = 100
USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/119.0.0.0 Safari/537.36"
)
DEFAULT_HEADERS = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Language": "en-US,en;q=0.9",
    "User-Agent": USER_AGENT,
}
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title", re.IGNORECASE | re.DOTALL)

Resolver = Callable[[str], Awaitable[list[str]]]


def extract_title(body: bytes) -> str:
    """The page ``<title>``, unescaped and with whitespace collapsed ("" when none)."""
    m = _TITLE.search(body[:262144])
    if not m:
        return ""
    text = html.unescape(m.group(1)[:2048].decode("utf-8", errors="replace"))
    return " ".join(text.split())[:256]


def host_header(parts: Any) -> str:
    """``host[:port]`` of a split URL, without any user:password@ part."""
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{host}:{port}" if port else host


def body_field(body: bytes) -> str | dict[str, str]:
    """OONI's body representation: a string when UTF-8, else base64."""
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return {"format": "base64", "data": base64.b64encode(body).decode()}


class _Plain:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def read(self, n: int = 65536) -> bytes:
        return await self.conn.reader.read(n)

    async def write(self, data: bytes) -> None:
        self.conn.writer.write(data)
        await self.conn.writer.drain()

    def close(self) -> None:
        self.conn.close()


@dataclass
class Ready:
    """A connection already measured (TCP, and TLS for https) on which to send the first GET."""

    conn: Connection
    stream: Any  # a TLSStream for https, None for http
    alpn: str = ""


@dataclass
class Hop:
    url: str
    entry: dict[str, Any]
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    truncated: bool = False
    failure: str | None = None
    location: str | None = None
    samples: list[dict[str, float | int]] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class FetchResult:
    hops: list[Hop]
    tcp_connect: list[dict[str, Any]]
    tls_handshakes: list[dict[str, Any]]
    failure: str | None = None

    @property
    def final(self) -> Hop | None:
        return self.hops[-1] if self.hops else None

    def requests(self) -> list[dict[str, Any]]:
        """OONI order: the last request first."""
        return [h.entry for h in reversed(self.hops)]

    def throughput(self) -> dict[str, Any] | None:
        hop = self.final
        if hop is None or hop.status is None:
            return None
        n = len(hop.body)
        secs = max(hop.seconds, 1e-6)
        return {
            "url": hop.url,
            "bytes": n,
            "seconds": round(hop.seconds, 6),
            "kbit_s": round(n * 8 / 1000 / secs, 3),
            "samples": hop.samples,
        }


def _thin(samples: list[dict[str, float | int]]) -> list[dict[str, float | int]]:
    if len(samples) <= MAX_SAMPLES:
        return samples
    step = len(samples) / (MAX_SAMPLES - 1)
    picked = [samples[int(i * step)] for i in range(MAX_SAMPLES - 1)]
    return [*picked, samples[-1]]


def _request_entry(url: str, headers: dict[str, str]) -> dict[str, Any]:
    return {
        "body": "",
        "body_is_truncated": False,
        "headers_list": [[k, v] for k, v in headers.items()],
        "headers": dict(headers),
        "method": "GET",
        "tor": {"exit_ip": None, "exit_name": None, "is_tor": False},
        "x_transport": "tcp",
        "url": url,
    }


def _empty_response() -> dict[str, Any]:
    return {"body": "", "body_is_truncated": False, "code": 0, "headers_list": [], "headers": {}}


async def _exchange(
    stream: Any,
    hop: Hop,
    path: str,
    headers: dict[str, str],
    trace: Trace,
    timeout: float,
    body_cap: int,
    tid: int,
    address: str,
    tags: list[str],
) -> None:
    loop = asyncio.get_running_loop()
    conn = h11.Connection(h11.CLIENT)
    t_start = loop.time()
    deadline = t_start + timeout  # headers within one step; the body gets another step
    got_eof = False
    body = bytearray()
    try:
        try:
            wire = conn.send(h11.Request(method="GET", target=path, headers=list(headers.items())))
            wire += conn.send(h11.EndOfMessage())
        except h11.LocalProtocolError as exc:
            # a target or header no HTTP/1.1 request can carry (a space or CR/LF in a
            # redirect's Location, say): recorded as this hop's failure
            hop.failure = f"unknown_failure: cannot send this request: {exc}"
            return
        t0 = trace.now()
        try:
            async with asyncio.timeout(timeout):  # cheaper than wait_for: no extra task
                await stream.write(wire)
        except Exception as exc:
            trace.event(
                "write", t0, address=address, failure=classify(exc), transaction_id=tid, tags=tags
            )
            raise
        trace.event(
            "write", t0, address=address, num_bytes=len(wire), transaction_id=tid, tags=tags
        )
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise TimeoutError
                t0 = trace.now()
                async with asyncio.timeout(remaining):
                    data = await stream.read(65536)
                trace.event(
                    "read", t0, address=address, num_bytes=len(data), transaction_id=tid, tags=tags
                )
                if not data:
                    got_eof = True
                conn.receive_data(data)
                continue
            if isinstance(event, h11.Response):
                hop.status = event.status_code
                for name, value in event.headers.raw_items():
                    k = name.decode("latin-1")
                    v = value.decode("latin-1")
                    hop.headers[k] = v if k not in hop.headers else hop.headers[k] + ", " + v
                    if k.lower() == "location":
                        hop.location = v
                deadline = loop.time() + timeout
            elif isinstance(event, h11.Data):
                room = body_cap - len(body)
                body += event.data[:room]
                hop.samples.append({"t": round(loop.time() - t_start, 6), "bytes": len(body)})
                if len(event.data) > room:
                    hop.truncated = True
                    break
            elif isinstance(event, (h11.EndOfMessage, h11.ConnectionClosed)):
                break
    except h11.RemoteProtocolError as exc:
        hop.failure = EOF_ERROR if got_eof else f"unknown_failure: {exc}"
    except Exception as exc:
        hop.failure = classify(exc)
    finally:
        hop.seconds = loop.time() - t_start
        hop.body = bytes(body)
        hop.samples = _thin(hop.samples)
    if hop.failure == GENERIC_TIMEOUT and hop.status is None:
        return


async def fetch(
    url: str,
    *,
    trace: Trace,
    timeout: float,
    ctx: ssl.SSLContext,
    resolve: Resolver,
    first_addrs: list[str] | None = None,
    policy: ConnectPolicy | None = None,
    max_redirects: int = MAX_REDIRECTS,
    body_cap: int = BODY_CAP,
    headers: dict[str, str] | None = None,
    result: FetchResult | None = None,
    ready: Ready | None = None,
) -> FetchResult:
    """GET ``url`` following redirects; every hop is a fresh, measured connection.

    ``result`` (optional) is filled in place, so a caller that cancels keeps the finished hops.
    """
    result = result if result is not None else FetchResult([], [], [])
    base_headers = dict(headers or DEFAULT_HEADERS)
    current = url
    for depth in range(max_redirects + 1):
        tags = ["http", f"depth={depth}"]
        parts = urlsplit(current)
        hop = Hop(current, {})
        result.hops.append(hop)
        req_headers = {"Host": host_header(parts), **base_headers, "Accept-Encoding": "identity"}
        hop.entry = {
            "network": "tcp",
            "address": None,
            "alpn": "",
            "failure": None,
            "request": _request_entry(current, req_headers),
            "response": _empty_response(),
            "t0": trace.now(),
            "t": None,
            "tags": tags,
            "transaction_id": None,
        }
        await _one_hop(
            hop,
            parts,
            req_headers,
            result,
            trace,
            timeout,
            ctx,
            resolve,
            first_addrs if depth == 0 else None,
            policy,
            body_cap,
            tags,
            ready if depth == 0 else None,
        )
        hop.entry["t"] = trace.now()
        hop.entry["failure"] = hop.failure
        if hop.status is not None:
            hop.entry["response"] = {
                "body": body_field(hop.body),
                "body_is_truncated": hop.truncated,
                "code": hop.status,
                "headers_list": [[k, v] for k, v in hop.headers.items()],
                "headers": dict(hop.headers),
                "x_body_length": len(hop.body),
                "x_body_sha256": hashlib.sha256(hop.body).hexdigest(),
                "x_title": extract_title(hop.body),
            }
        if hop.failure is not None:
            result.failure = hop.failure
            return result
        if hop.status in (301, 302, 303, 307, 308) and hop.location:
            nxt = urljoin(current, hop.location.strip())
            np = urlsplit(nxt)
            if np.scheme not in ("http", "https") or not np.hostname:
                result.failure = hop.failure = HTTP_INVALID_REDIRECT
                hop.entry["failure"] = hop.failure
                return result
            if depth == max_redirects:
                result.failure = hop.failure = TOO_MANY_REDIRECTS
                hop.entry["failure"] = hop.failure
                return result
            current = nxt
            continue
        return result
    return result


async def _one_hop(
    hop: Hop,
    parts: Any,
    req_headers: dict[str, str],
    result: FetchResult,
    trace: Trace,
    timeout: float,
    ctx: ssl.SSLContext,
    resolve: Resolver,
    addrs: list[str] | None,
    policy: ConnectPolicy | None,
    body_cap: int,
    tags: list[str],
    ready: Ready | None = None,
) -> None:
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host:
        hop.failure = HTTP_INVALID_REDIRECT
        return
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        hop.failure = HTTP_INVALID_REDIRECT
        return
    if ready is not None:
        await _request_on(hop, parts, req_headers, trace, timeout, body_cap, tags, ready)
        return
    if is_ip(host):
        addrs = [host]
    elif not addrs:
        try:
            addrs = await resolve(host)
        except FailureError as exc:
            hop.failure = exc.failure
            return
        except Exception as exc:
            hop.failure = classify(exc)
            return
    conn: Connection | None = None
    for ip in addrs[:4]:
        entry, conn = await connect(ip, port, trace, timeout, tags=tags, policy=policy)
        result.tcp_connect.append(entry)
        if conn is not None:
            break
        hop.failure = entry["status"]["failure"]
    if conn is None:
        hop.failure = hop.failure or "generic_timeout_error"
        return
    hop.failure = None
    if parts.scheme == "https":
        tls = await handshake(conn, host, trace, timeout, ctx, tags=tags)
        result.tls_handshakes.append(tls.entry)
        if tls.stream is None:
            hop.failure = tls.entry["failure"]
            return
        ready = Ready(conn, tls.stream, tls.entry["negotiated_protocol"])
    else:
        ready = Ready(conn, None)
    await _request_on(hop, parts, req_headers, trace, timeout, body_cap, tags, ready)


async def _request_on(
    hop: Hop,
    parts: Any,
    req_headers: dict[str, str],
    trace: Trace,
    timeout: float,
    body_cap: int,
    tags: list[str],
    ready: Ready,
) -> None:
    conn = ready.conn
    address = endpoint(conn.ip, conn.port)
    hop.entry["address"] = address
    hop.entry["alpn"] = ready.alpn
    tid = trace.transaction()
    hop.entry["transaction_id"] = tid
    stream: Any = ready.stream if ready.stream is not None else _Plain(conn)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    t0 = trace.now()
    trace.event("http_transaction_start", t0, address=address, transaction_id=tid, tags=tags)
    try:
        await _exchange(
            stream, hop, path, req_headers, trace, timeout, body_cap, tid, address, tags
        )
    finally:
        stream.close()
    trace.event(
        "http_transaction_done",
        t0,
        address=address,
        failure=hop.failure,
        transaction_id=tid,
        tags=tags,
    )
