from __future__ import annotations

from tests.analysis.builders import cert_chain, make_wc
from tests.analysis.conftest import check

from ashyq.analysis.verdict import judge


def test_tcp_timeout_per_address_while_control_connects(ctx):
    m = make_wc(probe_addrs=["93.184.216.34", "93.184.216.35"], tcp_failure="generic_timeout_error")
    v = judge(m, context=ctx)
    check(v)
    assert (v.status, v.method, v.ooni_blocking, v.ooni_accessible) == (
        "blocked",
        "tcp.timeout",
        "tcp_ip",
        False,
    )
    assert any("93.184.216.35:443 (generic_timeout_error)" in e for e in v.evidence)
    assert any("the control connected" in e for e in v.evidence)


def test_tcp_reset_and_refused(ctx):
    assert judge(make_wc(tcp_failure="connection_reset"), context=ctx).method == "tcp.reset"
    assert judge(make_wc(tcp_failure="connection_refused"), context=ctx).method == "tcp.refused"


def test_tcp_failing_for_the_control_too_is_down(ctx):
    m = make_wc(
        tcp_failure="connection_refused",
        control_tcp_ok=False,
        control_http_failure="connection_refused",
    )
    v = judge(m, context=ctx)
    check(v)
    assert (v.status, v.method, v.ooni_blocking, v.ooni_accessible) == (
        "down",
        "tcp.refused",
        False,
        False,
    )


def test_tls_timeout_after_client_hello(ctx):
    v = judge(make_wc(tls_failure="generic_timeout_error"), context=ctx)
    check(v)
    assert (v.status, v.method, v.ooni_blocking) == ("blocked", "tls.timeout", "http-failure")
    assert any("ClientHello" in e and "SNI vlast.kz" in e for e in v.evidence)


def test_tls_reset(ctx):
    for failure in ("connection_reset", "eof_error"):
        v = judge(make_wc(tls_failure=failure), context=ctx)
        check(v)
        assert (v.status, v.method) == ("blocked", "tls.reset")


def test_tls_failing_for_everyone_is_down(ctx):
    v = judge(
        make_wc(
            tls_failure="connection_reset",
            control_tls_ok=False,
            control_http_failure="connection_reset",
        ),
        context=ctx,
    )
    assert (v.status, v.method) == ("down", "tls.reset")


def test_mitm_by_kazakh_state_ca_is_confirmed(ctx):
    certs = cert_chain("Information Security Certification Authority", "ISCA", "KZ", "vlast.kz")
    v = judge(make_wc(tls_failure="ssl_unknown_authority", certs=certs), context=ctx)
    check(v)
    assert (v.status, v.method, v.confidence) == ("blocked", "tls.mitm", 1.0)
    assert v.details["confirmed"] is True
    text = " ".join(v.evidence)
    assert "CN=Information Security Certification Authority" in text and "C=KZ" in text
    assert "known Kazakh interception CA" in text
    qaznet = cert_chain("Qaznet Trust Network", "Qaznet", "KZ", "vlast.kz")
    v2 = judge(make_wc(tls_failure="ssl_unknown_authority", certs=qaznet), context=ctx)
    assert v2.details.get("confirmed") is True


def test_mitm_by_unknown_issuer_is_named_not_confirmed(ctx):
    certs = cert_chain("Corporate Proxy CA", "Example Corp", "US", "vlast.kz")
    v = judge(make_wc(tls_failure="ssl_unknown_authority", certs=certs), context=ctx)
    check(v)
    assert (v.status, v.method) == ("blocked", "tls.mitm")
    assert v.confidence < 1.0 and "confirmed" not in v.details
    assert "Corporate Proxy CA" in v.details["issuer"]


def test_invalid_certificate_for_everyone_is_down(ctx):
    v = judge(
        make_wc(
            tls_failure="ssl_invalid_hostname",
            control_tls_ok=False,
            control_http_failure="ssl_invalid_hostname",
        ),
        context=ctx,
    )
    check(v)
    assert (v.status, v.ooni_blocking, v.ooni_accessible) == ("down", False, False)


def test_only_the_urls_port_counts(ctx):
    m = make_wc(tcp_failure="generic_timeout_error")
    # OONI 0.5 also connects to port 80 of an https site; that success changes nothing
    m["test_keys"]["tcp_connect"].append(
        {"ip": "93.184.216.34", "port": 80, "status": {"success": True, "failure": None}}
    )
    v = judge(m, context=ctx)
    assert (v.status, v.method) == ("blocked", "tcp.timeout")


def test_tls_failure_after_client_hello_from_network_events(ctx):
    m = make_wc(tls_failure="generic_timeout_error")
    m["test_keys"]["network_events"] = [
        {"operation": "connect", "address": "93.184.216.34:443", "t": 0.1},
        {"operation": "write", "address": "93.184.216.34:443", "num_bytes": 517, "t": 0.2},
        {"operation": "read", "address": "93.184.216.34:443", "failure": "generic_timeout_error"},
    ]
    v = judge(m, context=ctx)
    assert v.method == "tls.timeout"
    assert any(
        "right after the ClientHello (517 bytes sent, nothing received)" in e for e in v.evidence
    )
