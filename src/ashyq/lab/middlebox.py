"""The lab's middlebox: a resolver that lies and a transparent proxy that inspects.

It runs inside a censor router's namespace (or, as an "operator edge", in the internet
namespace) and follows a policy file written by the lab, re-read whenever it changes, so that
the scenario clock can switch rules on and off without restarting anything.

* DNS (UDP, port 53): answers NXDOMAIN, a bogon, or a blockpage server's address for the names
  a rule lists; forwards everything else to an upstream server (chosen per source network,
  which is how a CDN's regional answers are modelled).
* TCP (the port nftables ``redirect`` sends to): reads the TLS ClientHello SNI or the HTTP Host
  with ``MSG_PEEK``, finds the original destination with ``SO_ORIGINAL_DST``, then per the
  first matching rule: ``forward``, ``reset`` (RST), ``stall`` (swallow and never answer),
  ``blockpage`` (answer HTTP with the blockpage), ``intercept`` (terminate TLS with a
  certificate forged by the lab's state CA, then relay), ``pace`` (relay at ``rate_kbit``),
  ``delay`` (relay after ``delay_s``), ``serve`` (answer a fixed page, over TLS with the site's
  own certificate: what a site operator's edge does for challenge and geo-block pages).

Connections are few in the lab, so each is served by a thread with blocking sockets, which
keeps peeking and TLS termination simple. Run: ``python -m ashyq.lab.middlebox POLICY.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import json
import os
import select
import socket
import socketserver
import ssl
import struct
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import dns.rrset

from ashyq.lab.sniff import MAX_PEEK, name_matches, sniff

SO_ORIGINAL_DST = 80
UPSTREAM_MARK = 0x4151  # nftables lets marked (middlebox-made) connections through unredirected
PEEK_TIMEOUT = 5.0
STALL_MAX = 120.0

BLOCKPAGE_HTML = """<!DOCTYPE html>
<html lang="ru"><head><meta charset="utf-8">
<title>Доступ ограничен / Access restricted</title></head>
<body>
<h1>Доступ ограничен</h1>
<p>Доступ к данному информационному ресурсу ограничен на основании решения уполномоченного
органа Республики Казахстан.</p>
<h1>Access restricted</h1>
<p>Access to this information resource is restricted by decision of the authorized body of the
Republic of Kazakhstan.</p>
</body></html>
"""


@dataclass
class Policy:
    dns_rules: list[dict[str, Any]] = field(default_factory=list)
    tcp_rules: list[dict[str, Any]] = field(default_factory=list)
    upstream_dns: str = "198.51.100.53:53"
    upstream_by_source: dict[str, str] = field(default_factory=dict)
    blockpage_html: str = BLOCKPAGE_HTML
    mitm_ca_dir: str | None = None
    site_ca_dir: str | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Policy:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def _in(addr: str, nets: list[str] | None) -> bool:
    if not nets:
        return True
    ip = ipaddress.ip_address(addr)
    return any(ip in ipaddress.ip_network(n, strict=False) for n in nets)


def match_rule(
    rules: list[dict[str, Any]],
    src: str,
    name: str | None,
    dst: str | None = None,
    kind: str | None = None,
) -> dict[str, Any] | None:
    """The first rule whose sources hold `src` and whose names (or dst addresses) match.

    A rule with ``kind`` ("tls" or "http") only applies to streams of that kind.
    """
    for rule in rules:
        if not _in(src, rule.get("sources")):
            continue
        if rule.get("kind") and kind is not None and rule["kind"] != kind:
            continue
        names, dsts = rule.get("names"), rule.get("dst")
        if names is None and dsts is None:
            return rule
        if names is not None and name_matches(name, names):
            return rule
        if dsts is not None and dst is not None and _in(dst, dsts):
            return rule
    return None


class PolicyFile:
    """A policy re-read from disk whenever its modification time changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._mtime = -1.0
        self._policy = Policy()
        self._lock = threading.Lock()

    def get(self) -> Policy:
        with self._lock:
            try:
                mtime = self.path.stat().st_mtime_ns
            except FileNotFoundError:
                return self._policy
            if mtime != self._mtime:
                self._policy = Policy.from_dict(json.loads(self.path.read_text("utf-8")))
                self._mtime = mtime
            return self._policy


