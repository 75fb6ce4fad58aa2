"""Sentences unlike the report files: other platforms, cities, case forms and phrasings."""

from __future__ import annotations

import datetime as dt

import pytest

from ashyq.claims.extract import extract_report

PUBLISHED = dt.date(2024, 3, 6)  # a Wednesday

CASES = [
    # (text, kind, targets, not_affected, places, date)
    (
        "Бүгін Ақтөбеде Инстаграм мен Ватсап бұғатталды.",
        "blocking",
        {"instagram", "whatsapp"},
        set(),
        ["Aktobe"],
        "2024-03-06",
    ),
    (
        "Павлодардағы тұрғындардың айтуынша, 3 қыркүйекте ютубтың жылдамдығы баяулады.",
        "throttling",
        {"youtube"},
        set(),
        ["Pavlodar"],
        "2023-09-03",
    ),
    (
        "Атырауда 12 шілдеде Телеграмға кіру мүмкін емес болды, ал WhatsApp қалыпты жұмыс істеді.",
        "blocking",
        {"telegram"},
        {"whatsapp"},
        ["Atyrau"],
        "2023-07-12",
    ),
    (
        "В Павлодаре 3 сентября заблокировали TikTok.",
        "blocking",
        {"tiktok"},
        set(),
        ["Pavlodar"],
        "2023-09-03",
    ),
    (
        "Жители Усть-Каменогорска пожаловались, что со вчерашнего дня не работает Инстаграм, "
        "а Телеграм открывается.",
        "blocking",
        {"instagram"},
        {"telegram"},
        ["Oskemen"],
        "2024-03-05",
    ),
    (
        "Позавчера в Кызылорде отключили мобильный интернет.",
        "outage",
        {"mobile_internet"},
        set(),
        ["Kyzylorda"],
        "2024-03-04",
    ),
    (
        "TikTok and Telegram have been inaccessible in Shymkent since 2 February, though "
        "WhatsApp is unaffected.",
        "blocking",
        {"tiktok", "telegram"},
        {"whatsapp"},
        ["Shymkent"],
        "2024-02-02",
    ),
    (
        "On Monday, internet access was cut off in Zhanaozen.",
        "outage",
        {"internet"},
        set(),
        ["Zhanaozen"],
        "2024-03-04",
    ),
    (
        "Access to YouTube was restricted in Kostanay yesterday.",
        "blocking",
        {"youtube"},
        set(),
        ["Kostanay"],
        "2024-03-05",
    ),
    (
        "أفاد مستخدمون في شيمكنت بتعذر الوصول إلى تيليغرام وإنستغرام أمس.",
        "blocking",
        {"telegram", "instagram"},
        set(),
        ["Shymkent"],
        "2024-03-05",
    ),
    (
        "قطعت السلطات الإنترنت في أتيراو يوم 5 يناير.",
        "outage",
        {"internet"},
        set(),
        ["Atyrau"],
        "2024-01-05",
    ),
    (
        "Нұр-Сұлтанда 2 желтоқсанда Фейсбук пен Гугл ашылмай қалды.",
        "blocking",
        {"facebook", "google"},
        set(),
        ["Astana"],
        "2023-12-02",
    ),
    (
        "Орал қаласында ютуб пен фейсбук бұғатталды, бірақ вотсап жұмыс істеп тұр.",
        "blocking",
        {"youtube", "facebook"},
        {"whatsapp"},
        ["Oral"],
        "2024-03-06",
    ),
    (
        "Кеше кешке Тараздағы интернет жылдамдығы күрт төмендеді.",
        "throttling",
        {"internet"},
        set(),
        ["Taraz"],
        "2024-03-05",
    ),
    (
        "Қостанайлық блогер YouTube арнасын бұғаттап тастағанын айтты.",
        "account",
        {"youtube"},
        set(),
        ["Kostanay"],
        "2024-03-06",
    ),
    (
        "В Атырау и Актау 4 января перестали открываться сайты vlast.kz и kursiv.media.",
        "blocking",
        {"vlast.kz", "kursiv.media"},
        set(),
        ["Atyrau", "Aktau"],
        "2024-01-04",
    ),
    (
        "Абоненты Kcell и Activ в Жанаозене остались без интернета в ночь на 3 января.",
        "outage",
        {"internet"},
        set(),
        ["Zhanaozen"],
        "2024-01-03",
    ),
    (
        "Messaging apps Telegram and WhatsApp were unavailable, and tengrinews.kz could not be "
        "reached from Almaty on 5 January.",
        "blocking",
        {"telegram", "whatsapp", "tengrinews.kz"},
        set(),
        ["Almaty"],
        "2024-01-05",
    ),
]


@pytest.mark.parametrize(("text", "kind", "targets", "fine", "places", "date"), CASES)
def test_heldout_claims(text, kind, targets, fine, places, date):
    r = extract_report(text, PUBLISHED)
    found = [c for c in r.claims if c.kind == kind]
    assert found, [c.to_dict() for c in r.claims]
    c = found[0]
    assert set(c.targets) == targets
    assert set(c.not_affected) == fine
    assert c.places == places
    assert c.date == date


