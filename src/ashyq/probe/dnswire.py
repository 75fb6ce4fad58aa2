"""DNS wire format for the probe's A/AAAA queries: building a query, reading an answer.

Only what a measurement needs (RFC 1035 header, question, answer records, name compression);
it costs a few microseconds where a general DNS library costs a few hundred, which matters when
hundreds of lookups run at once. Anything unusual (non-ASCII names, which need IDNA) is left to
dnspython by the caller.
"""

from __future__ import annotations

import secrets
import socket
import struct
from dataclasses import dataclass, field

TYPES = {"A": 1, "AAAA": 28}
CNAME = 5
CLASS_IN = 1
NOERROR, FORMERR, SERVFAIL, NXDOMAIN, NOTIMP, REFUSED = 0, 1, 2, 3, 4, 5


class WireError(ValueError):
    """Not a well-formed DNS message."""


@dataclass
class Query:
    id: int
    qname: bytes  # wire form, lower-cased
    qtype: int
    wire: bytes


@dataclass
class Answer:
    rcode: int
    records: list[tuple[int, int, str]] = field(default_factory=list)  # (type, ttl, text)


def build_query(hostname: str, qtype: str) -> Query | None:
    """A recursive query for ``hostname``; None when the name needs more than ASCII labels."""
    name = hostname.rstrip(".")
    if not name or not name.isascii():
        return None
    labels = name.split(".")
    out = bytearray()
    for label in labels:
        raw = label.encode()
        if not raw or len(raw) > 63:
            return None
        out.append(len(raw))
        out += raw
    out.append(0)
    if len(out) > 255:
        return None
    qid = secrets.randbelow(65536)
    code = TYPES[qtype]
    header = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)  # RD
    wire = header + bytes(out) + struct.pack("!HH", code, CLASS_IN)
    return Query(qid, bytes(out).lower(), code, wire)


def _name(data: bytes, pos: int) -> tuple[bytes, int]:
    """A (possibly compressed) name at ``pos``: (wire form, position after it)."""
    out = bytearray()
    end = -1
    jumps = 0
    while True:
        if pos >= len(data):
            raise WireError("name runs past the end")
        n = data[pos]
        if n & 0xC0 == 0xC0:
            if pos + 1 >= len(data):
                raise WireError("truncated pointer")
            if end < 0:
                end = pos + 2
            jumps += 1
            if jumps > 64:
                raise WireError("name pointer loop")
            pos = ((n & 0x3F) << 8) | data[pos + 1]
            continue
        if n & 0xC0:
            raise WireError("unknown label type")
        if n == 0:
            out.append(0)
            if len(out) > 255:
                raise WireError("name too long")
            return bytes(out), (end if end >= 0 else pos + 1)
        if pos + 1 + n > len(data):
            raise WireError("label runs past the end")
        out += data[pos : pos + 1 + n]
        pos += 1 + n


def name_text(wire: bytes) -> str:
    """Presentation form without the final dot (``\\DDD`` escapes, as dnspython writes)."""
    labels = []
    pos = 0
    while wire[pos]:
        n = wire[pos]
        label = wire[pos + 1 : pos + 1 + n]
        text = []
        for b in label:
            if b in b'."\\()@$;':
                text.append("\\" + chr(b))
            elif 0x21 <= b <= 0x7E:
                text.append(chr(b))
            else:
                text.append(f"\\{b:03d}")
        labels.append("".join(text))
        pos += 1 + n
    return ".".join(labels)


def parse_answer(data: bytes, query: Query) -> Answer | None:
    """The answer to ``query`` in ``data``; None when ``data`` does not answer it (wrong ID,
    not a response, other question). Raises :class:`WireError` for a malformed message."""
    if len(data) < 12:
        raise WireError("shorter than a DNS header")
    qid, flags, qd, an, _ns, _ar = struct.unpack_from("!HHHHHH", data)
    if qid != query.id or not flags & 0x8000 or (flags >> 11) & 0xF != 0:
        return None
    rcode = flags & 0xF
    pos = 12
    if qd == 0:
        # a server may drop the question when it refuses or fails (as dnspython accepts)
        if rcode not in (FORMERR, SERVFAIL, NOTIMP, REFUSED):
            return None
    elif qd != 1:
        return None
    else:
        qname, pos = _name(data, pos)
        if pos + 4 > len(data):
            raise WireError("truncated question")
        qtype, qclass = struct.unpack_from("!HH", data, pos)
        pos += 4
        if qname.lower() != query.qname or qtype != query.qtype or qclass != CLASS_IN:
            return None
    out = Answer(rcode)
    for _ in range(an):
        _owner, pos = _name(data, pos)
        if pos + 10 > len(data):
            raise WireError("truncated record")
        rtype, _rclass, ttl, rdlen = struct.unpack_from("!HHIH", data, pos)
        pos += 10
        if pos + rdlen > len(data):
            raise WireError("record data runs past the end")
        rdata = data[pos : pos + rdlen]
        if rtype == query.qtype == 1:
            if rdlen != 4:
                raise WireError("bad A record")
            out.records.append((rtype, ttl, socket.inet_ntop(socket.AF_INET, rdata)))
        elif rtype == query.qtype == 28:
            if rdlen != 16:
                raise WireError("bad AAAA record")
            out.records.append((rtype, ttl, socket.inet_ntop(socket.AF_INET6, rdata)))
        elif rtype == CNAME:
            target, after = _name(data, pos)
            if after > pos + rdlen:
                raise WireError("bad CNAME record")
            out.records.append((rtype, ttl, name_text(target)))
        pos += rdlen
    return out
