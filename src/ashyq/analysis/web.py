"""Rules for web_connectivity measurements (ooni/spec ts-017), stage by stage.

The order follows the path of a page load: DNS, then TCP, TLS, HTTP, then the speed. The first
stage where the probe failed while the control succeeded names the method; when the control
failed at the same stage the site is ``down`` for everyone. Fingerprints (DNS answers and
blockpages) are confirmations on their own.

The rules learn from OONI's analyses (ooni/probe-cli ``internal/minipipeline`` and the
web_connectivity summary in ts-017, ooni/data ``oonipipeline`` analysis) and differ on purpose
where stated in docs/conformance.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from ashyq.analysis.bogons import bogon_class, is_bogon
from ashyq.analysis.certs import chain_issuers
from ashyq.analysis.finding import Finding, addrs_text, asn_text
from ashyq.analysis.fingerprints import FingerprintDB
from ashyq.analysis.observations import (
    ControlObs,
    DnsObs,
    HttpObs,
    TcpObs,
    TlsObs,
    control_obs,
    dns_obs,
    http_obs,
    tcp_obs,
    throughput_kbit_s,
    tls_handshake_seconds,
    tls_obs,
)
from ashyq.analysis.vocabulary import outcome_of

#: download speed this many times below the control's (or the network's baseline) is throttling
THROTTLE_RATIO = 10.0
#: within this factor of the network's baseline, a download is "like the rest of the network"
NETWORK_SLOW_RATIO = 3.0
#: a TLS handshake this many times slower than the network's baseline, and at least
#: TLS_SLOW_MIN_EXTRA seconds slower, is throttling
TLS_SLOW_RATIO = 5.0
TLS_SLOW_MIN_EXTRA = 1.0
#: OONI's classic body-length proportion threshold (ts-017)
BODY_PROPORTION = 0.7

CHALLENGE_TITLES = re.compile(
    r"just a moment|attention required|checking your browser|ddos-guard|please wait\.\.\."
    r"|are you a (?:human|robot)|captcha|one more step|security check|verify you are human",
    re.IGNORECASE,
)
CHALLENGE_BODY_MARKS = (
    "cf-chl-",
    "challenge-platform",
    "_incapsula_resource",
    "sucuri_cloudproxy",
    "__ddg",
    "cf-turnstile",
    "g-recaptcha",
    "hcaptcha",
)
#: statuses a site uses to refuse a visitor by location or policy
GEO_STATUSES = frozenset({403, 451})
#: wording of "not in your region" pages (English, Russian, Kazakh)
GEO_TEXT = re.compile(
    r"not (?:be )?available in your (?:region|country|location|area)"
    r"|(?:unavailable|restricted|blocked) in your (?:region|country|location|area)"
    r"|not available (?:in|from) your|geo-?(?:block|restrict)|unavailable for legal reasons"
    r"|недоступ\w* в вашем (?:регионе|стране)|недоступ\w* в вашей стране"
    r"|сіздің (?:аймағыңызда|еліңізде)",
    re.IGNORECASE,
)
LOGIN_PATH = re.compile(r"(?:^|/)(?:login|signin|sign-in|sign_in|auth|account|sso|consent)\b")
#: headers every server sends; differences in these say nothing (OONI ignores them too)
COMMON_HEADERS = frozenset(
    h.lower()
    for h in (
        "date",
        "content-type",
        "server",
        "cache-control",
        "vary",
        "set-cookie",
        "location",
        "expires",
        "x-powered-by",
        "content-encoding",
        "last-modified",
        "accept-ranges",
        "pragma",
        "x-frame-options",
        "etag",
        "x-content-type-options",
        "age",
        "via",
        "p3p",
        "x-xss-protection",
        "content-language",
        "cf-ray",
        "strict-transport-security",
        "link",
        "x-varnish",
        "content-length",
        "connection",
        "transfer-encoding",
        "keep-alive",
        "alt-svc",
    )
)


@dataclass(frozen=True, slots=True)
class Baseline:
    """What other targets achieve on the same network (probe ASN + region)."""

    kbit_s: float | None = None
    tls_seconds: float | None = None
    targets: int = 0


def _host_of(m: dict[str, Any]) -> tuple[str | None, str | None, int | None]:
    url = m.get("input")
    if not isinstance(url, str) or not url:
        return None, None, None
    return split_url(url)


@lru_cache(maxsize=65536)
def split_url(url: str) -> tuple[str | None, str | None, int | None]:
    """(host, scheme, port) of a measurement's input URL, cached: inputs recur."""
    scheme, sep, rest = url.partition("://")
    if sep and scheme.isalpha():
        # the common case, without urlsplit's generality: scheme://host[:port][/...]
        netloc = rest
        for ch in "/?#":
            netloc = netloc.partition(ch)[0]
        if netloc and "@" not in netloc and "[" not in netloc:
            host, colon, port_s = netloc.partition(":")
            if not colon:
                return host.lower().rstrip(".") or None, scheme.lower(), None
            if port_s.isdigit() and int(port_s) < 65536:
                return host.lower().rstrip(".") or None, scheme.lower(), int(port_s)
    try:
        parts = urlsplit(url if "://" in url else "http://" + url)
        host = parts.hostname
        port = parts.port
    except ValueError:
        return None, None, None
    return (host.lower() if host else None), parts.scheme.lower(), port