def write_policy(path: Path, policy: dict[str, Any]) -> None:
    """Replace a policy file atomically (the middlebox never reads half a file)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".policy")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(policy, fh)
    os.replace(tmp, path)


# ------------------------------------------------------------------------------------- DNS


def dns_answer(policy: Policy, query: dns.message.Message, src: str) -> dns.message.Message | None:
    """The lie for this query, or None to forward it."""
    if not query.question:
        return None
    q = query.question[0]
    name = q.name.to_text().rstrip(".").lower()
    rule = match_rule(policy.dns_rules, src, name)
    if rule is None:
        return None
    reply = dns.message.make_response(query)
    reply.flags |= dns.flags.RA
    action = rule["action"]
    if action == "nxdomain":
        reply.set_rcode(dns.rcode.NXDOMAIN)
    elif action in ("bogon", "redirect"):
        if q.rdtype == dns.rdatatype.A:
            reply.answer.append(dns.rrset.from_text(q.name, 300, "IN", "A", rule["address"]))
    elif action == "drop":
        return dns.message.Message()  # marker: say nothing
    return reply


def serve_dns(pf: PolicyFile, bind: str, port: int) -> threading.Thread:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((bind, port))

    def handle(data: bytes, addr: tuple[str, int]) -> None:
        try:
            query = dns.message.from_wire(data)
        except Exception:
            return
        policy = pf.get()
        try:
            reply = dns_answer(policy, query, addr[0])
            if reply is not None and not reply.question and not reply.answer:
                return  # "drop": silence
            if reply is None:
                upstream = policy.upstream_dns
                for net, server in policy.upstream_by_source.items():
                    if _in(addr[0], [net]):
                        upstream = server
                host, _, p = upstream.rpartition(":")
                reply = dns.query.udp(query, host, port=int(p), timeout=3)
            sock.sendto(reply.to_wire(), addr)
        except Exception as exc:
            print(f"dns: {addr[0]}: {exc!r}", file=sys.stderr, flush=True)

    def loop() -> None:
        while True:
            data, addr = sock.recvfrom(4096)
            threading.Thread(target=handle, args=(data, addr), daemon=True).start()

    t = threading.Thread(target=loop, daemon=True, name="dns")
    t.start()
    return t


# ------------------------------------------------------------------------------------- TCP


def original_dst(sock: socket.socket) -> tuple[str, int]:
    raw = sock.getsockopt(socket.SOL_IP, SO_ORIGINAL_DST, 16)
    port = struct.unpack("!H", raw[2:4])[0]
    return socket.inet_ntoa(raw[4:8]), port


def peek_name(sock: socket.socket) -> tuple[str, str | None]:
    """Wait for enough client bytes to read the SNI or Host; (kind, name)."""
    deadline = time.monotonic() + PEEK_TIMEOUT
    seen = -1
    poller = select.poll()
    rdhup = getattr(select, "POLLRDHUP", 0)
    poller.register(sock, select.POLLIN | rdhup)
    while time.monotonic() < deadline:
        events = poller.poll(max(0.0, deadline - time.monotonic()) * 1000)
        if not events:
            break
        data = sock.recv(MAX_PEEK, socket.MSG_PEEK)
        if not data:
            break
        result = sniff(data)
        if result.complete:
            return result.kind, result.name
        if events[0][1] & (rdhup | select.POLLHUP):
            break  # the client has said all it will say
        if len(data) == seen:
            time.sleep(0.01)
        seen = len(data)
    return "other", None


class CertCache:
    def __init__(self) -> None:
        self._cas: dict[str, Any] = {}
        self._ctx: dict[tuple[str, str], ssl.SSLContext] = {}
        self._lock = threading.Lock()

    def context(self, ca_dir: str, name: str) -> ssl.SSLContext:
        from ashyq.servers.ca import CertAuthority

        with self._lock:
            key = (ca_dir, name)
            if key not in self._ctx:
                ca = self._cas.get(ca_dir) or CertAuthority.load(ca_dir)
                self._cas[ca_dir] = ca
                leaf = ca.issue([name], days=30)
                d = tempfile.mkdtemp(prefix="aq-leaf-")
                cert, keyf = leaf.write(d, stem="leaf")
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                ctx.load_cert_chain(cert, keyf)
                self._ctx[key] = ctx
            return self._ctx[key]


CERTS = CertCache()


def _relay(a: socket.socket, b: socket.socket, rate_kbit: int | None, delay_s: float) -> None:
    """Copy a→b and b→a until both sides close; b→a (downstream) may be paced or delayed.

    One thread drives both directions: an ``SSLSocket`` must not be read and written from two
    threads at once.
    """
    start = time.monotonic()
    sent = 0
    first = True
    open_dirs = {(a, b), (b, a)}
    for s in (a, b):
        s.setblocking(False)
    poller = select.poll()
    for s in (a, b):
        poller.register(s, select.POLLIN)
    idle_since = time.monotonic()
    try:
        while open_dirs:
            ready = any(isinstance(s, ssl.SSLSocket) and s.pending() for s in (a, b))
            if not ready and not poller.poll(1000):
                if time.monotonic() - idle_since > STALL_MAX:
                    return
                continue
            idle_since = time.monotonic()
            for src, dst in list(open_dirs):
                chunk_size = 1400 if (src is b and rate_kbit) else 65536
                try:
                    chunk = src.recv(chunk_size)
                except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
                    continue
                if not chunk:
                    open_dirs.discard((src, dst))
                    with contextlib.suppress(OSError, ValueError):
                        poller.unregister(src)
                    with contextlib.suppress(OSError):
                        if isinstance(dst, ssl.SSLSocket):
                            open_dirs.clear()
                        else:
                            dst.shutdown(socket.SHUT_WR)
                    continue
                if src is b:
                    if first and delay_s:
                        time.sleep(delay_s)
                        start = time.monotonic()
                    first = False
                    if rate_kbit:
                        sent += len(chunk)
                        pause = start + sent * 8 / (rate_kbit * 1000) - time.monotonic()
                        if pause > 0:
                            time.sleep(pause)
                dst.setblocking(True)
                try:
                    dst.sendall(chunk)
                finally:
                    dst.setblocking(False)
    except OSError:
        pass
    finally:
        for s in (a, b):
            with contextlib.suppress(OSError):
                s.close()


def _connect(dst: tuple[str, int]) -> socket.socket:
    up = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    with contextlib.suppress(OSError):
        up.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, UPSTREAM_MARK)
    up.settimeout(10)
    up.connect(dst)
    up.settimeout(None)
    return up


def _reset(sock: socket.socket) -> None:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def _read_request(sock: socket.socket) -> None:
    data = b""
    sock.settimeout(5)
    with contextlib.suppress(OSError):
        while b"\r\n\r\n" not in data and len(data) < MAX_PEEK:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk


def _respond(sock: socket.socket, status: int, body: str, reason: str = "") -> None:
    payload = body.encode("utf-8")
    reason = reason or {200: "OK", 403: "Forbidden", 451: "Unavailable For Legal Reasons"}.get(
        status, "Service Unavailable"
    )
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/html; charset=utf-8\r\n"
        f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n"
    )
    with contextlib.suppress(OSError):
        sock.sendall(head.encode() + payload)


class ProxyHandler(socketserver.BaseRequestHandler):
    server: ProxyServer

    def handle(self) -> None:
        client: socket.socket = self.request
        src = self.client_address[0]
        try:
            dst = original_dst(client)
        except OSError:
            client.close()
            return
        if dst[1] == self.server.server_address[1]:
            client.close()  # not redirected: someone connected to the proxy port itself
            return
        kind, name = peek_name(client)
        policy = self.server.policy_file.get()
        rule = match_rule(policy.tcp_rules, src, name, dst[0], kind) or {"action": "forward"}
        action = rule["action"]
        self.server.log(f"{src} -> {dst[0]}:{dst[1]} {kind} {name} {action}")
        try:
            if action == "reset":
                _reset(client)
            elif action == "stall":
                client.settimeout(rule.get("stall_s", STALL_MAX))
                with contextlib.suppress(OSError):
                    while client.recv(65536):
                        pass
                client.close()
            elif action == "blockpage":
                _read_request(client)
                _respond(client, 200, policy.blockpage_html)
                client.close()
            elif action == "serve":
                conn = client
                if kind == "tls" and policy.site_ca_dir:
                    conn = CERTS.context(policy.site_ca_dir, name or dst[0]).wrap_socket(
                        client, server_side=True
                    )
                _read_request(conn)
                _respond(conn, int(rule.get("status", 200)), rule.get("body", ""))
                conn.close()
            elif action == "intercept" and kind == "tls" and policy.mitm_ca_dir:
                ctx = CERTS.context(policy.mitm_ca_dir, name or dst[0])
                tls_client = ctx.wrap_socket(client, server_side=True)
                up_ctx = ssl.create_default_context()
                up_ctx.check_hostname = False
                up_ctx.verify_mode = ssl.CERT_NONE
                up = up_ctx.wrap_socket(_connect(dst), server_hostname=name)
                _relay(tls_client, up, None, 0.0)
            else:  # forward, pace, delay
                up = _connect(dst)
                rate = int(rule["rate_kbit"]) if action == "pace" else None
                delay = float(rule.get("delay_s", 0)) if action == "delay" else 0.0
                _relay(client, up, rate, delay)
        except (OSError, ssl.SSLError) as exc:
            self.server.log(f"{src} -> {dst[0]}:{dst[1]} {action}: {exc!r}")
            with contextlib.suppress(OSError):
                _reset(client)


class ProxyServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr: tuple[str, int], policy_file: PolicyFile, verbose: bool) -> None:
        self.policy_file = policy_file
        self.verbose = verbose
        super().__init__(addr, ProxyHandler)

    def log(self, msg: str) -> None:
        if self.verbose:
            print(msg, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m ashyq.lab.middlebox",
        description="The lab's censoring middlebox (lying resolver + inspecting proxy).",
    )
    ap.add_argument("policy", type=Path, help="policy JSON file, re-read when it changes")
    ap.add_argument("--proxy-port", type=int, default=3129, help="port nftables redirects to")
    ap.add_argument("--dns-port", type=int, default=0, help="UDP port of the resolver (0: none)")
    ap.add_argument("--bind", default="0.0.0.0")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args(argv)
    pf = PolicyFile(args.policy)
    if args.dns_port:
        serve_dns(pf, args.bind, args.dns_port)
    server = ProxyServer((args.bind, args.proxy_port), pf, args.verbose)
    print(f"middlebox ready: proxy :{args.proxy_port} dns :{args.dns_port}", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
