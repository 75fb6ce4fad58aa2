"""Bogon addresses: private, loopback, link-local, reserved... never a public web site.

The list follows IANA's special-purpose registries (RFC 6890) as Python's ``ipaddress`` knows
them, plus 0.0.0.0/8 and the shared address space 100.64.0.0/10 (RFC 6598). Parsing is cached:
the same few addresses recur across millions of measurements.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

_SHARED = ipaddress.ip_network("100.64.0.0/10")


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
