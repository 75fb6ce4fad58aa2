"""`ashyq web ...` commands, through ashyq.cli.main and a real subprocess."""

from __future__ import annotations

import asyncio
import re
import socket
import subprocess
import sys
import time

import aiohttp
import pytest

from ashyq.cli import main
from ashyq.store.store import Store
from ashyq.web.state import WebState

from .datagen import build


def test_help_of_every_web_command(capsys):
    for argv in (["web"], ["web", "serve"], ["web", "user", "add"], ["web", "alerts", "run"],
                 ["web", "token", "add"], ["web", "categories"], ["web", "aggregate"]):  # fmt: skip
        with pytest.raises(SystemExit) as exc:
            main([*argv, "--help"])
        assert exc.value.code == 0
        assert "usage: ashyq web" in capsys.readouterr().out


def test_user_add_from_environment_and_stdin(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ASHYQ_WEB_PASSWORD", "a long password")
    assert main(["web", "user", "add", "ana", "--data", str(tmp_path)]) == 0
    assert WebState.open(tmp_path).check_user("ana", "a long password")
    monkeypatch.setenv("ASHYQ_WEB_PASSWORD", "short")
    assert main(["web", "user", "add", "bob", "--data", str(tmp_path)]) == 2
    assert "at least 8 characters" in capsys.readouterr().err
    monkeypatch.delenv("ASHYQ_WEB_PASSWORD")
    proc = subprocess.run(
        [sys.executable, "-m", "ashyq", "web", "user", "add", "cem", "--data", str(tmp_path)],
        input="piped password\n", capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert WebState.open(tmp_path).check_user("cem", "piped password")
    assert main(["web", "user", "list", "--data", str(tmp_path)]) == 0
    assert capsys.readouterr().out.split() == ["ana", "cem"]
    assert main(["web", "user", "delete", "nobody", "--data", str(tmp_path)]) == 2


def test_categories_from_a_test_list(tmp_path, shared_dir, capsys):
    kz = shared_dir / "research" / "testlists" / "kz.csv"
    if not kz.exists():
        pytest.skip("no kz.csv test list in ../shared")
    assert main(["web", "categories", str(kz), "--data", str(tmp_path)]) == 0
    assert "target categories loaded" in capsys.readouterr().out
    assert len(WebState.open(tmp_path).categories()) > 10
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    assert main(["web", "categories", str(bad), "--data", str(tmp_path)]) == 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_and_aggregate_give_the_same_pages(tmp_path):
    sc = build(tmp_path, hours=24)
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "ashyq", "web", "serve", "--listen", f"127.0.0.1:{port}",
         "--data", str(tmp_path), "--alerts-interval", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip

    async def fetch(paths: list[str]) -> list[str]:
        out = []
        async with aiohttp.ClientSession() as s:
            for path in paths:
                async with s.get(f"http://127.0.0.1:{port}{path}") as r:
                    assert r.status == 200, path
                    out.append(await r.text())
        return out

    def sections(html: str) -> str:
        start = html.index('<section id="history">')
        part = html[start : html.index('<section id="target-events">')]
        return re.sub(r"Up to [^<]* UTC\.", "", part)  # "now" moves between the two fetches

    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.2)
        before = asyncio.run(fetch(["/targets/vlast.kz", "/"]))
        assert main(["web", "aggregate", "--data", str(tmp_path)]) == 0
        with Store.open(tmp_path, read_only=True).connect() as con:
            from ashyq.web.aggregates import usable

            assert usable(con)
        after = asyncio.run(fetch(["/targets/vlast.kz", "/"]))
        assert sections(after[0]) == sections(before[0])
        assert sc.events["vlast_now"]["event_id"] in after[1]
        grid = r'data-region="Shymkent" data-network="AS9198"'
        assert grid in before[1] and grid in after[1]
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=20)
    assert "serving" in out
