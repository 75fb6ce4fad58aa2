"""OONI report ids issued by this collector, self-authenticating (HMAC), so that open reports
survive a restart without any state besides a secret in DATA/collector/secret."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import re
import secrets
import time
from pathlib import Path

REPORT_RE = re.compile(
    r"^\d{8}T\d{6}Z_[a-z0-9_]{1,64}_[A-Z]{2}_\d{1,10}_n1_[A-Za-z0-9]{16}[0-9a-f]{16}$"
)


def load_secret(data_dir: Path) -> bytes:
    path = data_dir / "collector" / "secret"
    if path.is_file():
        return path.read_bytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_bytes(32)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(value)
        f.flush()
        os.fsync(f.fileno())
    with contextlib.suppress(FileExistsError):
        os.link(tmp, path)  # first writer wins when two processes start together
    tmp.unlink(missing_ok=True)
    return path.read_bytes()


def _mac(secret: bytes, body: str) -> str:
    return hmac.new(secret, body.encode(), hashlib.sha256).hexdigest()[:16]


def new_report_id(secret: bytes, test_name: str, cc: str, asn: str) -> str:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    rand = "".join(secrets.choice(alphabet) for _ in range(16))
    body = f"{stamp}_{test_name.replace('_', '')}_{cc}_{asn.removeprefix('AS')}_n1_{rand}"
    return body + _mac(secret, body)


def valid_report_id(secret: bytes, report_id: str) -> bool:
    if not REPORT_RE.match(report_id):
        return False
    body, mac = report_id[:-16], report_id[-16:]
    return hmac.compare_digest(_mac(secret, body), mac)
