"""The general rules behind the second held-out set, each shown on sentences of its own."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from ashyq.claims.extract import extract_report
from ashyq.cli import main

PUBLISHED = dt.date(2024, 3, 6)  # a Wednesday


def only(text: str, published: dt.date = PUBLISHED):
    r = extract_report(text, published)
    assert len(r.claims) == 1, [c.to_dict() for c in r.claims]
    return r.claims[0]


# Every city and region, in the forms Kazakh and Russian grammar give it, and in English and
# Arabic, without listing the forms in the lexicon.
PLACE_FORMS = [
    ("Қарағандыдағы", "Karaganda"),
    ("Карагандинской области", "Karaganda Region"),
    ("Ақтөбедегі", "Aktobe"),
    ("Актюбинской области", "Aktobe Region"),
    ("Атырау облысында", "Atyrau Region"),
    ("в Атырауской области", "Atyrau Region"),
    ("Жаңаөзенде", "Zhanaozen"),
    ("в Жанаозене", "Zhanaozen"),
    ("جاناوزين", "Zhanaozen"),
    ("Алматинской области", "Almaty Region"),
    ("Алматыға", "Almaty"),
    ("Alma-Ata", "Almaty"),
    ("Нұр-Сұлтанда", "Astana"),
    ("в Целинограде", "Astana"),
    ("Tselinograd", "Astana"),
    ("в Астане", "Astana"),
    ("أستانا", "Astana"),
    ("Chimkent", "Shymkent"),
    ("Шымкенттіктер", "Shymkent"),
    ("в Чимкенте", "Shymkent"),
    ("в Уральске", "Oral"),
    ("Оралда", "Oral"),
    ("Uralsk", "Oral"),
    ("в Усть-Каменогорске", "Oskemen"),
    ("Өскеменде", "Oskemen"),
    ("Ust-Kamenogorsk", "Oskemen"),
    ("Семейде", "Semey"),
    ("в Семипалатинске", "Semey"),
    ("Semipalatinsk", "Semey"),
    ("Кызылорде", "Kyzylorda"),
    ("Кызылординской области", "Kyzylorda Region"),
    ("Таразда", "Taraz"),
    ("Туркестанской области", "Turkistan Region"),
    ("Түркістанда", "Turkistan"),
    ("Петропавловске", "Petropavl"),
    ("Петропавлда", "Petropavl"),
    ("Костанае", "Kostanay"),
    ("Костанайской области", "Kostanay Region"),
    ("Павлодарской области", "Pavlodar Region"),
    ("Ақтауда", "Aktau"),
    ("в Актау", "Aktau"),
    ("Талдықорғанда", "Taldykorgan"),
    ("Талдыкоргане", "Taldykorgan"),
    ("Көкшетауда", "Kokshetau"),
    ("Екібастұзда", "Ekibastuz"),
    ("в Экибастузе", "Ekibastuz"),
    ("Теміртауда", "Temirtau"),
    ("Жезқазғанда", "Zhezkazgan"),
    ("в Жезказгане", "Zhezkazgan"),
    ("Қонаевта", "Konaev"),
    ("в Капчагае", "Konaev"),
    ("Kapchagay", "Konaev"),
    ("Мангистауской области", "Mangystau Region"),
    ("في منطقة مانغيستاو", "Mangystau Region"),
    ("في منطقة أتيراو", "Atyrau Region"),
    ("Оңтүстік Қазақстан облысында", "Turkistan Region"),
    ("Шығыс Қазақстан облысында", "East Kazakhstan Region"),
]


@pytest.mark.parametrize(("form", "place"), PLACE_FORMS)
def test_place_in_any_grammatical_form(form, place):
    c = only(f"{form} 1 March blocked Facebook.")
    assert c.places == [place]


def test_the_russian_urals_are_not_oral():
    c = only("Telegram заблокирован в Уральском федеральном округе и в Уральской области.")
    assert c.places == []


def test_anaphora_carries_the_targets_of_the_sentence_before():
    c = extract_report(
        "Вчера в Караганде перестали открываться vlast.kz и orda.kz. "
        "Сегодня эти ресурсы заблокированы и в Астане.",
        PUBLISHED,
    ).claims
    assert {t for x in c for t in x.targets} == {"vlast.kz", "orda.kz"}
    assert {p for x in c for p in x.places} == {"Karaganda", "Astana"}
    assert {x.date for x in c} == {"2024-03-05", "2024-03-06"}


def test_anaphora_without_an_antecedent_is_no_claim():
    assert (
        extract_report("These services were blocked in Almaty on Monday.", PUBLISHED).claims == []
    )


def test_a_dateline_city_is_not_where_it_happened():
    c = only("ASTANA, March 6 (Wire) — YouTube was blocked in Aktobe on Monday.")
    assert c.places == ["Aktobe"]
    assert c.date == "2024-03-04"


@pytest.mark.parametrize(
    ("text", "domains"),
    [
        ("Сайты Vlast.kz и KazTAG.kz заблокированы.", {"vlast.kz", "kaztag.kz"}),
        ("The outlets kursiv.media and hola.news were blocked.", {"kursiv.media", "hola.news"}),
        ("президент.рф және влаcт.kz бұғатталды.", {"президент.рф"}),
        ("Telegram was blocked.In Almaty readers said so.", {"telegram"}),
    ],
)
def test_true_domains_only(text, domains):
    assert set(only(text).targets) == domains


@pytest.mark.parametrize(
    "text",
    [
        "Министрлік Telegram арқылы таралған банк карталарымен алаяқтық схемасын бұғаттады.",
        "The ministry blocked a bank card fraud scheme run over WhatsApp.",
        "МВД заблокировало 500 мошеннических номеров в WhatsApp.",
        "حجبت الوزارة أرقاما استخدمها محتالون في واتساب.",
    ],
)
def test_blocking_fraud_is_not_censorship(text):
    assert extract_report(text, PUBLISHED).claims == []


def test_sites_that_open_only_through_a_vpn_are_not_working():
    c = extract_report("Кеше Instagram бұғатталды. Ол тек VPN арқылы ашылады.", PUBLISHED).claims
    assert c[0].targets == ["instagram"] and c[0].not_affected == []


def test_a_reason_said_to_be_absent_is_no_explanation():
    r = extract_report("Вчера заблокировали orda.kz без какого-либо решения суда.", PUBLISHED)
    assert r.claims and r.official_explanation is None


def test_of_two_dates_the_one_by_the_cue_wins():
    c = only(
        "Adil Soz said on Tuesday that the WhatsApp accounts of two reporters were "
        "blocked on 1 March."
    )
    assert c.kind == "account" and c.date == "2024-03-01"


def test_heldout_report_through_the_cli(tmp_path, capsys):
    f = tmp_path / "tweet.txt"
    f.write_text(
        "Instagram, TikTok & YouTube down in Aktobe and Uralsk since last night. "
        "Twitter and VK worked fine for me.",
        encoding="utf-8",
    )
    main(["claims", "extract", str(f), "--published", "2024-03-06", "--format", "json"])
    out = json.loads(capsys.readouterr().out)
    (claim,) = out["claims"]
    assert set(claim["targets"]) == {"instagram", "tiktok", "youtube"}
    assert set(claim["not_affected"]) == {"twitter", "vk"}
    assert claim["places"] == ["Aktobe", "Oral"] and claim["date"] == "2024-03-05"


@pytest.mark.parametrize(
    ("text", "kind", "target"),
    [
        (
            "Инстаграм-аккаунт журналиста из Атырау был заблокирован 1 марта.",
            "account",
            "instagram",
        ),
        ("Журналист заявил, что его WhatsApp заблокировали 3 марта.", "account", "whatsapp"),
        (
            "Reporters in Oskemen lost access to their WhatsApp accounts on 2 March.",
            "account",
            "whatsapp",
        ),
        ("Ақтау қаласында мобильді интернет екі күн бойы болмады.", "outage", "mobile_internet"),
        (
            "NetBlocks: internet connectivity in Almaty dropped sharply on 5 January.",
            "outage",
            "internet",
        ),
    ],
)
def test_accounts_and_outages_in_other_words(text, kind, target):
    c = only(text)
    assert (c.kind, c.targets) == (kind, [target])


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("Өткен жұмада Алматыда Telegram бұғатталды.", "2024-03-01"),
        ("Telegram was blocked in Almaty the night before last.", "2024-03-04"),
        ("حجبت السلطات تلغرام في ألماتي الليلة الماضية.", "2024-03-05"),
        ("Прошлой ночью в Алматы заблокировали Telegram.", "2024-03-05"),
        ("В ночь на 5 марта в Алматы заблокировали Telegram.", "2024-03-05"),
        ("5 наурызға қараған түні Алматыда Telegram бұғатталды.", "2024-03-05"),
    ],
)
def test_nights_and_past_weekdays(text, date):
    assert only(text).date == date


@pytest.mark.parametrize(
    ("text", "kind", "target"),
    [
        ("Кеше Орал қаласында YouTube сайтына қолжетімділік шектелді.", "blocking", "youtube"),
        ("Қызылордада әлеуметтік желілер жұмысы тоқтап қалды.", "blocking", "social_media"),
        ("Регулятор ограничил работу WhatsApp в Актобе.", "blocking", "whatsapp"),
        (
            "Residents of Taraz told us YouTube videos would not play on 2 March.",
            "blocking",
            "youtube",
        ),
        ("منعت السلطات الوصول إلى موقع يوتيوب في تاراز.", "blocking", "youtube"),
        ("أوقفت السلطات خدمة تيك توك في كاراغاندا أمس.", "blocking", "tiktok"),
        ("أفاد مستخدمون في شيمكنت بتعطل خدمة واتساب منذ صباح اليوم.", "outage", "whatsapp"),
    ],
)
def test_more_ways_to_say_blocked(text, kind, target):
    c = only(text)
    assert (c.kind, c.targets) == (kind, [target])


def test_accessibility_restricted_is_not_accessible():
    c = only("Алматыда Telegram қолжетімді, ал Instagram-ға қолжетімділік шектелді.")
    assert (c.targets, c.not_affected) == (["instagram"], ["telegram"])
