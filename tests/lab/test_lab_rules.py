"""Each censor rule, and each innocent failure, checked with real packets in the lab.

A client runs inside a vantage point's namespace (a thread that entered it with setns) and
talks to the sites through the censor router, exactly as a probe would.
"""

from __future__ import annotations

import pytest
from lab_clients import fetch, resolve

from ashyq.lab import inns, plan

pytestmark = pytest.mark.lab

ALMATY = "kt-almaty"  # every rule applies here
ASTANA = "kcell-astana"  # another network: same rules (they name no network)
SHYMKENT = "kt-shymkent"  # shut down


@pytest.fixture(scope="module")
def net(rules_net, rules_scenario):
    rules_net.apply(rules_scenario.times()[0])
    return rules_net


def in_vp(net, vantage, fn, *args, **kw):
    return inns.run_in(net.vantage_ns[vantage], lambda: fn(*args, **kw), timeout=60)


def resolver(net, vantage):
    return net.plan.vantage(vantage).gateway


def ip(net, host):
    return net.plan.site_ip[host]


def test_unblocked_site_is_reached_through_the_censor(net):
    rcode, answers = in_vp(net, ALMATY, resolve, resolver(net, ALMATY), "ok.kz")
    assert (rcode, answers) == ("NOERROR", [ip(net, "ok.kz")])
    r = in_vp(net, ALMATY, fetch, ip(net, "ok.kz"), "ok.kz", cafile=str(net.ca_file))
    assert r.outcome == "ok", r.detail
    assert r.data.startswith(b"HTTP/1.1 200") and b"ok.kz" in r.data


def test_dns_nxdomain(net):
    assert in_vp(net, ALMATY, resolve, resolver(net, ALMATY), "nx.kz") == ("NXDOMAIN", [])
    # the authoritative server itself knows the name: the lie is the resolver's
    assert inns.run_in(net.inet, resolve, plan.DNS_MAIN, "nx.kz") == (
        "NOERROR",
        [ip(net, "nx.kz")],
    )


def test_dns_bogon(net):
    assert in_vp(net, ASTANA, resolve, resolver(net, ASTANA), "bogon.kz") == (
        "NOERROR",
        [plan.BOGON],
    )


def test_dns_answer_points_at_the_blockpage_server(net):
    rcode, answers = in_vp(net, ALMATY, resolve, resolver(net, ALMATY), "redirect.kz")
    assert rcode == "NOERROR" and answers == [plan.blockpage_ip(1)]
    r = in_vp(net, ALMATY, fetch, answers[0], "redirect.kz", tls=False)
    assert r.outcome == "ok"
    assert "Доступ ограничен".encode() in r.data and b"Access restricted" in r.data
    assert b"Republic of Kazakhstan" in r.data


def test_ip_blackhole_times_out_while_other_sites_connect(net):
    r = in_vp(net, ALMATY, fetch, ip(net, "hole.kz"), "hole.kz", timeout=1.5)
    assert r.outcome == "timeout", r.detail
    assert r.seconds >= 1.4
    ok = in_vp(net, ALMATY, fetch, ip(net, "ok.kz"), "ok.kz", cafile=str(net.ca_file))
    assert ok.outcome == "ok"


def test_tcp_reset_arrives(net):
    r = in_vp(net, ALMATY, fetch, ip(net, "rst.kz"), "rst.kz", tls=False)
    assert r.outcome == "refused", r.detail  # the RST answered our SYN
    assert r.seconds < 1.0


def test_tls_stalls_after_client_hello_by_sni_only(net):
    # Same address, two names: only the blocked SNI stalls.
    addr = ip(net, "stall.kz")
    r = in_vp(net, ALMATY, fetch, addr, "stall.kz", cafile=str(net.ca_file), timeout=2)
    assert r.outcome == "timeout", r.detail
    assert r.seconds >= 1.9
    other = in_vp(net, ALMATY, fetch, addr, "ok.kz", cafile=str(net.ca_file), timeout=2)
    assert other.outcome == "ok", other.detail


