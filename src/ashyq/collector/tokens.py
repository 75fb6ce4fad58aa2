"""Per-probe upload tokens, kept hashed in DATA/collector/tokens.json."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import time
from pathlib import Path

NAME_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Tokens:
    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "collector" / "tokens.json"
        self._mtime: float | None = None
        self._hashes: dict[str, str] = {}  # hash -> name

    def _load(self) -> dict[str, dict]:
        if not self.path.is_file():
            return {}
        return json.loads(self.path.read_text()).get("tokens", {})

    def _save(self, tokens: dict[str, dict]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        with open(tmp, "w") as f:
            json.dump({"tokens": tokens}, f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.path)

    def add(self, name: str) -> str:
        """Issue a token for probe NAME (replacing an older one); returns it (shown once)."""
        if not NAME_RE.match(name):
            raise ValueError("a token name is 1-64 letters, digits, '.', '_' or '-'")
        token = "ashyq_" + secrets.token_urlsafe(32)
        tokens = self._load()
        tokens[name] = {"sha256": _hash(token), "created_at": int(time.time())}
        self._save(tokens)
        return token

    def revoke(self, name: str) -> bool:
        tokens = self._load()
        if name not in tokens:
            return False
        del tokens[name]
        self._save(tokens)
        return True

    def names(self) -> list[str]:
        return sorted(self._load())

    def check(self, token: str | None) -> str | None:
        """The probe name a token belongs to, or None. Re-reads the file when it changed."""
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            mtime = None
        if mtime != self._mtime:
            self._hashes = {v["sha256"]: k for k, v in self._load().items()}
            self._mtime = mtime
        if not token:
            return None
        digest = _hash(token)
        for known, name in self._hashes.items():
            if hmac.compare_digest(known, digest):
                return name
        return None
