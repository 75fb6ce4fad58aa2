"""The test/lab servers themselves, including their ``python -m`` entries."""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import sys
import time

import dns.message
import dns.query
import dns.rcode
import pytest

from ashyq.servers.ca import CertAuthority
from ashyq.servers.dns import DNSServer
from ashyq.servers.site import Page, SiteServer


def _q(server_addr, name, qtype="A", timeout=2.0):
    host, port = server_addr
    return dns.query.udp(dns.message.make_query(name, qtype), host, port=port, timeout=timeout)


def test_dns_zone_lies_and_silence():
    zone = {
        "a.kz": ["127.0.0.1", "::1"],
        "w.a.kz": "CNAME:a.kz",
        "gone.kz": "NXDOMAIN",
        "*.cdn.kz": ["127.0.0.9"],
    }
    with DNSServer(zone, lie={"vlast.kz": "10.10.34.35"}, silent=["hole.kz"]) as srv:
        r = _q(srv.address, "a.kz", "AAAA")
        assert [rr.to_text() for rr in r.answer[0]] == ["::1"]
        r = _q(srv.address, "W.A.KZ.")
        assert [rrset.rdtype for rrset in r.answer] == [5, 1]  # CNAME then A
        assert dns.rcode.to_text(_q(srv.address, "gone.kz").rcode()) == "NXDOMAIN"
        assert _q(srv.address, "x.cdn.kz").answer[0][0].to_text() == "127.0.0.9"
        assert _q(srv.address, "vlast.kz").answer[0][0].to_text() == "10.10.34.35"
        with pytest.raises(dns.exception.Timeout):
            _q(srv.address, "hole.kz", timeout=0.3)
        assert ("hole.kz", "A") in srv.queries


def test_dns_upstream_forwarding():
    with (
        DNSServer({"a.kz": ["127.0.0.1"]}) as auth,
        DNSServer({}, upstream=auth.address, lie={"blocked.kz": "127.0.0.2"}) as isp,
    ):
        assert _q(isp.address, "a.kz").answer[0][0].to_text() == "127.0.0.1"
        assert _q(isp.address, "blocked.kz").answer[0][0].to_text() == "127.0.0.2"


def test_ca_issues_verifiable_certs(tmp_path):
    ca = CertAuthority.create("Qaznet Trust Network")
    ca_pem = ca.write(tmp_path)
    assert CertAuthority.load(tmp_path).name == "Qaznet Trust Network"
    with SiteServer({"a.kz": Page(title="A"), "b.kz": Page(title="B")}, ca=ca) as site:
        ctx = ssl.create_default_context(cafile=str(ca_pem))
        for name in ("a.kz", "b.kz"):  # SNI picks the right certificate
            with (
                socket.create_connection(site.address) as raw,
                ctx.wrap_socket(raw, server_hostname=name) as s,
            ):
                assert s.getpeercert()["subject"] == ((("commonName", name),),)


def test_site_behaviours():
    with SiteServer(
        {
            "r.kz": Page(behaviour="reset"),
            "c.kz": Page(behaviour="close"),
            "slow.kz": Page(delay=0.3, size=1000),
        }
    ) as site:

        def get(host: str) -> bytes:
            with socket.create_connection(site.address, timeout=5) as s:
                s.sendall(f"GET / HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
                chunks = []
                while data := s.recv(65536):
                    chunks.append(data)
                return b"".join(chunks)

        with pytest.raises(ConnectionResetError):
            get("r.kz")
        assert get("c.kz") == b""
        t = time.monotonic()
        resp = get("slow.kz")
        assert time.monotonic() - t >= 0.25
        assert resp.split(b"\r\n\r\n", 1)[1].__len__() == 1000
        assert b"404" in get("unknown.kz").split(b"\r\n")[0]


def test_module_entries(tmp_path):
    """`python -m ashyq.servers.<x>` runs each server in the foreground (as in a namespace)."""
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "ashyq.servers.ca",
            "--out",
            str(tmp_path),
            "--name",
            "Lab CA",
            "--host",
            "vlast.kz,www.vlast.kz",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert (tmp_path / "vlast.kz.pem").exists() and "ca.pem" in out.stdout
    (tmp_path / "zone.json").write_text(json.dumps({"vlast.kz": ["127.0.0.1"]}))
    (tmp_path / "site.json").write_text(
        json.dumps(
            {
                "listen": "127.0.0.1:0",
                "tls": {"vlast.kz": ["vlast.kz.pem", "vlast.kz-key.pem"]},
                "sites": {"vlast.kz": {"title": "Vlast"}},
            }
        )
    )
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ashyq.servers.dns",
                "--listen",
                "127.0.0.1:0",
                "--zone",
                str(tmp_path / "zone.json"),
            ],
            stdout=subprocess.PIPE,
            text=True,
        ),
        subprocess.Popen(
            [sys.executable, "-m", "ashyq.servers.site", "--config", str(tmp_path / "site.json")],
            stdout=subprocess.PIPE,
            text=True,
        ),
    ]
    try:
        dns_line = procs[0].stdout.readline()
        site_line = procs[1].stdout.readline()
        dns_port = int(dns_line.rsplit(":", 1)[1])
        site_port = int(site_line.rsplit(":", 1)[1])
        assert _q(("127.0.0.1", dns_port), "vlast.kz").answer[0][0].to_text() == "127.0.0.1"
        ctx = ssl.create_default_context(cafile=str(tmp_path / "ca.pem"))
        with (
            socket.create_connection(("127.0.0.1", site_port)) as raw,
            ctx.wrap_socket(raw, server_hostname="www.vlast.kz") as s,
        ):
            s.sendall(b"GET / HTTP/1.1\r\nHost: vlast.kz\r\n\r\n")
            assert b"<title>Vlast</title>" in s.recv(65536) + s.recv(65536)
    finally:
        for p in procs:
            p.terminate()
            p.wait(10)


def test_dns_answers_follow_changes_while_running():
    """Answers are cached per question; every change to the configuration is seen at once."""
    with DNSServer({"a.kz": ["127.0.0.1"]}) as srv:
        for _ in range(2):  # the second answer comes from the cache
            assert _q(srv.address, "a.kz").answer[0][0].to_text() == "127.0.0.1"
        srv.set_zone("a.kz", ["127.0.0.2"])
        assert _q(srv.address, "a.kz").answer[0][0].to_text() == "127.0.0.2"
        srv.zone["a.kz"] = "NXDOMAIN"
        assert dns.rcode.to_text(_q(srv.address, "a.kz").rcode()) == "NXDOMAIN"
        srv.lie_all = "127.0.0.9"
        assert _q(srv.address, "a.kz").answer[0][0].to_text() == "127.0.0.9"
        srv.lie_all = None
        srv.silent.add("a.kz")
        with pytest.raises(dns.exception.Timeout):
            _q(srv.address, "a.kz", timeout=0.3)
        srv.silent.discard("a.kz")
        srv.zone = {"a.kz": ["127.0.0.3"]}
        assert _q(srv.address, "a.kz").answer[0][0].to_text() == "127.0.0.3"
        assert srv.queries.count(("a.kz", "A")) == 7  # cached answers are logged too
