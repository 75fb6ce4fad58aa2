"""The method vocabulary: every ``stage.outcome`` a verdict may name, with its meaning.

This module is the one place where methods are defined; ``docs/verdicts.md`` repeats the table
for readers. Two methods carry a suffix after a colon: ``dns.fingerprint:<name>`` and
``http.blockpage:<name>``, where ``<name>`` is the fingerprint's name (e.g. ``ooni.ir_5``).

A method says *what was observed*; the verdict's status says *whose fault it is*: the same
``dns.nxdomain`` is ``blocked`` when the control resolves the name and ``down`` when the control
gets NXDOMAIN too.
"""

from __future__ import annotations

METHODS: dict[str, str] = {
    # DNS
    "dns.nxdomain": "the probe's resolver said the name does not exist (or has no data)",
    "dns.no_answer": "the probe's resolver returned no address for the name",
    "dns.timeout": "the probe's DNS query timed out",
    "dns.failure": "the probe's DNS query failed in another way (server failure, refused...)",
    "dns.bogon": "the probe's DNS answered a private, loopback or reserved (bogon) address",
    "dns.injected": "the probe's DNS answered addresses the control cannot confirm (other ASN)",
    "dns.fingerprint": "a DNS answer matches a known censorship fingerprint (suffix: its name)",
    # TCP
    "tcp.timeout": "TCP connections to the site's addresses timed out",
    "tcp.reset": "TCP connections to the site's addresses were reset",
    "tcp.refused": "TCP connections to the site's addresses were refused",
    "tcp.failure": "TCP connections failed in another way (unreachable network or host...)",
    # TLS
    "tls.timeout": "the TLS handshake timed out after the ClientHello",
    "tls.reset": "the TLS handshake was reset (or closed) after the ClientHello",
    "tls.mitm": "the TLS certificate was not valid while DNS was consistent: interception",
    "tls.failure": "the TLS handshake failed in another way",
    # HTTP
    "http.blockpage": "the HTTP response matches a known blockpage fingerprint (suffix: its name)",
    "http.diff": "the HTTP response differs from the control's (status, body, title, headers)",
    "http.reset": "the HTTP exchange was reset",
    "http.timeout": "the HTTP exchange timed out",
    "http.failure": "the HTTP exchange failed in another way",
    "http.challenge": "the site answered with an anti-bot challenge page; no judgement possible",
    # throughput
    "throughput.throttled": "download speed or TLS handshake time far worse than control/baseline",
    # other tests and middleboxes
    "app.blocked": "an app test (WhatsApp, Telegram, Signal...) reported its endpoints blocked",
    "app.failure": "an app test failed to bootstrap or connect (Tor, Psiphon, VPN...)",
    "middlebox.detected": "a middlebox altered the test traffic (header or request-line tests)",
    # why no judgement
    "control.missing": "no control result in the measurement: no judgement possible",
    "control.failure": "the control itself failed: no judgement possible",
    "probe.failure": "the probe did not get far enough to judge (no DNS, no request)",
    "measurement.malformed": "the measurement's structure could not be read",
    "test.unknown": "a test this analysis has no rules for",
}

#: Methods that carry a ``:<name>`` suffix.
SUFFIXED: frozenset[str] = frozenset({"dns.fingerprint", "http.blockpage"})


def is_method(method: str | None) -> bool:
    """True when ``method`` belongs to the vocabulary (``None`` is allowed: no method)."""
    if method is None:
        return True
    base, sep, suffix = method.partition(":")
    if sep:
        return base in SUFFIXED and bool(suffix)
    return base in METHODS and base not in SUFFIXED


def meaning(method: str) -> str:
    """The one-line meaning of a method (with or without its suffix)."""
    return METHODS[method.partition(":")[0]]


#: OONI failure strings (ooni/spec data-formats/df-007-errors) -> outcome word.
FAILURE_OUTCOME: dict[str, str] = {
    "generic_timeout_error": "timeout",
    "connection_reset": "reset",
    "eof_error": "reset",
    "connection_refused": "refused",
    "dns_nxdomain_error": "nxdomain",
    "android_dns_cache_no_data": "nxdomain",
    "dns_no_answer": "no_answer",
    "ssl_invalid_hostname": "mitm",
    "ssl_unknown_authority": "mitm",
    "ssl_invalid_certificate": "mitm",
}


def outcome_of(failure: str | None) -> str:
    """Map an OONI failure string to an outcome word ('failure' when unknown)."""
    if not failure:
        return "failure"
    out = FAILURE_OUTCOME.get(failure)
    if out:
        return out
    low = failure.lower()
    if "timeout" in low or "timed out" in low:
        return "timeout"
    if "reset" in low:
        return "reset"
    if "refused" in low:
        return "refused"
    if "nxdomain" in low:
        return "nxdomain"
    return "failure"
