from __future__ import annotations

import gzip
import io
import json
import sys

import pytest
from tests.analysis.builders import make_wc

from ashyq.analysis.reading import ReadError, Record, iter_records
from ashyq.cli import main


def lines(*ms) -> bytes:
    return b"".join(json.dumps(m).encode() + b"\n" for m in ms)


def test_jsonl_with_bad_lines_goes_on(tmp_path):
    p = tmp_path / "m.jsonl"
    p.write_bytes(lines(make_wc()) + b"{not json\n\n[1, 2]\n" + lines(make_wc("http://x.kz/")))
    out = list(iter_records([p]))
    kinds = [type(r).__name__ for r in out]
    assert kinds == ["Record", "ReadError", "ReadError", "ReadError", "Record"]
    errs = [r for r in out if isinstance(r, ReadError)]
    assert errs[0].line == 2 and "invalid JSON" in errs[0].message
    assert errs[1].line == 4 and "expected a JSON object" in str(errs[1])
    assert str(errs[0]).startswith(f"{p}:2: ")


def test_gzip_pretty_json_and_ooni_api_wrappers(tmp_path):
    gz = tmp_path / "m.jsonl.gz"
    gz.write_bytes(gzip.compress(lines(make_wc(), make_wc())))
    pretty = tmp_path / "one.json"
    pretty.write_text(json.dumps(make_wc(), indent=2))
    api = tmp_path / "api.json"
    api.write_text(json.dumps({"measurement_uid": "x", "raw_measurement": json.dumps(make_wc())}))
    lst = tmp_path / "list.json"
    lst.write_text(json.dumps({"results": [{"measurement": make_wc()}, make_wc()]}))
    recs = list(iter_records([gz, pretty, api, lst]))
    assert all(isinstance(r, Record) for r in recs) and len(recs) == 6


def test_missing_file_and_empty_input(tmp_path):
    (tmp_path / "empty.jsonl").write_bytes(b"")
    out = list(iter_records([tmp_path / "nope.jsonl", tmp_path / "empty.jsonl"]))
    assert all(isinstance(r, ReadError) for r in out) and len(out) == 2
    assert "cannot open" in out[0].message and "empty input" in out[1].message


def test_stdin(monkeypatch):
    recs = list(iter_records(["-"], stdin=io.BytesIO(lines(make_wc()))))
    assert len(recs) == 1 and isinstance(recs[0], Record)


def test_cli_jsonl_errors_and_exit_codes(tmp_path, capsys):
    p = tmp_path / "m.jsonl"
    p.write_bytes(lines(make_wc(dns_failure="dns_nxdomain_error")) + b"garbage\n")
    assert main(["analyze", str(p), "--format", "jsonl"]) == 0
    cap = capsys.readouterr()
    rows = [json.loads(x) for x in cap.out.splitlines()]
    assert len(rows) == 1 and rows[0]["method"] == "dns.nxdomain"
    assert rows[0]["ooni_blocking"] == "dns" and rows[0]["rule_version"]
    assert f"{p}:2: invalid JSON" in cap.err
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b"nope\n")
    assert main(["analyze", str(bad)]) == 2
    assert "no measurement could be read" in capsys.readouterr().err


def test_cli_csv_and_table(tmp_path, capsys):
    p = tmp_path / "m.jsonl"
    p.write_bytes(lines(make_wc(tls_failure="generic_timeout_error"), make_wc()))
    assert main(["analyze", str(p), "--format", "csv"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("measurement_uid,") and len(out) == 3
    assert ",blocked,tls.timeout," in out[1]
    assert main(["analyze", str(p), "--format", "table"]) == 0
    table = capsys.readouterr().out
    assert "tls.timeout" in table and "blocked" in table


def test_cli_stdin_subprocess(tmp_path):
    import subprocess

    data = lines(make_wc(), make_wc(tcp_failure="connection_reset")) + b"{\n"
    r = subprocess.run(
        [sys.executable, "-m", "ashyq", "analyze", "-"], input=data, capture_output=True, timeout=60
    )
    assert r.returncode == 0, r.stderr
    rows = [json.loads(x) for x in r.stdout.decode().splitlines()]
    assert [x["method"] for x in rows] == [None, "tcp.reset"]
    assert b"<stdin>:3: invalid JSON" in r.stderr


def test_cli_fingerprints_option_and_env(tmp_path, capsys, monkeypatch):
    fdir = tmp_path / "fps"
    fdir.mkdir()
    (fdir / "mine.csv").write_text(
        "name,scope,location_found,pattern_type,pattern\nmy.block,isp,body,contains,STOP-42\n"
    )
    p = tmp_path / "m.jsonl"
    p.write_bytes(lines(make_wc("http://vlast.kz/", body="<html>STOP-42</html>", headers={})))
    assert main(["analyze", str(p), "--fingerprints", str(fdir), "--format", "jsonl"]) == 0
    assert json.loads(capsys.readouterr().out)["method"] == "http.blockpage:my.block"
    monkeypatch.setenv("ASHYQ_FINGERPRINTS", str(fdir))
    import ashyq.analysis.fingerprints as f

    assert any(
        x.name == "mine.csv"
        for x in f.load_fingerprints(f.fingerprint_paths()).sources
        and [
            __import__("pathlib").Path(s)
            for s in f.load_fingerprints(f.fingerprint_paths()).sources
        ]
    )
    assert main(["analyze", str(p), "--format", "jsonl"]) == 0
    assert json.loads(capsys.readouterr().out)["method"] == "http.blockpage:my.block"
    with pytest.raises(SystemExit):
        main(["analyze"])


def test_broken_first_line_does_not_lose_the_rest(tmp_path):
    p = tmp_path / "m.jsonl"
    good = json.dumps(make_wc()).encode()
    p.write_bytes(good[:50] + b"\n" + good + b"\n" + good + b"\n")
    out = list(iter_records([p]))
    assert [type(r).__name__ for r in out] == ["ReadError", "Record", "Record"]
    assert out[0].line == 1


def test_broken_pretty_document_is_one_error(tmp_path):
    p = tmp_path / "one.json"
    p.write_text(json.dumps(make_wc(), indent=2)[:-40])
    out = list(iter_records([p]))
    assert len(out) == 1 and isinstance(out[0], ReadError)
    assert "invalid JSON document" in out[0].message


def test_fingerprints_from_the_data_dir(tmp_path, monkeypatch):
    from ashyq.analysis.fingerprints import fingerprint_paths

    monkeypatch.delenv("ASHYQ_FINGERPRINTS", raising=False)
    monkeypatch.setenv("ASHYQ_DATA", str(tmp_path))
    assert tmp_path / "fingerprints" not in fingerprint_paths()
    (tmp_path / "fingerprints").mkdir()
    assert tmp_path / "fingerprints" in fingerprint_paths()
    assert fingerprint_paths([tmp_path / "x"])[0] == tmp_path / "x"
