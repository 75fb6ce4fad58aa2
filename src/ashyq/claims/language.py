"""Which language a report (or a sentence) is written in: kk, ru, en, ar — or mixed.

Script decides first (Arabic, Latin, Cyrillic). Within Cyrillic, Kazakh is told from Russian
by the letters only Kazakh uses (ә ғ қ ң ө ұ ү һ і) and by frequent words of each language;
when neither is clear the lingua detector, restricted to these four languages and loaded on
first use, decides.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import cache
from typing import Any

LANGUAGES = ("kk", "ru", "en", "ar")
_KAZAKH_LETTERS = re.compile(r"[әғқңөұүһіӘҒҚҢӨҰҮҺІ]")
_CYRILLIC = re.compile(r"[\u0400-\u04FF]")
_LATIN = re.compile(r"[A-Za-z]")
_ARABIC = re.compile(r"[\u0600-\u06FF]")
_WORD = re.compile(r"\w+")

# Frequent short words (our own pick): function words that carry no topic.
_KK_WORDS = frozenset(
    [
        "және",
        "мен",
        "бен",
        "пен",
        "бұл",
        "осы",
        "деп",
        "деген",
        "бар",
        "жоқ",
        "үшін",
        "да",
        "де",
        "та",
        "те",
        "ал",
        "бірақ",
        "болды",
        "болып",
        "еді",
        "екен",
        "туралы",
        "бойынша",
        "кейін",
        "дейін",
        "бері",
        "қазір",
        "тағы",
        "емес",
        "күні",
        "жылы",
        "айтты",
    ]
)
_RU_WORDS = frozenset(
    [
        "и",
        "в",
        "во",
        "на",
        "не",
        "что",
        "это",
        "как",
        "по",
        "из",
        "для",
        "от",
        "до",
        "при",
        "был",
        "была",
        "были",
        "было",
        "его",
        "её",
        "их",
        "но",
        "а",
        "же",
        "так",
        "уже",
        "также",
        "только",
        "который",
        "которые",
        "после",
        "года",
        "сообщил",
        "заявил",
    ]
)


def _cyrillic_guess(text: str) -> str | None:
    letters = len(_CYRILLIC.findall(text))
    if not letters:
        return None
    kazakh = len(_KAZAKH_LETTERS.findall(text))
    words = [w.lower() for w in _WORD.findall(text)]
    kk = sum(w in _KK_WORDS for w in words)
    ru = sum(w in _RU_WORDS for w in words)
    # function words outweigh letters: Kazakh names in a Russian sentence keep their letters
    if ru >= 2 and ru > kk:
        return "ru"
    if kk > ru:
        return "kk"
    if kazakh / letters >= 0.02:
        return "kk"
    if kazakh == 0 and ru > kk:
        return "ru"
    return None


@cache
def _detector() -> Any:
    from lingua import Language, LanguageDetectorBuilder

    return LanguageDetectorBuilder.from_languages(
        Language.KAZAKH, Language.RUSSIAN, Language.ENGLISH, Language.ARABIC
    ).build()


def _lingua(text: str) -> str | None:
    found = _detector().detect_language_of(text)
    if found is None:
        return None
    return {"KAZAKH": "kk", "RUSSIAN": "ru", "ENGLISH": "en", "ARABIC": "ar"}.get(found.name)


def sentence_language(text: str) -> str | None:
    """kk, ru, en or ar for one sentence; None when it has too few letters to tell."""
    words = _WORD.findall(text)
    others = any(_CYRILLIC.search(w) or _ARABIC.search(w) for w in words)
    counts = {"cyr": 0.0, "lat": 0.0, "ar": 0.0}
    for w in words:
        if _CYRILLIC.search(w):
            counts["cyr"] += len(w)
        elif _ARABIC.search(w):
            counts["ar"] += len(w)
        elif _LATIN.search(w):
            # brand names in Latin letters inside a Cyrillic or Arabic sentence count little
            counts["lat"] += len(w) * (0.3 if others and w[:1].isupper() else 1.0)
    total = sum(counts.values())
    if total < 3:
        return None
    script = max(counts, key=lambda k: counts[k])
    if script == "ar":
        return "ar"
    if script == "lat":
        return "en"
    guess = _cyrillic_guess(text)
    if guess is None and total >= 12:
        guess = _lingua(text)
        if guess not in ("kk", "ru"):
            guess = "ru" if not _KAZAKH_LETTERS.search(text) else "kk"
    return guess or ("kk" if _KAZAKH_LETTERS.search(text) else "ru")


def report_language(sentences: list[str]) -> tuple[str, dict[str, float]]:
    """The report's language ("mixed" when a second language holds a real share) and shares.

    Shares are by letters, so a headline in one language does not outweigh a long text in
    another; Latin brand names in a Cyrillic text count little because they are short.
    """
    weight: Counter[str] = Counter()
    for s in sentences:
        lang = sentence_language(s)
        if lang:
            weight[lang] += sum(ch.isalpha() for ch in s)
    total = sum(weight.values())
    if not total:
        return "unknown", {}
    shares = {k: round(v / total, 3) for k, v in weight.most_common()}
    # a second language must hold a real share and more than a stray name or two
    ranked = [k for k, v in shares.items() if v >= 0.2 and weight[k] >= 40]
    return ("mixed" if len(ranked) > 1 else next(iter(shares))), shares
