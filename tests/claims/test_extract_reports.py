"""Extraction on reports written for these tests, in Kazakh, Russian, English and Arabic."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ashyq.claims.extract import extract_report

REPORTS = Path(__file__).parent / "reports"
PUBLISHED = dt.date(2023, 5, 10)


def run(name: str, published: dt.date | None = PUBLISHED):
    raw = (REPORTS / name).read_text(encoding="utf-8")
    return raw, extract_report(raw, published, source=name)


def only(report, kind: str):
    found = [c for c in report.claims if c.kind == kind]
    assert len(found) == 1, [c.to_dict() for c in report.claims]
    return found[0]


def test_english_blocking_with_targets_that_still_worked():
    _, r = run("en_social_negation.txt")
    assert r.language == "en"
    c = only(r, "blocking")
    assert c.targets == ["facebook", "youtube", "instagram"]
    assert c.not_affected == ["twitter", "vk"]
    assert c.places == ["Astana", "Almaty", "Karaganda", "Atyrau"]
    assert c.date == "2022-12-16"  # "16 December", the latest one before publication
    assert c.official_explanation == "technical failure"
    assert len(r.claims) == 1


def test_russian_relative_date_and_still_working():
    _, r = run("ru_yesterday.txt")
    assert r.language == "ru"
    c = only(r, "blocking")
    assert set(c.targets) == {"facebook", "youtube"}
    assert set(c.not_affected) == {"twitter", "vk"}
    assert set(c.places) == {"Almaty", "Karaganda"}
    assert (c.date, c.date_source) == ("2023-05-09", "relative")
    assert c.official_explanation == "technical failure"


def test_kazakh_case_endings_and_yesterday():
    _, r = run("kk_yesterday.txt")
    assert r.language == "kk"
    c = only(r, "blocking")
    assert set(c.targets) == {"facebook", "youtube"}  # "фейсбукқа", "ютубқа"
    assert set(c.not_affected) == {"telegram", "twitter"}  # "жұмыс істеп тұр"
    assert c.places == ["Shymkent", "Karaganda"]  # "Шымкенттегі", "Қарағандыдағы"
    assert c.date == "2023-05-09"  # "кеше"
    assert c.official_explanation == "technical failure"  # "техникалық ақау"


def test_arabic_levantine_month_and_negation():
    _, r = run("ar_december.txt")
    assert r.language == "ar"
    c = only(r, "blocking")
    assert set(c.targets) == {"facebook", "youtube"}
    assert c.not_affected == ["twitter"]
    assert set(c.places) == {"Almaty", "Astana"}
    assert c.scope == "national"  # "في كازاخستان"
    assert c.date.endswith("-12-16")
    assert c.official_explanation == "technical failure"  # "أسباب تقنية"


def test_mixed_language_report_shutdown_and_blocking():
    _, r = run("mixed_kk_ru.txt")
    assert r.language == "mixed"
    assert set(r.language_shares) == {"kk", "ru"}
    outage = only(r, "outage")
    assert outage.targets == ["mobile_internet"]
    assert outage.places == ["Aktobe"]
    assert outage.date == "2023-01-05"
    blocking = only(r, "blocking")
    assert set(blocking.targets) == {"whatsapp", "telegram"}
    assert r.official_explanation == "maintenance"


def test_russian_throttling():
    _, r = run("ru_throttling.txt")
    c = only(r, "throttling")
    assert set(c.targets) == {"instagram", "youtube"}
    assert set(c.places) == {"Oral", "Atyrau"}
    assert c.date == "2022-10-20"
    assert not [x for x in r.claims if x.kind == "blocking"]


def test_account_claim():
    _, r = run("en_whatsapp_accounts.txt")
    c = only(r, "account")
    assert c.targets == ["whatsapp"]
    assert c.date == "2023-03-14"
    assert not [x for x in r.claims if x.kind == "blocking"]


def test_domains_stay_domains_and_sentences_merge():
    _, r = run("en_domains.txt")
    c = only(r, "blocking")
    assert c.targets == ["vlast.kz", "holanews.kz", "azattyq.org", "informburo.kz"]
    assert c.scope == "national"
    assert c.date == "2023-05-09"
    assert not c.hedged  # "May" the month is not "may" the modal
    assert len([e for e in c.evidence if e.role == "claim"]) == 2


@pytest.mark.parametrize(
    "name",
    ["none_en_site_launch.txt", "none_ru_sport.txt", "none_kk_bank_app.txt", "none_ar_weather.txt"],
)
def test_reports_without_censorship_give_no_blocking_claim(name):
    _, r = run(name)
    assert [c for c in r.claims if c.kind in ("blocking", "throttling", "outage")] == []


def test_evidence_offsets_point_into_the_original():
    for path in REPORTS.glob("*.txt"):
        raw, r = run(path.name)
        for c in r.claims:
            for e in c.evidence:
                assert raw[e.start : e.end] == e.text


def test_hostile_html_is_read_as_text_only():
    raw, r = run("hostile.html", published=None)
    assert r.published == "2022-01-06"  # from the page's metadata
    kinds = {c.kind: c for c in r.claims}
    assert kinds["outage"].targets == ["mobile_internet"]
    assert kinds["outage"].scope == "national"
    assert set(kinds["blocking"].targets) == {"telegram", "whatsapp"}
    texts = " ".join(e.text for c in r.claims for e in c.evidence)
    # script, style and comment content never becomes a claim or evidence
    assert "Shymkent" not in texts and "Aktau" not in texts and "alert" not in texts
    assert all(p not in ("Shymkent", "Aktau") for c in r.claims for p in c.places)
    for c in r.claims:
        for e in c.evidence:
            original = raw[e.start : e.end]
            assert original.startswith(e.text[:10])  # offsets are into the HTML
    assert r.official_explanation == "technical failure"


def test_without_publication_date_a_partial_date_stays_partial():
    _, r = run("en_social_negation.txt", published=None)
    c = only(r, "blocking")
    assert c.date is None
    assert c.date_source == "partial"
    assert c.date_text == "16 December"
