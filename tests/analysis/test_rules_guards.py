"""Blockpages behind look-alike headers, bogons of the control's own kind, geo-blocking, CDNs."""

from __future__ import annotations

from tests.analysis.builders import make_wc
from tests.analysis.conftest import check

from ashyq.analysis.bogons import bogon_class
from ashyq.analysis.verdict import judge

BLOCKPAGE = (
    "<html><head><title>Доступ ограничен / Access restricted</title></head><body>"
    "Доступ к ресурсу ограничен</body></html>"
)
COMMON_ONLY = {"Content-Type": "text/html; charset=utf-8", "Date": "Fri, 20 Nov 2026 07:00:00 GMT"}
GEO_PAGE = (
    "<html><head><title>Unavailable</title></head><body><h1>Sorry</h1>"
    "<p>This service is not available in your region.</p></body></html>"
)


def _control_headers(m: dict, headers: dict[str, str]) -> dict:
    m["test_keys"]["control"]["http_request"]["headers"] = dict(headers)
    return m


def test_blockpage_found_when_both_sides_send_only_common_headers(ctx):
    m = _control_headers(
        make_wc("http://vlast.kz/", body=BLOCKPAGE, headers=dict(COMMON_ONLY)), COMMON_ONLY
    )
    v = judge(m, context=ctx)
    check(v)
    assert (v.status, v.method, v.ooni_blocking) == (
        "blocked",
        "http.blockpage:ashyq.kz_restricted",
        "http-diff",
    )


def test_only_common_headers_are_no_match_so_an_unknown_page_is_a_diff(ctx):
    page = "<html><head><title>Something else</title></head><body>short</body></html>"
    m = _control_headers(
        make_wc("http://vlast.kz/", body=page, headers=dict(COMMON_ONLY)), COMMON_ONLY
    )
    v = judge(m, context=ctx)
    check(v)
    assert (v.status, v.method) == ("blocked", "http.diff")
    assert v.details["headers_match"] is False


def test_bogon_classes():
    assert bogon_class("192.0.2.7") == bogon_class("203.0.113.12") == "documentation"
    assert bogon_class("10.1.2.3") == bogon_class("192.168.0.1") == "private"
    assert bogon_class("127.0.0.1") == "loopback"
    assert bogon_class("93.184.216.34") is None


def test_answer_in_the_controls_bogon_kind_pointing_at_a_blockpage(ctx):
    # the site and the blockpage server both live in documentation space (a private
    # deployment): not dns.bogon; the page names the method, DNS is in the evidence
    m = make_wc(
        "http://vlast.kz/",
        probe_addrs=["192.0.2.9"],
        probe_asn=None,
        control_addrs=["203.0.113.12"],
        control_reaches_probe_addrs=False,
        body=BLOCKPAGE,
        headers=dict(COMMON_ONLY),
    )
    v = judge(_control_headers(m, COMMON_ONLY), context=ctx)
    check(v)
    assert (v.status, v.method, v.ooni_blocking) == (
        "blocked",
        "http.blockpage:ashyq.kz_restricted",
        "dns",
    )
    assert v.details["dns_inconsistent"] is True
    assert any("192.0.2.9" in e for e in v.evidence)


def test_answer_in_the_controls_bogon_kind_with_another_page_is_injected(ctx):
    m = make_wc(
        "http://vlast.kz/",
        probe_addrs=["192.0.2.9"],
        probe_asn=None,
        control_addrs=["203.0.113.12"],
        control_reaches_probe_addrs=False,
        body="<html><head><title>Nope</title></head><body>no</body></html>",
        headers=dict(COMMON_ONLY),
    )
    v = judge(_control_headers(m, COMMON_ONLY), context=ctx)
    check(v)
    assert (v.status, v.method, v.ooni_blocking) == ("blocked", "dns.injected", "dns")