def judge_web(
    m: dict[str, Any],
    tk: dict[str, Any],
    fingerprints: FingerprintDB | None,
    baseline: Baseline | None,
) -> Finding:
    host, scheme, _port = _host_of(m)
    dns = dns_obs(tk, host)
    ctl = control_obs(tk)
    http = http_obs(tk)
    # TCP and TLS observations are read only when a rule needs them (DNS failures don't)
    https = scheme == "https"

    # 1. Fingerprints: confirmed ones need no control (scoped to their countries, and never
    #    an answer the control got as well); generic ones only count beside a control.
    cc = m.get("probe_cc") if isinstance(m.get("probe_cc"), str) else ""
    known_fp = None
    if fingerprints is not None:
        if dns.addrs:
            ctl_addrs = set(ctl.addrs)
            fp = fingerprints.match_dns(
                [a for a in dns.addrs + dns.cnames if a not in ctl_addrs], cc
            )
            # only a confirmed fingerprint stands without a control
            if fp is not None and not fp.false_positive and (fp.confirmed or ctl.present):
                return Finding(
                    "blocked",
                    f"dns.fingerprint:{fp.name}",
                    fp.confidence,
                    [
                        f"the probe's DNS answered {addrs_text(dns.addrs, dns.asn)}, which matches "
                        f"the fingerprint {fp.name} ({fp.notes or 'known censorship answer'})",
                        *_control_dns_sentence(ctl),
                    ],
                    "dns",
                    False,
                    {
                        "confirmed": fp.confirmed,
                        "fingerprint": fp.name,
                        "probe_addrs": dns.addrs[:8],
                    },
                )
        # Blockpage fingerprints: header fingerprints always (dictionary look-ups); the body
        # whenever it is not plainly the control's page (same status, length within 70 %,
        # same title). OONI's pipeline matches fingerprints on every body whatever the diff
        # says (ooni/data oonipipeline analysis/web_analysis.py, make_http_analysis).
        if http is not None and http.failure is None and (http.body or http.headers):
            fp = fingerprints.match_http_headers(http.headers, cc) if http.headers else None
            if fp is None and http.body and not _same_page(http, ctl):
                fp = fingerprints.match_http_body(http.body, cc)
            if fp is not None and fp.false_positive:
                known_fp = fp
            elif fp is not None and not fp.confirmed and _authenticated(http, tls_obs(tk)):
                # a generic pattern ("Access Denied") on a page whose server proved with its
                # certificate that it is the site: the operator's own page (e.g. a CDN's)
                known_fp = fp
            elif fp is not None and (fp.confirmed or ctl.present):
                where = "body" if fp.location == "body" else fp.location.replace(".", " ")
                dns_bad = _dns_inconsistent(dns, ctl, tls_obs(tk))
                ev = [
                    f"the page the probe received for {http.url or m.get('input')} "
                    f"(HTTP {http.code}, {http.body_length or 0} bytes"
                    + (f', title "{http.title}"' if http.title else "")
                    + f") matches the blockpage fingerprint {fp.name} in its {where}"
                    + ("" if fp.confirmed else " (a generic fingerprint, not a confirmation)"),
                    *_control_http_sentence(ctl),
                ]
                if dns_bad:
                    ev.insert(
                        0,
                        f"the probe's DNS answered {addrs_text(dns.addrs, dns.asn)}, which the "
                        f"control did not confirm (it resolved {addrs_text(ctl.addrs)}): the "
                        "name was pointed at the server of this blockpage",
                    )
                return Finding(
                    "blocked",
                    f"http.blockpage:{fp.name}",
                    fp.confidence,
                    ev,
                    "dns" if dns_bad else "http-diff",
                    False,
                    {
                        "confirmed": fp.confirmed,
                        "fingerprint": fp.name,
                        "dns_inconsistent": dns_bad,
                    },
                )

    # 2. No control, no accusation.
    if not ctl.present or ctl.failure:
        return _without_control(m, ctl, http, tls_obs(tk), https)

    # 3. DNS.
    ctl_resolves = bool(ctl.addrs) and not ctl.dns_failure
    sys_fail = dns.system_failure
    probe_fail = dns.failure if not dns.addrs else None
    if sys_fail and not probe_fail and ctl_resolves and outcome_of(sys_fail) == "nxdomain":
        probe_fail = sys_fail  # the system resolver lies even if other resolvers answered
    if probe_fail:
        outcome = outcome_of(probe_fail)
        if outcome not in ("nxdomain", "no_answer", "timeout"):
            outcome = "failure"
        said = f"the probe's DNS lookup of {host} failed with {probe_fail}"
        if not ctl_resolves:
            return Finding(
                "down",
                f"dns.{outcome}",
                0.8,
                [said, _ctl_dns_failed(ctl, host)],
                False,
                False,
                {"probe_dns_failure": probe_fail, "control_dns_failure": ctl.dns_failure},
            )
        conf = 0.9 if outcome in ("nxdomain", "no_answer") else 0.7
        return Finding(
            "blocked",
            f"dns.{outcome}",
            conf,
            [said, f"the control resolved {host} to {addrs_text(ctl.addrs, ctl.addr_asn)}"],
            "dns",
            False,
            {"probe_dns_failure": probe_fail, "control_addrs": ctl.addrs[:8]},
        )
    if not dns.addrs and not dns.queried and http is None and not tk.get("tcp_connect"):
        return Finding(
            "inconclusive",
            "probe.failure",
            0.0,
            ["the measurement holds no DNS lookup, connection or request to judge"],
            None,
            None,
        )

    # a bogon the control did not get too. When the control's own answers are bogons of the
    # same kind (both private, both documentation...), the site lives in such a network (a
    # private deployment, a lab): the answer is judged like any other, by consistency below.
    ctl_addr_set = set(ctl.addrs)
    ctl_classes = {c for a in ctl.addrs if (c := bogon_class(a)) is not None}
    bogons = [
        a
        for a in dns.addrs
        if (c := bogon_class(a)) is not None and a not in ctl_addr_set and c not in ctl_classes
    ]
    if bogons and ctl_resolves:
        ctl_public = [a for a in ctl.addrs if bogon_class(a) is None]
        kinds = sorted({bogon_class(a) or "" for a in bogons})
        return Finding(
            "blocked",
            "dns.bogon",
            0.95,
            [
                f"the probe's DNS answered {addrs_text(bogons)}, "
                + ("a bogon" if len(bogons) == 1 else "bogons")
                + f" ({', '.join(kinds)} address space)",
                f"the control resolved {host} to "
                + addrs_text(ctl_public or ctl.addrs, ctl.addr_asn)
                + (
                    ""
                    if ctl_public
                    else f" ({', '.join(sorted(ctl_classes))} address space, not the same kind)"
                ),
            ],
            "dns",
            False,
            {
                "probe_addrs": dns.addrs[:8],
                "bogons": bogons[:8],
                "bogon_kinds": kinds,
                "control_addrs": ctl.addrs[:8],
            },
        )
    tlss = tls_obs(tk)
    consistency = _consistency(dns, ctl, tlss)
    inconsistent = bool(dns.addrs) and ctl_resolves and not consistency["consistent"]
    dns_notes = consistency["notes"]

    def injected(what: str, conf: float) -> Finding:
        return Finding(
            "blocked",
            "dns.injected",
            conf,
            [
                f"the probe's DNS answered {addrs_text(dns.addrs, dns.asn)}, which the control "
                f"did not confirm: it resolved {host} to {addrs_text(ctl.addrs, ctl.addr_asn)}"
                + (f" ({', '.join(asn_text(a) for a in sorted(ctl.asns))})" if ctl.asns else ""),
                what,
            ],
            "dns",
            False,
            {"probe_addrs": dns.addrs[:8], "control_addrs": ctl.addrs[:8]},
        )

    # 4. TCP: per address, compared with the control's attempt at the same endpoint (only the
    #    URL's port: OONI 0.5 also tries the other of 80/443)
    want = _port or (443 if https else 80)
    tcps = tcp_obs(tk)
    tcps = [t for t in tcps if t.port == want] or tcps
    tcp_ok = [t for t in tcps if t.ok]
    tcp_bad = [t for t in tcps if not t.ok]
    if tcp_bad and not tcp_ok:
        if inconsistent:
            return injected(
                f"connecting to those addresses failed ({_fail_list(tcp_bad)})",
                0.85,
            )
        ctl_ok = [t for t in tcp_bad if ctl.tcp.get(t.endpoint, (False, None))[0]]
        ctl_tried = [t for t in tcp_bad if t.endpoint in ctl.tcp]
        outcome = _dominant_outcome(t.failure for t in tcp_bad)
        if outcome not in ("timeout", "reset", "refused"):
            outcome = "failure"
        if ctl_ok:
            return Finding(
                "blocked",
                f"tcp.{outcome}",
                0.9 if len(ctl_ok) == len(tcp_bad) else 0.8,
                [
                    f"the probe could not connect to {_fail_list(tcp_bad)}",
                    f"the control connected to {', '.join(t.endpoint for t in ctl_ok[:4])}",
                    *dns_notes,
                ],
                "tcp_ip",
                False,
                {"tcp_failures": {t.endpoint: t.failure for t in tcp_bad[:8]}},
            )
        if ctl_tried or (ctl.http_present and ctl.http_failure):
            return Finding(
                "down",
                f"tcp.{outcome}",
                0.8,
                [
                    f"the probe could not connect to {_fail_list(tcp_bad)}",
                    "the control could not connect either"
                    + (f" (HTTP: {ctl.http_failure})" if ctl.http_failure else ""),
                ],
                False,
                False,
            )

    # 5. TLS: handshakes that failed while the control completed them.
    if https and tlss and not any(t.ok for t in tlss):
        f = _judge_tls(tlss, ctl, dns, inconsistent, host, dns_notes, tk.get("network_events"))
        if f is not None:
            if inconsistent and f.status == "blocked":
                return injected(f.evidence[0], 0.85)
            return f

    # 6. HTTP.
    if http is None:
        if ctl.http_present and ctl.http_failure:
            return Finding(
                "down",
                None,
                0.6,
                [
                    f"the probe made no HTTP request; the control's request failed too "
                    f"({ctl.http_failure})"
                ]
                + (
                    [f"{host} resolves to {addrs_text(ctl.addrs)} for the control too"]
                    if ctl.addrs and all(is_bogon(a) for a in ctl.addrs)
                    else []
                ),
                False,
                False,
            )
        if inconsistent:
            return injected("the probe made no request to them", 0.6)
        return Finding(
            "inconclusive",
            "probe.failure",
            0.0,
            ["the probe made no HTTP request, so the page cannot be judged"],
            None,
            None,
        )
    if http.failure:
        return _judge_http_failure(http, ctl, inconsistent, injected, dns_notes, https, tk)
    if ctl.http_failure or not ctl.http_present:
        # the probe got a page and the control did not: judge what we can
        if https and not _tls_unverified(tlss):
            return Finding(
                "ok",
                None,
                0.6,
                [
                    f"the probe fetched {http.url} over HTTPS with a valid certificate "
                    f"(HTTP {http.code}, {http.body_length or 0} bytes)",
                    f"the control's request failed ({ctl.http_failure or 'no result'})",
                ],
                False,
                True,
            )
        return Finding(
            "inconclusive",
            "control.failure",
            0.0,
            [
                f"the probe fetched {http.url} (HTTP {http.code}, {http.body_length or 0} bytes)",
                f"the control's request failed ({ctl.http_failure or 'no result'}), "
                "so the page cannot be compared",
            ],
            None,
            None,
        )
    diff = _compare(http, ctl, host)
    if diff is not None:
        kind, sentence, details = diff
        if kind == "diff" and known_fp is not None:
            kind = "challenge"
            sentence += (
                f"; but the page matches {known_fp.name}, a known page that is not censorship"
                + (f" ({known_fp.notes})" if known_fp.notes else "")
            )
        if kind == "challenge":
            return Finding("inconclusive", "http.challenge", 0.0, [sentence], None, None, details)
        if kind == "guard":
            f_ok = _speed(tk, ctl, baseline, host, http)
            if f_ok is not None:
                return f_ok
            return Finding("ok", None, 0.6, [sentence], False, True, details)
        if _authenticated(http, tlss):
            # the server proved it is the site: what it answered is its own doing
            geo = _geoblock_reason(http)
            said = (
                f"the page came over HTTPS from a server whose certificate verified for {host}: "
                "the site itself answered"
            )
            if geo:
                return Finding(
                    "ok",
                    None,
                    0.6,
                    [
                        sentence,
                        said,
                        f"the site restricts access by location ({geo}), "
                        "which is the operator's choice, not censorship",
                    ],
                    False,
                    True,
                    {**details, "guard": "operator.geoblock"},
                )
            return Finding(
                "ok",
                None,
                0.5,
                [sentence, said + ", so the difference is not the network's"],
                False,
                True,
                {**details, "guard": "tls.authenticated"},
            )
        if inconsistent:
            return injected(sentence, 0.8)
        status_only = http.code in GEO_STATUSES and known_fp is None
        return Finding(
            "blocked",
            "http.diff",
            0.4 if status_only else 0.6,
            [sentence, *dns_notes]
            + (
                [
                    f"HTTP {http.code} over plain HTTP without a blockpage fingerprint: the "
                    "site or a censor on the path may have sent it (low confidence)"
                ]
                if status_only
                else []
            ),
            "http-diff",
            False,
            details,
        )

    # 7. Speed.
    slow = _speed(tk, ctl, baseline, host, http)
    if slow is not None:
        return slow
    ev = [
        f"the probe fetched {http.url} (HTTP {http.code}, {http.body_length or 0} bytes"
        + (f', title "{http.title}"' if http.title else "")
        + ")",
        f"the control got HTTP {ctl.http_code}, {ctl.http_body_length} bytes",
    ]
    if inconsistent:
        ev.insert(
            0,
            f"the probe's DNS answered {addrs_text(dns.addrs, dns.asn)}, not the control's "
            f"{addrs_text(ctl.addrs, ctl.addr_asn)}, but the page matches the control's",
        )
    return Finding("ok", None, 0.9 if not inconsistent else 0.7, ev + dns_notes, False, True)


