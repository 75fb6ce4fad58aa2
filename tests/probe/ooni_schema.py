"""A small check of OONI field names and types (df-000-base, ts-017-web-connectivity v0.5)."""

from __future__ import annotations

import re
from typing import Any

NUM = (int, float)
OPT_STR = (str, type(None))
TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")

TOP = {
    "annotations": dict,
    "data_format_version": str,
    "input": str,
    "measurement_start_time": str,
    "probe_asn": str,
    "probe_cc": str,
    "probe_ip": str,
    "probe_network_name": str,
    "report_id": str,
    "software_name": str,
    "software_version": str,
    "test_keys": dict,
    "test_name": str,
    "test_runtime": NUM,
    "test_start_time": str,
    "test_version": str,
}
TEST_KEYS = {
    "queries": list,
    "tcp_connect": list,
    "tls_handshakes": list,
    "requests": list,
    "network_events": list,
    "control": dict,
    "control_failure": OPT_STR,
    "dns_experiment_failure": OPT_STR,
    "http_experiment_failure": OPT_STR,
}
QUERY = {
    "answers": (list, type(None)),
    "engine": str,
    "failure": OPT_STR,
    "hostname": str,
    "query_type": str,
    "resolver_address": str,
    "t0": NUM,
    "t": NUM,
}
ANSWER = {"answer_type": str}
TCP = {"ip": str, "port": int, "status": dict, "t0": NUM, "t": NUM}
TLS = {
    "address": str,
    "cipher_suite": str,
    "failure": OPT_STR,
    "negotiated_protocol": str,
    "no_tls_verify": bool,
    "peer_certificates": list,
    "server_name": str,
    "t0": NUM,
    "t": NUM,
    "tls_version": str,
}
REQUEST = {"failure": OPT_STR, "request": dict, "response": dict, "t0": NUM, "t": NUM}
REQ = {"headers": dict, "headers_list": list, "method": str, "url": str, "body": (str, dict)}
RESP = {"body": (str, dict), "body_is_truncated": bool, "code": int, "headers": dict}
EVENT = {"operation": str, "failure": OPT_STR, "t0": NUM, "t": NUM}
CONTROL = {
    "tcp_connect": dict,
    "tls_handshake": dict,
    "http_request": dict,
    "dns": dict,
    "ip_info": dict,
}
CONTROL_HTTP = {
    "body_length": int,
    "failure": OPT_STR,
    "title": str,
    "headers": dict,
    "status_code": int,
}
FAILURE = re.compile(r"^[a-z0-9_]+(: .+)?$")


def _fields(obj: Any, spec: dict[str, Any], where: str) -> None:
    assert isinstance(obj, dict), f"{where}: not an object"
    for key, typ in spec.items():
        assert key in obj, f"{where}: missing {key}"
        assert isinstance(obj[key], typ), f"{where}.{key}: {type(obj[key]).__name__}"
    for key in ("failure",):
        if obj.get(key) is not None:
            assert FAILURE.match(obj[key]), f"{where}.failure not OONI-like: {obj[key]!r}"


def check_control_response(c: dict[str, Any], where: str = "control") -> None:
    _fields(c, CONTROL, where)
    _fields(c["http_request"], CONTROL_HTTP, where + ".http_request")
    dl = c["http_request"].get("download_kbit_s")
    assert dl is None or isinstance(dl, NUM)
    assert isinstance(c["dns"].get("addrs"), list)
    assert "failure" in c["dns"]
    for key, v in c["tcp_connect"].items():
        assert ":" in key
        assert isinstance(v["status"], bool) and "failure" in v, key
    for key, v in c["tls_handshake"].items():
        assert isinstance(v["status"], bool) and isinstance(v["server_name"], str), key
    for ip, v in c["ip_info"].items():
        assert isinstance(v["asn"], int) and isinstance(v["flags"], int), ip


def check_measurement(m: dict[str, Any]) -> None:
    """Assert that ``m`` has OONI's field names and types; raise AssertionError if not."""
    _fields(m, TOP, "measurement")
    assert m["probe_ip"] == "127.0.0.1"
    assert m.get("resolver_ip") is None or isinstance(m["resolver_ip"], str)
    assert m.get("resolver_asn") is None or re.match(r"^AS\d+$", m["resolver_asn"])
    assert m["test_name"] == "web_connectivity"
    assert TIME.match(m["measurement_start_time"]) and TIME.match(m["test_start_time"])
    assert re.match(r"^AS\d+$", m["probe_asn"]) and re.match(r"^[A-Z]{2}$", m["probe_cc"])
    tk = m["test_keys"]
    _fields(tk, TEST_KEYS, "test_keys")
    for i, q in enumerate(tk["queries"]):
        _fields(q, QUERY, f"queries[{i}]")
        for a in q["answers"] or []:
            _fields(a, ANSWER, f"queries[{i}].answers")
            if a["answer_type"] == "A":
                assert isinstance(a["ipv4"], str)
            if a["answer_type"] == "AAAA":
                assert isinstance(a["ipv6"], str)
    for i, e in enumerate(tk["tcp_connect"]):
        _fields(e, TCP, f"tcp_connect[{i}]")
        assert isinstance(e["status"]["success"], bool)
        assert e["status"]["failure"] is None or isinstance(e["status"]["failure"], str)
        assert e["status"]["success"] == (e["status"]["failure"] is None)
    for i, h in enumerate(tk["tls_handshakes"]):
        _fields(h, TLS, f"tls_handshakes[{i}]")
        for c in h["peer_certificates"]:
            assert c["format"] == "base64" and isinstance(c["data"], str)
    for i, r in enumerate(tk["requests"]):
        _fields(r, REQUEST, f"requests[{i}]")
        _fields(r["request"], REQ, f"requests[{i}].request")
        _fields(r["response"], RESP, f"requests[{i}].response")
        for pair in r["request"]["headers_list"]:
            assert isinstance(pair, list) and len(pair) == 2
    for i, ev in enumerate(tk["network_events"]):
        _fields(ev, EVENT, f"network_events[{i}]")
    if tk["control"]:
        check_control_response(tk["control"], "test_keys.control")
    tp = tk.get("throughput")
    if tp is not None:
        assert isinstance(tp["url"], str) and isinstance(tp["bytes"], int)
        assert isinstance(tp["seconds"], NUM) and isinstance(tp["kbit_s"], NUM)
        for s in tp["samples"]:
            assert isinstance(s["t"], NUM) and isinstance(s["bytes"], int)
