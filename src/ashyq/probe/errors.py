"""Python exceptions and errno values -> OONI failure strings (ooni/spec df-007-errors).

Every stage of the probe and the control classifies failures here, so the same condition always
produces the same string. Unknown conditions become ``"unknown_failure: <message>"`` as in
ooni/probe-cli's netxlite.
"""

from __future__ import annotations

import asyncio
import errno
import socket
import ssl

import dns.exception
import dns.resolver

# df-007 strings used by ashyq
CONNECTION_REFUSED = "connection_refused"
CONNECTION_RESET = "connection_reset"
CONNECTION_ABORTED = "connection_aborted"
GENERIC_TIMEOUT = "generic_timeout_error"
EOF_ERROR = "eof_error"
HOST_UNREACHABLE = "host_unreachable"
NETWORK_UNREACHABLE = "network_unreachable"
DNS_NXDOMAIN = "dns_nxdomain_error"
DNS_NO_ANSWER = "dns_no_answer"
DNS_REFUSED = "dns_refused_error"
DNS_SERVER_MISBEHAVING = "dns_server_misbehaving"
DNS_TEMPORARY = "dns_temporary_failure"
DNS_NON_RECOVERABLE = "dns_non_recoverable_failure"
SSL_UNKNOWN_AUTHORITY = "ssl_unknown_authority"
SSL_INVALID_HOSTNAME = "ssl_invalid_hostname"
SSL_INVALID_CERTIFICATE = "ssl_invalid_certificate"
SSL_FAILED_HANDSHAKE = "ssl_failed_handshake"
HTTP_INVALID_REDIRECT = "http_invalid_redirect_url"
TOO_MANY_REDIRECTS = "unknown_failure: stopped after 10 redirects"

_ERRNO = {
    errno.ECONNREFUSED: CONNECTION_REFUSED,
    errno.ECONNRESET: CONNECTION_RESET,
    errno.EPIPE: CONNECTION_RESET,
    errno.ECONNABORTED: CONNECTION_ABORTED,
    errno.ETIMEDOUT: GENERIC_TIMEOUT,
    errno.EHOSTUNREACH: HOST_UNREACHABLE,
    errno.ENETUNREACH: NETWORK_UNREACHABLE,
    errno.EADDRNOTAVAIL: HOST_UNREACHABLE,
    errno.EAFNOSUPPORT: NETWORK_UNREACHABLE,
}

# OpenSSL X509_V_ERR_* codes
_X509_HOSTNAME_MISMATCH = {62, 64}  # hostname / IP address mismatch
_X509_UNKNOWN_AUTHORITY = {2, 18, 19, 20, 21, 27}  # no issuer, self-signed, untrusted
_X509_INVALID = {9, 10, 13, 14, 24, 26}  # not yet valid, expired, bad times, invalid CA, purpose

_GAI = {
    socket.EAI_NONAME: DNS_NXDOMAIN,
    socket.EAI_AGAIN: DNS_TEMPORARY,
    socket.EAI_FAIL: DNS_NON_RECOVERABLE,
}
for _name in ("EAI_NODATA", "EAI_ADDRFAMILY"):
    if hasattr(socket, _name):
        _GAI[getattr(socket, _name)] = DNS_NO_ANSWER


def classify(exc: BaseException) -> str:
    """Return the OONI failure string for an exception raised by a measurement step."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        code = getattr(exc, "verify_code", None)
        if code in _X509_HOSTNAME_MISMATCH:
            return SSL_INVALID_HOSTNAME
        if code in _X509_UNKNOWN_AUTHORITY:
            return SSL_UNKNOWN_AUTHORITY
        if code in _X509_INVALID:
            return SSL_INVALID_CERTIFICATE
        return SSL_INVALID_CERTIFICATE
    if isinstance(exc, (ssl.SSLEOFError, ssl.SSLZeroReturnError)):
        return EOF_ERROR
    if isinstance(exc, ssl.SSLError):
        reason = (getattr(exc, "reason", "") or str(exc)).upper()
        if "CERTIFICATE_VERIFY_FAILED" in reason:
            return SSL_INVALID_CERTIFICATE
        if "UNEXPECTED_EOF" in reason:
            return EOF_ERROR
        return SSL_FAILED_HANDSHAKE
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError, dns.exception.Timeout)):
        return GENERIC_TIMEOUT
    if isinstance(exc, socket.gaierror):
        return _GAI.get(exc.errno, f"unknown_failure: {exc}")
    if isinstance(exc, dns.resolver.NXDOMAIN):
        return DNS_NXDOMAIN
    if isinstance(exc, dns.resolver.NoAnswer):
        return DNS_NO_ANSWER
    if isinstance(exc, (asyncio.IncompleteReadError, EOFError)):
        return EOF_ERROR
    if isinstance(exc, ConnectionRefusedError):
        return CONNECTION_REFUSED
    if isinstance(exc, (ConnectionResetError, BrokenPipeError)):
        return CONNECTION_RESET
    if isinstance(exc, ConnectionAbortedError):
        return CONNECTION_ABORTED
    if isinstance(exc, OSError) and exc.errno in _ERRNO:
        return _ERRNO[exc.errno]
    if isinstance(exc, FailureError):
        return exc.failure
    message = str(exc) or type(exc).__name__
    return f"unknown_failure: {message}"


class FailureError(Exception):
    """An error that already carries its OONI failure string."""

    def __init__(self, failure: str, message: str | None = None) -> None:
        super().__init__(message or failure)
        self.failure = failure
