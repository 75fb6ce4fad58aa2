from __future__ import annotations

from tests.analysis.builders import SITE_IP, make_wc
from tests.analysis.conftest import check

from ashyq.analysis.fingerprints import FingerprintDB, parse_csv
from ashyq.analysis.verdict import JudgeContext, judge


def test_everything_works_is_ok(ctx):
    v = judge(make_wc(), context=ctx)
    check(v)
    assert (v.status, v.method, v.ooni_blocking, v.ooni_accessible) == ("ok", None, False, True)
    assert v.target == "vlast.kz" and v.probe_asn == "AS9198" and v.region == "Almaty"


def test_nxdomain_while_control_resolves(ctx):
    v = judge(make_wc(dns_failure="dns_nxdomain_error"), context=ctx)
    check(v)
    assert (v.status, v.method, v.ooni_blocking) == ("blocked", "dns.nxdomain", "dns")
    assert any("dns_nxdomain_error" in e for e in v.evidence)
    assert any(SITE_IP in e for e in v.evidence)


def test_nxdomain_for_everyone_is_down(ctx):
    v = judge(
        make_wc(dns_failure="dns_nxdomain_error", control_dns_failure="dns_name_error"),
        context=ctx,
    )
    check(v)
    assert (v.status, v.method, v.ooni_blocking, v.ooni_accessible) == (
        "down",
        "dns.nxdomain",
        False,
        False,
    )


def test_bogon_answer(ctx):
    v = judge(make_wc(probe_addrs=["10.10.34.35"], probe_asn=None), context=ctx)
    check(v)
    assert (v.status, v.method, v.ooni_blocking) == ("blocked", "dns.bogon", "dns")
    text = " ".join(v.evidence)
    assert "10.10.34.35, a bogon" in text and f"{SITE_IP} in AS15133" in text


def test_same_asn_other_address_is_consistent(ctx):
    v = judge(make_wc(probe_addrs=["93.184.216.99"], probe_asn=15133), context=ctx)
    check(v)
    assert v.status == "ok"


def test_injected_answer_with_failed_connection(ctx):
    v = judge(
        make_wc(
            probe_addrs=["82.200.1.7"],
            probe_asn=64500,
            tcp_failure="generic_timeout_error",
            control_reaches_probe_addrs=False,
        ),
        context=ctx,
    )
    check(v)
    # the control never tried that address, so the cause is the DNS answer
    assert (v.status, v.method, v.ooni_blocking) == ("blocked", "dns.injected", "dns")
    assert any("82.200.1.7 in AS64500" in e and "AS15133" in e for e in v.evidence)


def test_unconfirmed_address_with_valid_certificate_is_a_cdn(ctx):
    m = make_wc(probe_addrs=["151.101.1.20"], probe_asn=64501, control_reaches_probe_addrs=False)
    # the probe's own TLS handshake there succeeded with verification: not censorship
    v = judge(m, context=ctx)
    check(v)
    assert v.status == "ok"
    assert any("valid certificate" in e and "CDN" in e for e in v.evidence)
    # the same answer with no TLS to confirm it, and a different page: injection
    m2 = make_wc(
        "http://vlast.kz/",
        probe_addrs=["151.101.1.20"],
        probe_asn=64501,
        control_reaches_probe_addrs=False,
        body="<html><title>x</title>hello</html>",
        headers={},
    )
    v2 = judge(m2, context=ctx)
    assert (v2.status, v2.method) == ("blocked", "dns.injected")


def test_inconsistent_answer_but_same_page_is_ok(ctx):
    m = make_wc("http://vlast.kz/", probe_addrs=["151.101.1.20"], probe_asn=64501)
    v = judge(m, context=ctx)
    check(v)
    assert v.status == "ok" and any("matches the control" in e for e in v.evidence)


def test_dns_fingerprint_is_confirmed():
    db = FingerprintDB()
    parse_csv(
        "name,scope,location_found,pattern_type,pattern,expected_countries\n"
        "test.kz_dns,nat,dns,full,192.0.2.66,KZ\n",
        "inline",
        db,
    )
    ctx = JudgeContext(fingerprints=db)
    v = judge(make_wc(probe_addrs=["192.0.2.66"], probe_asn=None), context=ctx)
    check(v)
    assert (v.status, v.method, v.confidence) == ("blocked", "dns.fingerprint:test.kz_dns", 1.0)
    assert v.details["confirmed"] is True
    # scoped to its country: elsewhere it is only a bogon/unconfirmed answer
    v2 = judge(make_wc(probe_addrs=["192.0.2.66"], probe_asn=None, cc="IT"), context=ctx)
    assert v2.method == "dns.bogon"


def test_no_control_is_inconclusive(ctx):
    v = judge(
        make_wc("http://vlast.kz/", control=False, dns_failure="dns_nxdomain_error"), context=ctx
    )
    check(v)
    assert (v.status, v.method, v.ooni_blocking) == ("inconclusive", "control.missing", None)
    v2 = judge(
        make_wc(
            "http://vlast.kz/", control_failure="connection_reset", http_failure="connection_reset"
        ),
        context=ctx,
    )
    assert (v2.status, v2.method) == ("inconclusive", "control.failure")


def test_bogon_when_the_control_itself_resolves_private_addresses(ctx):
    # inside a lab network the site lives on 10.1.0.5; the censor answers 127.0.0.1
    v = judge(
        make_wc(probe_addrs=["127.0.0.1"], probe_asn=None, control_addrs=["10.1.0.5"]), context=ctx
    )
    check(v)
    assert (v.status, v.method) == ("blocked", "dns.bogon")
    # the same private address for both: consistent
    v2 = judge(
        make_wc(probe_addrs=["10.1.0.5"], probe_asn=None, control_addrs=["10.1.0.5"]), context=ctx
    )
    assert v2.status == "ok"


def test_control_validated_tls_at_the_probes_address_is_a_cdn(ctx):
    # OONI v0.5: control.ip_info flags bit 8 = "the test helper validated TLS for the domain"
    m = make_wc(
        "http://vlast.kz/",
        probe_addrs=["151.101.1.20"],
        probe_asn=54113,
        control_reaches_probe_addrs=False,
        body="<html>other</html>",
        headers={},
    )
    m["test_keys"]["control"]["ip_info"]["151.101.1.20"] = {"asn": 54113, "flags": 9}
    v = judge(m, context=ctx)
    check(v)
    # not DNS: the page differs, and that is what is reported
    assert (v.status, v.method) == ("blocked", "http.diff")
    assert any("control completed a TLS handshake" in e for e in v.evidence)
