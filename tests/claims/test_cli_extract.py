"""`ashyq claims extract` end to end: files, stdin, a URL on a local server, bad input."""

from __future__ import annotations

import http.server
import io
import json
import threading
from pathlib import Path

import pytest

from ashyq.cli import main

REPORTS = Path(__file__).parent / "reports"


def run_json(capsys, *argv):
    assert main(["claims", "extract", *argv]) == 0
    return json.loads(capsys.readouterr().out)


def test_two_files_json_and_table(capsys):
    docs = run_json(
        capsys,
        str(REPORTS / "kk_yesterday.txt"),
        str(REPORTS / "ar_december.txt"),
        "--published",
        "2023-05-10",
    )
    assert [d["language"] for d in docs] == ["kk", "ar"]
    assert docs[0]["claims"][0]["date"] == "2023-05-09"
    ev = docs[0]["claims"][0]["evidence"][0]
    assert {"start", "end", "text", "role"} <= set(ev)
    assert (
        main(
            [
                "claims",
                "extract",
                str(REPORTS / "ru_yesterday.txt"),
                "--format",
                "table",
                "--published",
                "10 May 2023",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "facebook,youtube" in out and "twitter,vk" in out and "2023-05-09" in out


def test_stdin(capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("Вчера в Шымкенте заблокировали Telegram."))
    doc = run_json(capsys, "-", "--published", "2024-01-02")
    assert doc["claims"][0]["targets"] == ["telegram"]
    assert doc["claims"][0]["date"] == "2024-01-01"


class _Handler(http.server.BaseHTTPRequestHandler):
    body = (REPORTS / "hostile.html").read_bytes()

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


@pytest.fixture()
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/report"
    httpd.shutdown()
    httpd.server_close()


def test_url_on_a_local_server(capsys, server):
    doc = run_json(capsys, server)
    assert doc["source"] == server
    assert doc["published"] == "2022-01-06"
    assert {c["kind"] for c in doc["claims"]} == {"outage", "blocking"}


def test_user_errors_are_one_line(tmp_path, capsys):
    assert main(["claims", "extract", str(tmp_path / "missing.txt")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert (
        main(
            [
                "claims",
                "extract",
                str(REPORTS / "kk_yesterday.txt"),
                "--published",
                "not a date at all",
            ]
        )
        == 2
    )
    assert "--published" in capsys.readouterr().err
    big = tmp_path / "big.txt"
    big.write_text("Facebook blocked. " * 200_000)
    assert main(["claims", "extract", str(big)]) == 2
    assert "too large" in capsys.readouterr().err
    assert main(["claims", "extract", "http://127.0.0.1:9/none"]) == 2
    assert "cannot download" in capsys.readouterr().err