def test_tls_reset_by_sni(net):
    r = in_vp(net, ASTANA, fetch, ip(net, "tlsrst.kz"), "tlsrst.kz", cafile=str(net.ca_file))
    assert r.outcome == "reset", r.detail
    plain = in_vp(net, ASTANA, fetch, ip(net, "tlsrst.kz"), "tlsrst.kz", tls=False)
    assert plain.outcome == "ok"  # the rule reads TLS only


def test_http_blockpage_by_host(net):
    addr = ip(net, "page.kz")
    r = in_vp(net, ALMATY, fetch, addr, "page.kz", tls=False)
    assert r.outcome == "ok"
    assert b"Access restricted" in r.data and b"<title>" in r.data
    real = in_vp(net, ALMATY, fetch, addr, "ok.kz", tls=False)
    assert real.outcome == "ok" and b"Access restricted" not in real.data


def test_tls_interception_with_the_state_ca(net):
    addr = ip(net, "mitm.kz")
    r = in_vp(net, ALMATY, fetch, addr, "mitm.kz", cafile=str(net.ca_file))
    assert r.outcome == "ssl_error" and "CERTIFICATE_VERIFY_FAILED" in r.detail
    state_ca = str(net.mitm_ca_dir / "ca.pem")
    seen = in_vp(net, ALMATY, fetch, addr, "mitm.kz", cafile=state_ca)
    assert seen.outcome == "ok", seen.detail
    assert seen.issuer == "Qaznet Trust Network"
    assert seen.data.startswith(b"HTTP/1.1 200") and b"mitm.kz" in seen.data  # relayed


def test_throttling_by_sni_is_near_130_kbit(net):
    r = in_vp(
        net, ALMATY, fetch, ip(net, "slowed.kz"), "slowed.kz", cafile=str(net.ca_file), timeout=20
    )
    assert r.outcome == "ok" and len(r.data) > 40_000
    kbit = len(r.data) * 8 / 1000 / r.seconds
    assert 80 < kbit < 150, kbit
    fast = in_vp(net, ALMATY, fetch, ip(net, "big.kz"), "big.kz", cafile=str(net.ca_file))
    assert fast.outcome == "ok"
    assert len(fast.data) * 8 / 1000 / fast.seconds > 4 * 130  # other names: not paced


def test_region_shutdown_cuts_one_region_only(net):
    rcode, _ = in_vp(net, SHYMKENT, resolve, resolver(net, SHYMKENT), "ok.kz", timeout=1)
    assert rcode == "timeout"
    r = in_vp(net, SHYMKENT, fetch, ip(net, "ok.kz"), "ok.kz", cafile=str(net.ca_file), timeout=1.5)
    assert r.outcome == "timeout"
    same_isp = in_vp(net, ALMATY, fetch, ip(net, "ok.kz"), "ok.kz", cafile=str(net.ca_file))
    assert same_isp.outcome == "ok"


def test_time_window_switches_a_rule_on_and_off(net, rules_scenario):
    t0, t1 = rules_scenario.times()
    ca = str(net.ca_file)
    try:
        assert (
            in_vp(net, ALMATY, fetch, ip(net, "window.kz"), "window.kz", cafile=ca).outcome == "ok"
        )
        net.apply(t1)
        assert (
            in_vp(net, ALMATY, fetch, ip(net, "window.kz"), "window.kz", cafile=ca).outcome
            == "reset"
        )
    finally:
        net.apply(t0)
    assert in_vp(net, ALMATY, fetch, ip(net, "window.kz"), "window.kz", cafile=ca).outcome == "ok"


def test_region_throttle_with_tc_tbf(net, rules_scenario):
    t0, t1 = rules_scenario.times()
    ca = str(net.ca_file)
    before = in_vp(net, ASTANA, fetch, ip(net, "big.kz"), "big.kz", cafile=ca)
    assert before.outcome == "ok" and len(before.data) * 8 / 1000 / before.seconds > 3 * 256
    try:
        net.apply(t1)
        shaped = in_vp(net, ASTANA, fetch, ip(net, "big.kz"), "big.kz", cafile=ca, timeout=20)
        other = in_vp(net, ALMATY, fetch, ip(net, "big.kz"), "big.kz", cafile=ca)
    finally:
        net.apply(t0)
    assert shaped.outcome == "ok" and len(shaped.data) > 60_000
    kbit = len(shaped.data) * 8 / 1000 / shaped.seconds
    assert 120 < kbit < 300, kbit  # tbf at 256 kbit/s, headers and TLS included
    assert len(other.data) * 8 / 1000 / other.seconds > 3 * 256  # another region: untouched
    after = in_vp(net, ASTANA, fetch, ip(net, "big.kz"), "big.kz", cafile=ca)
    assert len(after.data) * 8 / 1000 / after.seconds > 3 * 256  # the limit is lifted


