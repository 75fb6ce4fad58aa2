"""Bogon addresses: private, loopback, link-local, reserved... never a public web site.

The list follows IANA's special-purpose registries (RFC 6890) as Python's ``ipaddress`` knows
them, plus 0.0.0.0/8 and the shared address space 100.64.0.0/10 (RFC 6598). Parsing is cached:
the same few addresses recur across millions of measurements.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

_SHARED = ipaddress.ip_network("100.64.0.0/10")

#: named kinds of bogon space, checked in order; the first that holds the address names it
_CLASSES: tuple[tuple[str, tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]], ...] = (
    (
        "documentation",  # RFC 5737, RFC 3849
        tuple(
            ipaddress.ip_network(n)
            for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")
        ),
    ),
    (
        "private",  # RFC 1918, RFC 4193
        tuple(
            ipaddress.ip_network(n)
            for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")
        ),
    ),
    ("shared", (_SHARED,)),  # RFC 6598, carrier-grade NAT
    ("benchmarking", (ipaddress.ip_network("198.18.0.0/15"),)),  # RFC 2544
)


@lru_cache(maxsize=65536)
def parse_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address in ``text`` (brackets and zone allowed), or None when it is not one."""
    if not isinstance(text, str):
        return None
    t = text.strip().strip("[]").split("%", 1)[0]
    try:
        return ipaddress.ip_address(t)
    except ValueError:
        return None


@lru_cache(maxsize=65536)
def is_bogon(text: str) -> bool:
    """True for addresses that cannot be a public server: RFC 1918, loopback, reserved..."""
    ip = parse_ip(text)
    if ip is None:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if isinstance(ip, ipaddress.IPv4Address) and ip in _SHARED:
        return True
    return bool(
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


@lru_cache(maxsize=65536)
def bogon_class(text: str) -> str | None:
    """The kind of bogon ``text`` is, or None for a public (or unreadable) address.

    Kinds: ``loopback``, ``unspecified``, ``link-local``, ``multicast``, ``documentation``,
    ``private``, ``shared``, ``benchmarking``, else ``reserved``. Two answers of the same kind
    come from the same kind of network (e.g. a private deployment that resolves its own sites
    to private addresses); answers of different kinds do not.
    """
    if not is_bogon(text):
        return None
    ip = parse_ip(text)
    if ip is None:  # pragma: no cover - is_bogon is False for these
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return "loopback"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    for name, nets in _CLASSES:
        if any(ip.version == n.version and ip in n for n in nets):
            return name
    return "reserved"


def split_endpoint(endpoint: str) -> tuple[str, int | None]:
    """'1.2.3.4:443' or '[::1]:443' -> (address, port)."""
    if endpoint.startswith("["):
        host, _, rest = endpoint[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    else:
        host, sep, port = endpoint.rpartition(":")
        if not sep or ":" in host:
            return endpoint, None
    try:
        return host, int(port)
    except ValueError:
        return host, None
