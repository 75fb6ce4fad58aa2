"""Network namespaces, veth pairs and the processes that run inside them.

Every name the lab creates starts with a per-run prefix ``aq<4 hex>-`` so concurrent runs never
collide and ``ashyq lab down`` can find leftovers. Nothing here touches the root namespace's
routes or nftables: links are moved into lab namespaces as soon as they are created.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

PREFIX_RE = re.compile(r"^aq[0-9a-f]{4}-")
STATE_ROOT = Path("/tmp/ashyq-lab")
_OPEN: set[Lab] = set()  # labs to remove at exit, whatever happens


class LabUnavailable(RuntimeError):
    """The machine cannot run the lab (not root, a tool missing); the message says why."""


def missing_requirements() -> list[str]:
    """What this machine lacks to run the lab, in plain words (empty when all is there)."""
    missing = []
    if os.geteuid() != 0:
        missing.append("root (network namespaces and nftables need root; run with sudo)")
    for tool, pkg in (("ip", "iproute2"), ("nft", "nftables"), ("tc", "iproute2")):
        if shutil.which(tool) is None:
            missing.append(f"the `{tool}` command (Debian package {pkg})")
    return missing


def require() -> None:
    missing = missing_requirements()
    if missing:
        raise LabUnavailable("the lab needs " + "; ".join(missing))


def new_prefix() -> str:
    seed = f"{os.getpid()}-{time.time_ns()}".encode()
    return "aq" + hashlib.sha256(seed).hexdigest()[:4] + "-"


def run(args: Sequence[str], *, input: str | None = None, check: bool = True) -> str:
    proc = subprocess.run(list(args), input=input, capture_output=True, text=True)
    if check and proc.returncode != 0:
        cmd = " ".join(args)
        raise RuntimeError(f"`{cmd}` failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc.stdout


def ns_exec(ns: str, args: Sequence[str], **kw) -> str:
    return run(["ip", "netns", "exec", ns, *args], **kw)


def list_namespaces() -> list[str]:
    out = run(["ip", "netns", "list"], check=False)
    return [line.split()[0] for line in out.splitlines() if line.strip()]


class Lab:
    """The namespaces, links and processes of one lab run; :meth:`close` removes them all."""

    def __init__(self, prefix: str | None = None) -> None:
        self.prefix = prefix or new_prefix()
        self.namespaces: list[str] = []
        self.procs: list[subprocess.Popen] = []
        self.state = STATE_ROOT / self.prefix.rstrip("-")
        self.state.mkdir(parents=True, exist_ok=True)
        (self.state / "owner").write_text(str(os.getpid()))
        self._closed = False
        _OPEN.add(self)

    # ---- namespaces and links

    def ns(self, short: str) -> str:
        name = self.prefix + short
        run(["ip", "netns", "add", name])
        self.namespaces.append(name)
        ns_exec(name, ["ip", "link", "set", "lo", "up"])
        # Namespaces start with forwarding off and no nftables rules: exactly what we want,
        # except that routers forward.
        return name

    def veth(self, ns_a: str, if_a: str, addr_a: str, ns_b: str, if_b: str, addr_b: str) -> None:
        a, b = self.prefix + if_a, self.prefix + if_b
        if len(a) > 15 or len(b) > 15:
            raise ValueError(f"interface name too long: {a} / {b}")
        run(
            [
                "ip",
                "link",
                "add",
                a,
                "netns",
                ns_a,
                "type",
                "veth",
                "peer",
                "name",
                b,
                "netns",
                ns_b,
            ]
        )
        for ns, ifname, addr in ((ns_a, a, addr_a), (ns_b, b, addr_b)):
            ns_exec(ns, ["ip", "addr", "add", addr, "dev", ifname])
            ns_exec(ns, ["ip", "link", "set", ifname, "up"])

    def iface(self, short: str) -> str:
        return self.prefix + short

    # ---- processes

    def spawn(
        self, ns: str, args: Sequence[str], *, log: str, env: dict[str, str] | None = None
    ) -> subprocess.Popen:
        """Start a process inside a namespace, in its own process group, logging to a file."""
        logf = open(self.state / log, "ab")  # noqa: SIM115 - kept open for the child
        proc = subprocess.Popen(
            ["ip", "netns", "exec", ns, *args],
            stdout=logf,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env={**os.environ, **(env or {})},
        )
        logf.close()
        self.procs.append(proc)
        return proc

    def python(self, ns: str, module: str, *args: str, log: str) -> subprocess.Popen:
        return self.spawn(ns, [sys.executable, "-m", module, *args], log=log)

    def log_tail(self, log: str, lines: int = 20) -> str:
        path = self.state / log
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    # ---- teardown

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        _OPEN.discard(self)
        for proc in self.procs:
            _kill_group(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 3
        for proc in self.procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.05, deadline - time.monotonic()))
            if proc.poll() is None:
                _kill_group(proc.pid, signal.SIGKILL)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=2)
        for ns in reversed(self.namespaces):
            remove_namespace(ns)
        shutil.rmtree(self.state, ignore_errors=True)

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@atexit.register
def _close_all() -> None:
    for lab in list(_OPEN):
        lab.close()


def install_signal_handlers() -> None:
    """Turn SIGTERM and SIGHUP into SystemExit so that `finally` blocks remove the lab."""

    def handler(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    for sig in (signal.SIGTERM, signal.SIGHUP):
        with contextlib.suppress(ValueError):  # not in the main thread
            signal.signal(sig, handler)


def _kill_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def remove_namespace(ns: str) -> None:
    """Kill every process inside a namespace, then delete it (its veths go with it)."""
    pids = run(["ip", "netns", "pids", ns], check=False).split()
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pid), signal.SIGKILL)
    run(["ip", "netns", "del", ns], check=False)


def owner_alive(prefix: str) -> bool:
    """True while the process that made the run `prefix` is still running."""
    try:
        pid = int((STATE_ROOT / prefix.rstrip("-") / "owner").read_text())
    except (OSError, ValueError):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def down(prefix: str | None = None, *, everything: bool = False) -> list[str]:
    """Remove leftovers of earlier runs: lab namespaces (and their processes) whose run is
    over, i.e. whose owner process has died. ``everything`` also removes running labs."""
    removed = []
    for ns in list_namespaces():
        m = PREFIX_RE.match(ns)
        if not m or (prefix is not None and not ns.startswith(prefix)):
            continue
        if not everything and owner_alive(m.group(0)):
            continue
        remove_namespace(ns)
        removed.append(ns)
    if STATE_ROOT.is_dir():
        for d in STATE_ROOT.iterdir():
            if prefix is not None and d.name != prefix.rstrip("-"):
                continue
            if everything or not owner_alive(d.name + "-"):
                shutil.rmtree(d, ignore_errors=True)
    return removed
