"""What a censor's deep packet inspection reads: the TLS ClientHello SNI and the HTTP Host.

Pure functions over the first bytes a client sends; the middlebox feeds them what it has read
so far and learns either the name, that it needs more bytes, or that the stream is neither TLS
nor HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["tls", "http", "other"]

# A ClientHello larger than this is not worth waiting for (real ones are < 2 KiB, with
# post-quantum key shares < 4 KiB).
MAX_PEEK = 16 * 1024


@dataclass(frozen=True, slots=True)
class Sniffed:
    kind: Kind
    name: str | None  # SNI or Host, lower case, without port; None when absent
    complete: bool  # False: more bytes are needed to decide


NEED_MORE_TLS = Sniffed("tls", None, False)
NEED_MORE_HTTP = Sniffed("http", None, False)

_HTTP_METHODS = (b"GET ", b"POST ", b"HEAD ", b"PUT ", b"DELETE ", b"OPTIONS ", b"PATCH ")


def sniff(data: bytes) -> Sniffed:
    """Classify the first bytes of a client stream and extract the name a censor keys on."""
    if not data:
        return Sniffed("other", None, False)
    if data[0] == 0x16:
        return _sniff_tls(data)
    if any(m.startswith(data[: len(m)]) or data.startswith(m) for m in _HTTP_METHODS):
        return _sniff_http(data)
    return Sniffed("other", None, True)


def _sniff_http(data: bytes) -> Sniffed:
    end = data.find(b"\r\n\r\n")
    if end < 0:
        if len(data) >= MAX_PEEK:
            return Sniffed("http", None, True)
        return NEED_MORE_HTTP
    for line in data[:end].split(b"\r\n")[1:]:
        key, sep, value = line.partition(b":")
        if sep and key.strip().lower() == b"host":
            host = value.strip().decode("latin-1").lower()
            host = host.split("]")[0] + "]" if host.startswith("[") else host.split(":")[0]
            return Sniffed("http", host.rstrip(".") or None, True)
    return Sniffed("http", None, True)


def _sniff_tls(data: bytes) -> Sniffed:
    # Reassemble handshake bytes from one or more TLS records.
    handshake = bytearray()
    pos = 0
    while pos + 5 <= len(data):
        if data[pos] != 0x16:
            return Sniffed("tls", None, True)
        length = int.from_bytes(data[pos + 3 : pos + 5], "big")
        handshake += data[pos + 5 : pos + 5 + length]
        pos += 5 + length
        if len(handshake) >= 4:
            needed = 4 + int.from_bytes(handshake[1:4], "big")
            if len(handshake) >= needed:
                return Sniffed("tls", _client_hello_sni(bytes(handshake[:needed])), True)
    if len(data) >= MAX_PEEK:
        return Sniffed("tls", None, True)
    return NEED_MORE_TLS


def _client_hello_sni(msg: bytes) -> str | None:
    """The server_name of a complete ClientHello handshake message, or None."""
    if len(msg) < 4 or msg[0] != 0x01:
        return None
    p = 4 + 2 + 32  # type+len, legacy_version, random
    try:
        p += 1 + msg[p]  # session id
        p += 2 + int.from_bytes(msg[p : p + 2], "big")  # cipher suites
        p += 1 + msg[p]  # compression methods
        if p + 2 > len(msg):
            return None
        ext_end = p + 2 + int.from_bytes(msg[p : p + 2], "big")
        p += 2
        while p + 4 <= min(ext_end, len(msg)):
            ext_type = int.from_bytes(msg[p : p + 2], "big")
            ext_len = int.from_bytes(msg[p + 2 : p + 4], "big")
            body = msg[p + 4 : p + 4 + ext_len]
            p += 4 + ext_len
            if ext_type != 0:
                continue
            q = 2  # server_name_list length
            while q + 3 <= len(body):
                name_type = body[q]
                name_len = int.from_bytes(body[q + 1 : q + 3], "big")
                name = body[q + 3 : q + 3 + name_len]
                q += 3 + name_len
                if name_type == 0:
                    return name.decode("ascii", "replace").lower().rstrip(".")
            return None
    except IndexError:
        return None
    return None


def name_matches(name: str | None, patterns: tuple[str, ...] | list[str]) -> bool:
    """True when `name` is one of `patterns` or a subdomain of one (``www.x.kz`` matches x.kz)."""
    if not name:
        return False
    name = name.lower().rstrip(".")
    for pat in patterns:
        pat = pat.lower().rstrip(".")
        if name == pat or name.endswith("." + pat):
            return True
    return False
