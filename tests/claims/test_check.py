"""`ashyq claims check` against a real store whose events come from the store's own engine."""

from __future__ import annotations

import json

import pytest

from ashyq.claims.checks import check_stored, claims_for_event
from ashyq.claims.extract import extract_report
from ashyq.claims.link import link_claim
from ashyq.claims.storage import list_claims, save_report
from ashyq.cli import main
from ashyq.store import Store

from .storehelp import add_verdicts, series

DAY = "2016-12-16"


@pytest.fixture()
def store(tmp_path):
    s = Store.open(tmp_path / "data")
    rows = (
        series("www.facebook.com", DAY, "blocked", "Almaty")
        + series("www.youtube.com", DAY, "ok", "Almaty")
        + series("a.kz", DAY, "down", "Shymkent")
        + series("b.kz", DAY, "down", "Shymkent")
        + series("c.kz", DAY, "down", "Shymkent")
    )
    add_verdicts(s, rows)
    return s


REPORTS = {
    "fb": "Facebook was blocked in Almaty on 16 December 2016.",
    "yt": "Ютуб в Алматы 16 декабря 2016 года был заблокирован.",
    "ig": "Шымкентте 2016 жылғы 16 желтоқсанда Инстаграм бұғатталды.",
    "tg": "Telegram was blocked in Aktobe on 16 December 2016.",
    "net": "On 16 December 2016 the internet was cut off in Shymkent.",
}


def save_all(store):
    ids = {}
    for key, text in REPORTS.items():
        (ids[key],) = save_report(store, extract_report(text, None, source=key))
    return ids


def test_statuses_with_the_measurements_behind_them(store):
    ids = save_all(store)
    links = {link.claim_id: link for link in check_stored(store)}
    fb = links[ids["fb"]]
    assert fb.status == "corroborated"
    assert fb.event_ids, "the blocking event of facebook.com"
    assert len(fb.measurement_uids) == 3
    yt = links[ids["yt"]]
    assert yt.status == "contradicted"
    assert len(yt.measurement_uids) == 3
    assert links[ids["ig"]].status == "outage"  # everything was down in Shymkent
    assert links[ids["ig"]].event_ids
    assert links[ids["tg"]].status == "no_data"
    assert links[ids["net"]].status == "corroborated"


def test_other_day_or_place_is_no_data(store):
    (cid,) = save_report(
        store, extract_report("Facebook was blocked in Almaty on 20 December 2016.", None)
    )
    (cid2,) = save_report(
        store, extract_report("Facebook was blocked in Atyrau on 16 December 2016.", None)
    )
    links = {link.claim_id: link for link in check_stored(store)}
    assert links[cid].status == "no_data"
    assert links[cid2].status == "no_data"


def test_account_claims_are_not_measurable():
    claim = {"claim_id": "x", "kind": "account", "targets": ["whatsapp"], "date": DAY}
    link = link_claim(claim, [], [])
    assert link.status == "no_data" and "not visible" in link.notes[0]


def test_pure_matching_of_platform_to_domains():
    claim = {
        "claim_id": "c",
        "kind": "blocking",
        "targets": ["facebook"],
        "places": ["Almaty"],
        "date": DAY,
        "not_affected": ["twitter"],
    }
    event = {
        "event_id": "e1",
        "kind": "blocking",
        "target": "static.xx.fbcdn.net",
        "scope": "regional",
        "regions": ["Almaty"],
        "start": f"{DAY}T15:00:00Z",
        "end": f"{DAY}T18:00:00Z",
        "measurement_uids": ["u1", "u2"],
    }
    tw = {
        "measurement_uid": "u3",
        "target": "twitter.com",
        "status": "blocked",
        "region": "Almaty",
        "measurement_start_time": f"{DAY} 16:00:00",
    }
    link = link_claim(claim, [event], [tw])
    assert link.status == "corroborated"
    assert link.event_ids == ["e1"] and link.measurement_uids[:2] == ["u1", "u2"]
    assert any("twitter" in n for n in link.notes)  # said to work, measured blocked
    elsewhere = dict(event, regions=["Atyrau"])
    assert link_claim(claim, [elsewhere], []).status == "no_data"
    national = dict(event, regions=["Atyrau"], scope="national")
    assert link_claim(claim, [national], []).status == "corroborated"


