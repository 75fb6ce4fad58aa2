"""HTTP behaviour of the real server: security headers, read-only public pages, login, CSRF,
API tokens, languages, bad input."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from typing import Any

import aiohttp

from ashyq.web.state import WebState

from .conftest import ADMIN_PASSWORD


def request(method: str, url: str, **kw: Any) -> tuple[int, dict[str, str], str]:
    async def go() -> tuple[int, dict[str, str], str]:
        async with (
            aiohttp.ClientSession() as s,
            s.request(method, url, allow_redirects=False, **kw) as r,
        ):
            return r.status, dict(r.headers), await r.text()

    return asyncio.run(go())


def test_security_headers_on_every_page(server, scenario):
    for path in ("/", "/events", "/targets/vlast.kz", f"/measurements/{scenario.hostile_uid}",
                 "/login", "/nope"):  # fmt: skip
        _, headers, _ = request("GET", server.url + path)
        csp = headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp
        assert "script-src 'self' 'nonce-" in csp and "unsafe-inline" not in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
    assert request("GET", server.url + "/nope")[0] == 404


def test_public_pages_are_read_only(server):
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        for path in ("/", "/events", "/targets/vlast.kz", "/export/events.csv"):
            status, headers, _ = request(method, server.url + path)
            assert status == 405, (method, path)
            assert "GET" in headers["Allow"]


def test_no_raw_html_from_measured_sites(server, scenario):
    _, _, html = request("GET", f"{server.url}/measurements/{scenario.hostile_uid}")
    assert "<script>window.__pwned" not in html
    assert "&lt;script&gt;window.__pwned=2" in html
    assert 'onerror="window' not in html
    assert len(re.findall(r"<script\b", html)) == 1  # only /static/app.js
    _, _, overview = request("GET", server.url + "/")
    assert "<img src=x" not in overview and "&lt;img src=x onerror=alert(9)&gt;" in overview


def test_login_session_csrf_and_logout(server):
    async def go() -> None:
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as s:
            async with s.get(server.url + "/admin", allow_redirects=False) as r:
                assert r.status == 303 and r.headers["Location"].startswith("/login")
            async with s.get(server.url + "/login") as r:
                page = await r.text()
            token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
            # wrong CSRF token: refused before the password is even looked at
            bad = {"csrf": "x", "name": "admin", "password": ADMIN_PASSWORD}
            async with s.post(server.url + "/login", data=bad) as r:
                assert r.status == 403
            # an open redirect after login is not possible
            form = {"csrf": token, "name": "editor", "password": "editor-password-1",
                    "next": "//evil.example/"}  # fmt: skip
            async with s.post(server.url + "/login", data=form, allow_redirects=False) as r:
                assert r.status == 303 and r.headers["Location"] == "/admin"
                cookie = r.headers["Set-Cookie"]
                assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
            async with s.get(server.url + "/admin") as r:
                assert r.status == 200 and "editor" in await r.text()
            async with s.post(server.url + "/logout", data={"csrf": token},
                              allow_redirects=False) as r:  # fmt: skip
                assert r.status == 303
            async with s.get(server.url + "/admin", allow_redirects=False) as r:
                assert r.status == 303

    asyncio.run(go())


def test_api_token_gives_access_to_admin_api(server):
    state = WebState.open(server.data_dir)
    token = state.add_token("script")
    state.close()
    status, _, _ = request("GET", server.url + "/admin/api/rules")
    assert status == 401
    status, _, _ = request(
        "GET", server.url + "/admin/api/rules", headers={"Authorization": "Bearer wrong"}
    )
    assert status == 401
    status, _, body = request(
        "GET", server.url + "/admin/api/rules", headers={"Authorization": f"Bearer {token}"}
    )
    assert status == 200 and '"rules"' in body
    # the token reaches the API only, not the pages a person logs in to
    status, _, _ = request(
        "GET", server.url + "/admin/incidents", headers={"Authorization": f"Bearer {token}"}
    )
    assert status == 403


def test_language_links_stay_on_this_site(server):
    status, _, html = request("GET", server.url + "//evil.example/x")
    assert status == 404
    assert 'href="//evil.example' not in html and "/evil.example/x?lang=" in html


def test_language_from_accept_language_and_query(server):
    _, _, html = request("GET", server.url + "/", headers={"Accept-Language": "ru-RU,ru;q=0.9"})
    assert '<html lang="ru">' in html and "Обзор" in html
    _, _, html = request("GET", server.url + "/", headers={"Accept-Language": "kk-KZ, en;q=0.5"})
    assert '<html lang="kk">' in html
    _, _, html = request("GET", server.url + "/?lang=en", headers={"Accept-Language": "ru"})
    assert '<html lang="en">' in html
    _, _, html = request("GET", server.url + "/?lang=xx", headers={"Accept-Language": "de"})
    assert '<html lang="en">' in html


def test_bad_input_gives_clear_errors(server):
    for query, text in (
        ("since=yesterday", "not a date"),
        ("network=Kazakhtelecom", "not a network"),
        ("target=%3Cscript%3E", "not a target"),
        ("kind=weather", "unknown event kind"),
        ("since=2024-05-02&until=2024-05-01", "must come after"),
        ("until=9999-12-31", "not a date"),
        ("since=2024-05-02T10:00%2B05:00&until=2024-05-02T04:00Z", "must come after"),
    ):
        status, _, html = request("GET", f"{server.url}/events?{query}")
        assert status == 400, query
        assert text in html
        assert "<script>" not in html.replace('<script src="/static/app.js" defer></script>', "")
    assert request("GET", server.url + "/measurements/" + "x" * 300)[0] == 400
    assert request("GET", server.url + "/measurements/nope")[0] == 404
    assert request("GET", server.url + "/events/nope/report.html")[0] == 404
    assert request("GET", server.url + "/targets/never-measured.kz")[0] == 404


def test_csv_export_guards_formulas(server, scenario):
    status, headers, text = request("GET", server.url + "/export/events.csv?days=60")
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    assert "attachment" in headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == len(scenario.events)
    old = next(r for r in rows if r["event_id"] == scenario.old_event_id)
    assert old["networks"] == "AS9198;AS21299" and old["methods"] == "tls.timeout"


def test_events_json(server, scenario):
    async def go() -> dict:
        async with (
            aiohttp.ClientSession() as s,
            s.get(server.url + "/events.json?kind=outage") as r,
        ):
            return await r.json()

    body = asyncio.run(go())
    assert [e["event_id"] for e in body["events"]] == [scenario.events["outage_shym"]["event_id"]]
    assert body["events"][0]["start"].endswith("Z")


def _session_with_csrf(s: aiohttp.ClientSession, url: str):
    async def go() -> str:
        async with s.get(url) as r:
            page = await r.text()
        return re.search(r'name="csrf" value="([^"]+)"', page).group(1)

    return go()


def test_incident_form_saves_an_anonymous_draft(server):
    from ashyq.web.incident_pages import _api

    api = _api()
    if api is None:
        import pytest

        pytest.skip("the incidents API is not installed")

    hostile = "<script>alert('x')</script> complaint"

    async def go() -> tuple[int, str, int, str]:
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as s:
            token = await _session_with_csrf(s, server.url + "/incidents/new")
            form = {"csrf": token, "platform": "WhatsApp", "type": "account_blocked",
                    "when": "2024-03-14T19:30+05:00", "account": "+7 701 000 0000",
                    "hash_account": "1", "numbers": "+44 7700 900123", "notice_text": hostile,
                    "status": "verified"}  # fmt: skip
            async with s.post(server.url + "/incidents", data=form) as r:
                ok_status, ok_html = r.status, await r.text()
            bad = dict(form, when="yesterday-ish")
            async with s.post(server.url + "/incidents", data=bad) as r:
                return ok_status, ok_html, r.status, await r.text()

    status, html, bad_status, bad_html = asyncio.run(go())
    assert status == 200 and 'id="incident-done"' in html
    assert bad_status == 400 and "is not a time" in bad_html
    found = [i for i in api["list_incidents"](server.data_dir) if i.notice_text == hostile]
    assert len(found) == 1
    incident = found[0]
    assert incident.status == "draft"  # a public report can never publish itself
    assert incident.account.startswith("hmac-sha256:")  # the account is kept only as a hash
    assert incident.platform == "whatsapp"
    # the review list needs a login, and shows the hostile text escaped
    assert request("GET", server.url + "/admin/incidents")[0] == 303

    async def review() -> str:
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as s:
            token = await _session_with_csrf(s, server.url + "/login")
            form = {"csrf": token, "name": "admin", "password": ADMIN_PASSWORD, "next": "/"}
            async with s.post(server.url + "/login", data=form) as r:
                assert r.status == 200
            async with s.get(server.url + "/admin/incidents?status=draft") as r:
                html = await r.text()
            form = {"csrf": token, "status": "in_review"}
            url = f"{server.url}/admin/incidents/{incident.incident_id}/status"
            async with s.post(url, data=form, allow_redirects=False) as r:
                assert r.status == 303
            return html

    html = asyncio.run(review())
    assert incident.incident_id in html
    assert "&lt;script&gt;alert(" in html and "<script>alert(" not in html
    again = [i for i in api["list_incidents"](server.data_dir) if i.notice_text == hostile]
    assert again[0].status == "in_review"


def test_raw_download_matches_the_published_hash(server, scenario):
    import hashlib

    _, _, html = request("GET", f"{server.url}/measurements/{scenario.hostile_uid}")
    digest = re.search(r'<code id="sha256">([0-9a-f]{64})</code>', html).group(1)

    async def go() -> tuple[int, dict[str, str], bytes]:
        async with (
            aiohttp.ClientSession() as s,
            s.get(f"{server.url}/measurements/{scenario.hostile_uid}.json") as r,
        ):
            return r.status, dict(r.headers), await r.read()

    status, headers, body = asyncio.run(go())
    assert status == 200 and "attachment" in headers["Content-Disposition"]
    assert headers["Content-Type"].startswith("application/json")
    assert hashlib.sha256(body).hexdigest() == digest


def test_huge_body_is_stored_and_shown_safely(tmp_path):
    from datetime import UTC, datetime, timedelta

    from ashyq.store.identity import check_measurement
    from ashyq.store.store import Store
    from ashyq.web.app import Config

    from .conftest import ServerThread
    from .datagen import measurement

    t = datetime.now(UTC).replace(tzinfo=None, microsecond=0) - timedelta(hours=1)
    m = measurement(t, "vlast.kz", "AS9198", "Almaty", "blocked", "http.blockpage:kz.test")
    body = "<p onmouseover=alert(1)>x</p>" * 100_000  # about 3 MB
    m["test_keys"]["requests"][0]["response"]["body"] = body
    store = Store.open(tmp_path)
    assert store.add_measurements([m]).added == 1
    uid = check_measurement(m).uid
    thread = ServerThread(Config(data_dir=tmp_path, admin_password=None))
    srv = thread.start()
    try:
        status, _, html = request("GET", f"{srv.url}/measurements/{uid}")
    finally:
        thread.stop()
    assert status == 200
    assert "<p onmouseover" not in html
    assert "&lt;p onmouseover=alert(1)&gt;" in html
    assert "only its beginning is shown" in html
    assert len(html) < 1_500_000


def test_overview_points_to_older_data(tmp_path):
    from datetime import datetime, timedelta

    from ashyq.store.store import Store
    from ashyq.web.app import Config

    from .conftest import ServerThread
    from .datagen import measurement

    start = datetime(2019, 5, 9, 6, 0)
    items = [
        measurement(start + timedelta(hours=h), "vlast.kz", "AS9198", "Almaty", "ok", None)
        for h in range(6)
    ]
    assert Store.open(tmp_path).add_measurements(items).added == 6
    thread = ServerThread(Config(data_dir=tmp_path, admin_password=None))
    srv = thread.start()
    try:
        status, _, html = request("GET", srv.url + "/")
        assert status == 200 and 'id="older"' in html
        assert "2019-05-09 11:00" in html
        link = re.search(r'<p class="notice" id="older">.*?<a href="([^"]+)"', html).group(1)
        assert link == "/events?since=2019-05-02&amp;until=2019-05-09"
        assert request("GET", srv.url + link.replace("&amp;", "&"))[0] == 200
    finally:
        thread.stop()
