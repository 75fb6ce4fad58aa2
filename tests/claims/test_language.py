"""Language of sentences and reports."""

from __future__ import annotations

import pytest

from ashyq.claims.language import report_language, sentence_language


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("В Шымкенте и Қарағанды заблокировали Facebook и Instagram.", "ru"),
        ("Telegram мен WhatsApp бұғатталды.", "kk"),
        ("Бүгін интернет жоқ.", "kk"),
        ("Сайт не открывается уже второй день.", "ru"),
        ("Facebook and Instagram were blocked in Astana.", "en"),
        ("حجبت السلطات موقع فيسبوك في ألماتي.", "ar"),
    ],
)
def test_sentence_language(text, lang):
    assert sentence_language(text) == lang


def test_mixed_report():
    lang, shares = report_language(
        [
            "Қазақстанда интернет бұғатталды. Бұл туралы министрлік хабарлады.",
            "Как сообщили в министерстве, интернет заблокирован по всей стране.",
        ]
    )
    assert lang == "mixed" and set(shares) == {"kk", "ru"}
    assert report_language(["Алматыда интернет бұғатталды.", "Facebook"])[0] == "kk"
