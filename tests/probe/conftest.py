"""Real servers on loopback for the probe tests: DNS, HTTP, HTTPS (test CA), the control."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ashyq.control.measure import ControlConfig
from ashyq.control.server import ControlServer
from ashyq.servers.ca import CertAuthority
from ashyq.servers.dns import DNSServer
from ashyq.servers.site import Page, SiteServer

HOSTS = [
    "ok.test",
    "redir.test",
    "loop.test",
    "rst.test",
    "wrong.test",
    "big.test",
    "slow.test",
    "slowloop.test",
]


@dataclass
class Lab:
    ca_file: Path
    dns: DNSServer
    http: SiteServer
    https: SiteServer
    evil: SiteServer  # HTTPS with a certificate from an unknown (interception) CA
    silent: SiteServer  # accepts connections, never answers
    hello_reset: SiteServer  # reads the first bytes (ClientHello), then RST
    accept_reset: SiteServer  # RST as soon as the connection is accepted
    control: ControlServer
    closed_port: int

    def base_args(self) -> list[str]:
        return [
            "--resolver",
            self.dns.address_str,
            "--no-system-resolver",
            "--ca-file",
            str(self.ca_file),
            "--cc",
            "KZ",
            "--asn",
            "AS9198",
            "--network-name",
            "Test Net",
            "--timeout",
            "1.5",
            "--url-timeout",
            "20",
        ]


def _free_port() -> int:
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    d = tmp_path_factory.mktemp("ca")
    ca = CertAuthority.create("ashyq test CA")
    ca_file = ca.write(d)
    evil_ca = CertAuthority.create("Qaznet Trust Network")
    servers: list = []
    dns = DNSServer(
        {h: ["127.0.0.1"] for h in HOSTS}
        | {"nx.test": "NXDOMAIN", "dual.test": ["127.0.0.1", "::1"], "hole.test": "SILENT"}
    )
    dns.start()
    servers.append(dns)
    http = SiteServer(
        {
            "ok.test": Page(title="OK Test Site"),
            "rst.test": Page(behaviour="reset"),
            "loop.test": Page(behaviour="redirect_loop"),
            "big.test": Page(title="Big", size=700 * 1024),
            "slow.test": Page(title="Slow", delay=0.4),
            "slowloop.test": Page(behaviour="redirect_loop", delay=0.3),
            "dual.test": Page(title="Dual stack"),
        }
    )
    http.start()
    servers.append(http)
    http.sites["redir.test"] = Page(redirect=f"http://ok.test:{http.port}/landing")
    # the same sites on IPv6 loopback, same port: dual.test has an A and an AAAA record
    v6 = SiteServer(http.sites, host="::1", port=http.port)
    v6.start()
    servers.append(v6)
    https = SiteServer(
        {"ok.test": Page(title="OK Test Site"), "rst.test": Page(behaviour="reset")}, ca=ca
    )
    https.start()
    servers.append(https)
    evil = SiteServer({"ok.test": Page(title="Intercepted")}, ca=evil_ca)
    evil.start()
    servers.append(evil)
    silent = SiteServer({}, behaviour="silent")
    silent.start()
    servers.append(silent)
    hello_reset = SiteServer({}, behaviour="reset_after_hello")
    hello_reset.start()
    servers.append(hello_reset)
    accept_reset = SiteServer({}, behaviour="reset")
    accept_reset.start()
    servers.append(accept_reset)
    control = ControlServer(
        ControlConfig(resolver=dns.address, lab=True, ca_file=str(ca_file), step_timeout=1.5)
    )
    control.start()
    servers.append(control)
    try:
        yield Lab(
            ca_file,
            dns,
            http,
            https,
            evil,
            silent,
            hello_reset,
            accept_reset,
            control,
            _free_port(),
        )
    finally:
        for s in reversed(servers):
            s.stop()