# ---- what is not censorship: the same for the control (in the internet namespace)


def from_control(net, fn, *args, **kw):
    return inns.run_in(net.inet, lambda: fn(*args, **kw), timeout=60)


def test_site_down_for_everyone(net):
    ca = str(net.ca_file)
    assert in_vp(net, ALMATY, fetch, ip(net, "down.kz"), "down.kz", cafile=ca).outcome == "refused"
    assert from_control(net, fetch, ip(net, "down.kz"), "down.kz", cafile=ca).outcome == "refused"


def test_site_slow_for_everyone(net):
    ca = str(net.ca_file)
    for r in (
        in_vp(net, ALMATY, fetch, ip(net, "slow.kz"), "slow.kz", cafile=ca),
        from_control(net, fetch, ip(net, "slow.kz"), "slow.kz", cafile=ca),
    ):
        assert r.outcome == "ok" and r.seconds >= 1.4


def test_challenge_page_for_everyone(net):
    ca = str(net.ca_file)
    a = in_vp(net, ALMATY, fetch, ip(net, "challenge.kz"), "challenge.kz", cafile=ca)
    b = from_control(net, fetch, ip(net, "challenge.kz"), "challenge.kz", cafile=ca)
    assert a.data.startswith(b"HTTP/1.1 503") and b.data.startswith(b"HTTP/1.1 503")
    assert a.data.split(b"\r\n\r\n", 1)[1] == b.data.split(b"\r\n\r\n", 1)[1]


def test_geoblock_by_the_operator(net):
    ca = str(net.ca_file)
    kz = in_vp(net, ASTANA, fetch, ip(net, "geo.kz"), "geo.kz", cafile=ca)
    assert kz.outcome == "ok", kz.detail  # a valid certificate: the operator's own edge
    assert kz.data.startswith(b"HTTP/1.1 451") and b"Not available in your region" in kz.data
    abroad = from_control(net, fetch, ip(net, "geo.kz"), "geo.kz", cafile=ca)
    assert abroad.data.startswith(b"HTTP/1.1 200")


def test_cdn_answers_differ_by_region(net):
    almaty = in_vp(net, ALMATY, resolve, resolver(net, ALMATY), "cdn.kz")
    astana = in_vp(net, ASTANA, resolve, resolver(net, ASTANA), "cdn.kz")
    assert almaty[0] == astana[0] == "NOERROR"
    assert almaty[1] != astana[1]
    ca = str(net.ca_file)
    for vp, (_, answers) in ((ALMATY, almaty), (ASTANA, astana)):
        r = in_vp(net, vp, fetch, answers[0], "cdn.kz", cafile=ca)
        assert r.outcome == "ok" and r.data.startswith(b"HTTP/1.1 200")


def test_middlebox_survives_garbage_and_half_hellos(net):
    """Hostile or broken clients neither crash the middlebox nor block others."""
    import os
    import socket

    addr = ip(net, "stall.kz")  # redirected through the middlebox

    def abuse() -> None:
        for payload in (os.urandom(3000), b"\x16\x03\x01\x40\x00" + os.urandom(100), b"GET /"):
            with socket.create_connection((addr, 443), timeout=2) as s:
                s.sendall(payload)
                s.shutdown(socket.SHUT_WR)
                s.settimeout(6)
                try:
                    while s.recv(65536):
                        pass
                except OSError:
                    pass

    in_vp(net, ALMATY, abuse)
    r = in_vp(net, ALMATY, fetch, addr, "ok.kz", cafile=str(net.ca_file))
    assert r.outcome == "ok", r.detail
    assert "Traceback" not in net.lab.log_tail("middlebox-kt.log", 200)
