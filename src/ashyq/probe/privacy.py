"""Keep the probe's own addresses out of what it writes.

Every measured connection reports its local address; the non-loopback ones are remembered and
replaced by ``[scrubbed]`` wherever they appear in a measurement (a page that echoes "your IP is
..." for instance), as OONI Probe scrubs its IP. An address the probe cannot see — a public
address behind NAT — cannot be scrubbed this way; ``probe_ip`` is always ``127.0.0.1``.
"""

from __future__ import annotations

import base64
import ipaddress
import re
from typing import Any

SCRUBBED = "[scrubbed]"
_LOCAL: set[str] = set()


def remember_local(address: str) -> None:
    """Note a local address seen on one of the probe's own sockets."""
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return
    if ip.is_loopback or ip.is_unspecified:
        return
    _LOCAL.add(str(ip))


def local_addresses() -> frozenset[str]:
    return frozenset(_LOCAL)


def _forms(addresses: frozenset[str] | set[str]) -> list[str]:
    """Every written form of the addresses, lower case, longest first: IPv6 compressed,
    uncompressed and fully exploded (upper case is matched by ignoring case)."""
    out: set[str] = set()
    for a in addresses:
        out.add(a.lower())
        try:
            ip = ipaddress.ip_address(a)
        except ValueError:
            continue
        out.add(str(ip))
        if ip.version == 6:
            out.add(ip.exploded)
            out.add(":".join(f"{int(group, 16):x}" for group in ip.exploded.split(":")))
    return sorted(out, key=len, reverse=True)


def scrub_text(text: str, addresses: frozenset[str] | set[str] | list[str]) -> str:
    """Replace each address (as a whole token, not inside a longer number) by ``[scrubbed]``,
    in any of its written forms and whatever its case."""
    for form in _forms(set(addresses)):
        pattern = r"(?<![\w.:])" + re.escape(form) + r"(?![\w:]|\.\d)"
        text = re.sub(pattern, SCRUBBED, text, flags=re.IGNORECASE)
    return text


def scrub(measurement: dict[str, Any], addresses: frozenset[str] | set[str] | None = None) -> Any:
    """A copy of ``measurement`` with the probe's own addresses replaced in every string,
    including bodies stored as base64 (a page in a legacy encoding that echoes the address)."""
    addrs = local_addresses() if addresses is None else addresses
    if not addrs:
        return measurement
    forms = _forms(addrs)

    def found(text: str) -> bool:
        low = text.lower()
        return any(f in low for f in forms)

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            return scrub_text(value, addrs) if found(value) else value
        if isinstance(value, dict):
            if value.get("format") == "base64" and isinstance(value.get("data"), str):
                return {**value, "data": _scrub_base64(value["data"], addrs, found)}
            return {walk(k): walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    return walk(measurement)


def _scrub_base64(data: str, addrs: frozenset[str] | set[str], found: Any) -> str:
    try:
        raw = base64.b64decode(data, validate=True)
    except ValueError:
        return data
    text = raw.decode("latin-1")  # addresses are ASCII in every byte-oriented encoding
    if not found(text):
        return data
    return base64.b64encode(scrub_text(text, addrs).encode("latin-1")).decode("ascii")
