"""Scenario files, their ground truth, and the censor configuration computed from them."""

from __future__ import annotations

import datetime as dt

import pytest

from ashyq.lab import plan
from ashyq.lab.middlebox import Policy, dns_answer, match_rule
from ashyq.lab.runner import citizenlab_csv, with_clock_step
from ashyq.lab.scenario import ScenarioError, available, expected, load, method_matches, parse

BUNDLED = ("kz-2016-12-16", "kz-2019-05-09", "kz-2022-01", "kz-2023-tls", "technical-failure")


def t(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def test_every_bundled_scenario_loads_and_plans():
    assert set(BUNDLED) <= set(available())
    for name in BUNDLED:
        s = load(name)
        p = plan.make_plan(s)
        assert s.rounds >= 2 and s.vantages and s.sites
        for net in s.networks:
            for when in s.times():
                assert "table ip aq_censor" in plan.censor_nft(p, net.id, when)
                plan.censor_policy(p, net.id, when, "/ca")
        assert citizenlab_csv(s).count("\n") == len(s.sites) + 1


def test_2019_ground_truth_follows_networks_regions_and_windows():
    s = load("kz-2019-05-09")
    vp = {v.id: v for v in s.vantages}
    morning, noon, afternoon = s.times()
    e = expected(s, "holanews.kz", vp["kt-almaty"], morning)
    assert (e.censored, e.technique, e.status) == (True, "dns.nxdomain", "blocked")
    assert expected(s, "holanews.kz", vp["kcell-almaty"], morning).technique == "tcp.reset"
    assert not expected(s, "facebook.com", vp["kt-almaty"], morning).censored  # before 09:00
    assert expected(s, "facebook.com", vp["kt-almaty"], noon).technique == "tls.timeout"
    yt = expected(s, "youtube.com", vp["kt-almaty"], noon)
    assert (yt.technique, yt.status, yt.methods) == (
        "throttle",
        "throttled",
        ("throughput.throttled",),
    )
    assert expected(s, "youtube.com", vp["kt-shymkent"], noon).technique == "tls.timeout"
    # the shutdown hides everything else in Shymkent, and only there
    assert expected(s, "vlast.kz", vp["kt-shymkent"], afternoon).technique == "shutdown"
    assert expected(s, "tengrinews.kz", vp["kt-shymkent"], afternoon).censored
    assert not expected(s, "tengrinews.kz", vp["kt-almaty"], afternoon).censored


def test_technical_failure_has_no_censorship():
    s = load("technical-failure")
    for when in s.times():
        for v in s.vantages:
            for site in s.sites:
                assert not expected(s, site.host, v, when).censored
    assert expected(s, "egov.kz", s.vantages[0], s.start).status == "down"


def test_method_patterns():
    assert method_matches("http.blockpage:ashyq.kz_restricted", ("http.blockpage:*",))
    assert not method_matches("http.diff", ("http.blockpage:*",))
    assert not method_matches(None, ("dns.nxdomain",))


BASE = {
    "name": "x",
    "start": "2024-01-01T00:00:00Z",
    "network": [{"id": "kt", "asn": "AS9198", "name": "KT"}],
    "vantage": [{"id": "a", "network": "kt", "region": "Almaty"}],
    "site": [{"host": "a.kz"}, {"host": "b.kz", "url": "http://b.kz/"}],
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"rule": [{"technique": "dns.poison", "targets": ["a.kz"]}]}, "unknown technique"),
        ({"rule": [{"technique": "tls.reset"}]}, "needs targets"),
        ({"rule": [{"technique": "tls.reset", "targets": ["c.kz"]}]}, "not a site"),
        ({"rule": [{"technique": "http.blockpage", "targets": ["a.kz"]}]}, "http://"),
        ({"rule": [{"technique": "shutdown", "regions": ["Mars"]}]}, "unknown region"),
        ({"rule": [{"technique": "shutdown", "from": "yesterday"}]}, "ISO 8601"),
        ({"step": "often"}, "duration"),
        ({"vantage": [{"id": "a", "network": "zz", "region": "A"}]}, "unknown network"),
        ({"site": [{"host": "a.kz", "behaviour": "sleepy"}]}, "unknown behaviour"),
        ({"start": None}, "expected a time"),
    ],
)
def test_bad_scenarios_are_refused_with_a_reason(change, message):
    with pytest.raises(ScenarioError, match=message):
        parse({**BASE, **change})


def test_missing_key_and_bad_toml(tmp_path):
    with pytest.raises(ScenarioError, match="missing key"):
        parse({k: v for k, v in BASE.items() if k != "site"})
    bad = tmp_path / "bad.toml"
    bad.write_text("name = [")
    with pytest.raises(ScenarioError, match="not valid TOML"):
        load(bad)
    with pytest.raises(ScenarioError, match="bundled"):
        load("kz-1999")


def test_clock_step_resamples_the_same_span():
    s = load("kz-2019-05-09")  # 06:00, 10:00, 14:00
    fine = with_clock_step(s, dt.timedelta(hours=2))
    assert [x.hour for x in fine.times()] == [6, 8, 10, 12, 14]


def test_censor_rules_for_one_moment():
    s = load("kz-2019-05-09")
    p = plan.make_plan(s)
    _, noon, afternoon = s.times()
    nft = plan.censor_nft(p, "kt", afternoon)
    shymkent = p.vantage("kt-shymkent").subnet
    assert f"ip saddr {{ {shymkent} }} drop" in nft
    assert "drop" not in plan.censor_nft(p, "kt", noon)
    assert "reject with tcp reset" in plan.censor_nft(p, "kcell", noon)
    policy = Policy.from_dict(plan.censor_policy(p, "kt", noon, "/ca"))
    almaty = p.vantage("kt-almaty").address
    shym = p.vantage("kt-shymkent").address
    assert match_rule(policy.tcp_rules, almaty, "www.youtube.com", kind="tls")["action"] == "pace"
    assert match_rule(policy.tcp_rules, shym, "youtube.com", kind="tls")["action"] == "stall"
    assert match_rule(policy.tcp_rules, almaty, "vlast.kz", kind="http")["action"] == "blockpage"
    assert match_rule(policy.tcp_rules, almaty, "tengrinews.kz", kind="tls") is None


def test_lying_resolver_answers_from_the_policy():
    import dns.message
    import dns.rcode

    policy = Policy(
        dns_rules=[
            {"action": "nxdomain", "names": ["holanews.kz"], "sources": ["10.1.1.0/24"]},
            {"action": "bogon", "names": ["informburo.kz"], "address": "127.0.0.1"},
        ]
    )
    nx = dns_answer(policy, dns.message.make_query("holanews.kz", "A"), "10.1.1.2")
    assert nx is not None and nx.rcode() == dns.rcode.NXDOMAIN
    # another network's client is not lied to
    assert dns_answer(policy, dns.message.make_query("holanews.kz", "A"), "10.2.3.2") is None
    bogon = dns_answer(policy, dns.message.make_query("www.informburo.kz", "A"), "10.2.3.2")
    assert [r.address for rr in bogon.answer for r in rr] == ["127.0.0.1"]
