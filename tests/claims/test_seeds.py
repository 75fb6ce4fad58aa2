"""The three Kazakh seed reports in ../shared/seeds (read in place, never copied)."""

from __future__ import annotations

import datetime as dt

from ashyq.claims.extract import extract_report


def seed(shared_dir, prefix: str) -> str:
    (path,) = sorted((shared_dir / "seeds").glob(f"{prefix}_*.txt"))
    return path.read_text(encoding="utf-8")


def test_may_9_news_sites_square_and_slowdown(shared_dir):
    r = extract_report(seed(shared_dir, "000"), dt.date(2019, 5, 9))
    assert r.language == "kk"
    blocking = [c for c in r.claims if c.kind == "blocking"]
    sites = blocking[0]
    for domain in ("vlast.kz", "holanews.kz", "informburo.kz", "lada.kz", "azattyq.org"):
        assert domain in sites.targets
    assert sites.date == "2019-05-09"
    assert sites.scope == "national"
    assert sites.official_explanation == "technical failure"  # "техникалық ақау"
    outage = next(c for c in r.claims if c.kind == "outage")
    assert outage.targets == ["internet"] and outage.places == ["Shymkent"]  # "Шымкенттегі"
    slow = next(c for c in r.claims if c.kind == "throttling")
    assert slow.places == ["Almaty"]
    # Facebook is where the activist wrote, not what was blocked in that sentence
    assert "facebook" not in slow.targets
    # the protests of 1 May in five cities are not a censorship claim
    assert all("Ақтөбе" not in e.text for c in r.claims for e in c.evidence if e.role == "claim")


def test_amnesty_report_and_digest_make_no_claims(shared_dir):
    for prefix in ("001", "003"):
        r = extract_report(seed(shared_dir, prefix), None)
        assert r.language == "kk"
        assert r.claims == [], [c.to_dict() for c in r.claims]
