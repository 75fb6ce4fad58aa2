"""TCP connect: one OONI ``tcp_connect`` entry per endpoint, plus a ``connect`` network event."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ashyq.probe.errors import FailureError, classify
from ashyq.probe.privacy import remember_local
from ashyq.probe.trace import Trace, endpoint

BOGON_REFUSED = "unknown_failure: refusing to connect to a bogon address"

ConnectPolicy = Callable[[str], bool]


@dataclass
class Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    ip: str
    port: int

    def close(self) -> None:
        self.writer.transport.abort()


async def connect(
    ip: str,
    port: int,
    trace: Trace,
    timeout: float,
    *,
    tags: list[str] | None = None,
    policy: ConnectPolicy | None = None,
) -> tuple[dict[str, Any], Connection | None]:
    """Connect to ip:port; return (OONI tcp_connect entry, connection or None)."""
    tid = trace.transaction()
    t0 = trace.now()
    conn: Connection | None = None
    failure: str | None = None
    try:
        if policy is not None and not policy(ip):
            raise FailureError(BOGON_REFUSED)
        family = socket.AF_INET6 if ":" in ip else socket.AF_INET
        async with asyncio.timeout(timeout):  # cheaper than wait_for: no extra task
            reader, writer = await asyncio.open_connection(ip, port, family=family, limit=2**20)
        conn = Connection(reader, writer, ip, port)
        sockname = writer.get_extra_info("sockname")
        if sockname:
            remember_local(str(sockname[0]))
    except Exception as exc:
        failure = classify(exc)
    entry = {
        "ip": ip,
        "port": port,
        "status": {"failure": failure, "success": failure is None},
        "t0": t0,
        "t": trace.now(),
        "tags": list(tags or []),
        "transaction_id": tid,
    }
    trace.event(
        "connect",
        t0,
        address=endpoint(ip, port),
        failure=failure,
        transaction_id=tid,
        tags=tags,
    )
    return entry, conn
