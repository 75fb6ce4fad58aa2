"""A day shaped like the lab's kz-2019-05-09 scenario (src/ashyq/lab/scenarios), as generated
verdict series with known truth, through a real DuckDB store:

* news sites blocked by DNS on AS9198 (Kazakhtelecom) in Almaty and Shymkent, 07:00-14:00 UTC,
  fine on Kcell (AS29355) everywhere;
* Facebook cut on every network, 09:00-17:00 (national);
* YouTube throttled in Almaty on both networks, 09:00-17:00, fine in Shymkent (regional);
* Shymkent's internet shut off on both networks, 10:00-13:00: one regional outage, and no
  blocking of each site (the news sites' blocking there goes on across it);
* one failed measurement of a domestic site in the evening: no event.

Measurements every 15 minutes, each vantage and target at its own offset within the round.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from tests.events.series import insert, verdict

from ashyq.cli import main
from ashyq.store import Store

DAY = datetime(2019, 5, 9)
EVERY = timedelta(minutes=15)
Z = "%Y-%m-%dT%H:%M:%SZ"

VANTAGES = [
    ("AS9198", "Almaty"),
    ("AS9198", "Shymkent"),
    ("AS29355", "Almaty"),
    ("AS29355", "Shymkent"),
]
NEWS = {
    "vlast.kz": "dns.blockpage",
    "holanews.kz": "dns.nxdomain",
    "informburo.kz": "dns.bogon",
    "exclusive.kz": "dns.blockpage",
}
DOMESTIC = ["tengrinews.kz", "kaspi.kz", "egov.kz"]
TARGETS = [*NEWS, "facebook.com", "youtube.com", *DOMESTIC]


def _h(hour: int) -> datetime:
    return DAY + timedelta(hours=hour)


def _verdict_for(asn: str, region: str, target: str, k: int, when: datetime) -> tuple[str, str]:
    if region == "Shymkent" and _h(10) <= when < _h(13):  # the shutdown
        return ("down", "dns.timeout") if k % 2 else ("blocked", "tcp.timeout")
    if target in NEWS and asn == "AS9198" and _h(7) <= when < _h(14):
        return "blocked", NEWS[target]
    if target == "facebook.com" and _h(9) <= when < _h(17):
        return "blocked", "tls.timeout"
    if target == "youtube.com" and region == "Almaty" and _h(9) <= when < _h(17):
        return "throttled", "throughput.throttled"
    if (target, asn, region, when) == ("tengrinews.kz", "AS29355", "Almaty", _h(20)):
        return "blocked", "http.blockpage"  # a fluke
    return "ok", ""


def day_rows() -> list[dict]:
    rows = []
    for v, (asn, region) in enumerate(VANTAGES):
        for k, target in enumerate(TARGETS):
            offset = timedelta(seconds=(v * 97 + k * 43) % 360)
            for i in range(96):
                when = DAY + i * EVERY
                status, method = _verdict_for(asn, region, target, k, when)
                rows.append(verdict(target, asn, region, when + offset, status, method or None))
    return rows


def _t(text: str | None) -> datetime | None:
    return None if text is None else datetime.strptime(text, Z)


def _check_times(e: dict, true_start: datetime, true_end: datetime) -> None:
    """Start and end within one interval of the truth, and the bounds enclose it."""
    start, end = _t(e["start"]), _t(e["end"])
    assert abs(start - true_start) <= EVERY, (e["kind"], e["target"], start)
    assert abs(end - true_end) <= EVERY, (e["kind"], e["target"], end)
    assert _t(e["last_good_before"]) <= true_start <= start
    assert end <= true_end <= _t(e["first_good_after"])


@pytest.fixture(scope="module")
def events(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    store = Store.open(tmp_path_factory.mktemp("kz-2019-05-09"))
    insert(store, day_rows())
    return store.events(since="2019-05-09", until="2019-05-10")


def test_the_day_makes_exactly_the_true_events(events: list[dict]) -> None:
    got = sorted((e["kind"], e["target"] or "", e["scope"]) for e in events)
    assert got == sorted(
        [("blocking", t, "network") for t in NEWS]
        + [
            ("blocking", "facebook.com", "national"),
            ("throttling", "youtube.com", "regional"),
            ("outage", "", "regional"),
        ]
    )


def test_news_sites_blocked_by_dns_on_one_network_in_two_regions(events: list[dict]) -> None:
    news = [e for e in events if e["target"] in NEWS]
    assert len(news) == len(NEWS)
    for e in news:
        assert e["asns"] == ["AS9198"] and e["regions"] == ["Almaty", "Shymkent"]
        assert e["method"] == NEWS[e["target"]] and e["method"].startswith("dns.")
        assert e["methods"] == [NEWS[e["target"]]]  # the shutdown's timeouts are not theirs
        _check_times(e, _h(7), _h(14))
        # 28 rounds in Almaty; in Shymkent 28 minus the 12 shutdown rounds
        assert e["measurements"] == 28 + 16
        assert {(n["asn"], n["region"]) for n in e["networks"]} == set(VANTAGES[:2])


def test_shymkent_shutdown_is_one_regional_outage(events: list[dict]) -> None:
    [o] = [e for e in events if e["kind"] == "outage"]
    assert o["target"] is None
    assert o["asns"] == ["AS29355", "AS9198"] and o["regions"] == ["Shymkent"]
    _check_times(o, _h(10), _h(13))
    assert o["measurement_uids"]


def test_facebook_national_and_youtube_throttled_in_almaty(events: list[dict]) -> None:
    [fb] = [e for e in events if e["target"] == "facebook.com"]
    assert fb["kind"] == "blocking" and fb["method"] == "tls.timeout"
    assert fb["asns"] == ["AS29355", "AS9198"] and fb["regions"] == ["Almaty", "Shymkent"]
    _check_times(fb, _h(9), _h(17))
    [yt] = [e for e in events if e["target"] == "youtube.com"]
    assert yt["kind"] == "throttling" and yt["method"] == "throughput.throttled"
    assert yt["asns"] == ["AS29355", "AS9198"] and yt["regions"] == ["Almaty"]
    _check_times(yt, _h(9), _h(17))
    assert yt["measurements"] == 2 * 32


def test_no_domestic_site_and_no_fluke_makes_an_event(events: list[dict]) -> None:
    assert not [e for e in events if e["target"] in DOMESTIC]
    assert all(_t(e["start"]) < _h(18) for e in events)


def test_the_cli_reports_the_same_day(tmp_path: Path, capsys) -> None:
    insert(Store.open(tmp_path), day_rows())
    args = ["events", "--data", str(tmp_path), "--since", "2019-05-09", "--until", "2019-05-10"]
    assert main([*args, "--country", "KZ", "--target", "holanews.kz", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and "holanews.kz" in lines[1] and "dns.nxdomain" in lines[1]
    assert main([*args, "--format", "stop"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == 7
    [outage] = [r for r in rows if r["shutdown_extent"] == "Full network"]
    assert (outage["geo_scope"], outage["area_name"]) == ("Regional", "Shymkent")
    assert outage["affected_network"] == "AS29355, AS9198"
    [yt] = [r for r in rows if r["shutdown_type"] == "Throttle"]
    assert (yt["geo_scope"], yt["area_name"], yt["other_affected"]) == (
        "Regional",
        "Almaty",
        "youtube.com",
    )