# --- helpers -----------------------------------------------------------------------------


def _same_page(http: HttpObs, ctl: ControlObs) -> bool:
    """Plainly the control's page: same status, body length within 70 %, same title.

    Stricter than OONI's match (where one of length, title or headers is enough): only such a
    page is spared the blockpage scan. A blockpage with the site's status and headers but
    another title or size is scanned.
    """
    if not ctl.present or not ctl.http_present or ctl.http_failure or http.code != ctl.http_code:
        return False
    a, b = http.body_length or 0, ctl.http_body_length or 0
    if not (min(a, b) / max(a, b) if a and b else float(a == b)) > BODY_PROPORTION:
        return False
    return (http.title or "").casefold() == (ctl.http_title or "").casefold()


def _headers_match(http: HttpObs, ctl: ControlObs) -> bool:
    """Both responses carry at least one uncommon header name in common.

    OONI (ooni/probe-cli webconnectivitylte analysishttpdiff.go, httpDiffHeadersMatch) counts
    headers as matching when all names are equal or when the uncommon names intersect. Two
    responses with only common headers (Date, Content-Type, Server...) say nothing about
    being the same page, so here only a shared uncommon name counts.
    """
    if not http.headers or not ctl.http_headers:
        return False  # nothing to compare: no evidence of a match
    ph = {h.lower() for h in http.headers} - COMMON_HEADERS
    if not ph:
        return False
    ch = {h.lower() for h in ctl.http_headers} - COMMON_HEADERS
    return not ph.isdisjoint(ch)


