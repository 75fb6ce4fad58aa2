"""The control (test helper): ts-017 protocol, limits, bogon refusal; real sockets on loopback."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

from ashyq.control.measure import ControlConfig
from ashyq.control.server import ControlServer
from ashyq.servers.ca import CertAuthority
from ashyq.servers.dns import DNSServer
from ashyq.servers.site import Page, SiteServer

FAILURE = re.compile(r"^[a-z0-9_]+(: .+)?$")


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    ca = CertAuthority.create("ashyq test CA")
    ca_file = ca.write(tmp_path_factory.mktemp("ca"))
    dns = DNSServer({"site.test": ["127.0.0.1"], "slow.test": ["127.0.0.1"], "nx.test": "NXDOMAIN"})
    http = SiteServer({"site.test": Page(title="Site"), "slow.test": Page(title="Slow", delay=1.0)})
    https = SiteServer({"site.test": Page(title="Site")}, ca=ca)
    for s in (dns, http, https):
        s.start()
    yield {"dns": dns, "http": http, "https": https, "ca_file": str(ca_file)}
    for s in (https, http, dns):
        s.stop()


def post(url: str, body: bytes | dict[str, Any]) -> tuple[int, dict[str, Any]]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def check_response(c: dict[str, Any]) -> None:
    """Field names and types of ts-017's control response."""
    assert set(c) >= {"tcp_connect", "tls_handshake", "http_request", "dns", "ip_info"}
    h = c["http_request"]
    for key, typ in {
        "body_length": int,
        "title": str,
        "headers": dict,
        "status_code": int,
        "discovered_h3_endpoint": str,
    }.items():
        assert isinstance(h[key], typ), key
    assert h["failure"] is None or FAILURE.match(h["failure"])
    assert h["download_kbit_s"] is None or isinstance(h["download_kbit_s"], float | int)
    assert isinstance(c["dns"]["addrs"], list) and "failure" in c["dns"]
    for v in c["tcp_connect"].values():
        assert isinstance(v["status"], bool)
        assert v["failure"] is None or FAILURE.match(v["failure"])
    for v in c["tls_handshake"].values():
        assert isinstance(v["status"], bool) and isinstance(v["server_name"], str)
    for v in c["ip_info"].values():
        assert isinstance(v["asn"], int) and isinstance(v["flags"], int)


def request(url: str, endpoints: list[str]) -> dict[str, Any]:
    return {
        "http_request": url,
        "http_request_headers": {"User-Agent": ["test"], "Accept": ["*/*"]},
        "tcp_connect": endpoints,
    }


def test_answers_like_ooni_example(net, shared_dir):
    """Keys of OONI's own example response are all present in ours."""
    example = json.loads(
        (shared_dir / "research/ooni/th_protocol/th_response_example.json").read_text()
    )
    example_req = json.loads(
        (shared_dir / "research/ooni/th_protocol/th_request_example.json").read_text()
    )
    port = net["http"].port
    with ControlServer(ControlConfig(resolver=net["dns"].address, lab=True)) as ctl:
        req = dict(example_req)
        req["http_request"] = f"http://site.test:{port}/"
        req["tcp_connect"] = [f"127.0.0.1:{port}"]
        status, answer = post(ctl.url, req)
    assert status == 200
    assert set(example) <= set(answer)
    assert set(example["http_request"]) <= set(answer["http_request"])
    check_response(answer)


def test_https_success(net):
    cfg = ControlConfig(resolver=net["dns"].address, lab=True, ca_file=net["ca_file"])
    port = net["https"].port
    with ControlServer(cfg) as ctl:
        status, c = post(ctl.url, request(f"https://site.test:{port}/", [f"127.0.0.1:{port}"]))
    assert status == 200
    check_response(c)
    ep = f"127.0.0.1:{port}"
    assert c["tcp_connect"][ep] == {"status": True, "failure": None}
    assert c["tls_handshake"][ep]["status"] is True
    assert c["tls_handshake"][ep]["server_name"] == "site.test"
    assert c["http_request"]["status_code"] == 200 and c["http_request"]["title"] == "Site"
    assert c["http_request"]["download_kbit_s"] > 0
    assert c["dns"] == {"failure": None, "addrs": ["127.0.0.1"]}
    assert c["ip_info"]["127.0.0.1"]["flags"] & 0b1011 == 0b1011  # probe+TH+valid for domain


def test_failures_are_ooni_strings(net):
    with ControlServer(ControlConfig(resolver=net["dns"].address, lab=True)) as ctl:
        status, c = post(ctl.url, request("http://nx.test/", ["127.0.0.1:9"]))
        assert status == 200
        check_response(c)
        assert c["dns"] == {"failure": "dns_nxdomain_error", "addrs": []}
        assert c["tcp_connect"]["127.0.0.1:9"]["failure"] == "connection_refused"
        assert c["http_request"]["failure"] == "dns_nxdomain_error"
        assert c["http_request"]["status_code"] == -1


def test_refuses_bogons_without_lab(net):
    port = net["http"].port
    with ControlServer(ControlConfig(resolver=net["dns"].address)) as ctl:
        status, c = post(
            ctl.url, request(f"http://site.test:{port}/", [f"127.0.0.1:{port}", f"10.1.2.3:{port}"])
        )
    assert status == 200
    check_response(c)
    for v in c["tcp_connect"].values():
        assert v["status"] is False and "bogon" in v["failure"]
    assert "bogon" in c["http_request"]["failure"]
    assert c["http_request"]["status_code"] == -1
    assert c["ip_info"]["127.0.0.1"]["flags"] & 4  # marked bogon


