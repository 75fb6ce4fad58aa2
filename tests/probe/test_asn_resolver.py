"""IP-to-ASN table (--asn-db, $ASHYQ_ASN_DB) and resolver_ip, through the CLI and the control."""

from __future__ import annotations

import gzip
import ipaddress
import json
import random
from pathlib import Path

import pytest
from ooni_schema import check_measurement

from ashyq.cli import main
from ashyq.control.measure import ControlConfig
from ashyq.control.server import ControlServer
from ashyq.probe.asndb import AsnDB, AsnDBError, open_db
from ashyq.probe.webconnectivity import system_resolver_ip

TABLE = [
    ("1.0.0.0", "1.0.0.255", "13335", "US", "CLOUDFLARENET"),
    ("1.0.1.0", "1.0.3.255", "0", "None", "Not routed"),
    ("2.16.0.0", "2.16.255.255", "20940", "EU", "AKAMAI-ASN1"),
    ("95.56.0.0", "95.59.255.255", "9198", "KZ", "KAZTELECOM-AS"),
    ("127.0.0.0", "127.255.255.255", "64500", "ZZ", "LOOPBACK-TEST-NET"),
    ("2a00:1450::", "2a00:1450:ffff:ffff:ffff:ffff:ffff:ffff", "15169", "US", "GOOGLE"),
    ("::1", "::1", "64501", "ZZ", "LOOPBACK6-TEST-NET"),
]


def write_table(path: Path, rows: list[tuple[str, ...]], gz: bool = False) -> Path:
    text = "".join("\t".join(r) + "\n" for r in rows)
    if gz:
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


def test_lookups_at_range_edges(tmp_path):
    rows = list(TABLE)
    random.Random(1).shuffle(rows)  # the file need not be sorted
    db = AsnDB.load(write_table(tmp_path / "ip2asn-combined.tsv.gz", rows, gz=True))
    assert db.ranges == len(TABLE)
    assert db.asn("1.0.0.0") == 13335 and db.asn("1.0.0.255") == 13335
    assert db.org("1.0.0.7") == "CLOUDFLARENET"
    assert db.asn("1.0.2.1") == 0  # not routed
    assert db.asn("0.255.255.255") == 0 and db.asn("1.0.4.0") == 0  # between ranges
    assert db.asn("95.59.255.255") == 9198 and db.asn("95.60.0.0") == 0
    assert db.lookup("2a00:1450:4001::200e").name == "GOOGLE"
    assert db.asn("2a00:1451::") == 0
    assert db.asn("::ffff:95.56.1.1") == 9198  # IPv4-mapped IPv6
    assert db.asn("not an ip") == 0
    # every address of a random sample agrees with a linear scan of the table
    spans = [
        (int(ipaddress.ip_address(a)), int(ipaddress.ip_address(b)), int(n))
        for a, b, n, *_ in TABLE
    ]
    rng = random.Random(7)
    for _ in range(300):
        v = rng.randrange(
            int(ipaddress.ip_address("0.255.255.0")), int(ipaddress.ip_address("128.0.0.0"))
        )
        want = next((n for s, e, n in spans if s <= v <= e and n and v < 2**32), 0)
        assert db.asn(str(ipaddress.IPv4Address(v))) == want


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("1.0.0.0\t1.0.0.255\n", "want range_start"),
        ("1.0.0.0\tzzz\t13335\tUS\tX\n", "does not appear to be"),
        ("1.0.0.9\t1.0.0.1\t13335\tUS\tX\n", "bad range"),
        ("1.0.0.0\t::1\t13335\tUS\tX\n", "bad range"),
        ("# only a comment\n", "no IP ranges"),
    ],
)
def test_bad_table_is_a_clear_error(tmp_path, capsys, content, message):
    p = tmp_path / "bad.tsv"
    p.write_text(content)
    with pytest.raises(AsnDBError, match=message):
        AsnDB.load(p)
    assert main(["probe", "http://a.test/", "--asn-db", str(p)]) == 2
    err = capsys.readouterr().err
    assert "--asn-db" in err and message.split()[0] in err and "Traceback" not in err
    assert main(["control", "serve", "--listen", "127.0.0.1:0", "--asn-db", str(p)]) == 2
    assert "--asn-db" in capsys.readouterr().err