def _geoblock_reason(http: HttpObs) -> str:
    """Why the page looks like a refusal by location: its status or its wording; else ''."""
    if http.code == 451:
        return "HTTP 451 Unavailable For Legal Reasons"
    body = http.body or ""
    m = GEO_TEXT.search(http.title or "") or GEO_TEXT.search(body, 0, 65536)
    if m:
        return f'the page says "{m.group(0)}"'
    if http.code == 403:
        return "HTTP 403 Forbidden"
    return ""


def _authenticated(http: HttpObs, tlss: list[TlsObs]) -> bool:
    """The response came over HTTPS from a server whose certificate verified for the host.

    Then it is the site's own answer (or that of an interceptor trusted by the device, which
    ``tls.mitm`` and the fingerprints judge apart): OONI likewise takes an HTTPS response
    without error as a success and makes no body comparison (analysishttpdiff.go).
    """
    url = http.url or ""
    if http.failure is not None or url[:8].lower() != "https://":
        return False
    if any(t.no_tls_verify for t in tlss):
        return False
    return not tlss or any(t.ok for t in tlss)


def _control_dns_sentence(ctl: ControlObs) -> list[str]:
    if ctl.present and ctl.addrs:
        return [f"the control resolved {addrs_text(ctl.addrs, ctl.addr_asn)}"]
    return []


