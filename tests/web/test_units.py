"""Pure parts of the web: languages, CSV guard, passwords and sessions, timeline, heat map,
probe-vs-control extraction, test lists."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta

import pytest

from ashyq.web import heatmap, i18n, security, timeline
from ashyq.web.csvexport import guard_cell, to_csv
from ashyq.web.observations import compare, title_of
from ashyq.web.state import WebState, parse_test_list


def test_catalogs_have_the_same_keys_and_placeholders():
    en = i18n.catalog("en")
    for lang in ("kk", "ru"):
        other = i18n.catalog(lang)
        assert set(other) == set(en), lang
        for key, text in en.items():
            names = sorted(p for p in __import__("re").findall(r"{(\w+)}", text))
            assert sorted(__import__("re").findall(r"{(\w+)}", other[key])) == names, (lang, key)
    assert i18n.translate("kk", "events.count", n=3) == "Оқиғалар саны: 3"
    assert i18n.translate("ru", "no.such.key") == "no.such.key"


def test_language_choice():
    assert i18n.choose_language(None, None, "ru-RU,ru;q=0.9,en;q=0.8") == "ru"
    assert i18n.choose_language(None, None, "de, kk;q=0.7, ru;q=0.5") == "kk"
    assert i18n.choose_language(None, "kk", "ru") == "kk"
    assert i18n.choose_language("ru", "kk", "en") == "ru"
    assert i18n.choose_language("xx", None, "en;q=0, fr") == "en"
    assert i18n.choose_language(None, None, "ru;q=abc") == "en"


@pytest.mark.parametrize("text", ['=HYPERLINK("http://x")', "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_csv_guard_prefixes_formulas(text):
    assert guard_cell(text) == "'" + text
    doc = to_csv(["a"], [[text]])
    assert list(csv.reader(io.StringIO(doc)))[1] == ["'" + text]


def test_csv_keeps_numbers_and_lists():
    assert guard_cell(-5) == "-5" and guard_cell(0.5) == "0.5" and guard_cell(None) == ""
    assert guard_cell(["AS1", "AS2"]) == "AS1;AS2"
    assert guard_cell(["=x"]) == "'=x"
    assert guard_cell(datetime(2024, 1, 2, 3, 4, 5)) == "2024-01-02 03:04:05"
    doc = to_csv(["t"], [['a "quoted", comma\nline']])
    assert list(csv.reader(io.StringIO(doc)))[1] == ['a "quoted", comma\nline']


def test_passwords_sessions_and_csrf():
    stored = security.hash_password("s3cret-pass")
    assert stored.startswith("scrypt$") and "s3cret" not in stored
    assert security.verify_password("s3cret-pass", stored)
    assert not security.verify_password("s3cret-pasS", stored)
    assert not security.verify_password("x", "garbage")
    secret = b"k" * 32
    cookie = security.make_session(secret, "admin", now=1000)
    assert security.read_session(secret, cookie, now=1001) == "admin"
    assert security.read_session(secret, cookie, now=1000 + security.SESSION_SECONDS + 1) is None
    assert security.read_session(b"other" * 8, cookie, now=1001) is None
    forged = cookie.replace("admin", "root")
    assert security.read_session(secret, forged, now=1001) is None
    token = security.csrf_token(secret, "browser-1")
    assert security.check_csrf(secret, "browser-1", token)
    assert not security.check_csrf(secret, "browser-2", token)
    assert not security.check_csrf(secret, None, token)


def test_state_users_and_tokens(tmp_path):
    state = WebState.open(tmp_path)
    with pytest.raises(ValueError):
        state.set_user("a", "short")
    state.set_user("ana", "long enough pw")
    assert state.check_user("ana", "long enough pw") and not state.check_user("ana", "nope")
    assert not state.check_user("bob", "long enough pw")
    token = state.add_token("ci")
    assert state.token_owner(token) == "ci" and state.token_owner(token + "x") is None
    tid = state.tokens()[0]["id"]
    assert state.revoke_token(tid) and state.token_owner(token) is None
    assert state.secret() == WebState.open(tmp_path).secret()


def test_timeline_rows_and_bars():
    since = datetime(2024, 1, 1)
    until = since + timedelta(days=2)
    now = since + timedelta(days=1, hours=12)
    events = [
        {"event_id": "a", "kind": "blocking", "target": "vlast.kz", "asns": ["AS9198", "AS21299"],
         "start": since + timedelta(hours=6), "end": since + timedelta(hours=12),
         "methods": ["dns.nxdomain"]},
        {"event_id": "b", "kind": "outage", "target": None, "asns": ["AS48716"],
         "start": since + timedelta(hours=30), "end": None, "methods": ["tcp.timeout"]},
        {"event_id": "c", "kind": "blocking", "target": "x.kz", "asns": ["AS1"],
         "start": since - timedelta(days=5), "end": since - timedelta(days=4), "methods": []},
    ]  # fmt: skip
    chart = timeline.layout(events, since, until, now)
    assert [(r.target, r.network) for r in chart.rows] == [
        ("vlast.kz", "AS21299"), ("vlast.kz", "AS9198"), (None, "AS48716")
    ]  # fmt: skip
    bar = chart.rows[0].bars[0]
    assert bar.x == pytest.approx(timeline.LABEL_WIDTH + timeline.CHART_WIDTH * 6 / 48)
    assert bar.width == pytest.approx(timeline.CHART_WIDTH * 6 / 48)
    ongoing = chart.rows[2].bars[0]  # runs to now
    assert ongoing.x + ongoing.width == pytest.approx(
        timeline.LABEL_WIDTH + timeline.CHART_WIDTH * 36 / 48
    )
    with pytest.raises(ValueError):
        timeline.layout([], until, since, now)


def test_heatmap_uses_almaty_time_across_the_2024_offset_change():
    # 2024-02-28 14:00 UTC is 20:00 in Almaty (UTC+6); 2024-03-05 14:00 UTC is 19:00 (UTC+5)
    hm = heatmap.build(
        [(datetime(2024, 2, 28, 14), 4, 4), (datetime(2024, 3, 5, 14), 2, 1)], last_days=14
    )
    cells = {(c.day.isoformat(), c.hour): c for c in hm.cells if c.total}
    assert set(cells) == {("2024-02-28", 20), ("2024-03-05", 19)}
    assert cells[("2024-02-28", 20)].level == 5
    assert cells[("2024-03-05", 19)].level == 3
    assert heatmap.build([]).cells == []


def test_compare_reads_ooni_qa_measurement(shared_dir):
    path = shared_dir / "research/ooni/wc_qa_generated/dnsBlockingNXDOMAIN.measurement.json"
    c = compare(json.loads(path.read_text()))
    assert c.probe.dns_failure == "dns_nxdomain_error"
    assert c.control.dns  # the control resolved the name
    assert c.control.status == 200
    ok = compare(json.loads((path.parent / "successWithHTTPS.measurement.json").read_text()))
    assert ok.probe.status == 200 and ok.probe.title == ok.control.title
    assert ok.probe.dns == ok.control.dns


@pytest.mark.parametrize(
    "junk",
    [None, [], "x", {"test_keys": "x"}, {"test_keys": {"queries": "x", "requests": [1, None],
     "control": {"dns": [], "http_request": {"status_code": "200", "title": 5}}}},
     {"test_keys": {"requests": [{"response": {"body": {"format": "base64", "data": "!!"}}}]}}],
)  # fmt: skip
def test_compare_survives_malformed_measurements(junk):
    c = compare(junk)
    assert c.probe.status is None and c.control.status is None


def test_title_of_hostile_page():
    assert title_of("<title>a<script>x</script></title>") == "a<script>x</script>"
    assert title_of("<TITLE>\n  Blocked \n</TITLE>") == "Blocked"
    assert title_of("no title") is None


def test_parse_test_list():
    text = "url,category_code\nhttps://Vlast.kz/,news\nhttp://t.me/x,COMT\nbad,\n"
    assert parse_test_list(text) == {"vlast.kz": "NEWS", "t.me": "COMT"}
    with pytest.raises(ValueError):
        parse_test_list("a,b\n1,2\n")
