"""The fast body scan (Rust Aho-Corasick over bytes + regex anchors) answers like the slow one."""

from __future__ import annotations

import json
import re

import pytest

from ashyq.analysis.fingerprints import (
    PROJECT_FINGERPRINTS,
    Fingerprint,
    FingerprintDB,
    load_fingerprints,
    regex_anchor,
)
from ashyq.analysis.observations import http_obs

ANCHOR_CASES = [
    (r"URL .* Sp.*er Gate", "URL is blocked by Spider Gate"),
    (r"You don.t have permission to access.*on this server\.<P>", None),
    (r"x\d+ blocked\.page here", "x12 blocked.page here"),
    (r"colou?r is red", "color is red"),
    (r"[abc]def[^g]hij", "adefxhij"),
    (r"ab{2,3}cdef", "abbcdef"),
    (r"\{\"msg\":.*\"id\":", '{"msg": 1, "id": 2}'),
]


@pytest.mark.parametrize(("pattern", "text"), ANCHOR_CASES)
def test_regex_anchor_is_in_every_match(pattern, text):
    anchor = regex_anchor(pattern)
    assert anchor
    if text is not None:
        assert re.search(pattern, text)
        assert anchor in text


def test_regex_anchor_gives_up_where_unsure():
    assert regex_anchor("a|bcdef") is None
    assert regex_anchor("(?i)blocked page") is None
    assert regex_anchor("(abc)?defg") is None


def _both(db: FingerprintDB, text: str, cc: str) -> tuple[str | None, str | None]:
    db.scan_cache_size = 0
    db.use_rs = True
    fast = db.match_http_body(text, cc)
    db.use_rs = False
    slow = db.match_http_body(text, cc)
    db.use_rs = True
    return (fast.name if fast else None), (slow.name if slow else None)


def test_fast_and_slow_scans_agree_on_synthetic_fingerprints():
    db = FingerprintDB()
    db.add(Fingerprint("t.contains", "nat", "body", "contains", "Доступ ограничен"))
    db.add(Fingerprint("t.kz_only", "nat", "body", "contains", "blocked here", ("KZ",)))
    db.add(Fingerprint("t.regexp", "isp", "body", "regexp", r"order no\. \d+ of the court"))
    db.add(Fingerprint("t.prefix", "isp", "body", "prefix", "<html><!-- filter"))
    pages = {
        "<p>Доступ ограничен</p>": "t.contains",
        "blocked here": None,  # not for RU
        "see order no. 42 of the court": "t.regexp",
        "an order no. of the court": None,
        "x <html><!-- filter -->": "t.prefix",
        "nothing to see": None,
    }
    for page, want in pages.items():
        assert _both(db, page, "RU") == (want, want), page
    assert _both(db, "blocked here", "KZ") == ("t.kz_only", "t.kz_only")


def test_fast_and_slow_scans_agree_on_ooni_fingerprints(shared_dir):
    ooni = shared_dir / "research/ooni"
    db = load_fingerprints([ooni / "fingerprints", PROJECT_FINGERPRINTS])
    bodies = []
    for f in sorted((ooni / "wc_qa_generated").glob("*.measurement.json")) + sorted(
        (ooni / "fastpath_fixtures").glob("*.json")
    ):
        m = json.loads(f.read_text())
        tk = m.get("test_keys") if isinstance(m, dict) else None
        h = http_obs(tk) if isinstance(tk, dict) else None
        if h is not None and h.body:
            bodies.append((h.body, str(m.get("probe_cc") or "")))
    # every contains pattern, embedded in a page, is found by both
    for i, pat in enumerate(list(db.body_contains)[::7]):
        bodies.append((f"<html><body>filler {i} {pat} more</body></html>", "IR"))
    found = 0
    for body, cc in bodies:
        fast, slow = _both(db, body, cc)
        assert (fast is None) == (slow is None), body[:200]
        found += fast is not None
    assert found >= 100
