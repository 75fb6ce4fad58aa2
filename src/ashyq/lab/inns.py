"""Run Python code inside a network namespace, from a thread of this process.

``setns(2)`` with ``CLONE_NEWNET`` only changes the calling thread, so a fresh thread can enter a
lab namespace, open sockets there (they stay in that namespace) and return results, without
starting a new interpreter. Used to wait for servers and by the tests of the censor rules.
"""

from __future__ import annotations

import ctypes
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def enter(ns: str) -> None:
    """Move the calling thread into namespace `ns` (only call from a dedicated thread)."""
    fd = os.open(f"/run/netns/{ns}", os.O_RDONLY)
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns({ns}): {os.strerror(err)}")
    finally:
        os.close(fd)


def run_in(ns: str, fn: Callable[..., T], *args: Any, timeout: float | None = None) -> T:
    """Call ``fn(*args)`` in a new thread inside namespace `ns` and return its result."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            enter(ns)
            box["value"] = fn(*args)
        except BaseException as exc:
            box["error"] = exc

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive():
        raise TimeoutError(f"{getattr(fn, '__name__', fn)} in {ns} did not finish in {timeout}s")
    if "error" in box:
        raise box["error"]
    return box["value"]


def wait_tcp(ns: str, host: str, port: int, timeout: float = 60.0) -> None:
    """Wait until something accepts TCP connections at host:port inside `ns`."""

    def probe() -> None:
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((host, port), timeout=1):
                    return
            except OSError as exc:
                last = exc
                time.sleep(0.1)
        raise TimeoutError(f"nothing listens on {host}:{port} in {ns}: {last}")

    run_in(ns, probe)


def wait_udp_dns(ns: str, host: str, port: int, name: str, timeout: float = 60.0) -> None:
    """Wait until a DNS server at host:port inside `ns` answers a query for `name`."""
    import dns.message
    import dns.query

    def probe() -> None:
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            try:
                q = dns.message.make_query(name, "A")
                dns.query.udp(q, host, port=port, timeout=0.5)
                return
            except Exception as exc:
                last = exc
                time.sleep(0.1)
        raise TimeoutError(f"no DNS answer from {host}:{port} in {ns}: {last}")

    run_in(ns, probe)
