from __future__ import annotations

from tests.analysis.builders import make_wc
from tests.analysis.conftest import check

from ashyq.analysis.verdict import judge, judge_all


def tp(kbit: float) -> dict:
    seconds = 4.0
    return {
        "url": "https://x/",
        "bytes": int(kbit * 1000 / 8 * seconds),
        "seconds": seconds,
        "kbit_s": kbit,
        "samples": [{"t": 1.0, "bytes": 1000}],
    }


def test_ten_times_slower_than_the_control(ctx):
    v = judge(make_wc(throughput=tp(120), control_kbit_s=24_000), context=ctx)
    check(v)
    assert (v.status, v.method, v.ooni_blocking, v.ooni_accessible) == (
        "throttled",
        "throughput.throttled",
        False,
        True,
    )
    assert any("120 kbit/s" in e and "24000 kbit/s" in e for e in v.evidence)
    # 5x slower is not throttling
    assert judge(make_wc(throughput=tp(5000), control_kbit_s=24_000), context=ctx).status == "ok"


def test_below_the_network_baseline_with_judge_all(ctx):
    ms = [make_wc(f"https://site{i}.kz/", throughput=tp(20_000 + i)) for i in range(4)]
    slow = make_wc("https://azattyq.org/", throughput=tp(300))
    other_net = make_wc("https://azattyq.org/", throughput=tp(300), asn="AS21299")
    vs = judge_all([*ms, slow, other_net], context=ctx)
    for v in vs:
        check(v)
    assert [v.status for v in vs[:4]] == ["ok"] * 4
    assert (vs[4].status, vs[4].method) == ("throttled", "throughput.throttled")
    assert vs[4].details["baseline_kbit_s"] > 19_000
    # no baseline for a network with a single measurement
    assert vs[5].status == "ok"
    # a single judgement has no baseline either
    assert judge(slow, context=ctx).status == "ok"


def test_slow_tls_handshake_against_baseline(ctx):
    ms = [make_wc(f"https://site{i}.kz/", tls_seconds=0.08) for i in range(4)]
    slow = make_wc("https://rus.azattyq.org/", tls_seconds=3.5)
    vs = judge_all([*ms, slow], context=ctx)
    assert (vs[-1].status, vs[-1].method) == ("throttled", "throughput.throttled")
    assert any("3.50 s" in e for e in vs[-1].evidence)
    assert all(v.status == "ok" for v in vs[:-1])


def test_body_stalls_after_headers(ctx):
    v = judge(
        make_wc("http://vlast.kz/", http_failure="generic_timeout_error", status=200), context=ctx
    )
    check(v)
    assert (v.status, v.method, v.ooni_blocking) == (
        "throttled",
        "throughput.throttled",
        "http-failure",
    )


def test_no_throughput_data_is_fine(ctx):
    m = make_wc(control_kbit_s=10_000)
    assert judge(m, context=ctx).status == "ok"
    m["test_keys"]["throughput"] = {"kbit_s": "fast", "bytes": None}
    assert judge(m, context=ctx).status == "ok"


def test_small_quick_pages_are_not_speed_tests(ctx):
    # 3 KB in 0.4 s is latency, not throttling, whatever the control's speed
    small = {"bytes": 3000, "seconds": 0.4, "kbit_s": 60.0, "samples": []}
    v = judge(make_wc(throughput=small, control_kbit_s=50_000), context=ctx)
    assert v.status == "ok"


def test_a_slow_network_is_not_a_throttled_site(ctx):
    # every site on this network downloads at ~1 Mbit/s while the control gets 50 Mbit/s:
    # the network is slow, no site is singled out
    ms = [
        make_wc(f"https://site{i}.kz/", throughput=tp(1000 + i), control_kbit_s=50_000)
        for i in range(5)
    ]
    assert all(v.status == "ok" for v in judge_all(ms, context=ctx))
    # one site far below the others on the same network is throttled
    slow = make_wc("https://azattyq.org/", throughput=tp(40), control_kbit_s=50_000)
    assert judge_all([*ms, slow], context=ctx)[-1].status == "throttled"
