"""The store through its public API and CLI, on a real DuckDB file and archive."""

from __future__ import annotations

import copy
import gzip
import json
from pathlib import Path

import pytest

from ashyq.cli import main
from ashyq.store import Store
from ashyq.store.archive import segments

QA = "research/ooni/wc_qa_generated"


def measurement(i: int, day: int = 9, **extra) -> dict:
    m = {
        "test_name": "web_connectivity",
        "probe_cc": "KZ",
        "probe_asn": "AS9198",
        "probe_ip": "10.1.2.3",
        "report_id": f"20240509T000000Z_webconnectivity_KZ_9198_n1_r{i % 3}",
        "input": f"https://site{i}.kz/",
        "measurement_start_time": f"2024-05-{day:02d} {i // 60 % 24:02d}:{i % 60:02d}:00",
        "annotations": {"region": "Almaty"},
        "test_keys": {},
    }
    m.update(extra)
    return m


def test_add_counts_scrubs_and_keeps_raw(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    good = [measurement(i) for i in range(20)]
    bad = [{"test_name": "web_connectivity"}, "nope", measurement(99, probe_asn="9198")]
    result = store.add_measurements(good + bad + good[:5])
    assert (result.added, result.duplicate, result.rejected) == (20, 5, 3)
    assert any("probe_asn" in e for e in result.errors)
    again = store.add_measurements(good)
    assert (again.added, again.duplicate) == (0, 20)
    stats = store.stats()
    assert stats["measurements"] == 20 and stats["archive"]["pending_bytes"] == 0
    raw = store.measurement(result.uids[3])
    assert raw["input"] == good[3]["input"] and raw["probe_ip"] == "127.0.0.1"
    # nothing anywhere on disk holds the probe's address
    for seg in segments(tmp_path):
        assert b"10.1.2.3" not in gzip.decompress(seg.read_bytes())
    rows = store.query(
        "SELECT region, target, source FROM measurements WHERE input = ?", [good[0]["input"]]
    )
    assert rows == [{"region": "Almaty", "target": "site0.kz", "source": "probe"}]


def test_archive_by_measurement_day_and_rebuild(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    store.add_measurements([measurement(i, day=9) for i in range(5)])
    store.add_measurements([measurement(i, day=2) for i in range(5)])  # late, older
    days = sorted({p.parent.relative_to(tmp_path / "raw").as_posix() for p in segments(tmp_path)})
    assert days == ["2024/05/02", "2024/05/09"]
    before = store.query("SELECT uid, measurement_start_time FROM measurements ORDER BY uid")
    (tmp_path / "ashyq.duckdb").unlink()  # lose every table
    store = Store.open(tmp_path)
    assert store.stats()["measurements"] == 0
    assert store.rebuild() == 10
    assert (
        store.query("SELECT uid, measurement_start_time FROM measurements ORDER BY uid") == before
    )


def test_every_iso_form_of_the_start_time_lands_on_its_day(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    forms = ["2024-05-03T10:20:30Z", " 2024-05-04 10:20:30", "20240505T102030", "2024-W19-1"]
    ms = [measurement(i, measurement_start_time=t) for i, t in enumerate(forms)]
    result = store.add_measurements(ms)
    assert result.added == 4
    days = sorted({p.parent.relative_to(tmp_path / "raw").as_posix() for p in segments(tmp_path)})
    assert days == ["2024/05/03", "2024/05/04", "2024/05/05", "2024/05/06"]
    assert store.stats()["measurements"] == 4
    assert store.add_measurements(ms).duplicate == 4


def test_crash_leftover_is_skipped_and_next_writes_load(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    store.add_measurements([measurement(i) for i in range(3)])
    [seg] = segments(tmp_path)
    whole = gzip.compress(b'{"uid":"x"}\n' * 50)
    with open(seg, "ab") as f:  # a batch cut short by a crash: never acknowledged
        f.write(whole[: len(whole) // 2])
    store = Store.open(tmp_path)
    assert store.sync() == 0
    result = store.add_measurements([measurement(i) for i in range(3, 6)])
    assert result.added == 3
    assert store.stats()["measurements"] == 6


def test_verdicts_and_reanalysis_keep_provenance(tmp_path: Path, shared_dir: Path, monkeypatch):
    from ashyq.analysis import verdict as rules

    store = Store.open(tmp_path)
    m = json.loads((shared_dir / QA / "dnsBlockingNXDOMAIN.measurement.json").read_text())
    items = []
    for i in range(4):
        x = copy.deepcopy(m)
        x.update(
            input=f"https://vlast.kz/{i}", probe_cc="KZ", probe_asn="AS9198", report_id=f"r{i}"
        )
        items.append(x)
    store.add_measurements(items)
    [v] = store.verdicts_for("vlast.kz", asn="AS9198", limit=1)
    assert v["status"] == "blocked" and v["method"] == "dns.nxdomain" and v["current"]
    assert v["rule_version"] == rules.RULE_VERSION and v["evidence"]
    first_version = rules.RULE_VERSION
    monkeypatch.setattr(rules, "RULE_VERSION", "next-rules")
    assert store.reanalyze() == 4
    versions = store.query(
        "SELECT rule_version, current, count(*) AS n FROM verdicts GROUP BY ALL ORDER BY 1"
    )
    assert {(r["rule_version"], r["current"], r["n"]) for r in versions} == {
        (first_version, False, 4),
        ("next-rules", True, 4),
    }
    # rebuild keeps the older rule version's verdicts too
    store.rebuild()
    assert len(store.verdicts_for("vlast.kz", current_only=False)) == 8


def test_import_files_cli(tmp_path: Path, shared_dir: Path, capsys) -> None:
    qa = sorted((shared_dir / QA).glob("*.measurement.json"))[:6]
    docs = [json.loads(p.read_text()) for p in qa]
    jsonl = tmp_path / "a.jsonl"
    jsonl.write_text("\n".join(json.dumps(d) for d in docs[:2]) + "\nnot json\n")
    gz = tmp_path / "b.jsonl.gz"
    gz.write_bytes(gzip.compress((json.dumps(docs[2]) + "\n").encode()))
    api = tmp_path / "c.json"  # measurement_meta?full=true, raw as a string
    api.write_text(
        json.dumps(
            {
                "measurement_uid": "20240101000000.000000_KZ_webconnectivity_0",
                "raw_measurement": json.dumps(docs[3]),
            },
            indent=2,
        )
    )
    listed = tmp_path / "d.json"
    listed.write_text(json.dumps(docs[4:6], indent=1))
    data = tmp_path / "data"
    args = ["import", "ooni", "--data", str(data), str(jsonl), str(gz), str(api), str(listed)]
    assert main(args) == 0
    out = capsys.readouterr()
    assert "added 6, duplicate 0, rejected 1" in out.out
    assert "line 3 is not valid JSON" in out.err
    assert main(args) == 0
    assert "added 0, duplicate 6, rejected 1" in capsys.readouterr().out
    store = Store.open(data, read_only=True)
    assert store.stats()["measurements_by_source"] == {"ooni": 6}
    assert main(["import", "ooni", "--data", str(data), str(tmp_path / "missing.json")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_store_cli(tmp_path: Path, capsys) -> None:
    Store.open(tmp_path).add_measurements([measurement(i) for i in range(3)])
    assert main(["store", "stats", "--data", str(tmp_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["measurements"] == 3
    assert main(["store", "rebuild", "--data", str(tmp_path)]) == 0
    assert "3 measurements" in capsys.readouterr().out
    assert main(["store", "stats", "--data", str(tmp_path)]) == 0
    assert "measurements       3" in capsys.readouterr().out
    # archived elsewhere (a collector that stopped before loading): `store sync` loads it
    other = Store(tmp_path)
    other.check_and_archive([measurement(50)], "probe", lambda uid: False)
    other.close()
    assert main(["store", "sync", "--data", str(tmp_path)]) == 0
    assert "loaded 1 measurements" in capsys.readouterr().out


def test_hostile_values_are_stored_as_data(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    hostile = measurement(1, input="https://x.kz/'); DROP TABLE measurements; --<script>")
    hostile["annotations"] = {"region": "<img src=x onerror=alert(1)>"}
    assert store.add_measurements([hostile]).added == 1
    [row] = store.query("SELECT input, region FROM measurements")
    assert row["input"].endswith("<script>") and row["region"].startswith("<img")
    too_long = measurement(2, input="https://x.kz/" + "a" * 5000)
    result = store.add_measurements([too_long, measurement(3, measurement_start_time="2099-01-01")])
    assert result.rejected == 2 and result.added == 0


@pytest.mark.parametrize("since,until", [("2024-13-01", "2024-01-02"), ("x", "2024-01-01")])
def test_import_api_bad_dates(tmp_path: Path, since: str, until: str, capsys) -> None:
    args = [
        "import",
        "ooni",
        "--data",
        str(tmp_path),
        "--country",
        "KZ",
        "--since",
        since,
        "--until",
        until,
        "--api",
        "http://127.0.0.1:9",
    ]
    assert main(args) == 2
    assert "is not a date" in capsys.readouterr().err


def test_rebuild_recovers_from_a_damaged_table_file(tmp_path: Path, capsys) -> None:
    Store.open(tmp_path).add_measurements([measurement(i) for i in range(7)])
    (tmp_path / "ashyq.duckdb").write_bytes(b"\0garbage" * 1000)
    assert main(["events", "--data", str(tmp_path)]) == 2
    assert "ashyq store rebuild" in capsys.readouterr().err
    assert main(["store", "rebuild", "--data", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert "could not be opened" in captured.err and "7 measurements" in captured.out
    assert Store.open(tmp_path).stats()["measurements"] == 7


def test_rebuild_keeps_tables_not_derived_from_the_archive(tmp_path: Path, capsys) -> None:
    import duckdb

    store = Store.open(tmp_path)
    store.add_measurements([measurement(i) for i in range(5)])
    with store.connect(write=True) as con:
        con.execute("CREATE SEQUENCE note_ids START 1")
        con.execute(
            "CREATE TABLE parents (id INTEGER PRIMARY KEY, name VARCHAR NOT NULL UNIQUE, "
            "tags VARCHAR[], seen TIMESTAMP)"
        )
        con.execute(
            "CREATE TABLE notes (id INTEGER PRIMARY KEY DEFAULT nextval('note_ids'), "
            "parent INTEGER REFERENCES parents(id), body VARCHAR CHECK (length(body) > 0))"
        )
        con.execute("CREATE INDEX notes_parent ON notes(parent)")
        con.execute("CREATE SCHEMA extra")
        con.execute("CREATE TABLE extra.kv (k VARCHAR PRIMARY KEY, v VARCHAR)")
        con.execute("CREATE TYPE mood AS ENUM ('sad', 'ok')")
        con.execute("CREATE TABLE moods (m mood)")
        con.execute("INSERT INTO moods VALUES ('ok'), ('sad')")
        con.execute("CREATE VIEW note_count AS SELECT count(*) AS n FROM notes")
        con.execute(
            "INSERT INTO parents VALUES (1, 'a', ['x', 'y'], '2024-05-09 07:00:00'), "
            "(2, 'b', NULL, NULL)"
        )
        con.execute("INSERT INTO notes (parent, body) VALUES (1, 'one'), (2, 'two'), (1, 'три')")
        con.execute("INSERT INTO extra.kv VALUES ('k', 'v')")
        con.execute("INSERT INTO meta VALUES ('someone_elses_key', '42')")
        before = {
            t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()
            for t in ("parents", "notes", "extra.kv", "moods")
        }

    assert main(["store", "rebuild", "--data", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "5 measurements" in out and "main.notes" in out and "extra.kv" in out

    con = duckdb.connect(str(tmp_path / "ashyq.duckdb"), read_only=True)
    try:
        for t, rows in before.items():
            assert con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() == rows
        assert con.execute("SELECT n FROM note_count").fetchone() == (3,)
        assert con.execute("SELECT value FROM meta WHERE key = 'someone_elses_key'").fetchone()
        assert con.execute("SELECT count(*) FROM measurements").fetchone() == (5,)
        indexes = {r[0] for r in con.execute("SELECT index_name FROM duckdb_indexes()").fetchall()}
        assert "notes_parent" in indexes
    finally:
        con.close()
    # constraints, defaults and the sequence's position came along
    with Store.open(tmp_path).connect(write=True) as con:
        con.execute("INSERT INTO notes (parent, body) VALUES (2, 'four')")
        assert con.execute("SELECT max(id) FROM notes").fetchone() == (4,)
        assert con.execute("SELECT 'ok'::mood").fetchone() == ("ok",)  # the named type too
        for bad in (
            "INSERT INTO notes (parent, body) VALUES (1, '')",  # CHECK
            "INSERT INTO notes (parent, body) VALUES (9, 'x')",  # FOREIGN KEY
            "INSERT INTO parents VALUES (3, 'a', NULL, NULL)",  # UNIQUE
            "INSERT INTO extra.kv VALUES ('k', 'w')",  # PRIMARY KEY
        ):
            with pytest.raises(duckdb.ConstraintException):
                con.execute(bad)


def test_rebuild_moves_an_unreadable_file_aside(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    store.add_measurements([measurement(i) for i in range(3)])
    (tmp_path / "ashyq.duckdb").write_bytes(b"\0garbage" * 1000)
    assert store.rebuild() == 3
    aside = list(tmp_path.glob("ashyq.duckdb.unreadable-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == b"\0garbage" * 1000
    assert Store.open(tmp_path).stats()["measurements"] == 3


def test_rebuild_keeps_the_claims_and_incidents_tables(tmp_path: Path) -> None:
    """The other areas' real DDL (read from their packages), rows in it, a rebuild."""
    from importlib import resources

    import duckdb

    store = Store.open(tmp_path)
    store.add_measurements([measurement(i) for i in range(3)])
    with store.connect(write=True) as con:
        for package in ("ashyq.claims", "ashyq.incidents"):
            con.execute(resources.files(package).joinpath("schema.sql").read_text())
        con.execute(
            "INSERT INTO claims (claim_id, source, kind, targets, saved_at, asns) "
            "VALUES ('c1', 'report.html', 'blocking', ['vlast.kz'], '2019-05-09 12:00:00', "
            "['AS9198'])"
        )
        con.execute("INSERT INTO incident_meta VALUES ('account_salt', 'abc')")
        claims = con.execute("SELECT * FROM claims").fetchall()
    store.rebuild()
    assert sorted(store.carried) == ["main.claims", "main.incident_meta", "main.incidents"]
    con = duckdb.connect(str(tmp_path / "ashyq.duckdb"), read_only=True)
    try:
        assert con.execute("SELECT * FROM claims").fetchall() == claims
        assert con.execute("SELECT * FROM incident_meta").fetchall() == [("account_salt", "abc")]
    finally:
        con.close()