def test_bogon_classification():
    """Loopback, private, link-local, shared, multicast and mapped addresses are all bogons."""
    from ashyq.probe.netpolicy import is_bogon

    for addr in (
        "127.0.0.1",
        "10.0.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "::1",
        "fe80::1",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "::ffff:127.0.0.1",
        "fc00::1",
    ):
        assert is_bogon(addr), addr
    for addr in ("93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "8.8.8.8"):
        assert not is_bogon(addr), addr


def test_limits(net):
    cfg = ControlConfig(resolver=net["dns"].address, lab=True, max_inflight=1, max_body=2048)
    port = net["http"].port
    with ControlServer(cfg) as ctl:
        # oversize and malformed requests
        status, body = post(ctl.url, b"{" + b" " * 4096 + b"}")
        assert status == 413 and "larger" in body["error"]
        status, body = post(ctl.url, b"not json")
        assert status == 400
        status, body = post(ctl.url, {"http_request": "file:///etc/passwd", "tcp_connect": []})
        assert status == 400 and "http" in body["error"]
        status, body = post(ctl.url, request("http://site.test/", ["localhost:80"]))
        assert status == 400 and "IP:PORT" in body["error"]
        # a second request while one is in flight gets 503
        results: list[int] = []
        slow = request(f"http://slow.test:{port}/", [f"127.0.0.1:{port}"])
        t = threading.Thread(target=lambda: results.append(post(ctl.url, slow)[0]))
        t.start()
        deadline = time.monotonic() + 5
        while not net["http"].requests.count(("slow.test", "/")) and time.monotonic() < deadline:
            time.sleep(0.02)
        status, body = post(ctl.url, request(f"http://site.test:{port}/", []))
        t.join(20)
        assert status == 503 and "retry" in body["error"]
        assert results == [200]
        # and once it is done, requests are served again
        status, _ = post(ctl.url, request(f"http://site.test:{port}/", []))
        assert status == 200


def test_cli_serve_subprocess(net):
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ashyq",
            "control",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--lab",
            "--resolver",
            net["dns"].address_str,
            "--max-inflight",
            "4",
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stderr.readline()
        m = re.search(r"listening on (http://127\.0\.0\.1:\d+/)", line)
        assert m, line
        port = net["http"].port
        status, c = post(m.group(1), request(f"http://site.test:{port}/", [f"127.0.0.1:{port}"]))
        assert status == 200 and c["http_request"]["title"] == "Site"
        # and the probe, as its own process, against this control
        probe = subprocess.run(
            [
                sys.executable,
                "-m",
                "ashyq",
                "probe",
                f"http://site.test:{port}/",
                "--control",
                m.group(1),
                "--resolver",
                net["dns"].address_str,
                "--no-system-resolver",
                "--cc",
                "KZ",
                "--asn",
                "AS9198",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert probe.returncode == 0, probe.stderr
        (line,) = probe.stdout.splitlines()
        measurement = json.loads(line)
        assert measurement["probe_ip"] == "127.0.0.1"
        assert measurement["test_keys"]["control_failure"] is None
        check_response(measurement["test_keys"]["control"])
        assert measurement["test_keys"]["control"]["http_request"]["title"] == "Site"
    finally:
        proc.terminate()
        proc.wait(10)


def test_cli_serve_bad_listen(capsys):
    from ashyq.cli import main

    with pytest.raises(SystemExit):
        main(["control", "serve", "--listen", "nonsense:port"])
    assert "HOST:PORT" in capsys.readouterr().err


def test_request_time_bound(net):
    """A site slower than the request's time bound: the answer comes anyway, with a timeout."""
    cfg = ControlConfig(resolver=net["dns"].address, lab=True, request_timeout=0.4)
    port = net["http"].port
    with ControlServer(cfg) as ctl:
        t = time.monotonic()
        status, c = post(ctl.url, request(f"http://slow.test:{port}/", [f"127.0.0.1:{port}"]))
        elapsed = time.monotonic() - t
    assert status == 200 and elapsed < 5
    check_response(c)
    assert c["tcp_connect"][f"127.0.0.1:{port}"]["status"] is True
    assert c["http_request"]["failure"] == "generic_timeout_error"


def test_request_body_in_pieces(net):
    """A request sent in several TCP segments (chunked) is read whole."""
    import http.client

    port = net["http"].port
    body = json.dumps(request(f"http://site.test:{port}/", [f"127.0.0.1:{port}"]))
    body = body[:-1] + ', "padding": "' + "x" * 6000 + '"}'
    with ControlServer(ControlConfig(resolver=net["dns"].address, lab=True)) as ctl:
        conn = http.client.HTTPConnection("127.0.0.1", ctl.port, timeout=20)
        conn.putrequest("POST", "/")
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        for i in range(0, len(body), 1000):
            piece = body[i : i + 1000].encode()
            conn.send(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            time.sleep(0.01)
        conn.send(b"0\r\n\r\n")
        resp = conn.getresponse()
        answer = json.loads(resp.read())
    assert resp.status == 200, answer
    assert answer["http_request"]["title"] == "Site"


def test_hostile_requests_and_sites_get_answers_not_crashes(net):
    dns = DNSServer({"odd.test": ["127.0.0.1"]})
    site = SiteServer({"odd.test": Page(redirect="/a b")})  # a raw space in Location
    with dns, site:
        cfg = ControlConfig(resolver=dns.address, lab=True, max_body=1 << 20)
        with ControlServer(cfg) as ctl:
            status, body = post(ctl.url, b"[" * 30000)
            assert status == 400 and "JSON" in body["error"]
            url = f"http://odd.test:{site.port}/"
            status, body = post(ctl.url, request(url, [f"127.0.0.1:{site.port}"]))
            assert status == 200
            check_response(body)
            assert body["http_request"]["failure"].startswith("unknown_failure")
