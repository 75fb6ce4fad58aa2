"""Passwords, signed sessions, CSRF tokens and the security headers of every response.

Passwords are hashed with scrypt (``hashlib.scrypt``, N=2**14, r=8, p=1, 16-byte salt).
A session is a cookie ``user|expiry|hmac`` signed with the site secret; a CSRF token is the
HMAC of a per-browser random cookie, checked on every POST (double submit, signed).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
SESSION_SECONDS = 12 * 3600


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """``scrypt$N$r$p$salt$hash`` (base64) for storing."""
    if not password:
        raise ValueError("empty password")
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32
    )
    return "$".join(
        [
            "scrypt",
            str(SCRYPT_N),
            str(SCRYPT_R),
            str(SCRYPT_P),
            base64.b64encode(salt).decode(),
            base64.b64encode(digest).decode(),
        ]
    )


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches a value made by :func:`hash_password`."""
    try:
        scheme, n, r, p, salt_b64, digest_b64 = stored.split("$")
        if scheme != "scrypt":
            return False
        salt = base64.b64decode(salt_b64)
        expected = base64.b64decode(digest_b64)
        digest = hashlib.scrypt(
            password.encode("utf-8"), salt=salt, n=int(n), r=int(r), p=int(p), dklen=len(expected)
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(digest, expected)


def hash_token(token: str) -> str:
    """API tokens are long random strings: a plain SHA-256 is enough to store them."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return "ashyq_" + secrets.token_urlsafe(32)


def _sign(secret: bytes, message: str) -> str:
    return hmac.new(secret, message.encode("utf-8"), hashlib.sha256).hexdigest()


def make_session(secret: bytes, user: str, *, now: float | None = None) -> str:
    """A signed session cookie value for ``user``."""
    if "|" in user:
        raise ValueError("user name may not contain '|'")
    expiry = int((now if now is not None else time.time()) + SESSION_SECONDS)
    body = f"{user}|{expiry}"
    return f"{body}|{_sign(secret, 'session|' + body)}"


def read_session(secret: bytes, value: str | None, *, now: float | None = None) -> str | None:
    """The user of a valid, unexpired session cookie, else None."""
    if not value:
        return None
    parts = value.split("|")
    if len(parts) != 3:
        return None
    user, expiry, signature = parts
    if not hmac.compare_digest(signature, _sign(secret, f"session|{user}|{expiry}")):
        return None
    try:
        if int(expiry) < (now if now is not None else time.time()):
            return None
    except ValueError:
        return None
    return user


def csrf_token(secret: bytes, browser_id: str) -> str:
    """The token a form must carry for the browser holding cookie ``browser_id``."""
    return _sign(secret, "csrf|" + browser_id)


def check_csrf(secret: bytes, browser_id: str | None, token: str | None) -> bool:
    if not browser_id or not token:
        return False
    return hmac.compare_digest(csrf_token(secret, browser_id), token)


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


def content_security_policy(nonce: str) -> str:
    """Scripts only from this site (plus the page nonce); no frames, plugins or foreign loads."""
    return "; ".join(
        [
            "default-src 'none'",
            f"script-src 'self' 'nonce-{nonce}'",
            f"style-src 'self' 'nonce-{nonce}'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "form-action 'self'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
            "object-src 'none'",
        ]
    )


SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "geolocation=(), camera=(), microphone=()",
}

# The evidence report is a file people keep and send: its own <meta> policy forbids any script
# even when it is opened from disk, where no response header protects it.
REPORT_META_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
