"""Synthetic web_connectivity measurements following ooni/spec ts-017 (v0.5 shape)."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

SITE_IP = "93.184.216.34"
SITE_ASN = 15133
PAGE = (
    "<!doctype html><html><head><title>Vlast news</title></head><body>"
    + "<p>news of the day</p>" * 60
    + "</body></html>"
)


def query(
    host: str,
    addrs: list[str],
    *,
    asn: int | None = None,
    failure: str | None = None,
    engine: str = "getaddrinfo",
) -> dict[str, Any]:
    return {
        "answers": None
        if failure
        else [
            {"answer_type": "A", "ipv4": a, "asn": asn, "as_org_name": "", "ttl": None}
            for a in addrs
        ],
        "engine": engine,
        "failure": failure,
        "hostname": host,
        "query_type": "ANY" if engine == "getaddrinfo" else "A",
        "resolver_address": "",
        "t": 0.01,
    }


def make_wc(
    url: str = "https://vlast.kz/",
    *,
    probe_addrs: list[str] | None = None,
    probe_asn: int | None = SITE_ASN,
    dns_failure: str | None = None,
    control_addrs: list[str] | None = None,
    control_dns_failure: str | None = None,
    tcp_failure: str | None = None,
    control_tcp_ok: bool = True,
    tls_failure: str | None = None,
    tls_seconds: float = 0.05,
    certs: list[dict[str, str]] | None = None,
    control_tls_ok: bool = True,
    control_reaches_probe_addrs: bool = True,
    http_failure: str | None = None,
    status: int = 200,
    body: str | None = PAGE,
    headers: dict[str, str] | None = None,
    chain: list[str] | None = None,
    control: bool = True,
    control_failure: str | None = None,
    control_http_failure: str | None = None,
    control_body_length: int | None = None,
    control_title: str = "Vlast news",
    control_status: int = 200,
    throughput: dict[str, Any] | None = None,
    control_kbit_s: float | None = None,
    cc: str = "KZ",
    asn: str = "AS9198",
    region: str | None = "Almaty",
    start: str = "2026-11-20 07:00:00",
) -> dict[str, Any]:
    """A measurement where everything works, unless an argument says otherwise."""
    host = url.split("/")[2]
    https = url.startswith("https")
    port = 443 if https else 80
    addrs = [SITE_IP] if probe_addrs is None else probe_addrs
    caddrs = [SITE_IP] if control_addrs is None else control_addrs
    ep = [f"{a}:{port}" for a in addrs]
    tk: dict[str, Any] = {
        "queries": [query(host, addrs, asn=probe_asn, failure=dns_failure)],
        "tcp_connect": [],
        "tls_handshakes": [],
        "requests": [],
        "dns_experiment_failure": dns_failure,
    }
    if not dns_failure:
        for a in addrs:
            tk["tcp_connect"].append(
                {
                    "ip": a,
                    "port": port,
                    "t": 0.1,
                    "status": {"success": tcp_failure is None, "failure": tcp_failure},
                }
            )
        if tcp_failure is None and https:
            for e in ep:
                tk["tls_handshakes"].append(
                    {
                        "address": e,
                        "server_name": host,
                        "failure": tls_failure,
                        "no_tls_verify": False,
                        "peer_certificates": certs,
                        "t0": 0.2,
                        "t": 0.2 + tls_seconds,
                        "tls_version": "TLSv1.3",
                    }
                )
        if tcp_failure is None and (tls_failure is None or not https):
            resp = {
                "code": status,
                "body": body,
                "headers": headers
                if headers is not None
                else {"Content-Type": "text/html", "X-Site": "vlast"},
            }
            reqs = []
            for u in reversed(chain or [url]):
                reqs.append(
                    {
                        "failure": http_failure,
                        "request": {"url": u, "method": "GET"},
                        "response": resp if http_failure is None else {"code": 0},
                    }
                )
            if http_failure and status and http_failure == "generic_timeout_error":
                reqs[0]["response"] = {"code": status, "body": "", "headers": resp["headers"]}
            tk["requests"] = reqs
    if throughput is not None:
        tk["throughput"] = throughput
    if control:
        ctl_tested = caddrs + [a for a in addrs if control_reaches_probe_addrs and a not in caddrs]
        clen = control_body_length if control_body_length is not None else len(PAGE)
        tk["control"] = {
            "dns": {"failure": control_dns_failure, "addrs": [] if control_dns_failure else caddrs},
            "tcp_connect": {
                f"{a}:{port}": {
                    "status": control_tcp_ok,
                    "failure": None if control_tcp_ok else tcp_failure,
                }
                for a in ctl_tested
            },
            "tls_handshake": (
                {
                    f"{a}:{port}": {
                        "status": control_tls_ok,
                        "server_name": host,
                        "failure": None if control_tls_ok else tls_failure,
                    }
                    for a in ctl_tested
                }
                if https
                else {}
            ),
            "http_request": {
                "failure": control_http_failure,
                "status_code": -1 if control_http_failure else control_status,
                "body_length": -1 if control_http_failure else clen,
                "title": "" if control_http_failure else control_title,
                "headers": {}
                if control_http_failure
                else {"Content-Type": "text/html", "X-Site": "vlast"},
            },
            "ip_info": {a: {"asn": SITE_ASN, "flags": 11} for a in caddrs},
        }
        if control_kbit_s is not None:
            tk["control"]["http_request"]["download_kbit_s"] = control_kbit_s
    tk["control_failure"] = control_failure
    m = {
        "data_format_version": "0.2.0",
        "input": url,
        "measurement_start_time": start,
        "test_start_time": start,
        "probe_asn": asn,
        "probe_cc": cc,
        "probe_ip": "127.0.0.1",
        "probe_network_name": "JSC Kazakhtelecom",
        "report_id": "20261120T070000Z_webconnectivity_KZ_9198_n1_test",
        "software_name": "ashyq",
        "software_version": "0.1.0",
        "test_name": "web_connectivity",
        "test_version": "0.5.28",
        "test_keys": tk,
        "annotations": {"region": region} if region else {},
    }
    return m


def with_(m: dict[str, Any], **top: Any) -> dict[str, Any]:
    m = copy.deepcopy(m)
    m.update(top)
    return m


def cert_chain(issuer_cn: str, issuer_o: str, issuer_c: str, host: str) -> list[dict[str, str]]:
    """A leaf certificate for ``host`` signed by an issuer with the given name (DER, base64)."""
    import base64

    key = ec.generate_private_key(ec.SECP256R1())
    issuer = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, issuer_c),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, issuer_o),
            x509.NameAttribute(NameOID.COMMON_NAME, issuer_cn),
        ]
    )
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=75))
        .sign(key, hashes.SHA256())
    )
    der = cert.public_bytes(serialization.Encoding.DER)
    return [{"format": "base64", "data": base64.b64encode(der).decode()}]
