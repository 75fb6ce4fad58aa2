from __future__ import annotations

import pytest
from tests.analysis.conftest import check

from ashyq.analysis.verdict import judge


def app(test: str, **tk) -> dict:
    return {
        "test_name": test,
        "probe_cc": "KZ",
        "probe_asn": "AS9198",
        "input": None,
        "measurement_start_time": "2022-01-05 12:00:00",
        "test_keys": tk,
    }


CASES = [
    (
        app(
            "whatsapp",
            whatsapp_endpoints_status="blocked",
            whatsapp_web_status="ok",
            registration_server_status="ok",
            whatsapp_endpoints_blocked=["e1.whatsapp.net"],
        ),
        "blocked",
        "app.blocked",
    ),
    (
        app(
            "whatsapp",
            whatsapp_endpoints_status="ok",
            whatsapp_web_status="ok",
            registration_server_status="ok",
        ),
        "ok",
        None,
    ),
    (
        app(
            "telegram",
            telegram_tcp_blocking=True,
            telegram_http_blocking=True,
            telegram_web_status="blocked",
        ),
        "blocked",
        "tcp.failure",
    ),
    (
        app(
            "telegram",
            telegram_tcp_blocking=False,
            telegram_http_blocking=False,
            telegram_web_status="ok",
        ),
        "ok",
        None,
    ),
    (
        app("facebook_messenger", facebook_dns_blocking=True, facebook_tcp_blocking=False),
        "blocked",
        "dns.injected",
    ),
    (
        app("facebook_messenger", facebook_dns_blocking=False, facebook_tcp_blocking=True),
        "blocked",
        "tcp.failure",
    ),
    (
        app("signal", signal_backend_status="blocked", signal_backend_failure="connection_reset"),
        "blocked",
        "tls.reset",
    ),
    (app("signal", signal_backend_status="ok"), "ok", None),
    (
        app("tor", targets={"a": {"failure": "generic_timeout_error"}, "b": {"failure": "x"}}),
        "blocked",
        "app.failure",
    ),
    (app("tor", targets={"a": {"failure": None}, "b": {"failure": None}}), "ok", None),
    (app("vanilla_tor", failure="generic_timeout_error", success=False), "blocked", "app.failure"),
    (app("vanilla_tor", failure=None, success=True, bootstrap_time=12.5), "ok", None),
    (app("psiphon", failure=None, bootstrap_time=3.2), "ok", None),
    (app("psiphon", failure="generic_timeout_error"), "blocked", "app.failure"),
    (
        app("riseupvpn", api_status="blocked", api_failure="connection_reset"),
        "blocked",
        "app.blocked",
    ),
    (
        app("http_header_field_manipulation", tampering={"total": True, "header_name_diff": True}),
        "ok",
        "middlebox.detected",
    ),
    (app("http_invalid_request_line", tampering=True), "ok", "middlebox.detected"),
    (app("http_invalid_request_line", tampering=False), "ok", None),
    (app("stunreachability", endpoint="stun.l.google.com:19302"), "inconclusive", "test.unknown"),
    (app("brand_new_test"), "inconclusive", "test.unknown"),
    (app("signal"), "inconclusive", "probe.failure"),
]


@pytest.mark.parametrize(("m", "status", "method"), CASES, ids=[c[0]["test_name"] for c in CASES])
def test_app_tests_use_their_own_keys(ctx, m, status, method):
    v = judge(m, context=ctx)
    check(v)
    assert (v.status, v.method) == (status, method)
    assert v.test_name == m["test_name"]


def test_app_targets():
    assert judge(app("vanilla_tor", success=True)).target == "tor"
    assert judge(app("whatsapp", whatsapp_web_status="ok")).target == "whatsapp"