def test_missing_table_and_env(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("ASHYQ_ASN_DB", raising=False)
    assert open_db(None) is None
    assert main(["probe", "http://a.test/", "--asn-db", str(tmp_path / "nope.tsv")]) == 2
    assert "cannot read" in capsys.readouterr().err
    table = write_table(tmp_path / "t.tsv", TABLE)
    monkeypatch.setenv("ASHYQ_ASN_DB", str(table))
    db = open_db(None)
    assert db is not None and db.asn("95.57.0.1") == 9198


def _measure(lab, tmp_path: Path, *extra: str) -> dict:
    url = f"http://ok.test:{lab.http.port}/"
    out = tmp_path / f"o{len(list(tmp_path.glob('o*.jsonl')))}.jsonl"
    assert main(["probe", url, "-o", str(out), *lab.base_args(), *extra]) == 0
    (m,) = [json.loads(line) for line in out.read_text().splitlines()]
    check_measurement(m)
    return m


def test_probe_fills_answer_asns_and_resolver(lab, tmp_path, monkeypatch):
    monkeypatch.delenv("ASHYQ_ASN_DB", raising=False)
    plain = _measure(lab, tmp_path)
    answers = [a for q in plain["test_keys"]["queries"] for a in q["answers"] or []]
    assert answers and all(a["asn"] == 0 and a["as_org_name"] == "" for a in answers)
    assert plain["resolver_ip"] == lab.dns.address[0]  # the configured UDP resolver
    assert plain["resolver_asn"] is None

    table = write_table(tmp_path / "ip2asn.tsv", TABLE)
    m = _measure(lab, tmp_path, "--asn-db", str(table))
    answers = [a for q in m["test_keys"]["queries"] for a in q["answers"] or [] if "ipv4" in a]
    assert answers and {(a["asn"], a["as_org_name"]) for a in answers} == {
        (64500, "LOOPBACK-TEST-NET")
    }
    assert m["resolver_ip"] == "127.0.0.1"
    assert m["resolver_asn"] == "AS64500"
    assert m["resolver_network_name"] == "LOOPBACK-TEST-NET"
    assert m["probe_ip"] == "127.0.0.1"

    # the same through $ASHYQ_ASN_DB
    monkeypatch.setenv("ASHYQ_ASN_DB", str(table))
    m = _measure(lab, tmp_path)
    assert {a["asn"] for q in m["test_keys"]["queries"] for a in q["answers"] or []} == {64500}


def test_control_ip_info_asn(tmp_path):
    from ashyq.servers.dns import DNSServer
    from ashyq.servers.site import Page, SiteServer

    table = write_table(tmp_path / "ip2asn.tsv", TABLE)
    with DNSServer({"site.test": ["127.0.0.1"]}) as dns, SiteServer({"site.test": Page()}) as site:
        cfg = ControlConfig(resolver=dns.address, lab=True, asn_db=AsnDB.load(table))
        with ControlServer(cfg) as control:
            import urllib.request

            body = {
                "http_request": site.url("site.test"),
                "http_request_headers": {},
                "tcp_connect": [f"127.0.0.1:{site.port}"],
            }
            req = urllib.request.Request(control.url, data=json.dumps(body).encode(), method="POST")
            with urllib.request.urlopen(req, timeout=30) as resp:
                answer = json.loads(resp.read())
    assert answer["ip_info"]["127.0.0.1"]["asn"] == 64500
    assert answer["http_request"]["status_code"] == 200


def test_system_resolver_ip_from_resolv_conf(tmp_path):
    conf = tmp_path / "resolv.conf"
    conf.write_text(
        "# generated\nsearch example.org\noptions edns0\n"
        "nameserver fe80::1%eth0  # link-local\nnameserver 10.0.0.53\n"
    )
    assert system_resolver_ip(str(conf)) == "fe80::1"
    conf.write_text("; nothing\nnameserver not-an-ip\nnameserver 192.0.2.53\n")
    assert system_resolver_ip(str(conf)) == "192.0.2.53"
    conf.write_text("search x\n")
    assert system_resolver_ip(str(conf)) is None
    assert system_resolver_ip(str(tmp_path / "missing")) is None


def test_resolver_ip_with_the_system_resolver(lab, tmp_path):
    """With the system resolver measured, resolver_ip is resolv.conf's first nameserver."""
    url = f"http://localhost:{lab.http.port}/"
    out = tmp_path / "o.jsonl"
    args = [a for a in lab.base_args() if a != "--no-system-resolver"]
    assert main(["probe", url, "-o", str(out), *args]) == 0
    (m,) = [json.loads(line) for line in out.read_text().splitlines()]
    want = None
    try:
        for line in Path("/etc/resolv.conf").read_text().splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[0] == "nameserver":
                want = parts[1].split("%")[0]
                break
    except OSError:
        pass
    assert m["resolver_ip"] == (want or lab.dns.address[0])
