"""The probe's DNS wire codec agrees with dnspython on the answers a measurement records."""

from __future__ import annotations

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest

from ashyq.probe import dnswire


def _response(q: dnswire.Query, name: str, rcode: int = 0, rrsets=(), id_delta=0) -> bytes:
    query = dns.message.from_wire(q.wire)
    resp = dns.message.make_response(query)
    resp.id = (resp.id + id_delta) % 65536
    resp.set_rcode(rcode)
    for owner, ttl, rdtype, values in rrsets:
        resp.answer.append(dns.rrset.from_text_list(owner, ttl, "IN", rdtype, values))
    return resp.to_wire()


def _dnspython_view(wire: bytes, qtype: str) -> tuple[int, list[tuple[int, int, str]]]:
    m = dns.message.from_wire(wire)
    rd = dns.rdatatype.from_text(qtype)
    recs = [
        (int(rr.rdtype), rr.ttl, r.to_text().rstrip("."))
        for rr in m.answer
        if rr.rdtype in (rd, dns.rdatatype.CNAME)
        for r in rr
    ]
    return m.rcode(), recs


@pytest.mark.parametrize(
    ("qtype", "rrsets", "rcode"),
    [
        ("A", [("vlast.kz.", 60, "A", ["95.56.1.1", "95.56.1.2"])], 0),
        (
            "A",
            [
                ("vlast.kz.", 300, "CNAME", ["edge.cdn.example."]),
                ("edge.cdn.example.", 20, "A", ["2.16.1.1"]),
            ],
            0,
        ),
        ("AAAA", [("vlast.kz.", 60, "AAAA", ["2a00:1450:4001::200e", "::ffff:1.2.3.4"])], 0),
        ("AAAA", [("vlast.kz.", 60, "A", ["95.56.1.1"])], 0),  # wrong type: not an address
        ("A", [], dns.rcode.NXDOMAIN),
        ("A", [], dns.rcode.REFUSED),
        ("A", [], 0),
    ],
)
def test_agrees_with_dnspython(qtype, rrsets, rcode):
    q = dnswire.build_query("VLast.kz", qtype)
    assert q is not None
    wire = _response(q, "vlast.kz.", rcode, rrsets)
    ans = dnswire.parse_answer(wire, q)
    assert ans is not None
    assert (ans.rcode, ans.records) == _dnspython_view(wire, qtype)


def test_not_our_answer_and_garbage():
    q = dnswire.build_query("vlast.kz", "A")
    other = dnswire.build_query("other.kz", "A")
    assert q is not None and other is not None
    rr = [("vlast.kz.", 60, "A", ["95.56.1.1"])]
    assert dnswire.parse_answer(_response(q, "vlast.kz.", 0, rr, id_delta=1), q) is None
    other.id = q.id
    assert dnswire.parse_answer(_response(other, "other.kz.", 0, []), q) is None
    assert dnswire.parse_answer(q.wire, q) is None  # the query itself (QR bit clear)
    good = _response(q, "vlast.kz.", 0, rr)
    for cut in (5, 20, len(good) - 2):
        with pytest.raises(dnswire.WireError):
            dnswire.parse_answer(good[:cut], q)
    loop = bytearray(good[:12]) + b"\xc0\x0c" + b"\x00\x01\x00\x01"
    with pytest.raises(dnswire.WireError):
        dnswire.parse_answer(bytes(loop), q)


def test_names_left_to_dnspython():
    assert dnswire.build_query("казахстан.kz", "A") is None  # IDNA
    assert dnswire.build_query("a" * 64 + ".kz", "A") is None
    assert dnswire.build_query("a..kz", "A") is None
    q = dnswire.build_query("vlast.kz.", "AAAA")
    assert q is not None and dns.message.from_wire(q.wire).question[0].rdtype == 28
    assert dns.message.from_wire(q.wire).flags & dns.flags.RD


def test_system_resolver_threads_follow_the_concurrency():
    """getaddrinfo runs in its own pool, never asyncio's default one (6 threads on 2 cores),
    and the pool grows with the run's concurrency."""
    import asyncio

    from ashyq.probe import dns as pdns
    from ashyq.probe.trace import Trace

    pdns.reserve_gai_threads(150)
    pool = pdns._gai_pool()
    assert pool._max_workers >= 300

    async def many() -> list[pdns.Lookup]:
        trace = Trace()
        return await asyncio.gather(*(pdns.system_lookup("localhost", trace, 5) for _ in range(40)))

    results = asyncio.run(many())
    assert all("127.0.0.1" in r.addrs or "::1" in r.addrs for r in results)
