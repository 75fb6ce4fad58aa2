"""De-duplication in bounded memory: duplicates across restarts and across loads, and hash
collisions that must not drop a distinct measurement."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from pathlib import Path

from tests.collector.helpers import Collector, measurement, post, wait_for

from ashyq.collector.known import KnownUids
from ashyq.collector.server import Ingestor
from ashyq.store import Store


def _count(data: Path) -> int:
    return Store.open(data, read_only=True).query("SELECT count(*) AS n FROM measurements")[0]["n"]


def _health(url: str) -> dict:
    with urllib.request.urlopen(url + "/health", timeout=10) as r:
        return json.loads(r.read())


def test_duplicates_across_restarts_and_loads(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = [measurement(i, "r") for i in range(60)]
    c = Collector(data)
    try:
        status, body = post(c.url + "/api/v1/measurements", first[:40])
        assert status == 200 and body["added"] == 40
        status, rep = post(
            c.url + "/report",
            {"probe_cc": "KZ", "probe_asn": "AS9198", "test_name": "web_connectivity"},
        )
        single = {**measurement(500, "r"), "report_id": rep["report_id"]}
        status, body = post(c.url + f"/report/{rep['report_id']}", {"content": single})
        assert status == 200 and body["status"] == "added"
        # once loaded into the tables, only a hash of them is kept in memory
        assert wait_for(lambda: _health(c.url)["known_memory"]["hashed_uids"] >= 41, 60)
        health = _health(c.url)
        assert health["known"] == 41 and health["known_memory"]["full_uids"] == 0
        status, body = post(c.url + "/api/v1/measurements", first[30:50])
        assert status == 200 and (body["added"], body["duplicate"]) == (10, 10)
    finally:
        c.kill()  # no orderly shutdown
    c = Collector(data)
    try:
        assert _health(c.url)["known"] == 51
        status, body = post(c.url + "/api/v1/measurements", [*first, measurement(99, "r")])
        assert status == 200, body
        assert (body["added"], body["duplicate"]) == (11, 50)
        added = {r["measurement_uid"] for r in body["results"] if r["status"] == "added"}
        assert len(added) == 11
        status, body = post(c.url + f"/report/{rep['report_id']}", {"content": single})
        assert status == 200 and body["status"] == "duplicate"
    finally:
        c.stop()
    assert _count(data) == 62
    assert Store.open(data).rebuild() == 62


def test_a_hash_collision_never_drops_a_distinct_measurement(tmp_path: Path) -> None:
    """Every uid gets the same hash: only the full uids in the table tell them apart."""
    store = Store.open(tmp_path)
    store.add_measurements([measurement(i, "old") for i in range(5)])

    async def run() -> None:
        known = KnownUids(store, hash_fn=lambda uid: 7)
        ing = Ingestor(store, known=known, events_every=3600)
        await ing.start()
        try:
            assert len(known) == 5 and known.memory()["full_uids"] == 0
            res = await ing.submit([measurement(i, "old") for i in range(5)])
            assert [r["status"] for r in res] == ["duplicate"] * 5
            res = await ing.submit([measurement(i, "new") for i in range(3)])
            assert [r["status"] for r in res] == ["added"] * 3
            # wait for the loader: then the new ones are known by their (colliding) hash only
            for _ in range(600):
                if known.memory()["full_uids"] == 0:
                    break
                await asyncio.sleep(0.05)
            assert known.memory() == {"full_uids": 0, "hashed_uids": 8, "index_bytes": 64}
            res = await ing.submit(
                [measurement(i, "new") for i in range(3)] + [measurement(9, "newer")]
            )
            assert [r["status"] for r in res] == ["duplicate"] * 3 + ["added"]
        finally:
            await ing.stop()

    asyncio.run(run())
    assert _count(tmp_path) == 9


def test_the_index_answers_for_many_generations(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    known = KnownUids(store)
    uids = [f"uid-{i}" for i in range(5000)]
    assert known.load() == 0
    for start in range(0, 5000, 250):  # 20 loads of the archive
        known.add(uids[start : start + 250])
        token = known.seal()
        assert all(known.status(u) == "yes" for u in uids[start : start + 250])
        known.loaded(token)
    assert len(known._levels) <= 6  # merged like a binary counter
    for level in known._levels:
        assert list(level) == sorted(level)
    assert all(known.status(u) == "maybe" for u in uids)  # a hash hit, to be confirmed
    others = [f"other-{i}" for i in range(5000)]
    assert sum(known.status(u) != "no" for u in others) <= 1
    assert known.confirm(uids[:3]) == set()  # none of them is in the table
    assert known.memory() == {"full_uids": 0, "hashed_uids": 5000, "index_bytes": 40000}
