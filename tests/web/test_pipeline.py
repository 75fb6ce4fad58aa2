"""The pages over the real pipeline: measurements judged by the analysis rules and turned into
events by the store, with no verdict or event written by the test."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import aiohttp

from ashyq.store.store import Store
from ashyq.web.app import Config

from .conftest import ServerThread
from .datagen import NETWORKS, measurement


def _get_json(url: str) -> dict:
    async def go() -> dict:
        async with aiohttp.ClientSession() as s, s.get(url) as r:
            assert r.status == 200
            return await r.json()

    return asyncio.run(go())


def test_pages_show_the_events_the_pipeline_made(tmp_path):
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    items = []
    for h in range(24, 0, -1):
        t = now - timedelta(hours=h)
        for asn, (_, regions) in NETWORKS.items():
            for target in ("vlast.kz", "azattyq.org", "telegram.org"):
                blocked = target == "vlast.kz" and asn == "AS9198" and h <= 8
                method = "dns.nxdomain" if blocked else None
                items.append(
                    measurement(t, target, asn, regions[0], "blocked" if blocked else "ok", method)
                )
    store = Store.open(tmp_path)
    result = store.add_measurements(items, source="probe")
    assert result.rejected == 0
    expected = store.events(since=now - timedelta(days=30))
    blocking = [e for e in expected if e["kind"] == "blocking" and e["target"] == "vlast.kz"]
    assert blocking, f"the pipeline found no blocking of vlast.kz: {expected}"
    thread = ServerThread(Config(data_dir=tmp_path, admin_password=None))
    server = thread.start()
    try:
        body = _get_json(server.url + "/events.json")
        assert {e["event_id"] for e in body["events"]} == {e["event_id"] for e in expected}
        shown = next(e for e in body["events"] if e["event_id"] == blocking[0]["event_id"])
        assert "AS9198" in shown["asns"]

        async def pages() -> tuple[str, str]:
            async with aiohttp.ClientSession() as s:
                async with s.get(server.url + "/targets/vlast.kz") as r:
                    target = await r.text()
                async with s.get(f"{server.url}/events/{blocking[0]['event_id']}/report.html") as r:
                    assert r.status == 200
                    report = await r.text()
            return target, report

        target, report = asyncio.run(pages())
        assert 'class="badge s-blocked"' in target
        assert report.count('<article class="sample">') >= 2
    finally:
        thread.stop()
