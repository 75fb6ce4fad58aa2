"""DNS lookups: the system resolver (getaddrinfo) and DNS over UDP (OONI ``queries`` entries)."""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import functools
import ipaddress
import socket
from dataclasses import dataclass, field
from typing import Any

import dns.message
import dns.rcode
import dns.rdatatype

from ashyq.probe import dnswire
from ashyq.probe.errors import (
    DNS_NO_ANSWER,
    DNS_NXDOMAIN,
    DNS_REFUSED,
    DNS_SERVER_MISBEHAVING,
    classify,
)
from ashyq.probe.trace import Trace, endpoint

_POOL: concurrent.futures.ThreadPoolExecutor | None = None
_POOL_SIZE = 64


def reserve_gai_threads(concurrency: int) -> None:
    """Make sure the getaddrinfo pool has room for ``concurrency`` URLs at once (each may
    wait on the system resolver while its redirect hops look up more names)."""
    global _POOL, _POOL_SIZE
    want = max(64, 2 * concurrency)
    if want > _POOL_SIZE:
        _POOL_SIZE = want
        old, _POOL = _POOL, None
        if old is not None:
            old.shutdown(wait=False)  # running lookups finish; new ones go to the new pool


def _gai_pool() -> concurrent.futures.ThreadPoolExecutor:
    """Threads for getaddrinfo, separate from asyncio's small default pool (min(32, cpus + 4)
    threads: 6 on two cores): a black-holed resolver keeps a thread busy for its own
    timeout, and a shared pool that fills up would make later lookups wait or look like
    timeouts too. Threads start only when needed."""
    global _POOL
    if _POOL is None:
        _POOL = concurrent.futures.ThreadPoolExecutor(_POOL_SIZE, thread_name_prefix="ashyq-gai")
    return _POOL


@dataclass
class Lookup:
    entries: list[dict[str, Any]] = field(default_factory=list)  # OONI queries entries
    addrs: list[str] = field(default_factory=list)
    failure: str | None = None


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _answer(addr: str, ttl: int | None = None) -> dict[str, Any]:
    if ":" in addr:
        return {"answer_type": "AAAA", "ipv6": addr, "ttl": ttl, "asn": 0, "as_org_name": ""}
    return {"answer_type": "A", "ipv4": addr, "ttl": ttl, "asn": 0, "as_org_name": ""}


def _entry(
    hostname: str,
    engine: str,
    query_type: str,
    resolver: str,
    t0: float,
    t: float,
    tid: int,
    failure: str | None,
    answers: list[dict[str, Any]],
    raw: bytes | None = None,
    tags: list[str] | None = None,
) -> dict[str, Any]:
    return {
        "answers": answers or None,
        "engine": engine,
        "failure": failure,
        "hostname": hostname,
        "query_type": query_type,
        "raw_response": base64.b64encode(raw).decode() if raw else None,
        "resolver_hostname": None,
        "resolver_port": None,
        "resolver_address": resolver,
        "t0": t0,
        "t": t,
        "tags": list(tags or []),
        "transaction_id": tid,
    }


async def system_lookup(
    hostname: str, trace: Trace, timeout: float, tags: list[str] | None = None
) -> Lookup:
    """getaddrinfo, as OONI's ``getaddrinfo`` engine (query_type ``ANY``)."""
    tid = trace.transaction()
    t0 = trace.now()
    loop = asyncio.get_running_loop()
    failure = None
    addrs: list[str] = []
    try:
        infos = await asyncio.wait_for(
            loop.run_in_executor(
                _gai_pool(),
                functools.partial(socket.getaddrinfo, hostname, 443, type=socket.SOCK_STREAM),
            ),
            timeout,
        )
        for info in infos:
            addr = str(info[4][0])
            if addr not in addrs:
                addrs.append(addr)
        if not addrs:
            failure = DNS_NO_ANSWER
    except Exception as exc:
        failure = classify(exc)
    t = trace.now()
    trace.event("resolve_done", t0, failure=failure, transaction_id=tid, tags=tags, proto="system")
    entry = _entry(
        hostname, "getaddrinfo", "ANY", "", t0, t, tid, failure, [_answer(a) for a in addrs], None
    )
    entry["tags"] = list(tags or [])
    return Lookup([entry], addrs, failure)


class _Answer(asyncio.DatagramProtocol):
    """Waits for the first datagram that answers the query (same ID and question)."""

    def __init__(self, query: dns.message.Message) -> None:
        self.query = query
        self.done: asyncio.Future[tuple[bytes, dns.message.Message]] = (
            asyncio.get_running_loop().create_future()
        )

    def datagram_received(self, data: bytes, addr: Any) -> None:
        if self.done.done() or data[:2] != self.query.id.to_bytes(2, "big"):
            return
        try:
            message = dns.message.from_wire(data)
            if not self.query.is_response(message):
                return
        except Exception:
            return  # not an answer to us: keep waiting, as dnspython does
        self.done.set_result((data, message))

    def error_received(self, exc: Exception) -> None:
        if not self.done.done():
            self.done.set_exception(exc)