def test_bogon_of_another_kind_than_the_controls_stays_a_bogon(ctx):
    m = make_wc(
        "http://vlast.kz/",
        probe_addrs=["10.10.34.35"],
        probe_asn=None,
        control_addrs=["203.0.113.12"],
        control_reaches_probe_addrs=False,
    )
    v = judge(m, context=ctx)
    check(v)
    assert (v.status, v.method) == ("blocked", "dns.bogon")
    assert v.details["bogon_kinds"] == ["private"]
    # and against a public control address, as always
    v = judge(make_wc("http://vlast.kz/", probe_addrs=["10.10.34.35"], probe_asn=None), context=ctx)
    assert (v.status, v.method) == ("blocked", "dns.bogon")


def test_cdn_answer_in_the_controls_bogon_kind_with_a_valid_certificate(ctx):
    m = make_wc(
        "https://vlast.kz/",
        probe_addrs=["203.0.113.102"],
        probe_asn=None,
        control_addrs=["203.0.113.12"],
        control_reaches_probe_addrs=False,
    )
    v = judge(m, context=ctx)
    check(v)
    assert (v.status, v.method) == ("ok", None)
    assert any("valid certificate" in e and "203.0.113.102" in e for e in v.evidence)


def test_geoblock_by_the_operator_over_https_is_not_censorship(ctx):
    for status in (451, 403):
        v = judge(make_wc("https://vlast.kz/", status=status, body=GEO_PAGE), context=ctx)
        check(v)
        assert (v.status, v.method, v.ooni_accessible) == ("ok", None, True)
        assert v.details["guard"] == "operator.geoblock"
        assert any("certificate verified" in e for e in v.evidence)
        assert any("operator" in e for e in v.evidence)


def test_other_differences_over_authenticated_https_are_the_sites(ctx):
    page = "<html><head><title>Maintenance</title></head><body>back soon</body></html>"
    v = judge(make_wc("https://vlast.kz/", status=503, body=page), context=ctx)
    check(v)
    assert v.status == "ok" and v.details["guard"] == "tls.authenticated"


def test_geoblock_status_over_plain_http_stays_a_diff_with_low_confidence(ctx):
    v = judge(make_wc("http://vlast.kz/", status=451, body=GEO_PAGE), context=ctx)
    check(v)
    assert (v.status, v.method) == ("blocked", "http.diff")
    assert v.confidence <= 0.4


def test_unverified_https_is_not_authenticated(ctx):
    m = make_wc("https://vlast.kz/", status=451, body=GEO_PAGE)
    for h in m["test_keys"]["tls_handshakes"]:
        h["no_tls_verify"] = True
    v = judge(m, context=ctx)
    check(v)
    assert (v.status, v.method) == ("blocked", "http.diff")


def test_blockpage_over_https_with_a_trusted_interceptor_is_still_found(ctx):
    # a confirmed fingerprint wins even when the certificate verified (a CA the device trusts)
    v = judge(make_wc("https://vlast.kz/", body=BLOCKPAGE), context=ctx)
    check(v)
    assert (v.status, v.method) == ("blocked", "http.blockpage:ashyq.kz_restricted")


def test_body_scan_cache_is_dropped_when_fingerprints_change():
    from ashyq.analysis.fingerprints import Fingerprint, FingerprintDB

    db = FingerprintDB()
    page = "<html><body>Site temporarily closed by order 451-K</body></html>"
    assert db.match_http_body(page, "KZ") is None
    assert db.match_http_body(page, "KZ") is None  # remembered
    db.add(Fingerprint("test.order", "nat", "body", "contains", "closed by order"))
    fp = db.match_http_body(page, "KZ")
    assert fp is not None and fp.name == "test.order"


def test_captcha_widget_on_the_sites_own_page_is_not_a_challenge(ctx):
    from tests.analysis.builders import PAGE

    page = PAGE.replace("</body>", '<div class="g-recaptcha" data-sitekey="x"></div></body>')
    v = judge(make_wc("http://vlast.kz/", body=page), context=ctx)
    check(v)
    assert (v.status, v.method) == ("ok", None)
