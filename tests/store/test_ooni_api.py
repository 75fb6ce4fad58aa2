"""`ashyq import ooni --country` against recorded-style OONI API answers served on loopback."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web

from ashyq.cli import main
from ashyq.store import Store

FIXTURES = Path(__file__).parent / "fixtures" / "ooni_api"


class FakeOoniApi:
    """Serves the fixture files like api.ooni.io; the first raw fetch answers 503 once."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.failed_once = False
        self.base = ""

    def _text(self, name: str) -> str:
        return (FIXTURES / name).read_text().replace("{base}", self.base)

    async def listing(self, request: web.Request) -> web.Response:
        self.requests.append(str(request.rel_url))
        q = request.query
        if q.get("probe_cc") != "KZ" or "since" not in q or "until" not in q:
            return web.json_response({"error": "bad query"}, status=400)
        page = 2 if q.get("offset") == "2" else 1
        return web.Response(
            text=self._text(f"measurements_page{page}.json"), content_type="application/json"
        )

    async def raw(self, request: web.Request) -> web.Response:
        self.requests.append(str(request.rel_url))
        if not self.failed_once:
            self.failed_once = True
            return web.json_response({"error": "busy"}, status=503)
        uid = request.query.get("measurement_uid", "")
        path = FIXTURES / "raw" / f"{uid}.json"
        if "/" in uid or not path.is_file():
            return web.json_response({"error": "not found"}, status=404)
        return web.Response(text=path.read_text(), content_type="application/json")


@pytest.fixture
def fake_api() -> Iterator[FakeOoniApi]:
    api = FakeOoniApi()
    app = web.Application()
    app.router.add_get("/api/v1/measurements", api.listing)
    app.router.add_get("/api/v1/raw_measurement", api.raw)
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    runner = web.AppRunner(app)

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        loop.run_until_complete(site.start())
        api.base = f"http://127.0.0.1:{runner.addresses[0][1]}"
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    ready.wait(10)
    yield api
    asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


def test_import_from_the_api(fake_api: FakeOoniApi, tmp_path: Path, capsys) -> None:
    args = [
        "import",
        "ooni",
        "--data",
        str(tmp_path),
        "--country",
        "kz",
        "--since",
        "2024-05-09",
        "--until",
        "2024-05-10",
        "--api",
        fake_api.base,
    ]
    assert main(args) == 0
    out = capsys.readouterr()
    assert "added 3, duplicate 0, rejected 0" in out.out
    assert "downloaded 3 of 3" in out.err  # progress
    assert fake_api.failed_once  # a 503 was retried
    listing = [r for r in fake_api.requests if r.startswith("/api/v1/measurements")]
    assert len(listing) == 2 and "offset=2" in listing[1]
    store = Store.open(tmp_path, read_only=True)
    rows = store.query(
        "SELECT measurement_uid, target, source, measurement_start_time::VARCHAR AS t "
        "FROM measurements ORDER BY t"
    )
    assert [r["target"] for r in rows] == ["vlast.kz", "vlast.kz", "kaspi.kz"]
    assert rows[0]["measurement_uid"] == "20240509070512.123456_KZ_webconnectivity_aaaaaaaaaaaaaaaa"
    assert {r["source"] for r in rows} == {"ooni"}
    verdicts = {v["target"]: v["status"] for v in store.verdicts_for(None)}
    assert verdicts["vlast.kz"] == "blocked"
    # the same measurements again, from a file: stored once
    raw = FIXTURES / "raw" / "20240509070512.123456_KZ_webconnectivity_aaaaaaaaaaaaaaaa.json"
    assert main(["import", "ooni", "--data", str(tmp_path), str(raw)]) == 0
    assert "added 0, duplicate 1" in capsys.readouterr().out
    assert main(args) == 0
    assert "added 0, duplicate 3" in capsys.readouterr().out


def test_api_errors_are_one_line(fake_api: FakeOoniApi, tmp_path: Path, capsys) -> None:
    args = [
        "import",
        "ooni",
        "--data",
        str(tmp_path),
        "--country",
        "RU",
        "--since",
        "2024-05-09",
        "--until",
        "2024-05-10",
        "--api",
        fake_api.base,
    ]
    assert main(args) == 2
    assert "HTTP 400" in capsys.readouterr().err
    assert not any(r.startswith("/api/v1/raw") for r in fake_api.requests)
