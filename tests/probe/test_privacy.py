"""The probe's own addresses never appear in what it writes."""

from __future__ import annotations

from ashyq.probe import privacy
from ashyq.probe.privacy import SCRUBBED, remember_local, scrub, scrub_text


def test_scrub_replaces_whole_addresses_only():
    text = "your IP is 10.1.2.3, not 10.1.2.30, 110.1.2.3 or 10.1.2.3.4; 2001:db8::1 2001:db8::10"
    out = scrub_text(text, {"10.1.2.3", "2001:db8::1"})
    assert out == (
        f"your IP is {SCRUBBED}, not 10.1.2.30, 110.1.2.3 or 10.1.2.3.4; {SCRUBBED} 2001:db8::10"
    )


def test_scrub_walks_the_whole_measurement():
    m = {
        "probe_ip": "127.0.0.1",
        "test_keys": {
            "requests": [{"response": {"body": "<p>Your address: 198.51.100.7</p>"}}],
            "headers": {"X-Forwarded-For": "198.51.100.7"},
        },
    }
    out = scrub(m, {"198.51.100.7"})
    assert "198.51.100.7" not in repr(out)
    assert out["probe_ip"] == "127.0.0.1"
    assert m["test_keys"]["headers"]["X-Forwarded-For"] == "198.51.100.7"  # a copy


def test_only_non_loopback_local_addresses_are_remembered():
    before = set(privacy._LOCAL)
    try:
        remember_local("127.0.0.1")
        remember_local("::1")
        remember_local("not an address")
        assert privacy.local_addresses() == frozenset(before)
        remember_local("192.0.2.44")
        assert "192.0.2.44" in privacy.local_addresses()
        assert scrub({"x": "from 192.0.2.44"}) == {"x": f"from {SCRUBBED}"}
    finally:
        privacy._LOCAL.clear()
        privacy._LOCAL.update(before)


def test_scrub_finds_every_written_form_and_legacy_encoded_bodies():
    import base64

    addrs = {"2a02:8084:0:1::1", "95.56.10.20"}
    page = "Ваш IP 95.56.10.20".encode("cp1251")  # not UTF-8: stored as base64
    m = {
        "echo": " / ".join(
            ["2A02:8084:0:1::1", "2a02:8084:0:1:0:0:0:1", "2a02:8084:0000:0001:0000:0000:0000:0001"]
        ),
        "body": {"format": "base64", "data": base64.b64encode(page).decode()},
        "other": "195.56.10.201",
    }
    out = scrub(m, addrs)
    assert out["echo"] == " / ".join([SCRUBBED] * 3)
    assert base64.b64decode(out["body"]["data"]).decode("cp1251") == f"Ваш IP {SCRUBBED}"
    assert out["other"] == "195.56.10.201"
