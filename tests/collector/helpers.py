"""Run a real collector process on loopback, and make measurements."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any


def measurement(i: int, tag: str = "m", **extra: Any) -> dict[str, Any]:
    m = {
        "test_name": "web_connectivity",
        "probe_cc": "KZ",
        "probe_asn": "AS9198",
        "probe_ip": "192.0.2.7",
        "report_id": f"20240509T000000Z_webconnectivity_KZ_9198_n1_{tag}",
        "input": f"https://site{i}.kz/",
        "measurement_start_time": (
            f"2024-05-09 {i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}"
        ),
        "annotations": {"region": "Almaty"},
        "test_keys": {"queries": [], "requests": []},
    }
    m.update(extra)
    return m


class Collector:
    def __init__(self, data: Path, port: int = 0, open_access: bool = True) -> None:
        args = [
            sys.executable,
            "-m",
            "ashyq",
            "collector",
            "serve",
            "--data",
            str(data),
            "--listen",
            f"127.0.0.1:{port}",
            "--events-every",
            "3600",
        ]
        if open_access:
            args.append("--open")
        # its log goes to a file beside the data (a pipe nobody reads could fill up and stall it)
        self.log = Path(data).parent / f"collector-{time.monotonic_ns()}.log"
        self.proc = subprocess.Popen(
            args,
            stdout=subprocess.PIPE,
            stderr=open(self.log, "w"),  # noqa: SIM115 - the child holds it
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        seen = []
        for _ in range(20):  # the first line that says where it listens (others are kept)
            line = self.proc.stdout.readline()
            seen.append(line)
            if "listening on" in line or not line:
                break
        if "listening on" not in line:
            self.proc.kill()
            self.proc.wait(10)
            raise RuntimeError(f"collector did not start: {seen!r} {self.log.read_text()}")
        self.url = line.split("listening on ")[1].split()[0]
        self.port = int(self.url.rsplit(":", 1)[1])

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)  # it loads what is left before it exits
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(30)


def post(
    url: str,
    body: Any,
    token: str | None = None,
    raw: bytes | None = None,
    content_type: str = "application/json",
) -> tuple[int, dict[str, Any]]:
    data = raw if raw is not None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method="POST")
    req.add_header("Content-Type", content_type)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float = 30.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return False
