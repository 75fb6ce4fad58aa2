"""Measurements made by ashyq's probe on loopback (real DNS, HTTP and control servers), judged.

The probe's resolver censors; the control's resolver does not: so DNS censorship is real here,
while the sites, reached by both, behave the same for both (outages, not censorship).
"""

from __future__ import annotations

import json
import socket

import pytest

from ashyq.cli import main

servers = pytest.importorskip("ashyq.servers.dns")
site_mod = pytest.importorskip("ashyq.servers.site")
control_mod = pytest.importorskip("ashyq.control.server")
measure_mod = pytest.importorskip("ashyq.control.measure")


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture(scope="module")
def judged(tmp_path_factory):
    censor = servers.DNSServer(
        {
            "ok.test": ["127.0.0.1"],
            "vlast.test": "NXDOMAIN",
            "azattyq.test": ["10.10.34.35"],
            "down.test": ["127.0.0.1"],
            "gone.test": "NXDOMAIN",
        }
    )
    honest = servers.DNSServer(
        {
            "ok.test": ["127.0.0.1"],
            "vlast.test": ["127.0.0.1"],
            "azattyq.test": ["127.0.0.1"],
            "down.test": ["127.0.0.1"],
            "gone.test": "NXDOMAIN",
        }
    )
    http = site_mod.SiteServer(
        {
            "ok.test": site_mod.Page(title="OK Test Site"),
            "vlast.test": site_mod.Page(title="Vlast"),
            "azattyq.test": site_mod.Page(title="Azattyq"),
        }
    )
    started = []
    try:
        for s in (censor, honest, http):
            s.start()
            started.append(s)
        control = control_mod.ControlServer(
            measure_mod.ControlConfig(resolver=honest.address, lab=True, step_timeout=1.5)
        )
        control.start()
        started.append(control)
        p = http.port
        urls = {
            "ok": f"http://ok.test:{p}/",
            "nxdomain": f"http://vlast.test:{p}/",
            "bogon": f"http://azattyq.test:{p}/",
            "down": f"http://down.test:{_free_port()}/",
            "gone": f"http://gone.test:{p}/",
        }
        out = tmp_path_factory.mktemp("loop") / "m.jsonl"
        args = ["probe", *urls.values(), "--output", str(out), "--control", control.url]
        args += ["--resolver", censor.address_str, "--no-system-resolver", "--cc", "KZ"]
        args += ["--asn", "AS9198", "--timeout", "1.0", "--url-timeout", "20"]
        args += ["--region", "Almaty"]
        assert main(args) == 0
        verdicts = tmp_path_factory.mktemp("loop") / "v.jsonl"
        assert main(["analyze", str(out), "--format", "jsonl", "-o", str(verdicts)]) == 0
        by_input = {}
        for line in verdicts.read_text().splitlines():
            v = json.loads(line)
            by_input[v["input"]] = v
        return {k: by_input[u] for k, u in urls.items()}
    finally:
        for s in reversed(started):
            s.stop()


def test_loopback_ok(judged):
    v = judged["ok"]
    assert (v["status"], v["method"], v["region"]) == ("ok", None, "Almaty")


def test_loopback_nxdomain(judged):
    v = judged["nxdomain"]
    assert (v["status"], v["method"], v["ooni_blocking"]) == ("blocked", "dns.nxdomain", "dns")


def test_loopback_bogon(judged):
    v = judged["bogon"]
    assert (v["status"], v["method"]) == ("blocked", "dns.bogon")
    assert any("10.10.34.35, a bogon" in e for e in v["evidence"])


def test_loopback_outages_are_down(judged):
    assert judged["down"]["status"] == "down"
    assert (judged["gone"]["status"], judged["gone"]["method"]) == ("down", "dns.nxdomain")
