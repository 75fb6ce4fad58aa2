"""Each failure produced for real on loopback and recorded in OONI's format, via the CLI."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from ooni_schema import check_measurement

from ashyq.cli import main


def _by_input(path: Path) -> dict[str, dict[str, Any]]:
    out = {}
    for line in path.read_text().splitlines():
        m = json.loads(line)
        out[m["input"]] = m
    return out


@pytest.fixture(scope="module")
def run(lab, tmp_path_factory) -> dict[str, Any]:
    """One probe run over every case (concurrently, as a list would run)."""
    h, s = lab.http.port, lab.https.port
    urls = {
        "ok": f"http://ok.test:{h}/",
        "ok_tls": f"https://ok.test:{s}/",
        "redirect": f"http://redir.test:{h}/",
        "loop": f"http://loop.test:{h}/",
        "reset": f"http://rst.test:{h}/",
        "reset_tls": f"https://rst.test:{s}/",
        "nxdomain": "http://nx.test/",
        "refused": f"http://ok.test:{lab.closed_port}/",
        "silent_http": f"http://ok.test:{lab.silent.port}/",
        "silent_tls": f"https://ok.test:{lab.silent.port}/",
        "hello_reset": f"https://ok.test:{lab.hello_reset.port}/",
        "http_hello_reset": f"http://ok.test:{lab.hello_reset.port}/",
        "accept_reset": f"http://ok.test:{lab.accept_reset.port}/",
        "unknown_ca": f"https://ok.test:{lab.evil.port}/",
        "wrong_host": f"https://wrong.test:{s}/",
        "big": f"http://big.test:{h}/",
        "ip_literal": f"http://127.0.0.1:{h}/",
        "dual": f"http://dual.test:{h}/",
        "dns_timeout": "http://hole.test/",
    }
    out = tmp_path_factory.mktemp("probe") / "m.jsonl"
    args = ["probe", *urls.values(), "--output", str(out), "--control", lab.control.url]
    assert main(args + lab.base_args() + ["--region", "Almaty"]) == 0
    got = _by_input(out)
    assert set(got) == set(urls.values())
    return {name: got[url] for name, url in urls.items()}


def tk(m: dict[str, Any]) -> dict[str, Any]:
    return m["test_keys"]


def test_every_measurement_has_ooni_fields(run):
    for name, m in run.items():
        try:
            check_measurement(m)
        except AssertionError as exc:
            raise AssertionError(f"{name}: {exc}") from None
        assert m["probe_cc"] == "KZ" and m["probe_asn"] == "AS9198"
        assert m["probe_network_name"] == "Test Net"
        assert m["annotations"]["region"] == "Almaty"
    report_ids = {m["report_id"] for m in run.values()}
    assert len(report_ids) == 1 and "_webconnectivity_KZ_9198_" in report_ids.pop()


def test_success_http(run, lab):
    k = tk(run["ok"])
    assert k["dns_experiment_failure"] is None and k["http_experiment_failure"] is None
    assert {q["query_type"] for q in k["queries"]} == {"A", "AAAA"}
    assert k["queries"][0]["engine"] == "udp"
    a = next(q for q in k["queries"] if q["query_type"] == "A")
    assert a["answers"][0]["ipv4"] == "127.0.0.1"
    req = k["requests"][0]
    assert req["response"]["code"] == 200
    assert req["response"]["x_title"] == "OK Test Site"
    assert "OK Test Site" in req["response"]["body"]
    assert req["request"]["headers"]["Host"] == f"ok.test:{lab.http.port}"
    tp = k["throughput"]
    assert tp["bytes"] == req["response"]["x_body_length"] > 0
    assert tp["kbit_s"] > 0 and tp["samples"][-1]["bytes"] == tp["bytes"]
    # the control reached the same site and says so
    ctrl = k["control"]
    assert ctrl["http_request"]["status_code"] == 200
    assert ctrl["http_request"]["title"] == "OK Test Site"
    assert ctrl["http_request"]["download_kbit_s"] > 0
    assert ctrl["dns"]["addrs"] == ["127.0.0.1"]
    assert k["control_failure"] is None
    ops = {e["operation"] for e in k["network_events"]}
    assert {"connect", "write", "read", "http_transaction_done"} <= ops


def test_success_https_records_chain(run):
    k = tk(run["ok_tls"])
    assert k["http_experiment_failure"] is None
    hs = k["tls_handshakes"][0]
    assert hs["failure"] is None and hs["server_name"] == "ok.test"
    assert hs["tls_version"].startswith("TLSv1.")
    assert hs["t"] >= hs["t0"] and hs["x_handshake_ms"] >= 0
    assert len(hs["peer_certificates"]) == 2  # leaf + CA
    leaf = x509.load_der_x509_certificate(base64.b64decode(hs["peer_certificates"][0]["data"]))
    assert "ok.test" in leaf.subject.rfc4514_string()
    assert hs["x_certificates"][0]["issuer"].endswith("CN=ashyq test CA") or (
        "ashyq test CA" in hs["x_certificates"][0]["issuer"]
    )
    assert len(hs["x_certificates"][0]["sha256"]) == 64
    assert k["control"]["tls_handshake"]
    assert all(v["status"] for v in k["control"]["tls_handshake"].values())


def test_nxdomain(run):
    k = tk(run["nxdomain"])
    assert k["dns_experiment_failure"] == "dns_nxdomain_error"
    assert all(q["failure"] == "dns_nxdomain_error" for q in k["queries"])
    assert k["tcp_connect"] == [] and k["requests"] == []
    assert k["control"]["dns"]["failure"] == "dns_nxdomain_error"


def test_connection_refused(run):
    k = tk(run["refused"])
    assert k["tcp_connect"][0]["status"] == {"failure": "connection_refused", "success": False}
    assert k["http_experiment_failure"] == "connection_refused"
    assert k["control"]["tcp_connect"]
    assert all(v["failure"] == "connection_refused" for v in k["control"]["tcp_connect"].values())


def test_connection_reset_http_and_tls(run):
    assert tk(run["reset"])["http_experiment_failure"] == "connection_reset"
    assert tk(run["reset"])["requests"][0]["failure"] == "connection_reset"
    assert tk(run["reset_tls"])["http_experiment_failure"] == "connection_reset"
    k = tk(run["hello_reset"])
    assert {h["failure"] for h in k["tls_handshakes"]} == {"connection_reset"}
    # RST after the GET, and RST right at accept (before or while the GET is written)
    assert tk(run["http_hello_reset"])["http_experiment_failure"] == "connection_reset"
    k = tk(run["accept_reset"])
    assert k["http_experiment_failure"] in ("connection_reset", "eof_error")
    # seen at connect or on the GET, depending on how fast the RST arrives
    seen = [e["status"]["failure"] for e in k["tcp_connect"]] + [
        r["failure"] for r in k["requests"]
    ]
    assert k["http_experiment_failure"] in seen


def test_silent_listener_times_out(run):
    k = tk(run["silent_http"])
    assert k["tcp_connect"][0]["status"]["success"] is True
    assert k["http_experiment_failure"] == "generic_timeout_error"
    k = tk(run["silent_tls"])
    assert {h["failure"] for h in k["tls_handshakes"]} == {"generic_timeout_error"}


def test_unknown_authority_chain_is_visible(run):
    k = tk(run["unknown_ca"])
    hs = k["tls_handshakes"][0]
    assert hs["failure"] == "ssl_unknown_authority"
    assert k["http_experiment_failure"] == "ssl_unknown_authority"
    # the interception CA's certificate is in the data although verification failed
    issuers = [c["issuer"] for c in hs["x_certificates"]]
    assert any("Qaznet Trust Network" in i for i in issuers)
    assert len(hs["peer_certificates"]) == 2


def test_wrong_host_name(run):
    k = tk(run["wrong_host"])
    assert {h["failure"] for h in k["tls_handshakes"]} == {"ssl_invalid_hostname"}
    assert k["http_experiment_failure"] == "ssl_invalid_hostname"


def test_redirect_followed_and_each_hop_measured(run, lab):
    k = tk(run["redirect"])
    assert k["http_experiment_failure"] is None
    reqs = k["requests"]  # OONI order: last hop first
    assert [r["response"]["code"] for r in reqs] == [200, 302]
    assert reqs[0]["request"]["url"] == f"http://ok.test:{lab.http.port}/landing"
    assert "depth=1" in reqs[0]["tags"]
    assert k["throughput"]["url"].endswith("/landing")


def test_redirect_loop_stops_after_ten(run):
    k = tk(run["loop"])
    assert k["http_experiment_failure"] == "unknown_failure: stopped after 10 redirects"
    assert len(k["requests"]) == 11
    assert k["control"]["http_request"]["failure"] == k["http_experiment_failure"]


def test_body_is_capped(run):
    r = tk(run["big"])["requests"][0]["response"]
    assert r["body_is_truncated"] is True
    assert r["x_body_length"] == 512 * 1024
    assert len(r["x_body_sha256"]) == 64


def test_ip_literal_skips_dns(run):
    k = tk(run["ip_literal"])
    assert k["queries"] == []
    assert k["requests"][0]["response"]["code"] == 404  # no site for that Host


def test_probe_ip_never_written(run):
    for m in run.values():
        assert m["probe_ip"] == "127.0.0.1"
        # every address in the data is a server's endpoint, never a local (client) one
        for ev in tk(m)["network_events"]:
            if ev["address"]:
                port = int(ev["address"].rsplit(":", 1)[1])
                assert port < 32768 or port in _server_ports(m), ev


def _server_ports(m: dict[str, Any]) -> set[int]:
    ports = {e["port"] for e in tk(m)["tcp_connect"]}
    ports |= {int(q["resolver_address"].rsplit(":", 1)[1]) for q in tk(m)["queries"]}
    return ports


def test_ipv4_and_ipv6_addresses_are_all_measured(run, lab):
    k = tk(run["dual"])
    a = next(q for q in k["queries"] if q["query_type"] == "AAAA")
    assert a["answers"][0] == {**a["answers"][0], "answer_type": "AAAA", "ipv6": "::1"}
    port = lab.http.port
    probe_eps = {(e["ip"], e["port"]): e["status"]["success"] for e in k["tcp_connect"]}
    assert probe_eps[("127.0.0.1", port)] and probe_eps[("::1", port)]
    assert set(k["x_control_request"]["tcp_connect"]) == {f"127.0.0.1:{port}", f"[::1]:{port}"}
    assert k["control"]["tcp_connect"][f"[::1]:{port}"]["status"] is True
    assert k["requests"][0]["response"]["x_title"] == "Dual stack"


def test_schema_check_accepts_ooni_own_measurement_and_rejects_broken(shared_dir, run):
    """The field check passes OONI's example (ts-017) and fails on a wrong type or name."""
    example = json.loads(
        (
            shared_dir
            / "research/ooni/th_protocol/web_connectivity_v0.5.28_example_measurement.json"
        ).read_text()
    )
    check_measurement(example)
    ours = json.loads(json.dumps(run["ok"]))
    ours["test_keys"]["tcp_connect"][0]["port"] = "80"
    with pytest.raises(AssertionError, match="port"):
        check_measurement(ours)
    ours = json.loads(json.dumps(run["ok"]))
    ours["test_keys"]["requests"][0]["response"]["status_code"] = ours["test_keys"]["requests"][0][
        "response"
    ].pop("code")
    with pytest.raises(AssertionError, match="code"):
        check_measurement(ours)


def test_dns_timeout(run):
    k = tk(run["dns_timeout"])
    assert {q["failure"] for q in k["queries"]} == {"generic_timeout_error"}
    assert k["dns_experiment_failure"] == "generic_timeout_error"
    assert k["tcp_connect"] == [] and k["requests"] == []
    assert k["control"]["dns"]["failure"] == "generic_timeout_error"
