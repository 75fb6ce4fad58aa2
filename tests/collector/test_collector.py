"""The collector as a real process on loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from tests.collector.helpers import Collector, measurement, post, wait_for

from ashyq.cli import main
from ashyq.store import Store
from ashyq.store.archive import segments

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def collector(tmp_path: Path):
    c = Collector(tmp_path / "data", open_access=False)
    yield c
    c.stop()


def test_ooni_report_flow_tokens_and_errors(collector: Collector, tmp_path: Path, capsys):
    data = tmp_path / "data"
    url = collector.url
    meta = {"probe_cc": "KZ", "probe_asn": "AS9198", "test_name": "web_connectivity"}
    status, body = post(url + "/report", meta)
    assert status == 401 and "token" in body["error"]
    assert main(["collector", "token", "add", "almaty-1", "--data", str(data)]) == 0
    token = capsys.readouterr().out.strip()
    assert token.startswith("ashyq_") and token not in (data / "collector/tokens.json").read_text()
    assert post(url + "/report", meta, token="wrong")[0] == 401

    status, body = post(url + "/report", meta, token=token)
    assert status == 200 and body["supported_formats"] == ["json"]
    rid = body["report_id"]
    m = measurement(1, report_id="")
    status, body = post(f"{url}/report/{rid}", {"format": "json", "content": m}, token=token)
    assert status == 200 and body["status"] == "added"
    uid = body["measurement_uid"]
    status, body = post(f"{url}/report/{rid}", {"format": "json", "content": m}, token=token)
    assert status == 200 and body == {"measurement_uid": uid, "status": "duplicate"}
    # errors: unknown report, bad JSON, not a measurement, wrong report id, oversized, deep
    forged = rid[:-1] + ("1" if rid.endswith("0") else "0")  # a report id it never issued
    assert post(f"{url}/report/{forged}", {"content": m}, token=token)[0] == 404
    status, body = post(f"{url}/report/{rid}", None, token=token, raw=b"{not json")
    assert status == 400 and "not valid JSON" in body["error"]
    status, body = post(f"{url}/report/{rid}", {"format": "json", "content": {"a": 1}}, token=token)
    assert status == 400 and "test_name" in body["error"]
    other = measurement(2, report_id="someone-elses")
    assert post(f"{url}/report/{rid}", {"content": other}, token=token)[0] == 400
    huge = measurement(3, report_id="", test_keys={"body": "x" * (5 * 1024 * 1024)})
    status, body = post(f"{url}/report/{rid}", {"content": huge}, token=token)
    assert status == 413 and "larger than" in body["error"]
    deep = b'{"content": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    status, body = post(f"{url}/report/{rid}", None, token=token, raw=deep)
    assert status == 400 and "nested" in body["error"]
    assert post(f"{url}/report/{rid}/close", {}, token=token) == (200, {})

    # the batch endpoint: per-item results, JSON Lines too
    batch = [
        measurement(10),
        measurement(10),
        "x",
        measurement(11, probe_cc="kz"),
        dict(m, report_id=rid),
    ]
    status, body = post(url + "/api/v1/measurements", {"measurements": batch}, token=token)
    assert status == 200
    assert [r["status"] for r in body["results"]] == [
        "added",
        "duplicate",
        "rejected",
        "rejected",
        "duplicate",
    ]
    lines = b"\n".join(json.dumps(measurement(20 + k)).encode() for k in range(3))
    status, body = post(
        url + "/api/v1/measurements",
        None,
        token=token,
        raw=lines,
        content_type="application/x-ndjson",
    )
    assert status == 200 and body["added"] == 3
    assert post(url + "/api/v1/measurements", {"measurements": {"a": 1}}, token=token)[0] == 400
    status, body = post(url + "/api/v1/measurements", [0] * 10_001, token=token)
    assert status == 413 and "at most" in body["error"]
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(url + "/report", timeout=10)  # GET where only POST is served
    assert info.value.code == 405 and "error" in json.loads(info.value.read())

    # everything acknowledged reaches the tables; the collector keeps running
    assert wait_for(lambda: Store.open(data, read_only=True).stats()["measurements"] == 5)
    store = Store.open(data, read_only=True)
    assert store.measurement(uid)["report_id"] == rid
    assert store.measurement(uid)["probe_ip"] == "127.0.0.1"
    assert collector.proc.poll() is None


def test_every_acknowledged_measurement_survives_sigkill(tmp_path: Path) -> None:
    data = tmp_path / "data"
    acks = tmp_path / "acks.txt"
    acks.touch()
    c = Collector(data)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    gens = [
        subprocess.Popen(
            [sys.executable, str(ROOT / "tests/collector/loadgen.py"), c.url, str(acks), f"g{k}"],
            env=env,
            cwd=ROOT,
        )
        for k in range(2)
    ]
    assert wait_for(lambda: len(acks.read_text().split()) >= 800, timeout=90)
    c.kill()  # SIGKILL in the middle of the load
    for g in gens:
        g.wait(30)
    acked = set(acks.read_text().split())
    assert len(acked) >= 800
    # a truncated last write may be on disk: it was never acknowledged
    c2 = Collector(data)  # restart: loads what the archive holds
    try:
        store = Store.open(data, read_only=True)
        stored = {r["uid"] for r in store.query("SELECT uid FROM measurements")}
        assert acked <= stored, f"{len(acked - stored)} acknowledged measurements lost"
        dup = store.query("SELECT count(*) - count(DISTINCT uid) AS d FROM measurements")
        assert dup == [{"d": 0}]
        # and it keeps accepting
        status, body = post(c2.url + "/api/v1/measurements", [measurement(1, "after")])
        assert status == 200 and body["added"] == 1
    finally:
        c2.stop()
    # the archive is whole: the tables remade from it hold the same measurements
    assert Store.open(data).rebuild() == len(stored) + 1


def test_upload_queue_survives_a_down_collector(tmp_path: Path) -> None:
    from tests.collector.helpers import free_port

    from ashyq.collector.upload import UploadQueue

    port = free_port()
    queue = UploadQueue(tmp_path / "queue", f"http://127.0.0.1:{port}")
    late = [
        measurement(i, "late", measurement_start_time=f"2024-04-0{1 + i % 3} 10:00:0{i}")
        for i in range(5)
    ]
    for m in late:
        queue.put(m)
    started = time.monotonic()
    result = queue.drain(deadline=1.5)  # collector not there: nothing lost, gives up in time
    assert result.remaining == 5 and result.uploaded == 0 and result.attempts >= 2
    assert time.monotonic() - started < 10
    # a new process (the probe restarted) finds the queue as it was
    code = (
        "import sys; from pathlib import Path; from ashyq.collector.upload import UploadQueue;"
        f"q = UploadQueue(Path({str(tmp_path / 'queue')!r}), 'http://127.0.0.1:{port}');"
        "print(len(q))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "5"
    c = Collector(tmp_path / "data", port=port)
    try:
        queue.put(measurement(99, "late"))
        result = queue.drain(deadline=30)
        assert (result.uploaded, result.remaining) == (6, 0)
        queue.put(late[0])  # sent again: the collector already has it
        assert queue.drain(deadline=30).duplicate == 1
        store_dir = tmp_path / "data"
        assert wait_for(lambda: Store.open(store_dir, read_only=True).stats()["measurements"] == 6)
        days = {p.parent.name for p in segments(store_dir)}
        assert {"01", "02", "03"} <= days  # late measurements land on their own days
        rows = Store.open(store_dir, read_only=True).query(
            "SELECT min(measurement_start_time)::VARCHAR AS t FROM measurements"
        )
        assert rows == [{"t": "2024-04-01 10:00:00"}]
    finally:
        c.stop()


def test_upload_queue_keeps_rejected_with_reason(tmp_path: Path) -> None:
    from ashyq.collector.upload import UploadQueue

    c = Collector(tmp_path / "data")
    try:
        queue = UploadQueue(tmp_path / "queue", c.url)
        queue.put(measurement(1))
        queue.put({"test_name": "web_connectivity", "probe_cc": "KZ"})
        result = queue.drain(deadline=20)
        assert (result.uploaded, result.rejected, result.remaining) == (1, 1, 0)
        [reason] = (tmp_path / "queue" / "rejected").glob("*.reason.txt")
        assert "probe_asn" in reason.read_text()
    finally:
        c.stop()
