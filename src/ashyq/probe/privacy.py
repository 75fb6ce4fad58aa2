"""Keep the probe's own addresses out of what it writes.

Every measured connection reports its local address; the non-loopback ones are remembered and
replaced by ``[scrubbed]`` wherever they appear in a measurement (a page that echoes "your IP is
..." for instance), as OONI Probe scrubs its IP. An address the probe cannot see — a public
address behind NAT — cannot be scrubbed this way; ``probe_ip`` is always ``127.0.0.1``.
"""

from __future__ import annotations

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


def scrub_text(text: str, addresses: frozenset[str] | set[str]) -> str:
    """Replace each address (as a whole token, not inside a longer number) by ``[scrubbed]``."""
    for addr in sorted(addresses, key=len, reverse=True):
        pattern = r"(?<![\w.:])" + re.escape(addr) + r"(?![\w:]|\.\d)"
        text = re.sub(pattern, SCRUBBED, text)
    return text


def scrub(measurement: dict[str, Any], addresses: frozenset[str] | set[str] | None = None) -> Any:
    """A copy of ``measurement`` with the probe's own addresses replaced in every string."""
    addrs = local_addresses() if addresses is None else addresses
    if not addrs:
        return measurement

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            return scrub_text(value, addrs) if any(a in value for a in addrs) else value
        if isinstance(value, dict):
            return {walk(k): walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    return walk(measurement)