@pytest.mark.parametrize(
    "text",
    [
        "Kazakhstan's e-government portal egov.kz now works faster after an update.",
        "Футболисты «Кайрата» заблокировали все атаки соперника в матче в Шымкенте.",
        "Алматыда жаңа саябақ ашылды, оны Instagram парақшасында әкімдік жариялады.",
        "أعلنت شركة كازاخ تيليكوم عن إطلاق خدمة جديدة للإنترنت في أستانا.",
        "The bank said its app will be updated on 5 April and may be unavailable for an hour.",
        "Президент выступил в Астане с посланием народу; трансляция шла на YouTube.",
    ],
)
def test_heldout_reports_without_censorship(text):
    r = extract_report(text, PUBLISHED)
    assert [c for c in r.claims if c.kind in ("blocking", "throttling")] == [], [
        c.to_dict() for c in r.claims
    ]


def test_vk_is_not_east_kazakhstan_and_x_is_twitter():
    r = extract_report("В ВКО 1 марта заблокировали X (Twitter), а ВК работал.", PUBLISHED)
    c = r.claims[0]
    assert c.targets == ["twitter"]
    assert c.not_affected == ["vk"]
    assert c.places == ["East Kazakhstan Region"]


def test_region_is_told_from_its_city():
    r = extract_report("Алматы облысында 4 наурызда интернет өшірілді.", PUBLISHED)
    assert r.claims[0].places == ["Almaty Region"]
    r = extract_report("В Карагандинской области 4 марта отключили интернет.", PUBLISHED)
    assert r.claims[0].places == ["Karaganda Region"]


def test_hedged_claim_has_lower_confidence():
    sure = extract_report("Facebook was blocked in Almaty on 1 March.", PUBLISHED).claims[0]
    unsure = extract_report(
        "Facebook may have been blocked in Almaty on 1 March.", PUBLISHED
    ).claims[0]
    assert unsure.hedged and not sure.hedged
    assert unsure.confidence < sure.confidence


def test_elided_network_in_a_contrast_clause_keeps_its_own_place():
    r = extract_report(
        "Жаңаөзенде 16 желтоқсанда интернет толық өшірілді, ал Ақтауда баяу жұмыс істеді.",
        PUBLISHED,
    )
    kinds = {c.kind: c for c in r.claims}
    assert kinds["outage"].places == ["Zhanaozen"]
    assert kinds["throttling"].places == ["Aktau"]
    assert kinds["throttling"].targets == ["internet"]


@pytest.mark.parametrize(
    "text",
    [
        "Роскомнадзор заблокировал Instagram в России.",
        "In Uzbekistan, Telegram was blocked on 1 March.",
        "حجبت السلطات في إيران تطبيق واتساب.",
    ],
)
def test_another_country_is_not_a_claim_about_kazakhstan(text):
    assert extract_report(text, PUBLISHED).claims == []


def test_plans_and_denials_are_not_sure_claims():
    plan = extract_report("Билік Telegram-ды бұғаттауды жоспарлап отыр.", PUBLISHED).claims
    assert all(c.hedged and c.confidence < 0.5 for c in plan)
    denial = extract_report("Казахтелеком опроверг информацию о блокировке Telegram.", PUBLISHED)
    assert denial.claims == []


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("В Костанае вчера заблокировали Telegram.", "Kostanay"),
        ("В Семее вчера заблокировали Telegram.", "Semey"),
        ("Над Астаной вчера заблокировали Telegram.", "Astana"),
        ("Оралға кеше Telegram бұғатталды.", "Oral"),
        ("حجب تيليغرام أمس بألماتي.", "Almaty"),
    ],
)
def test_place_forms(text, place):
    (claim,) = extract_report(text, PUBLISHED).claims
    assert claim.places == [place]


def test_a_family_is_not_a_city_and_a_question_is_unsure():
    assert (
        extract_report("Пять семей остались без интернета вчера.", PUBLISHED).claims[0].places == []
    )
    (c,) = extract_report("Was TikTok blocked in Almaty on 1 March?", PUBLISHED).claims
    assert c.hedged


def test_wasnt_affected_is_not_affected():
    (c,) = extract_report(
        "Twitter wasn't affected, but Facebook and Instagram were blocked in Shymkent on Tuesday.",
        PUBLISHED,
    ).claims
    assert c.not_affected == ["twitter"] and c.date == "2024-03-05"


@pytest.mark.parametrize(
    "text",
    [
        "С 9 по 12 мая в Актобе не работал Telegram.",
        "Ақтөбеде 9-12 мамыр аралығында Telegram бұғатталды.",
        "Telegram was blocked in Aktobe from 9 to 12 May.",
        "حجب تيليغرام في أكتوبي من 9 إلى 12 مايو.",
    ],
)
def test_a_range_of_days_starts_the_claim(text):
    (c,) = extract_report(text, dt.date(2024, 6, 1)).claims
    assert (c.date, c.places, c.targets) == ("2024-05-09", ["Aktobe"], ["telegram"])


def test_mobile_internet_after_an_evening_hour():
    (c,) = extract_report(
        "Алматы мен Астанада 3G және 4G интернет 19:00-ден кейін жұмыс істемеді.", PUBLISHED
    ).claims
    assert (c.kind, c.targets, c.places) == ("outage", ["mobile_internet"], ["Almaty", "Astana"])


def test_arabic_could_not_reach_on_a_weekday():
    (c,) = extract_report(
        "قال مستخدمون في كازاخستان إنهم لم يتمكنوا من الوصول إلى فيسبوك وإنستغرام مساء الخميس.",
        PUBLISHED,
    ).claims
    assert (c.kind, c.targets, c.scope, c.date) == (
        "blocking",
        ["facebook", "instagram"],
        "national",
        "2024-02-29",
    )
