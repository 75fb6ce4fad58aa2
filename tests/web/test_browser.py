"""The pages in Debian's Chromium (Playwright, executable_path), over a real server and store."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from urllib.parse import quote

import pytest

from .conftest import ADMIN_PASSWORD
from .datagen import HOSTILE_REGION

pytestmark = pytest.mark.browser


def _watch(page) -> list[str]:
    """Collect every dialog and console error; dismiss dialogs."""
    seen: list[str] = []

    def on_dialog(dialog) -> None:
        seen.append(f"dialog:{dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("console", lambda msg: seen.append(f"console:{msg.type}:{msg.text}"))
    page.on("pageerror", lambda exc: seen.append(f"pageerror:{exc}"))
    return seen


def test_overview_shows_ongoing_events_and_grid(page, server, scenario, artifacts):
    seen = _watch(page)
    page.goto(server.url + "/")
    now_items = page.locator("#now .now-item")
    ids = {now_items.nth(i).get_attribute("data-event-id") for i in range(now_items.count())}
    assert ids == {
        scenario.events["vlast_now"]["event_id"],
        scenario.events["hostile_now"]["event_id"],
    }
    assert "dns.nxdomain" in page.locator("#now").inner_text()
    # region x network grid: Shymkent on AS9198 has an ongoing blocking of vlast.kz
    cell = page.locator('td.cell[data-region="Shymkent"][data-network="AS9198"]')
    assert "w-blocking" in (cell.get_attribute("class") or "")
    assert "ongoing" in (cell.get_attribute("class") or "")
    assert cell.get_attribute("data-methods") == "dns.nxdomain"
    outage = page.locator('td.cell[data-region="Shymkent"][data-network="AS48716"]')
    assert "w-outage" in (outage.get_attribute("class") or "")
    # the region named with markup is shown as text, not as an element
    assert page.get_by_text(HOSTILE_REGION, exact=True).count() == 1
    assert page.locator("main img").count() == 0
    page.screenshot(path=str(artifacts / "overview.png"), full_page=True)
    assert not [s for s in seen if s.startswith(("dialog", "pageerror"))], seen


def test_events_filters_work_without_and_with_script(page, server, scenario, artifacts):
    page.goto(server.url + "/events")
    rows = page.locator("table.events tr.event")
    shown = {rows.nth(i).get_attribute("data-event-id") for i in range(rows.count())}
    recent = {e["event_id"] for k, e in scenario.events.items() if k != "old"}
    assert shown == recent  # the 40-day-old event is outside the default 30 days
    # SVG timeline: one row per target x network, bars with the event kinds
    assert (
        page.locator(
            'svg.timeline g.row[data-target="telegram.org"][data-network="AS21299"] '
            "rect.k-throttling"
        ).count()
        == 1
    )
    assert page.locator("svg.timeline rect.k-outage").count() == 1
    # filter by network with the form's menu (the small script submits on change)
    page.select_option("select[name=network]", "AS21299")
    page.wait_for_url("**network=AS21299**")
    rows = page.locator("table.events tr.event")
    assert rows.count() == 1
    assert rows.first.get_attribute("data-event-id") == scenario.events["telegram_slow"]["event_id"]
    page.screenshot(path=str(artifacts / "events-network.png"), full_page=True)
    # query-string filters: region, target, category, kind, dates
    old = scenario.events["old"]
    day = old["start"][:10]
    page.goto(f"{server.url}/events?since={day}&until={day}")
    rows = page.locator("table.events tr.event")
    assert [rows.nth(i).get_attribute("data-event-id") for i in range(rows.count())] == [
        old["event_id"]
    ]
    page.goto(server.url + "/events?region=Shymkent")
    ids = {rows.nth(i).get_attribute("data-event-id") for i in range(rows.count())}
    assert ids == {
        scenario.events["vlast_now"]["event_id"],
        scenario.events["outage_shym"]["event_id"],
    }
    page.goto(server.url + "/events?category=COMT")
    assert rows.count() == 1 and "telegram.org" in rows.first.inner_text()
    page.goto(server.url + "/events?kind=outage")
    assert (
        rows.count() == 1
        and rows.first.get_attribute("data-event-id") == scenario.events["outage_shym"]["event_id"]
    )
    page.goto(server.url + "/events?target=vlast.kz")
    assert rows.count() == 2


def test_bad_filter_gives_clear_error(page, server):
    response = page.goto(server.url + "/events?since=2024-13-45")
    assert response.status == 400
    assert "not a date" in page.locator("main").inner_text()


def test_target_page_history_heatmap_and_recent(page, server, scenario, artifacts):
    page.goto(server.url + "/targets/vlast.kz")
    assert page.locator("svg.history rect.w-blocked[data-network='AS9198']").count() >= 1
    assert page.locator("svg.history rect.w-blocked[data-network='AS21299']").count() == 0
    failing_cells = page.locator("svg.heat rect.hm:not(.l0):not(.l1)")
    assert failing_cells.count() >= 8  # ten hours of ongoing blocking, plus the older event
    assert page.locator("#recent tbody tr").count() == 50
    assert "dns.nxdomain" in page.locator("#recent").inner_text()
    page.screenshot(path=str(artifacts / "target.png"), full_page=True)


def test_hostile_blockpage_never_runs(page, server, scenario, artifacts):
    seen = _watch(page)
    page.goto(f"{server.url}/measurements/{quote(scenario.hostile_uid)}")
    page.wait_for_load_state("load")
    page.wait_for_timeout(300)
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert not [s for s in seen if s.startswith(("dialog", "pageerror"))], seen
    # the markup is in the page as text only
    body = page.locator("#response-body")
    assert "<script>window.__pwned=2" in body.inner_text()
    assert page.locator("#response-body *").count() == 0
    assert page.locator("main img, main iframe, main svg[onload], main script").count() == 0
    assert page.locator("script").count() == 1  # the site's own /static/app.js only
    assert page.locator("script").first.get_attribute("src") == "/static/app.js"
    # the event it belongs to links to its evidence report
    event_id = scenario.events["hostile_now"]["event_id"]
    assert page.locator(f'#events tr.event[data-event-id="{event_id}"]').count() == 1
    # the blockpage title is shown escaped in the comparison table
    assert "Blocked<script>" in page.locator("table.compare").inner_text()
    # raw JSON, escaped, and its SHA-256
    raw = page.locator("#raw-json").inner_text()
    parsed = json.loads(raw)
    canonical = json.dumps(parsed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert hashlib.sha256(canonical.encode()).hexdigest() == page.locator("#sha256").inner_text()
    assert parsed["probe_ip"] == "127.0.0.1"
    page.screenshot(path=str(artifacts / "measurement-hostile.png"), full_page=True)


def test_report_html_and_pdf_download(page, server, scenario, artifacts, tmp_path):
    seen = _watch(page)
    ev = scenario.events["hostile_now"]
    page.goto(f"{server.url}/events/{ev['event_id']}/report.html")
    assert page.locator("article.sample").count() == 4
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert not [s for s in seen if s.startswith(("dialog", "pageerror"))], seen
    page.screenshot(path=str(artifacts / "report.png"), full_page=True)
    with page.expect_download() as info:
        page.evaluate(
            "url => { const a = document.createElement('a'); a.href = url; a.download = ''; "
            "document.body.appendChild(a); a.click(); }",
            f"/events/{ev['event_id']}/report.html?download=1",
        )
    saved = tmp_path / "report.html"
    info.value.save_as(saved)
    html = saved.read_text()
    assert "Content-Security-Policy" in html and "<script" not in html.split("</head>")[0]
    assert "&lt;script&gt;window.__pwned" in html
    assert "/static/" not in html and 'src="http' not in html  # self-contained
    pairs = _raw_hash_pairs(html)  # each printed raw JSON hashes to its printed SHA-256
    assert len(pairs) == 4
    uids = ev["measurement_uids"]
    for uid in (uids[0], uids[1], uids[-2], uids[-1]):  # the first and last failing ones
        assert uid in html
    assert all(json.loads(raw)["input"] == "https://hostile.example/" for _, raw in pairs)
    response = page.request.get(f"{server.url}/events/{ev['event_id']}/report.pdf")
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    pdf = response.body()
    assert pdf.startswith(b"%PDF") and len(pdf) > 5000
    (artifacts / "report.pdf").write_bytes(pdf)


def _raw_hash_pairs(html: str) -> list[tuple[str, str]]:
    """(sha256, raw JSON) of each sample in a saved report, checked to agree."""
    import html as htmlmod
    import re

    hashes = re.findall(r'<code class="sha">([0-9a-f]{64})</code>', html)
    raws = re.findall(r'<pre class="raw">(.*?)</pre>', html, re.DOTALL)
    assert len(hashes) == len(raws) > 0
    pairs = []
    for digest, raw in zip(hashes, raws, strict=True):
        text = htmlmod.unescape(raw)
        assert hashlib.sha256(text.encode()).hexdigest() == digest
        pairs.append((digest, text))
    return pairs


def test_csv_exports_parse(page, server, scenario):
    response = page.request.get(server.url + "/export/events.csv?days=60")
    assert response.status == 200
    rows = list(csv.DictReader(io.StringIO(response.text())))
    assert {r["event_id"] for r in rows} == {e["event_id"] for e in scenario.events.values()}
    response = page.request.get(server.url + "/export/measurements.csv?target=hostile.example")
    rows = list(csv.DictReader(io.StringIO(response.text())))
    expected = [v for v in scenario.verdicts.values() if v["target"] == "hostile.example"]
    assert len(rows) == len(expected) > 0
    assert {r["status"] for r in rows} == {"ok", "blocked"}


def test_admin_needs_login_and_rule_form_works(page, server, artifacts):
    page.goto(server.url + "/admin")
    assert "/login" in page.url
    page.fill("input[name=name]", "admin")
    page.fill("input[name=password]", "wrong password")
    page.click("main button[type=submit]")
    assert "Wrong user name or password" in page.locator("main").inner_text()
    page.fill("input[name=name]", "admin")
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url("**/admin")
    page.fill("#rule-form input[name=name]", "telegram watch")
    page.fill("#rule-form input[name=target]", "telegram.org")
    page.fill("#rule-form input[name=webhook_url]", "http://127.0.0.1:9/hook")
    page.check("#rule-form input[name=kind_throttling]")
    page.click("#rule-form button[type=submit]")
    page.wait_for_url("**/admin#rules")
    assert "telegram watch" in page.locator("#rules").inner_text()
    page.screenshot(path=str(artifacts / "admin.png"), full_page=True)
    # a form posted without the CSRF token is refused
    response = page.request.post(
        server.url + "/admin/alerts", form={"name": "x", "webhook_url": "http://127.0.0.1:9/"}
    )
    assert response.status == 403


def test_languages(page, server, artifacts):
    page.goto(server.url + "/?lang=kk")
    assert page.locator("html").get_attribute("lang") == "kk"
    assert "Шолу" in page.locator("header").inner_text()
    page.screenshot(path=str(artifacts / "overview-kk.png"))
    page.goto(server.url + "/events")  # the choice is remembered
    assert page.locator("html").get_attribute("lang") == "kk"
    page.goto(server.url + "/events?lang=ru")
    assert "События" in page.locator("h1").inner_text()
