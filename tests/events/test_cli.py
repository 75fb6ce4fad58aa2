"""`ashyq events` and `ashyq timeline` through the CLI, and the whole path from measurements."""

from __future__ import annotations

import copy
import csv
import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from tests.events.series import T0, insert, series

from ashyq.cli import main
from ashyq.events.formats import STOP_COLUMNS
from ashyq.store import Store

H = timedelta(hours=1)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    store = Store.open(tmp_path)
    rows = []
    for asn, region in [("AS9198", "Almaty"), ("AS9198", "Shymkent"), ("AS21299", "Almaty")]:
        rows += series("vlast.kz", asn, region, T0, 24, H, range(7, 14))
    rows += series(
        "facebook.com", "AS9198", "Almaty", T0, 24, H, range(20, 24), method="tls.timeout"
    )
    rows += series("facebook.com", "AS21299", "Almaty", T0, 24, H, set())
    insert(store, rows)
    return tmp_path


def run(capsys, *args: str) -> str:
    assert main(list(args)) == 0
    return capsys.readouterr().out


def test_events_json(data: Path, capsys) -> None:
    out = run(
        capsys,
        "events",
        "--data",
        str(data),
        "--since",
        "2024-05-09",
        "--until",
        "2024-05-10",
        "--format",
        "json",
    )
    events = json.loads(out)
    assert [(e["kind"], e["target"], e["scope"]) for e in events] == [
        ("blocking", "vlast.kz", "national"),
        ("blocking", "facebook.com", "network"),
    ]
    vlast, fb = events
    for key in (
        "kind",
        "target",
        "scope",
        "asns",
        "regions",
        "start",
        "end",
        "method",
        "measurements",
        "confidence",
    ):
        assert key in vlast
    assert vlast["start"] == "2024-05-09T07:00:00Z" and vlast["end"] == "2024-05-09T13:00:00Z"
    assert fb["end"] is None and fb["method"] == "tls.timeout"
    # filters
    out = run(capsys, "events", "--data", str(data), "--target", "facebook.com", "--format", "json")
    assert [e["target"] for e in json.loads(out)] == ["facebook.com"]
    out = run(capsys, "events", "--data", str(data), "--since", "2024-05-10", "--format", "json")
    assert [e["target"] for e in json.loads(out)] == ["facebook.com"]  # still ongoing
    assert (
        json.loads(
            run(capsys, "events", "--data", str(data), "--country", "RU", "--format", "json")
        )
        == []
    )


def test_events_csv_stop_table(data: Path, capsys) -> None:
    rows = list(
        csv.DictReader(io.StringIO(run(capsys, "events", "--data", str(data), "--format", "csv")))
    )
    assert rows[0]["target"] == "vlast.kz" and rows[0]["asns"] == "AS21299;AS9198"
    stop = list(
        csv.reader(io.StringIO(run(capsys, "events", "--data", str(data), "--format", "stop")))
    )
    assert tuple(stop[0]) == STOP_COLUMNS
    first = dict(zip(stop[0], stop[1], strict=True))
    assert first["start_date"] == "5/9/2024" and first["country"] == "Kazakhstan"
    assert first["geo_scope"] == "National" and first["shutdown_extent"] == "Service-based"
    assert first["shutdown_status"] == "Ended" and first["duration"] == "6.0"
    second = dict(zip(stop[0], stop[2], strict=True))
    assert second["facebook_affected"] == "Yes" and second["shutdown_status"] == "Ongoing"
    table = run(capsys, "events", "--data", str(data), "--rebuild")
    assert "vlast.kz" in table and "national" in table and "ongoing" in table


def test_timeline(data: Path, capsys) -> None:
    out = run(capsys, "timeline", "vlast.kz", "--data", str(data))
    assert "KZ AS9198 — Shymkent" in out and "KZ AS21299 — Almaty" in out
    assert "2024-05-09 07:00 .. 2024-05-09 13:00" in out and "dns.nxdomain" in out
    assert "events:" in out and "national" in out
    assert "no verdicts" in run(capsys, "timeline", "nothing.kz", "--data", str(data))


def test_bad_arguments_are_one_line_errors(data: Path, capsys) -> None:
    assert main(["events", "--data", str(data), "--since", "yesterday"]) == 2
    assert "not a date" in capsys.readouterr().err
    assert (
        main(["events", "--data", str(data), "--since", "2024-05-10", "--until", "2024-05-01"]) == 2
    )
    assert main(["events", "--data", str(data), "--country", "KAZ"]) == 2


def test_from_measurements_to_events(tmp_path: Path, shared_dir: Path, capsys) -> None:
    """Real measurements (OONI QA shapes) judged by the analysis, then events."""
    qa = shared_dir / "research/ooni/wc_qa_generated"
    blocked = json.loads((qa / "dnsBlockingNXDOMAIN.measurement.json").read_text())
    fine = json.loads((qa / "successWithHTTPS.measurement.json").read_text())
    items = []
    for asn, region in [("AS9198", "Almaty"), ("AS9198", "Shymkent"), ("AS21299", "Almaty")]:
        for i in range(12):
            m = copy.deepcopy(blocked if 4 <= i < 9 else fine)
            m.update(
                input="https://vlast.kz/",
                probe_cc="KZ",
                probe_asn=asn,
                annotations={"region": region},
                report_id=f"r-{asn}-{region}",
                measurement_start_time=(T0 + i * H).strftime("%Y-%m-%d %H:%M:%S"),
            )
            items.append(m)
    store = Store.open(tmp_path)
    assert store.add_measurements(items).added == 36
    [e] = store.events()
    assert (e["kind"], e["target"], e["scope"], e["method"]) == (
        "blocking",
        "vlast.kz",
        "national",
        "dns.nxdomain",
    )
    assert e["start"] == "2024-05-09T04:00:00Z" and e["end"] == "2024-05-09T08:00:00Z"
    assert e["measurements"] == 15
    assert store.measurement(e["measurement_uids"][0])["probe_asn"] in ("AS9198", "AS21299")