def _control_http_sentence(ctl: ControlObs) -> list[str]:
    if ctl.present and ctl.http_present and not ctl.http_failure:
        t = f', title "{ctl.http_title}"' if ctl.http_title else ""
        return [f"the control got HTTP {ctl.http_code}, {ctl.http_body_length} bytes{t}"]
    return []


def _ctl_dns_failed(ctl: ControlObs, host: str | None) -> str:
    if ctl.dns_failure:
        return f"the control's lookup of {host} failed too ({ctl.dns_failure})"
    return f"the control found no address for {host} either"


def _fail_list(items: list[TcpObs]) -> str:
    return ", ".join(f"{t.endpoint} ({t.failure})" for t in items[:4]) + (
        f" and {len(items) - 4} more" if len(items) > 4 else ""
    )


def _dominant_outcome(failures: Any) -> str:
    counts: dict[str, int] = {}
    for f in failures:
        o = outcome_of(f)
        counts[o] = counts.get(o, 0) + 1
    return max(counts, key=lambda k: counts[k]) if counts else "failure"


def _consistency(dns: DnsObs, ctl: ControlObs, tlss: list[TlsObs]) -> dict[str, Any]:
    """Whether the probe's answers are the site's: same address, same ASN, or a valid cert."""
    notes: list[str] = []
    if not dns.addrs:
        return {"consistent": True, "notes": notes}
    ctl_set = set(ctl.addrs) | dns.trusted
    asns = ctl.asns | dns.trusted_asns
    probe_valid = {t.ip for t in tlss if t.ok and not t.no_tls_verify}
    for a in dns.addrs:
        if a in ctl_set:
            return {"consistent": True, "notes": notes}
    for a in dns.addrs:
        asn = dns.asn.get(a) or ctl.addr_asn.get(a)
        if asn and asn in asns:
            return {"consistent": True, "notes": notes}
    for a in dns.addrs:
        if a in ctl.valid_tls_addrs or a in probe_valid:
            who = "the control" if a in ctl.valid_tls_addrs else "the probe"
            notes.append(
                f"the address {a} was not among the control's answers but {who} completed a TLS "
                "handshake there with a valid certificate for the host (a CDN, not censorship)"
            )
            return {"consistent": True, "notes": notes}
    return {"consistent": False, "notes": notes}


