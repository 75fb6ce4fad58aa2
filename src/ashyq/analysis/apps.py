"""Rules for OONI tests other than web_connectivity, from each test's own top-level keys.

Sources for the meaning of the keys: ooni/spec nettests (ts-018 whatsapp, ts-020 telegram,
ts-019 facebook_messenger, ts-029 signal, ts-023 tor, ts-016 vanilla_tor, ts-015 psiphon,
ts-026 riseupvpn, ts-006 http_header_field_manipulation, ts-007 http_invalid_request_line,
ts-002 dns_consistency, ts-003 http_requests, ts-014 meek_fronted_requests).

These tests have no per-measurement control, so their verdicts rest on the tests' own
classification and carry a lower confidence; a failure to bootstrap a circumvention tool is
``blocked`` with low confidence (OONI calls it an anomaly).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ashyq.analysis.finding import Finding
from ashyq.analysis.vocabulary import outcome_of


def _stage_method(failure: str | None, default_stage: str) -> str:
    o = outcome_of(failure)
    if (failure and "dns" in failure) or o == "nxdomain":
        return "dns.nxdomain" if o == "nxdomain" else "dns.failure"
    if failure and failure.startswith("ssl_"):
        return "tls.failure"
    if default_stage in ("tcp", "tls", "http") and o in ("timeout", "reset"):
        return f"{default_stage}.{o}"
    if default_stage == "tcp" and o == "refused":
        return "tcp.refused"
    return "app.blocked"


def _blocked(method: str, conf: float, evidence: list[str], **details: Any) -> Finding:
    return Finding("blocked", method, conf, evidence, None, None, dict(details))


def _ok(evidence: list[str], conf: float = 0.7, **details: Any) -> Finding:
    return Finding("ok", None, conf, evidence, None, None, dict(details))


def _inconclusive(evidence: list[str], method: str = "probe.failure") -> Finding:
    return Finding("inconclusive", method, 0.0, evidence, None, None)


def whatsapp(tk: dict[str, Any]) -> Finding:
    parts = {
        "endpoints": (tk.get("whatsapp_endpoints_status"), None, "tcp"),
        "web": (tk.get("whatsapp_web_status"), tk.get("whatsapp_web_failure"), "http"),
        "registration server": (
            tk.get("registration_server_status"),
            tk.get("registration_server_failure"),
            "http",
        ),
    }
    blocked = [(k, f, st) for k, (s, f, st) in parts.items() if s == "blocked"]
    seen = [k for k, (s, _f, _st) in parts.items() if s in ("ok", "blocked")]
    if not seen:
        return _inconclusive(["the WhatsApp test recorded no status"])
    if blocked:
        eps = tk.get("whatsapp_endpoints_blocked")
        ev = [
            f"WhatsApp {k} blocked" + (f" ({f})" if isinstance(f, str) else "")
            for k, f, _ in blocked
        ]
        if isinstance(eps, list) and eps:
            ev.append(f"{len(eps)} WhatsApp endpoints unreachable, e.g. {eps[0]}")
        _k, f, st = blocked[0]
        return _blocked(_stage_method(f, st), 0.7, ev, components=[b[0] for b in blocked])
    return _ok([f"WhatsApp {', '.join(seen)}: reachable"])


def telegram(tk: dict[str, Any]) -> Finding:
    tcp_b = tk.get("telegram_tcp_blocking")
    http_b = tk.get("telegram_http_blocking")
    web = tk.get("telegram_web_status")
    if tcp_b is None and http_b is None and web is None:
        return _inconclusive(["the Telegram test recorded no status"])
    ev = []
    if tcp_b is True:
        ev.append("Telegram's access points refused or dropped every TCP connection")
    if http_b is True:
        ev.append("Telegram's access points failed every HTTP request")
    if web == "blocked":
        ev.append(f"Telegram Web blocked ({tk.get('telegram_web_failure') or 'failure'})")
    if ev:
        method = "tcp.failure" if tcp_b is True else "app.blocked"
        if tcp_b is True:
            method = "tcp.timeout" if _any_timeout(tk.get("tcp_connect")) else "tcp.failure"
        return _blocked(method, 0.7, ev)
    return _ok(["Telegram's access points and Telegram Web were reachable"])


def _any_timeout(conns: Any) -> bool:
    if not isinstance(conns, list):
        return False
    for c in conns:
        st = c.get("status") if isinstance(c, dict) else None
        if isinstance(st, dict) and outcome_of(st.get("failure")) == "timeout":
            return True
    return False


def facebook_messenger(tk: dict[str, Any]) -> Finding:
    dns_b = tk.get("facebook_dns_blocking")
    tcp_b = tk.get("facebook_tcp_blocking")
    if dns_b is None and tcp_b is None:
        return _inconclusive(["the Facebook Messenger test recorded no status"])
    if dns_b is True:
        return _blocked(
            "dns.injected",
            0.7,
            ["Facebook Messenger's names resolved to addresses outside Facebook's network"],
        )
    if tcp_b is True:
        return _blocked("tcp.failure", 0.7, ["Facebook Messenger's endpoints were unreachable"])
    return _ok(["Facebook Messenger's endpoints resolved and were reachable"])


def signal(tk: dict[str, Any]) -> Finding:
    st = tk.get("signal_backend_status")
    fail = tk.get("signal_backend_failure")
    if st == "blocked":
        return _blocked(
            _stage_method(fail if isinstance(fail, str) else None, "tls"),
            0.7,
            [f"Signal's servers were unreachable ({fail or 'failure'})"],
        )
    if st == "ok":
        return _ok(["Signal's servers were reachable"])
    return _inconclusive(["the Signal test recorded no status"])


def tor(tk: dict[str, Any]) -> Finding:
    targets = tk.get("targets")
    items = list(targets.values()) if isinstance(targets, dict) else targets
    if not isinstance(items, list) or not items:
        return _inconclusive(["the Tor test recorded no target"])
    failed = [t for t in items if isinstance(t, dict) and t.get("failure")]
    total = len([t for t in items if isinstance(t, dict)])
    if total == 0:
        return _inconclusive(["the Tor test recorded no readable target"])
    ev = [f"{len(failed)} of {total} Tor directory authorities and bridges failed"]
    if failed and len(failed) == total:
        return _blocked("app.failure", 0.6, ev, failed=len(failed), total=total)
    if len(failed) * 2 > total:
        return _blocked("app.failure", 0.4, ev, failed=len(failed), total=total)
    return _ok(ev, 0.6, failed=len(failed), total=total)


def bootstrap(name: str) -> Callable[[dict[str, Any]], Finding]:
    """Tor, torsf, psiphon, openvpn...: did the tool bootstrap?"""

    def rule(tk: dict[str, Any]) -> Finding:
        fail = tk.get("failure")
        ok = tk.get("success")
        if isinstance(fail, str) and fail:
            extra = tk.get("tor_progress_summary") or tk.get("error")
            return _blocked(
                "app.failure",
                0.5,
                [f"{name} did not bootstrap: {fail}" + (f" ({extra})" if extra else "")],
            )
        if ok is True or isinstance(tk.get("bootstrap_time"), int | float):
            bt = tk.get("bootstrap_time")
            return _ok(
                [f"{name} bootstrapped" + (f" in {bt:.1f} s" if isinstance(bt, float) else "")],
                0.6,
            )
        if ok is False:
            return _blocked("app.failure", 0.4, [f"{name} reported no success"])
        return _inconclusive([f"the {name} test recorded no result"])

    return rule


def riseupvpn(tk: dict[str, Any]) -> Finding:
    api = tk.get("api_status")
    gws = tk.get("failing_gateways")
    if api == "blocked" or tk.get("ca_cert_status") is False:
        return _blocked(
            "app.blocked",
            0.6,
            [f"RiseupVPN's API was unreachable ({tk.get('api_failure') or api or 'failure'})"],
        )
    if isinstance(gws, list) and gws:
        return _blocked("app.blocked", 0.5, [f"{len(gws)} RiseupVPN gateways failed"])
    if api == "ok":
        return _ok(["RiseupVPN's API and gateways were reachable"])
    return _inconclusive(["the RiseupVPN test recorded no status"])


def header_manipulation(tk: dict[str, Any]) -> Finding:
    tampering = tk.get("tampering")
    if isinstance(tampering, dict):
        hit = [k for k, v in tampering.items() if v is True and k != "total"]
        if tampering.get("total") is True or hit:
            return Finding(
                "ok",
                "middlebox.detected",
                0.6,
                [
                    "a middlebox altered the HTTP headers sent to the echo server"
                    + (f" ({', '.join(hit[:5])})" if hit else "")
                ],
                None,
                None,
            )
        return _ok(["the HTTP headers reached the echo server unchanged"], 0.6)
    if not tk.get("requests"):
        return _inconclusive(["the header test recorded no request"])
    return _inconclusive(["the header test recorded no tampering result"])


def invalid_request_line(tk: dict[str, Any]) -> Finding:
    tampering = tk.get("tampering")
    if tampering is True:
        return Finding(
            "ok",
            "middlebox.detected",
            0.6,
            ["a middlebox answered or altered invalid HTTP request lines"],
            None,
            None,
        )
    if tampering is False:
        return _ok(["invalid HTTP request lines reached the echo server unchanged"], 0.6)
    return _inconclusive(["the request-line test recorded no tampering result"])


def dns_consistency(tk: dict[str, Any]) -> Finding:
    inc = tk.get("inconsistent")
    if isinstance(inc, list) and inc:
        return _blocked(
            "dns.injected",
            0.5,
            [f"resolvers {', '.join(map(str, inc[:4]))} answered differently from the control"],
        )
    if isinstance(inc, list):
        return _ok(["every resolver answered like the control"], 0.5)
    return _inconclusive(["the DNS consistency test recorded no result"])


def http_requests(tk: dict[str, Any]) -> Finding:
    fail = tk.get("experiment_failure")
    cfail = tk.get("control_failure")
    if cfail:
        return _inconclusive([f"the control failed ({cfail})"], "control.failure")
    if isinstance(fail, str) and fail:
        return _blocked(
            _stage_method(fail, "http"), 0.5, [f"the probe's request failed with {fail}"]
        )
    if tk.get("body_length_match") is False and tk.get("headers_match") is False:
        return _blocked(
            "http.diff", 0.4, ["the page's length and headers differ from the control's"]
        )
    if tk.get("body_length_match") is None and tk.get("headers_match") is None:
        return _inconclusive(["the HTTP requests test recorded no comparison"])
    return _ok(["the page matches the one fetched over Tor"], 0.6)


def meek(tk: dict[str, Any]) -> Finding:
    if tk.get("success") is True:
        return _ok(["the domain-fronted meek requests succeeded"], 0.6)
    if tk.get("success") is False:
        return _blocked("app.failure", 0.4, ["the domain-fronted meek requests failed"])
    return _inconclusive(["the meek test recorded no result"])


def browser_web(tk: dict[str, Any]) -> Finding:
    r = tk.get("result")
    if r == "ok":
        return _ok(["the browser loaded the page"], 0.5)
    return _inconclusive(
        [f"the browser could not load the page ({r or 'no result'}); there is no control"],
        "control.missing",
    )


RULES: dict[str, Callable[[dict[str, Any]], Finding]] = {
    "whatsapp": whatsapp,
    "telegram": telegram,
    "facebook_messenger": facebook_messenger,
    "signal": signal,
    "tor": tor,
    "vanilla_tor": bootstrap("Tor"),
    "torsf": bootstrap("Tor with Snowflake"),
    "psiphon": bootstrap("Psiphon"),
    "openvpn": bootstrap("OpenVPN"),
    "riseupvpn": riseupvpn,
    "http_header_field_manipulation": header_manipulation,
    "http_invalid_request_line": invalid_request_line,
    "dns_consistency": dns_consistency,
    "http_requests": http_requests,
    "meek_fronted_requests_test": meek,
    "browser_web": browser_web,
}

#: the app a test is about, for the verdict's ``target`` field
APP_TARGETS = {
    "whatsapp": "whatsapp",
    "telegram": "telegram",
    "facebook_messenger": "facebook_messenger",
    "signal": "signal",
    "tor": "tor",
    "vanilla_tor": "tor",
    "torsf": "tor",
    "psiphon": "psiphon",
    "openvpn": "openvpn",
    "riseupvpn": "riseupvpn",
}
