"""A static DNS server over UDP, for tests and the lab.

Interface (stable):

    server = DNSServer(
        zone={                                  # name -> answer
            "example.kz": ["127.0.0.1", "::1"],     # A and AAAA records (by address family)
            "www.example.kz": "CNAME:example.kz",   # a CNAME (followed inside the zone)
            "gone.kz": "NXDOMAIN",                  # also "SERVFAIL", "REFUSED", "NODATA",
            "blackhole.kz": "SILENT",               #   and "SILENT" (no answer at all)
            "*.cdn.kz": ["127.0.0.2"],              # wildcard for any sub-domain
        },
        host="127.0.0.1", port=0,               # port 0: any free port
        lie={"vlast.kz": "10.10.34.35"},        # answer this address instead (a lying resolver)
        lie_all=None,                           # answer every A query with this address
        silent=["blocked.kz"],                  # never answer these names (a timeout)
        silent_all=False,                       # never answer anything
        upstream=None,                          # ("IP", port): forward names not in the zone
        default="NXDOMAIN",                     # answer for names not in zone (no upstream)
        ttl=60,
    )
    server.start() -> (host, port)              # in a background thread; also `with server:`
    server.address -> (host, port); server.address_str -> "127.0.0.1:PORT"
    server.queries -> list[(name, qtype)]       # every query received, in order
    server.stop()
    await server.start_async()                  # on the caller's running loop instead
    server.set_zone(name, answer)               # change an answer while running

Names are matched case-insensitively without the trailing dot. Answers are cached per question;
any change to the configuration (``set_zone``, assigning an attribute, or changing ``zone``,
``lie`` or ``silent`` in place) drops the cache, so changes are seen at once. Forwarded
(upstream) answers are never cached.

Command line:

    python -m ashyq.servers.dns --listen 127.0.0.1:5353 --zone zone.json
        [--lie NAME=IP ...] [--lie-all IP] [--silent NAME ...] [--silent-all]
        [--upstream IP:PORT] [--default NXDOMAIN]

``zone.json`` holds the zone dict above.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import dns.asyncquery
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from ashyq.servers.runner import BackgroundLoop, Served, parse_hostport, run_forever

Answer = list[str] | str
SPECIAL = {"NXDOMAIN", "SERVFAIL", "REFUSED", "NODATA", "SILENT"}


def _norm(name: str) -> str:
    return name.strip().rstrip(".").lower()


def _lookup(table: Mapping[str, Any], name: str) -> Any:
    if name in table:
        return table[name]
    labels = name.split(".")
    for i in range(1, len(labels)):
        wild = "*." + ".".join(labels[i:])
        if wild in table:
            return table[wild]
    return None


class _WatchedDict(dict):
    """A dict that tells its owner when it changes (so cached answers are dropped)."""

    def __init__(self, data: Mapping[str, Any], on_change: Any) -> None:
        super().__init__(data)
        self._on_change = on_change


class _WatchedSet(set):
    def __init__(self, data: Iterable[str], on_change: Any) -> None:
        super().__init__(data)
        self._on_change = on_change


def _watch(cls: type, methods: tuple[str, ...]) -> None:
    for name in methods:
        original = getattr(cls.__mro__[1], name)

        def wrapper(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            result = _original(self, *args, **kwargs)
            self._on_change()
            return result

        setattr(cls, name, wrapper)


_watch(
    _WatchedDict, ("__setitem__", "__delitem__", "update", "pop", "popitem", "clear", "setdefault")
)
_watch(_WatchedSet, ("add", "discard", "remove", "update", "pop", "clear"))

CACHE_LIMIT = 4096


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, server: DNSServer) -> None:
        self.server = server
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        # the same question (same bytes but the ID) gets the same answer: serve it from cache
        hit = self.server._cache.get(data[2:]) if len(data) >= 12 else None
        if hit is not None:
            wire, name, qtype = hit
            self.server.queries.append((name, qtype))
            if wire is not None and self.transport is not None:
                self.transport.sendto(data[:2] + wire, addr)
            return
        try:
            query = dns.message.from_wire(data)
        except Exception:
            return  # not DNS: drop, like a real server would
        task = asyncio.ensure_future(self.server._answer(query))
        task.add_done_callback(lambda t: self._send(t, addr, data[2:]))

    def _send(self, task: asyncio.Future, addr: tuple[str, int], key: bytes) -> None:
        if task.cancelled() or task.exception() is not None or self.transport is None:
            return
        wire, cacheable, name, qtype = task.result()
        if cacheable:
            cache = self.server._cache
            if len(cache) >= CACHE_LIMIT:
                cache.clear()
            cache[key] = (wire[2:] if wire is not None else None, name, qtype)
        if wire is not None:
            self.transport.sendto(wire, addr)


class DNSServer(Served):
    """A UDP DNS server answering from a static zone (see the module docstring)."""

    def __init__(
        self,
        zone: Mapping[str, Answer] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        lie: Mapping[str, str] | None = None,
        lie_all: str | None = None,
        silent: Iterable[str] = (),
        silent_all: bool = False,
        upstream: tuple[str, int] | None = None,
        default: str = "NXDOMAIN",
        ttl: int = 60,
    ) -> None:
        self._cache: dict[bytes, tuple[bytes | None, str, str]] = {}
        self.zone: dict[str, Answer] = {_norm(k): v for k, v in (zone or {}).items()}
        self.host = host
        self.port = port
        self.lie = {_norm(k): v for k, v in (lie or {}).items()}
        self.lie_all = lie_all
        self.silent = {_norm(n) for n in silent}
        self.silent_all = silent_all
        self.upstream = upstream
        self.default = default
        self.ttl = ttl
        self.queries: list[tuple[str, str]] = []
        self._transport: asyncio.DatagramTransport | None = None
        self._bg: BackgroundLoop | None = None

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ("zone", "lie") and isinstance(value, dict):
            value = _WatchedDict(value, self._invalidate)
        elif name == "silent" and isinstance(value, set):
            value = _WatchedSet(value, self._invalidate)
        object.__setattr__(self, name, value)
        if not name.startswith("_") and name not in ("queries", "port", "host"):
            self._invalidate()

    def _invalidate(self) -> None:
        cache = self.__dict__.get("_cache")
        if cache:
            cache.clear()

    # -- life cycle -------------------------------------------------------------------------
    async def start_async(self) -> tuple[str, int]:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _Protocol(self), local_addr=(self.host, self.port)
        )
        self._transport = transport  # type: ignore[assignment]
        sockname = transport.get_extra_info("sockname")
        self.port = sockname[1]
        return self.address

    def start(self) -> tuple[str, int]:
        self._bg = BackgroundLoop("ashyq-dns")
        return self._bg.run(self.start_async())

    async def stop_async(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    def stop(self) -> None:
        if self._bg is not None:
            self._bg.run(self.stop_async())
            self._bg.stop()
            self._bg = None

    def set_zone(self, name: str, answer: Answer) -> None:
        self.zone[_norm(name)] = answer

    # -- answering --------------------------------------------------------------------------
    def _records(self, name: str, depth: int = 0) -> tuple[str, list[dns.rrset.RRset]]:
        """Return (rcode-or-special, answer rrsets) for a name from the zone."""
        entry = _lookup(self.zone, name)
        if entry is None:
            return self.default, []
        if isinstance(entry, str):
            if entry.upper() in SPECIAL:
                return entry.upper(), []
            if entry.upper().startswith("CNAME:"):
                target = _norm(entry[6:])
                rr = dns.rrset.from_text(name + ".", self.ttl, "IN", "CNAME", target + ".")
                if depth > 8:
                    return "NOERROR", [rr]
                code, rest = self._records(target, depth + 1)
                return ("NOERROR" if code in ("NXDOMAIN", "NODATA") else code), [rr, *rest]
            entry = [entry]
        rrsets = []
        v4 = [a for a in entry if ipaddress.ip_address(a).version == 4]
        v6 = [a for a in entry if ipaddress.ip_address(a).version == 6]
        if v4:
            rrsets.append(dns.rrset.from_text_list(name + ".", self.ttl, "IN", "A", v4))
        if v6:
            rrsets.append(dns.rrset.from_text_list(name + ".", self.ttl, "IN", "AAAA", v6))
        return "NOERROR", rrsets

    async def _answer(self, query: dns.message.Message) -> tuple[bytes | None, bool, str, str]:
        """(response wire or None for silence, whether it may be cached, name, type)."""
        if not query.question:
            return None, False, "", ""
        q = query.question[0]
        name = _norm(q.name.to_text())
        qtype = dns.rdatatype.to_text(q.rdtype)
        self.queries.append((name, qtype))
        wire, cacheable = await self._respond(query, q, name)
        return wire, cacheable, name, qtype

    async def _respond(
        self, query: dns.message.Message, q: Any, name: str
    ) -> tuple[bytes | None, bool]:
        if self.silent_all or _lookup({n: True for n in self.silent}, name):
            return None, True
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA | dns.flags.RA
        lie = self.lie_all if self.lie_all is not None else _lookup(self.lie, name)
        if lie is not None:
            if q.rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
                rrtype = "A" if ipaddress.ip_address(lie).version == 4 else "AAAA"
                if dns.rdatatype.from_text(rrtype) == q.rdtype:
                    response.answer.append(
                        dns.rrset.from_text(name + ".", self.ttl, "IN", rrtype, lie)
                    )
            return response.to_wire(), True
        in_zone = _lookup(self.zone, name) is not None
        if not in_zone and self.upstream is not None:
            try:
                upstream = await dns.asyncquery.udp(
                    query, self.upstream[0], port=self.upstream[1], timeout=5
                )
                return upstream.to_wire(), False
            except Exception:
                response.set_rcode(dns.rcode.SERVFAIL)
                return response.to_wire(), False
        code, rrsets = self._records(name)
        if code == "SILENT":
            return None, True
        if code in ("NXDOMAIN", "SERVFAIL", "REFUSED"):
            response.set_rcode(dns.rcode.from_text(code))
            return response.to_wire(), True
        for rr in rrsets:
            if rr.rdtype == q.rdtype or rr.rdtype == dns.rdatatype.CNAME:
                response.answer.append(rr)
        return response.to_wire(), True


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ashyq.servers.dns",
        description="Serve a static DNS zone over UDP (optionally lying or silent for names).",
    )
    parser.add_argument("--listen", default="127.0.0.1:5353", metavar="HOST:PORT")
    parser.add_argument("--zone", type=Path, help="JSON file: {name: [addrs] | 'NXDOMAIN' | ...}")
    parser.add_argument("--lie", action="append", default=[], metavar="NAME=IP")
    parser.add_argument("--lie-all", metavar="IP")
    parser.add_argument("--silent", action="append", default=[], metavar="NAME")
    parser.add_argument("--silent-all", action="store_true")
    parser.add_argument("--upstream", metavar="IP:PORT")
    parser.add_argument("--default", default="NXDOMAIN")
    args = parser.parse_args(argv)
    host, port = parse_hostport(args.listen, 53)
    zone = json.loads(args.zone.read_text()) if args.zone else {}
    lie = dict(item.split("=", 1) for item in args.lie)
    server = DNSServer(
        zone,
        host=host,
        port=port,
        lie=lie,
        lie_all=args.lie_all,
        silent=args.silent,
        silent_all=args.silent_all,
        upstream=parse_hostport(args.upstream, 53) if args.upstream else None,
        default=args.default,
    )

    async def _start() -> None:
        addr = await server.start_async()
        print(f"dns listening on {addr[0]}:{addr[1]}", flush=True)

    run_forever(_start)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
