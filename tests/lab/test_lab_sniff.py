"""The DPI parsers read the SNI and the Host from real client bytes."""

from __future__ import annotations

import contextlib
import ssl

from hypothesis import given
from hypothesis import strategies as st

from ashyq.lab.sniff import name_matches, sniff


def client_hello(server_name: str) -> bytes:
    """A real ClientHello, as Python's ssl module writes it."""
    ctx = ssl.create_default_context()
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_hostname=server_name)
    with contextlib.suppress(ssl.SSLWantReadError):
        obj.do_handshake()
    return outgoing.read()


def test_sni_of_a_real_client_hello():
    hello = client_hello("Azattyq.org")
    result = sniff(hello)
    assert (result.kind, result.name, result.complete) == ("tls", "azattyq.org", True)


def test_partial_client_hello_asks_for_more():
    hello = client_hello("vlast.kz")
    for cut in (1, 5, 20, len(hello) - 1):
        r = sniff(hello[:cut])
        assert r.kind == "tls" and not r.complete, cut


def test_client_hello_split_across_records():
    hello = client_hello("medium.com")
    body = hello[5:]
    half = len(body) // 2
    rec = lambda part: b"\x16\x03\x01" + len(part).to_bytes(2, "big") + part  # noqa: E731
    assert sniff(rec(body[:half]) + rec(body[half:])).name == "medium.com"


def test_http_host_without_port():
    r = sniff(b"GET / HTTP/1.1\r\nUser-Agent: x\r\nhOsT: Vlast.KZ:80\r\n\r\n")
    assert (r.kind, r.name, r.complete) == ("http", "vlast.kz", True)
    assert not sniff(b"GET / HTTP/1.1\r\nHost: vla").complete
    assert sniff(b"GE").kind == "http"


def test_other_protocols_are_not_guessed():
    r = sniff(b"SSH-2.0-OpenSSH_9.6\r\n")
    assert (r.kind, r.name, r.complete) == ("other", None, True)


@given(st.binary(max_size=3000))
def test_garbage_never_crashes(data):
    r = sniff(data)
    assert r.kind in ("tls", "http", "other")


@given(st.binary(max_size=600))
def test_garbage_after_a_tls_header_never_crashes(data):
    r = sniff(b"\x16\x03\x01" + len(data).to_bytes(2, "big") + data)
    assert r.kind == "tls"


def test_name_matches_subdomains_only():
    assert name_matches("www.vlast.kz", ["vlast.kz"])
    assert name_matches("VLAST.kz.", ["vlast.kz"])
    assert not name_matches("notvlast.kz", ["vlast.kz"])
    assert not name_matches(None, ["vlast.kz"])