def _dns_inconsistent(dns: DnsObs, ctl: ControlObs, tlss: list[TlsObs]) -> bool:
    if not ctl.present or not ctl.addrs or not dns.addrs:
        return False
    return not _consistency(dns, ctl, tlss)["consistent"]


def _tls_unverified(tlss: list[TlsObs]) -> bool:
    return any(t.no_tls_verify for t in tlss)


def _without_control(
    m: dict[str, Any], ctl: ControlObs, http: HttpObs | None, tlss: list[TlsObs], https: bool
) -> Finding:
    why = (
        f"the control failed ({ctl.failure})"
        if ctl.failure
        else "the measurement has no control result"
    )
    method = "control.failure" if ctl.failure else "control.missing"
    if (
        https
        and http is not None
        and http.failure is None
        and http.code
        and tlss
        and any(t.ok for t in tlss)
        and not _tls_unverified(tlss)
    ):
        # TLS authenticated the server: the page is the site's own, control or not.
        return Finding(
            "ok",
            None,
            0.6,
            [
                f"the probe fetched {http.url} over HTTPS with a valid certificate "
                f"(HTTP {http.code}, {http.body_length or 0} bytes)",
                why + "; the certificate stands in for it",
            ],
            False,
            True,
        )
    ev = [why + ", so nothing can be called blocked"]
    if http is not None and http.failure:
        ev.append(f"the probe's request failed with {http.failure}")
    return Finding("inconclusive", method, 0.0, ev, None, None)


def _judge_tls(
    tlss: list[TlsObs],
    ctl: ControlObs,
    dns: DnsObs,
    inconsistent: bool,
    host: str | None,
    dns_notes: list[str],
    events: Any = None,
) -> Finding | None:
    bad = [t for t in tlss if t.failure]
    if not bad:
        return None
    outcomes = [outcome_of(t.failure) for t in bad]
    ctl_ok = [t for t in bad if ctl.tls.get(t.endpoint, (False, None))[0]]
    ctl_failed = [t for t in bad if t.endpoint in ctl.tls and not ctl.tls[t.endpoint][0]]
    ctl_http_ok = ctl.http_present and not ctl.http_failure
    confirmed_by_control = bool(ctl_ok) or (not ctl.tls and ctl_http_ok)
    if "mitm" in outcomes:
        t = bad[outcomes.index("mitm")]
        if not confirmed_by_control:
            if ctl_failed or (ctl.http_present and ctl.http_failure):
                cf = ctl.tls.get(t.endpoint, (False, ctl.http_failure))[1]
                return Finding(
                    "down",
                    "tls.mitm",
                    0.7,
                    [
                        f"the probe's TLS handshake with {t.endpoint} failed with {t.failure}",
                        f"the control's failed too ({cf}): the site's certificate is bad for "
                        "everyone",
                    ],
                    False,
                    False,
                )
            return None
        issuers = chain_issuers(t.certs)
        kz = next((i for i in issuers if i.kz_interception), None)
        leaf = issuers[0] if issuers else None
        shown = kz or leaf
        ev = [
            f"the probe's TLS handshake with {t.endpoint} for {t.server_name or host} failed: "
            f"{t.failure}"
            + (
                f"; certificate issued by {shown.text}, not trusted"
                if shown
                else "; the certificate's issuer was not recorded"
            ),
            "the control completed the TLS handshake with a trusted certificate",
        ]
        if kz:
            ev.append(f'"{kz.common_name or kz.organization}" is a known Kazakh interception CA')
        details: dict[str, Any] = {"tls_failure": t.failure}
        if shown:
            details["issuer"] = shown.text
        if kz:
            details["confirmed"] = True
        return Finding(
            "blocked",
            "tls.mitm",
            1.0 if kz else 0.8,
            ev + dns_notes,
            "http-failure",
            False,
            details,
        )
    outcome = _dominant_outcome(t.failure for t in bad)
    if outcome not in ("timeout", "reset"):
        outcome = "failure"
    if confirmed_by_control:
        eps = ", ".join(f"{t.endpoint} ({t.failure})" for t in bad[:4])
        sent, received = _handshake_bytes(events, bad[0].endpoint)
        when = "right after the ClientHello"
        if sent and not received:
            when += f" ({sent} bytes sent, nothing received)"
        elif received:
            when = f"after the server's first {received} bytes"
        return Finding(
            "blocked",
            f"tls.{outcome}",
            0.9,
            [
                f"the probe's TLS handshake with {host} failed {when} "
                f"(SNI {bad[0].server_name or host}) at {eps}",
                "the control completed the TLS handshake"
                + (f" with {', '.join(t.endpoint for t in ctl_ok[:4])}" if ctl_ok else ""),
                *dns_notes,
            ],
            "http-failure",
            False,
            {"tls_failures": {t.endpoint: t.failure for t in bad[:8]}},
        )
    if ctl_failed or (ctl.http_present and ctl.http_failure):
        return Finding(
            "down",
            f"tls.{outcome}",
            0.7,
            [
                f"the probe's TLS handshake with {host} failed ({bad[0].failure})",
                "the control's failed too",
            ],
            False,
            False,
        )
    return None