def test_cli_save_list_check(tmp_path, capsys):
    data = tmp_path / "d"
    report = tmp_path / "r.txt"
    report.write_text(REPORTS["fb"], encoding="utf-8")
    assert main(["claims", "extract", str(report), "--save", "--data", str(data)]) == 0
    capsys.readouterr()
    assert main(["claims", "list", "--data", str(data), "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed[0]["targets"] == ["facebook"] and listed[0]["date"] == DAY
    # saving the same report again keeps one claim
    assert main(["claims", "extract", str(report), "--save", "--data", str(data)]) == 0
    capsys.readouterr()
    assert len(list_claims(data)) == 1
    add_verdicts(Store.open(data), series("facebook.com", DAY, "blocked", "Almaty"))
    assert main(["claims", "check", "--data", str(data), "--format", "json"]) == 0
    (link,) = json.loads(capsys.readouterr().out)
    assert link["status"] == "corroborated" and link["event_ids"]
    assert main(["claims", "check", "--data", str(data)]) == 0
    assert "corroborated" in capsys.readouterr().out


def test_claims_survive_a_store_rebuild(tmp_path):
    data = tmp_path / "d"
    store = Store.open(data)
    save_report(store, extract_report(REPORTS["fb"], None))
    store.rebuild()  # the store remakes its file from the measurement archive
    assert [c["targets"] for c in list_claims(Store.open(data))] == [["facebook"]]


def test_a_named_provider_limits_the_check_to_its_networks(store):
    on_kt = extract_report(
        "Абоненты «Казахтелекома» в Алматы 16 декабря 2016 года не могли открыть Facebook.", None
    )
    assert on_kt.claims[0].asns == ["AS9198", "AS50482"]
    on_kcell = extract_report(
        "Абоненты Kcell в Алматы 16 декабря 2016 года не могли открыть Facebook.", None
    )
    (kt,) = save_report(store, on_kt)
    (kc,) = save_report(store, on_kcell)
    links = {link.claim_id: link for link in check_stored(store)}
    assert links[kt].status == "corroborated"  # the verdicts are from AS9198
    assert links[kc].status == "no_data"


def test_claims_for_an_event(store):
    ids = save_all(store)
    (fb_event,) = [e for e in store.events() if e["kind"] == "blocking"]
    related = claims_for_event(store, fb_event)
    assert [c["claim_id"] for c in related] == [ids["fb"]]
    assert related[0]["link_status"] == "corroborated"
    yt = next(link for link in check_stored(store) if link.claim_id == ids["yt"])
    assert yt.status == "contradicted"


def test_a_file_from_before_the_provider_columns_is_upgraded(tmp_path):
    import duckdb

    from ashyq.claims import db

    data = tmp_path / "d"
    Store.open(data)
    old_ddl = db.ddl("claims").split("    isps")[0].rstrip().rstrip(",") + "\n);"
    con = duckdb.connect(str(data / "ashyq.duckdb"))
    con.execute(old_ddl)
    con.close()
    reader = Store.open(data, read_only=True)
    assert list_claims(reader) == []  # older columns only: still readable
    save_report(Store.open(data), extract_report(REPORTS["fb"], None))
    (claim,) = list_claims(reader)
    assert claim["asns"] == [] and claim["targets"] == ["facebook"]


def test_extract_json_ids_are_the_stored_ids(tmp_path, capsys):
    report = tmp_path / "r.txt"
    report.write_text(REPORTS["fb"], encoding="utf-8")
    data = tmp_path / "d"
    assert main(["claims", "extract", str(report), "--save", "--data", str(data)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [c["claim_id"] for c in doc["claims"]] == [c["claim_id"] for c in list_claims(data)]