async def exchange_udp(
    query: dns.message.Message, resolver: tuple[str, int], timeout: float
) -> tuple[bytes, dns.message.Message]:
    """Send a query over UDP and return the raw bytes of its answer (kept for OONI's
    ``raw_response`` without re-encoding)."""
    loop = asyncio.get_running_loop()
    family = socket.AF_INET6 if ":" in resolver[0] else socket.AF_INET
    transport, proto = await loop.create_datagram_endpoint(
        lambda: _Answer(query), remote_addr=resolver, family=family
    )
    try:
        transport.sendto(query.to_wire())
        return await asyncio.wait_for(proto.done, timeout)
    finally:
        transport.close()


class _WireAnswer(asyncio.DatagramProtocol):
    """Waits for the first datagram that answers the query (same ID and question)."""

    def __init__(self, query: dnswire.Query) -> None:
        self.query = query
        self.done: asyncio.Future[tuple[bytes, dnswire.Answer]] = (
            asyncio.get_running_loop().create_future()
        )

    def datagram_received(self, data: bytes, addr: Any) -> None:
        if self.done.done():
            return
        try:
            answer = dnswire.parse_answer(data, self.query)
        except dnswire.WireError:
            return  # not an answer to us: keep waiting, as dnspython does
        if answer is not None:
            self.done.set_result((data, answer))

    def error_received(self, exc: Exception) -> None:
        if not self.done.done():
            self.done.set_exception(exc)


async def exchange_udp_wire(
    query: dnswire.Query, resolver: tuple[str, int], timeout: float
) -> tuple[bytes, dnswire.Answer]:
    """Send a query over UDP; return the raw bytes of its answer and what they say."""
    loop = asyncio.get_running_loop()
    family = socket.AF_INET6 if ":" in resolver[0] else socket.AF_INET
    transport, proto = await loop.create_datagram_endpoint(
        lambda: _WireAnswer(query), remote_addr=resolver, family=family
    )
    try:
        transport.sendto(query.wire)
        return await asyncio.wait_for(proto.done, timeout)
    finally:
        transport.close()


async def udp_query(
    hostname: str,
    qtype: str,
    resolver: tuple[str, int],
    trace: Trace,
    timeout: float,
    tags: list[str] | None = None,
) -> tuple[dict[str, Any], list[str], str | None]:
    """One DNS-over-UDP query; returns (OONI entry, addresses, failure)."""
    tid = trace.transaction()
    t0 = trace.now()
    failure: str | None = None
    addrs: list[str] = []
    answers: list[dict[str, Any]] = []
    raw: bytes | None = None
    try:
        fast = dnswire.build_query(hostname, qtype)
        if fast is not None:
            raw, parsed = await exchange_udp_wire(fast, resolver, timeout)
            rcode = parsed.rcode
            records = [(rtype == dnswire.CNAME, text, ttl) for rtype, ttl, text in parsed.records]
        else:  # names that need IDNA: dnspython encodes them
            rdtype = dns.rdatatype.from_text(qtype)
            query = dns.message.make_query(hostname, rdtype)
            raw, response = await exchange_udp(query, resolver, timeout)
            rcode = response.rcode()
            records = [
                (rrset.rdtype == dns.rdatatype.CNAME, rd.to_text().rstrip("."), rrset.ttl)
                for rrset in response.answer
                if rrset.rdtype in (rdtype, dns.rdatatype.CNAME)
                for rd in rrset
            ]
        if rcode == dns.rcode.NXDOMAIN:
            failure = DNS_NXDOMAIN
        elif rcode == dns.rcode.REFUSED:
            failure = DNS_REFUSED
        elif rcode != dns.rcode.NOERROR:
            failure = DNS_SERVER_MISBEHAVING
        else:
            for is_cname, text, ttl in records:
                if is_cname:
                    answers.append({"answer_type": "CNAME", "hostname": text, "ttl": ttl})
                else:
                    addrs.append(text)
                    answers.append(_answer(text, ttl))
            if not addrs:
                failure = DNS_NO_ANSWER
    except Exception as exc:
        failure = classify(exc)
    t = trace.now()
    address = endpoint(*resolver)
    trace.event(
        "resolve_done",
        t0,
        address=address,
        failure=failure,
        transaction_id=tid,
        tags=tags,
        proto="udp",
    )
    return (
        _entry(hostname, "udp", qtype, address, t0, t, tid, failure, answers, raw, tags),
        addrs,
        failure,
    )


async def udp_lookup(
    hostname: str,
    resolver: tuple[str, int],
    trace: Trace,
    timeout: float,
    tags: list[str] | None = None,
) -> Lookup:
    """A and AAAA over UDP in parallel. The lookup fails only when both queries fail."""
    results = await asyncio.gather(
        udp_query(hostname, "A", resolver, trace, timeout, tags),
        udp_query(hostname, "AAAA", resolver, trace, timeout, tags),
    )
    out = Lookup()
    for entry, addrs, _failure in results:
        out.entries.append(entry)
        out.addrs.extend(a for a in addrs if a not in out.addrs)
    if not out.addrs:
        a_failure = results[0][2]
        aaaa_failure = results[1][2]
        # NXDOMAIN wins over a missing AAAA; otherwise report the A query's failure
        out.failure = a_failure or aaaa_failure
        if DNS_NXDOMAIN in (a_failure, aaaa_failure):
            out.failure = DNS_NXDOMAIN
    return out