def _handshake_bytes(events: Any, endpoint: str) -> tuple[int, int]:
    """Bytes written and read on ``endpoint`` according to OONI's ``network_events``."""
    sent = received = 0
    if not isinstance(events, list) or not endpoint:
        return 0, 0
    for ev in events[:2000]:
        if not isinstance(ev, dict) or ev.get("address") != endpoint:
            continue
        n = ev.get("num_bytes")
        if not isinstance(n, int) or isinstance(n, bool) or n <= 0:
            continue
        op = ev.get("operation")
        if op == "write":
            sent += n
        elif op == "read":
            received += n
    return sent, received


def _judge_http_failure(
    http: HttpObs,
    ctl: ControlObs,
    inconsistent: bool,
    injected: Any,
    dns_notes: list[str],
    https: bool,
    tk: dict[str, Any],
) -> Finding:
    assert http.failure is not None
    outcome = outcome_of(http.failure)
    said = f"the probe's request for {http.url} failed with {http.failure}"
    if not ctl.http_present:
        return Finding(
            "inconclusive",
            "control.missing",
            0.3,
            [said, "the control made no HTTP request to compare with"],
            None,
            None,
        )
    if ctl.http_failure:
        return Finding(
            "down",
            f"http.{outcome if outcome in ('reset', 'timeout') else 'failure'}",
            0.7,
            [said, f"the control's request failed too ({ctl.http_failure})"],
            False,
            False,
        )
    if inconsistent:
        return injected(said, 0.85)
    ctl_sentence = f"the control got HTTP {ctl.http_code}, {ctl.http_body_length} bytes"
    if outcome == "mitm":
        return Finding(
            "blocked",
            "tls.mitm",
            0.7,
            [said + " (the certificate was not valid)", ctl_sentence, *dns_notes],
            "http-failure",
            False,
        )
    if outcome == "timeout" and http.code:
        # headers arrived, then the body stalled while the control downloaded it all
        size = ctl.http_body_length
        return Finding(
            "throttled",
            "throughput.throttled",
            0.6,
            [
                f"the probe received the response headers (HTTP {http.code}) for {http.url}, "
                f"then the body download timed out ({http.failure}) after "
                f"{http.body_length or 0} bytes",
                f"the control downloaded the whole body ({size} bytes)",
                *dns_notes,
            ],
            "http-failure",
            False,
            {"probe_body_bytes": http.body_length or 0, "control_body_bytes": size},
        )
    if outcome in ("reset", "timeout"):
        method = f"http.{outcome}"
    elif https and outcome == "failure" and "ssl" in http.failure:
        method = "tls.failure"
    else:
        method = "http.failure"
    return Finding("blocked", method, 0.8, [said, ctl_sentence, *dns_notes], "http-failure", False)


def _registrable(host: str) -> str:
    parts = host.split(".")
    if len(parts) >= 3 and len(parts[-2]) <= 3 and len(parts[-1]) == 2:
        return ".".join(parts[-3:])  # e.g. example.co.uk, example.com.kz
    return ".".join(parts[-2:])


def _challenge(http: HttpObs) -> tuple[str, str, dict[str, Any]]:
    return (
        "challenge",
        f'the probe received an anti-bot challenge page (title "{http.title}") instead of '
        "the site; the network may be treated differently by the site itself",
        {"guard": "challenge"},
    )


