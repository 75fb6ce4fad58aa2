"""Events from generated verdict series with known truth, through a real DuckDB store."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from tests.events.series import T0, insert, series, verdict

from ashyq.events import detect
from ashyq.events.build import load_spans
from ashyq.store import Store

H = timedelta(hours=1)
Z = "%Y-%m-%dT%H:%M:%SZ"


def _t(text: str | None) -> datetime | None:
    return None if text is None else datetime.strptime(text, Z)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store.open(tmp_path)


def test_known_start_and_end_recovered_within_one_interval(store: Store) -> None:
    every = timedelta(minutes=20)
    truth = {}
    rows = []
    rng = random.Random(7)
    for k, asn in enumerate(["AS9198", "AS21299", "AS48716"]):
        first, last = 10 + 3 * k, 30 + 2 * k  # indexes of the first and last blocked measurement
        truth[asn] = (T0 + first * every, T0 + (last + 1) * every)  # true start, true end
        rows += series("vlast.kz", asn, None, T0, 60, every, range(first, last + 1), jitter=300)
        # a network where it is fine, so that scope is per network
    rows += series("vlast.kz", "AS35104", None, T0, 60, every, set(), jitter=300)
    rng.shuffle(rows)
    insert(store, rows)
    events = store.events()
    assert [e["kind"] for e in events] == ["blocking"] * 3
    for e in events:
        [asn] = e["asns"]
        true_start, true_end = truth[asn]
        assert e["scope"] == "network"
        assert abs(_t(e["start"]) - true_start) <= every
        assert abs(_t(e["end"]) - true_end) <= every
        # the bounds enclose the truth
        assert _t(e["last_good_before"]) <= true_start <= _t(e["start"])
        assert _t(e["end"]) <= true_end <= _t(e["first_good_after"])
        assert e["method"] == "dns.nxdomain"
        assert 0.5 < e["confidence"] <= 1.0


def test_single_failed_measurement_makes_no_event(store: Store) -> None:
    rows = series("kaspi.kz", "AS9198", "Almaty", T0, 48, H, {5, 20, 33})
    rows += series("kaspi.kz", "AS21299", "Almaty", T0, 48, H, {40})
    insert(store, rows)
    assert store.events() == []
    # two in a row do make one
    insert(store, series("kaspi.kz", "AS9198", "Almaty", T0 + 100 * H, 10, H, {4, 5}))
    [e] = store.events()
    assert e["measurements"] == 2


def test_inconclusive_and_down_do_not_break_or_make_events(store: Store) -> None:
    rows = series("holanews.kz", "AS9198", None, T0, 30, H, range(10, 20))
    for r in rows:  # sparse noise inside the block: neither good nor bad
        if r["measurement_start_time"] in (T0 + 12 * H, T0 + 15 * H):
            r["status"] = "inconclusive"
    rows += [verdict("holanews.kz", "AS9198", None, T0 + 40 * H + i * H, "down") for i in range(5)]
    insert(store, rows)
    [e] = store.events()
    assert _t(e["start"]) == T0 + 10 * H and _t(e["end"]) == T0 + 19 * H
    assert e["measurements"] == 8


def test_outage_is_not_reported_as_blocking(store: Store) -> None:
    targets = ["a.kz", "b.kz", "gov.kz", "kaspi.kz", "vlast.kz"]
    rows = []
    for tg in targets:
        rows += series(tg, "AS48716", "Shymkent", T0, 24, H, range(10, 16), method="tcp.timeout")
        rows += series(tg, "AS9198", "Shymkent", T0, 24, H, set())
    insert(store, rows)
    events = store.events()
    assert [e["kind"] for e in events] == ["outage"]
    [o] = events
    assert o["target"] is None and o["asns"] == ["AS48716"] and o["scope"] == "network"
    assert _t(o["start"]) == T0 + 10 * H and _t(o["end"]) == T0 + 15 * H
    assert store.events(kind="blocking") == []


def test_nationwide_block_is_one_event(store: Store) -> None:
    rows = []
    networks = [
        ("AS9198", "Almaty"),
        ("AS9198", "Shymkent"),
        ("AS9198", "Astana"),
        ("AS21299", "Almaty"),
        ("AS48716", "Shymkent"),
    ]
    for asn, region in networks:
        # cities measured at different moments, blocked over overlapping time
        start = T0 + timedelta(minutes=7 * len(region))
        rows += series("vlast.kz", asn, region, start, 24, H, range(7, 14))
    insert(store, rows)
    [e] = store.events()
    assert e["scope"] == "national"
    assert e["asns"] == ["AS21299", "AS48716", "AS9198"]
    assert e["regions"] == ["Almaty", "Astana", "Shymkent"]
    assert e["measurements"] == 35
    assert len(e["networks"]) == 5


def test_regional_and_network_scopes(store: Store) -> None:
    rows = []
    for asn in ("AS9198", "AS21299"):
        for region in ("Almaty", "Shymkent"):
            rows += series("facebook.com", asn, region, T0, 24, H, range(16, 21))
        rows += series("facebook.com", asn, "Astana", T0, 24, H, set())
    rows += series("vlast.kz", "AS9198", "Almaty", T0, 24, H, range(7, 14))
    rows += series("vlast.kz", "AS9198", "Shymkent", T0, 24, H, range(7, 14))
    rows += series("vlast.kz", "AS21299", "Almaty", T0, 24, H, set())
    insert(store, rows)
    by_target = {e["target"]: e for e in store.events()}
    fb = by_target["facebook.com"]
    assert fb["scope"] == "regional" and fb["regions"] == ["Almaty", "Shymkent"]
    vl = by_target["vlast.kz"]
    assert vl["scope"] == "network" and vl["asns"] == ["AS9198"]
    assert vl["regions"] == ["Almaty", "Shymkent"]


def test_ongoing_block_has_no_end(store: Store) -> None:
    insert(store, series("azattyq.org", "AS9198", None, T0, 10, H, range(6, 10)))
    [e] = store.events()
    assert e["end"] is None and e["first_good_after"] is None and e["ongoing"]
    assert _t(e["last_good_before"]) == T0 + 5 * H


def test_throttling_event(store: Store) -> None:
    rows = series(
        "azattyq.org",
        "AS9198",
        None,
        T0,
        30,
        H,
        range(5, 25),
        status="throttled",
        method="throughput.throttled",
    )
    insert(store, rows)
    [e] = store.events()
    assert e["kind"] == "throttling" and e["method"] == "throughput.throttled"


def test_daily_recurrence_in_local_time(store: Store) -> None:
    # Asia/Almaty is UTC+5: 19:00-23:00 local is 14:00-18:00 UTC
    rows = []
    for day in range(5):
        base = datetime(2024, 9, 27 + day) if day < 4 else datetime(2024, 10, 1)
        blocked = range(14, 18)
        rows += series("youtube.com", "AS9198", None, base, 24, H, blocked)
    insert(store, rows)
    events = store.events()
    assert len(events) == 5
    assert {e["recurrence"] for e in events} == {"every day 19:00–23:00 Asia/Almaty"}


def test_sql_runs_match_the_reference_implementation(store: Store) -> None:
    rng = random.Random(3)
    rows = []
    t = T0
    for _i in range(3000):
        t += timedelta(minutes=rng.randint(1, 90))
        rows.append(
            verdict(
                rng.choice(["a.kz", "b.kz", "c.kz"]),
                rng.choice(["AS1", "AS2"]),
                rng.choice([None, "Almaty"]),
                t,
                rng.choices(
                    ["ok", "blocked", "throttled", "down", "inconclusive"], [6, 3, 1, 1, 1]
                )[0],
                rng.choice(["dns.nxdomain", "tls.timeout"]),
            )
        )
    insert(store, rows)
    with store.connect() as con:
        sql_spans, sql_goods = load_spans(con)
    py_spans, py_goods = detect.spans_from_verdicts(rows)

    def key(s):
        return (
            s.kind,
            s.target,
            s.asn,
            s.region,
            s.first_bad,
            s.last_bad,
            s.n,
            s.last_good_before,
            s.first_good_after,
            s.methods,
        )

    assert sorted(map(key, sql_spans)) == sorted(map(key, py_spans))
    assert len(sql_spans) > 50
    relevant = {(s.country, s.target) for s in py_spans}
    assert sorted((g.target, g.asn, g.region, g.first, g.last) for g in sql_goods) == sorted(
        (g.target, g.asn, g.region, g.first, g.last)
        for g in py_goods
        if (g.country, g.target) in relevant
    )


def test_nationwide_shutdown_is_one_national_outage(store: Store) -> None:
    rows = []
    for asn, region in [("AS9198", "Almaty"), ("AS21299", "Almaty"), ("AS48716", "Shymkent")]:
        for tg in ["a.kz", "b.kz", "gov.kz", "facebook.com"]:
            rows += series(tg, asn, region, T0, 30, H, range(8, 20), method="tcp.timeout")
    insert(store, rows)
    [e] = store.events()
    assert (e["kind"], e["scope"], e["target"]) == ("outage", "national", None)
    assert e["asns"] == ["AS21299", "AS48716", "AS9198"]
    assert _t(e["start"]) == T0 + 8 * H and _t(e["end"]) == T0 + 19 * H
    assert e["measurement_uids"]


def test_one_round_where_everything_fails_is_an_outage_not_blocking(store: Store) -> None:
    targets = [f"site{k}.kz" for k in range(7)]
    rows = []
    for tg in targets:
        bad = {0, 1, 2, 3} if tg == "site0.kz" else {3}  # site0 blocked from the start
        rows += series(tg, "AS9198", "Shymkent", T0, 4, 4 * H, bad, method="dns.timeout")
        rows += series(tg, "AS29355", "Almaty", T0, 4, 4 * H, set())
    insert(store, rows)
    events = store.events()
    assert [(e["kind"], e["target"]) for e in events] == [
        ("blocking", "site0.kz"),
        ("outage", None),
    ]
    blocking, outage = events
    # site0's blocking is what was seen before the outage round; nothing good came after it
    assert blocking["measurements"] == 3 and blocking["end"] is None
    assert blocking["networks"][0]["last_bad"] == "2024-05-09 08:00:00"
    assert _t(outage["start"]) == T0 + 12 * H and outage["end"] is None


def test_many_sites_censored_each_its_own_way_is_not_an_outage(store: Store) -> None:
    # Six of seven sites are blocked in Shymkent, each with a censor's answer (a blockpage, a
    # forged DNS answer, a TLS reset...), while a domestic site works: that is censorship of
    # six sites, not an outage of the network. Later everything times out: that is an outage.
    methods = {
        "a.kz": "http.blockpage:x",
        "b.kz": "dns.nxdomain",
        "c.kz": "dns.bogon",
        "d.kz": "tls.reset",
        "e.kz": "http.blockpage:x",
        "f.kz": "tls.mitm",
        "g.kz": "tls.timeout",
        "h.kz": "tcp.refused",
    }

    def shymkent(target: str, bad: range, method: str) -> list[dict]:
        return series(target, "AS9198", "Shymkent", T0, 12, H, bad, method=method)

    rows = []
    for tg, method in methods.items():
        rows += shymkent(tg, range(2, 8), method)[:8]
        rows += shymkent(tg, range(8, 12), "dns.timeout")[8:]
    rows += shymkent("gov.kz", range(8, 12), "dns.timeout")
    insert(store, rows)
    blocking = store.events(kind="blocking")
    assert sorted(e["target"] for e in blocking) == sorted(methods)
    for e in blocking:
        assert _t(e["start"]) == T0 + 2 * H and e["regions"] == ["Shymkent"]
    [outage] = store.events(kind="outage")
    assert _t(outage["start"]) == T0 + 8 * H
