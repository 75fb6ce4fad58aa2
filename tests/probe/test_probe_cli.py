"""The probe CLI: test lists, options, config file, lab clock, Ctrl-C, upload, ashyq check."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from ooni_schema import check_measurement

from ashyq.cli import main


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_list_with_broken_rows(lab, tmp_path, capsys):
    h = lab.http.port
    csv_path = tmp_path / "kz.csv"
    csv_path.write_text(
        "url,category_code,category_description,date_added,source,notes\n"
        f"http://ok.test:{h}/,NEWS,News Media,2019-05-09,test,\n"
        "ftp://files.test/,FILE,File sharing,2019-05-09,test,\n"
        f'"http://ok.test:{h}/a",NEWS,News Media,2019-05-09\n'
        "not a url,NEWS,News Media,2019-05-09,test,\n"
        f'http://slow.test:{h}/,POLR,Political Criticism,2019-05-09,test,"quoted, note"\n'
    )
    out = tmp_path / "out.jsonl"
    assert main(["probe", "--list", str(csv_path), "-o", str(out), *lab.base_args()]) == 0
    err = capsys.readouterr().err
    assert f"{csv_path}:3: not an http:// or https:// URL" in err
    assert f"{csv_path}:4: 4 fields where the header has 6" in err
    assert f"{csv_path}:5: not a URL" in err
    ms = _lines(out)
    assert sorted(m["input"] for m in ms) == [f"http://ok.test:{h}/", f"http://slow.test:{h}/"]
    for m in ms:
        check_measurement(m)
    cats = {m["input"]: m["annotations"]["x_category_code"] for m in ms}
    assert cats[f"http://slow.test:{h}/"] == "POLR"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "is empty"),
        ("address,category\nhttp://a.kz/,NEWS\n", "no 'url' column"),
        (b"url\n\xff\xfe\n", "not UTF-8"),
    ],
)
def test_unusable_list_is_a_clear_error(tmp_path, capsys, content, message):
    p = tmp_path / "bad.csv"
    p.write_bytes(content if isinstance(content, bytes) else content.encode())
    assert main(["probe", "--list", str(p)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ashyq: error:") and message in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--cc", "Kazakhstan"], "--cc"),
        (["--asn", "Kazakhtelecom"], "--asn"),
        (["--resolver", "dns.google"], "--resolver"),
        (["--lab-clock", "yesterday"], "--lab-clock"),
        (["--control", "ftp://x"], "--control"),
    ],
)
def test_bad_options_are_user_errors(args, message, capsys):
    assert main(["probe", "http://ok.test/", *args]) == 2
    assert message in capsys.readouterr().err


def test_bad_url_is_a_user_error(capsys):
    assert main(["probe", "javascript:alert(1)"]) == 2
    assert "not an http" in capsys.readouterr().err


def test_config_file_lab_clock_and_progress(lab, tmp_path, capsys):
    cfg = tmp_path / "probe.toml"
    cfg.write_text(
        'cc = "KZ"\nasn = "AS48716"\nnetwork_name = "Kcell"\nregion = "Shymkent"\n'
        f'resolver = "{lab.dns.address_str}"\nno_system_resolver = true\ntimeout = 2.0\n'
    )
    out = tmp_path / "o.jsonl"
    url = f"http://ok.test:{lab.http.port}/"
    code = main(
        [
            "probe",
            url,
            "--config",
            str(cfg),
            "--asn",
            "AS9198",
            "-o",
            str(out),
            "--lab-clock",
            "2022-01-05T07:00:00Z",
            "--progress",
        ]
    )
    assert code == 0
    (m,) = _lines(out)
    check_measurement(m)
    assert m["probe_asn"] == "AS9198"  # the command line wins over the file
    assert m["probe_network_name"] == "Kcell"
    assert m["annotations"]["region"] == "Shymkent"
    assert m["measurement_start_time"].startswith("2022-01-05 07:00:")
    assert m["test_start_time"] == "2022-01-05 07:00:00"
    assert m["report_id"].startswith("20220105T070000Z_webconnectivity_KZ_9198_")
    assert "1/1" in capsys.readouterr().err  # the progress bar's count


def test_bad_config_key(tmp_path, capsys):
    cfg = tmp_path / "p.toml"
    cfg.write_text('country = "KZ"\n')
    assert main(["probe", "http://ok.test/", "--config", str(cfg)]) == 2
    assert "unknown key 'country'" in capsys.readouterr().err


def test_concurrency_is_bounded_per_host(lab, tmp_path):
    """Six URLs of one slow host with --per-host 2 take three rounds of its delay."""
    h = lab.http.port
    urls = [f"http://slow.test:{h}/p{i}" for i in range(6)]
    out = tmp_path / "o.jsonl"
    t = time.monotonic()
    assert main(["probe", *urls, "-o", str(out), "--per-host", "2", *lab.base_args()]) == 0
    elapsed = time.monotonic() - t
    assert len(_lines(out)) == 6
    assert elapsed >= 3 * 0.4 - 0.05  # slow.test answers after 0.4 s


def test_ctrl_c_leaves_valid_jsonl(lab, tmp_path):
    h = lab.http.port
    urls = [f"http://slow.test:{h}/n{i}" for i in range(40)]
    out = tmp_path / "partial.jsonl"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ashyq",
            "probe",
            *urls,
            "-o",
            str(out),
            "--concurrency",
            "2",
            *lab.base_args(),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if out.exists() and len(out.read_text().splitlines()) >= 3:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, err.decode()
    assert b"Traceback" not in err
    text = out.read_text()
    assert text.endswith("\n")
    ms = [json.loads(line) for line in text.splitlines()]
    assert 3 <= len(ms) < 40
    for m in ms:
        check_measurement(m)


def test_upload_through_the_collector(lab, tmp_path):
    import asyncio

    from aiohttp import web

    from ashyq.collector.server import make_app

    loop = asyncio.new_event_loop()
    started = threading.Event()
    state: dict = {}

    async def serve() -> None:
        runner = web.AppRunner(make_app(tmp_path / "collector", open_access=True))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        state["port"] = runner.addresses[0][1]
        state["runner"] = runner
        started.set()

    thread = threading.Thread(target=lambda: (loop.run_until_complete(serve()), loop.run_forever()))
    thread.daemon = True
    thread.start()
    assert started.wait(20)
    try:
        url = f"http://ok.test:{lab.http.port}/"
        code = main(
            [
                "probe",
                url,
                "--upload",
                f"http://127.0.0.1:{state['port']}",
                "--data",
                str(tmp_path / "probe-data"),
                "-o",
                str(tmp_path / "o.jsonl"),
                "--upload-wait",
                "10",
                *lab.base_args(),
            ]
        )
        assert code == 0
        pending = list((tmp_path / "probe-data" / "upload-queue" / "pending").glob("*"))
        assert pending == []  # acknowledged by the collector, so no longer queued
    finally:
        asyncio.run_coroutine_threadsafe(state["runner"].cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)


def test_upload_keeps_queue_when_collector_unreachable(lab, tmp_path, capsys):
    url = f"http://ok.test:{lab.http.port}/"
    code = main(
        [
            "probe",
            url,
            "--upload",
            f"http://127.0.0.1:{lab.closed_port}",
            "--data",
            str(tmp_path / "d"),
            "-o",
            str(tmp_path / "o.jsonl"),
            "--upload-wait",
            "0",
            *lab.base_args(),
        ]
    )
    assert code == 0
    pending = list((tmp_path / "d" / "upload-queue" / "pending").glob("*"))
    assert len(pending) == 1
    assert json.loads(pending[0].read_text())["input"] == url
    assert "still queued" in capsys.readouterr().err


def test_check_one_line(lab, capsys):
    # a page large enough for download speeds to mean something (512 KiB, the cap)
    url = f"http://big.test:{lab.http.port}/"
    args = ["--control", lab.control.url, *lab.base_args()]
    assert main(["check", url, *args]) == 0
    line = capsys.readouterr().out.strip()
    assert "\n" not in line and line.startswith(url)
    try:
        import ashyq.analysis.verdict  # noqa: F401
    except ImportError:
        assert "no verdict" in line and "HTTP 200" in line  # the summary
        return
    assert line.startswith(f"{url}: ok"), line
    # down for everyone: the control cannot resolve it either
    assert main(["check", "http://nx.test/", *args]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("http://nx.test/: down"), line
    assert main(["check", "http://nx.test/", "--json", *args]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["verdict"]["status"] == "down"


def test_url_time_bound_keeps_what_finished(lab, tmp_path):
    """A redirect loop whose hops take 0.3 s each is cut at --url-timeout, and still written."""
    url = f"http://slowloop.test:{lab.http.port}/"
    out = tmp_path / "o.jsonl"
    args = [*lab.base_args(), "--timeout", "1", "--url-timeout", "1.2"]
    t = time.monotonic()
    assert main(["probe", url, "-o", str(out), *args]) == 0
    assert time.monotonic() - t < 8
    (m,) = _lines(out)
    check_measurement(m)
    k = m["test_keys"]
    assert k["x_url_timed_out"] is True
    assert k["http_experiment_failure"] == "generic_timeout_error"
    assert 1 <= len(k["requests"]) < 11  # the hops that finished are kept
    assert m["test_runtime"] < 4


def test_system_resolver_is_measured(lab, tmp_path):
    """getaddrinfo for localhost (answered from /etc/hosts, no query leaves the machine)."""
    url = f"http://localhost:{lab.http.port}/"
    out = tmp_path / "o.jsonl"
    args = [a for a in lab.base_args() if a != "--no-system-resolver"]
    assert main(["probe", url, "-o", str(out), *args]) == 0
    (m,) = _lines(out)
    check_measurement(m)
    k = m["test_keys"]
    (gai,) = [q for q in k["queries"] if q["engine"] == "getaddrinfo"]
    assert gai["query_type"] == "ANY" and gai["failure"] is None
    assert "127.0.0.1" in [a.get("ipv4") for a in gai["answers"]]
    assert k["dns_experiment_failure"] is None  # the system resolver's result
    udp = [q for q in k["queries"] if q["engine"] == "udp"]
    assert {q["failure"] for q in udp} == {"dns_nxdomain_error"}  # not in the test zone
    assert k["requests"][0]["response"]["code"] == 404  # no site named localhost


def test_hostile_responses_are_stored_safely(lab, tmp_path):
    """Binary bodies, garbage instead of HTTP, and oversized headers become data, not crashes."""
    import socket

    from ashyq.servers.site import Page, SiteServer

    garbage = socket.socket()
    garbage.bind(("127.0.0.1", 0))
    garbage.listen(8)

    def serve_garbage() -> None:
        for reply in (b"NOT HTTP AT ALL\r\n\r\n", b"HTTP/1.1 200 OK\r\nX: " + b"a" * 100_000):
            conn, _ = garbage.accept()
            conn.recv(65536)
            with contextlib.suppress(OSError):
                conn.sendall(reply)
            conn.close()

    threading.Thread(target=serve_garbage, daemon=True).start()
    gport = garbage.getsockname()[1]
    with SiteServer(
        {"*": Page(body=b"\xff\xfe<title>\x00bin</title>" + bytes(range(256)))}
    ) as bin_site:
        urls = [
            f"http://127.0.0.1:{bin_site.port}/",
            f"http://127.0.0.1:{gport}/a",
            f"http://127.0.0.1:{gport}/b",
        ]
        out = tmp_path / "o.jsonl"
        assert main(["probe", *urls, "-o", str(out), "--per-host", "1", *lab.base_args()]) == 0
    garbage.close()
    got = {m["input"]: m for m in _lines(out)}
    for m in got.values():
        check_measurement(m)
    body = got[urls[0]]["test_keys"]["requests"][0]["response"]["body"]
    assert body["format"] == "base64"  # not UTF-8: stored as base64, as OONI does
    for u in urls[1:]:
        failure = got[u]["test_keys"]["http_experiment_failure"]
        assert failure and failure.startswith("unknown_failure"), failure


def test_resolver_port_closed(lab, tmp_path):
    """A resolver that is not there: the ICMP port-unreachable shows as connection_refused."""
    out = tmp_path / "o.jsonl"
    args = [*lab.base_args(), "--resolver", f"127.0.0.1:{lab.closed_port}"]
    assert main(["probe", "http://ok.test/", "-o", str(out), *args]) == 0
    (m,) = _lines(out)
    check_measurement(m)
    k = m["test_keys"]
    assert {q["failure"] for q in k["queries"]} == {"connection_refused"}
    assert k["dns_experiment_failure"] == "connection_refused"