def _compare(
    http: HttpObs, ctl: ControlObs, host: str | None
) -> tuple[str, str, dict[str, Any]] | None:
    """None when the page matches the control's; else (kind, sentence, details)."""
    body = http.body or ""
    if CHALLENGE_TITLES.search(http.title or ""):
        return _challenge(http)
    # redirects to the site's own login page or regional mirror
    final = http.chain[-1] if http.chain else http.url
    if host and final and len(http.chain) > 1:
        try:
            fparts = urlsplit(final)
            fhost = (fparts.hostname or "").lower()
        except ValueError:
            fhost, fparts = "", None
        if fhost and fparts is not None:
            same_site = _registrable(fhost) == _registrable(host) or (
                fhost.split(".")[-2:-1] == host.split(".")[-2:-1]
            )
            if same_site and (fhost != host or LOGIN_PATH.search(fparts.path or "")):
                return (
                    "guard",
                    f"the probe was redirected from {http.chain[0]} to {final}, the site's own "
                    f"login page or regional mirror, not a blockpage (HTTP {http.code})",
                    {"guard": "redirect", "final_url": final},
                )
    status_match = http.code == ctl.http_code
    a, b = len(body), ctl.http_body_length or 0
    proportion = (min(a, b) / max(a, b)) if a and b else (1.0 if a == b else 0.0)
    body_match = proportion > BODY_PROPORTION
    pt, ct = (http.title or "").casefold(), (ctl.http_title or "").casefold()
    title_match = bool(pt) and pt == ct
    headers_match = _headers_match(http, ctl)
    details = {
        "status_code_match": status_match,
        "body_proportion": round(proportion, 3),
        "title_match": title_match,
        "headers_match": headers_match,
        "probe_status": http.code,
        "control_status": ctl.http_code,
    }
    if status_match and (body_match or title_match or headers_match):
        return None
    # challenge widgets in the body count only on a page that differs from the control's (a
    # site's own contact form may carry a captcha)
    if len(body) < 200_000:
        head = body[:65536].lower()
        if any(k in head for k in CHALLENGE_BODY_MARKS):
            return _challenge(http)
    if status_match and http.truncated and a < b and (not pt or pt == ct):
        # the probe kept only the start of the body: its length says nothing, and nothing
        # that can be seen differs (OONI skips the length check of truncated bodies too)
        return None
    if status_match and a > b and b > 0:
        # a larger page than the control's is a dynamic page, not a blockpage
        return (
            "guard",
            f"the probe's page ({a} bytes) is larger than the control's ({b} bytes) with the "
            f"same status (HTTP {http.code}): a page that differs for everyone, not a blockpage",
            {**details, "guard": "dynamic"},
        )
    parts = []
    if not status_match:
        parts.append(f"status {http.code} where the control got {ctl.http_code}")
    if not body_match:
        parts.append(f"{a} bytes where the control got {b}")
    if not title_match:
        parts.append(f'title "{http.title}" where the control saw "{ctl.http_title}"')
    return (
        "diff",
        f"the page the probe received for {http.url} differs from the control's: "
        + "; ".join(parts),
        details,
    )


def _speed(
    tk: dict[str, Any],
    ctl: ControlObs,
    baseline: Baseline | None,
    host: str | None,
    http: HttpObs | None,
) -> Finding | None:
    """Throttling: speed ten times below the control's or the network's; slow handshakes."""
    kbit = throughput_kbit_s(tk)
    ooni_b: str | bool = "http-failure" if http is not None and http.failure else False
    ooni_a = http is not None and http.failure is None
    if kbit is not None:
        # a site as fast as the other sites of its network is not singled out: the whole
        # network is slower than the control's (its uplink), which is not this site's throttling
        like_the_rest = (
            baseline is not None
            and baseline.kbit_s is not None
            and kbit * NETWORK_SLOW_RATIO >= baseline.kbit_s
        )
        if (
            ctl.kbit_s
            and ctl.kbit_s > 0
            and not like_the_rest
            and (kbit == 0 or ctl.kbit_s / kbit >= THROTTLE_RATIO)
        ):
            return Finding(
                "throttled",
                "throughput.throttled",
                0.8,
                [
                    f"the probe downloaded at {kbit:.0f} kbit/s, the control at "
                    f"{ctl.kbit_s:.0f} kbit/s ({_ratio(ctl.kbit_s, kbit)} slower)"
                ],
                ooni_b,
                ooni_a,
                {"probe_kbit_s": kbit, "control_kbit_s": ctl.kbit_s},
            )
        if (
            baseline is not None
            and baseline.kbit_s
            and (kbit == 0 or baseline.kbit_s / kbit >= THROTTLE_RATIO)
        ):
            return Finding(
                "throttled",
                "throughput.throttled",
                0.7,
                [
                    f"the probe downloaded at {kbit:.0f} kbit/s while other sites on the same "
                    f"network ran at a median {baseline.kbit_s:.0f} kbit/s "
                    f"({baseline.targets} sites; {_ratio(baseline.kbit_s, kbit)} slower)"
                ],
                ooni_b,
                ooni_a,
                {"probe_kbit_s": kbit, "baseline_kbit_s": baseline.kbit_s},
            )
    if baseline is not None and baseline.tls_seconds:
        secs = tls_handshake_seconds(tk, host)
        if (
            secs is not None
            and secs >= TLS_SLOW_RATIO * baseline.tls_seconds
            and secs - baseline.tls_seconds >= TLS_SLOW_MIN_EXTRA
        ):
            return Finding(
                "throttled",
                "throughput.throttled",
                0.7,
                [
                    f"the TLS handshake with {host} took {secs:.2f} s while handshakes with "
                    f"other sites on the same network took a median {baseline.tls_seconds:.2f} s "
                    f"({baseline.targets} sites)"
                ],
                ooni_b,
                ooni_a,
                {"tls_handshake_s": secs, "baseline_tls_handshake_s": baseline.tls_seconds},
            )
    return None


def _ratio(a: float, b: float) -> str:
    return "infinitely" if b <= 0 else f"{a / b:.0f}×"
