"""Dates in reports: explicit, partial ("9 мамырда", "16 декабря") and relative ("кеше").

Hand rules come first: month names of the four languages with their endings are listed in
``lexicon/dates.toml``. A partial date takes its year from the publication date (the latest
such day not after publication), else from a year the report itself names. ``dateparser`` is
used only for dates given on the command line (``--published``), where any format is welcome.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cache

from ashyq.claims import lexicon
from ashyq.claims.lexicon import phrase_regex


@dataclass(frozen=True, slots=True)
class DateMention:
    start: int
    end: int
    text: str
    year: int | None
    month: int | None
    day: int | None
    offset_days: int | None = None  # relative words: days from publication
    weekday: int | None = None  # 1 = Monday


@cache
def _month_regex() -> str:
    groups = []
    for month, phrases in lexicon.load("dates")["months"].items():
        alts = "|".join(phrase_regex(p) for p in sorted(phrases, key=len, reverse=True))
        groups.append(f"(?P<m{month}>{alts})")
    return "(?:" + "|".join(groups) + ")"


_DAY = r"(?P<day>[0-3]?\d)(?:-?(?:ші|шы|inci|th|st|nd|rd|го|е|ое))?"
_YEAR_AFTER = r"(?:[\s,]+(?P<year>(?:19|20)\d\d)(?!\d))?"
_ALT_MONTH = r"(?:\s*/\s*[^\s\d/]+)?"  # "كانون الأول/ديسمبر"


@cache
def _patterns() -> tuple[re.Pattern[str], ...]:
    month = _month_regex()
    return (
        re.compile(r"(?<!\d)(?P<year>(?:19|20)\d\d)-(?P<month>[01]\d)-(?P<day>[0-3]\d)(?!\d)"),
        re.compile(
            r"(?<![\d.])(?P<day>[0-3]?\d)\.(?P<month>[01]?\d)\.(?P<year>(?:19|20)\d\d)(?!\d)"
        ),
        # a range of days in one month ("с 9 по 12 мая", "9–12 мамыр"): its first day
        re.compile(
            r"(?<![\d:.,])"
            + _DAY
            + r"\s*(?:-|–|—|по|to|until|till|and|и|және|و|إلى|الى|الي|حتى)\s*"
            r"[0-3]?\d(?:-?(?:ші|шы|th|st|nd|rd|го|е))?\s+" + month + _ALT_MONTH + _YEAR_AFTER,
            re.I,
        ),
        re.compile(r"(?<![\d:.,])" + _DAY + r"\s+" + month + _ALT_MONTH + _YEAR_AFTER, re.I),
        re.compile(month + r"\s+(?P<day>[0-3]?\d)(?:st|nd|rd|th)?(?![\d:])" + _YEAR_AFTER, re.I),
    )


_YEAR_BEFORE = re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d)\s*(?:жыл\w*|ж\.|года?|г\.|year|عام)?\s*$")
_YEAR_ANY = re.compile(
    r"(?<!\d)((?:19|20)\d\d)(?!\d)\s*(?:жыл|ж\.|год|г\.)|(?:in|عام|year)\s+((?:19|20)\d\d)(?!\d)",
    re.I,
)


def _month_of(m: re.Match[str]) -> int | None:
    if "month" in m.re.groupindex and m.group("month"):
        return int(m.group("month"))
    for key, value in m.groupdict().items():
        if key.startswith("m") and key[1:].isdigit() and value:
            return int(key[1:])
    return None


def find_dates(norm: str) -> list[DateMention]:
    """Date mentions in a (normalised) piece of text, in order, not overlapping."""
    found: list[DateMention] = []
    taken: list[tuple[int, int]] = []

    def free(a: int, b: int) -> bool:
        return all(b <= x or a >= y for x, y in taken)

    for pattern in _patterns():
        for m in pattern.finditer(norm):
            if not free(m.start(), m.end()):
                continue
            month = _month_of(m)
            day = int(m.group("day"))
            if month is None or not (1 <= month <= 12 and 1 <= day <= 31):
                continue
            year = int(m.group("year")) if m.groupdict().get("year") else None
            if year is None:
                before = _YEAR_BEFORE.search(norm[max(0, m.start() - 16) : m.start()])
                if before:
                    year = int(before.group(1))
            found.append(DateMention(m.start(), m.end(), m.group(0), year, month, day))
            taken.append((m.start(), m.end()))
    words = lexicon.date_words()
    for offset, pattern in words["relative"]:
        for m in pattern.finditer(norm):
            if free(m.start(), m.end()):
                found.append(DateMention(m.start(), m.end(), m.group(0), None, None, None, offset))
                taken.append((m.start(), m.end()))
    for weekday, pattern in words["weekdays"]:
        for m in pattern.finditer(norm):
            if free(m.start(), m.end()):
                found.append(
                    DateMention(m.start(), m.end(), m.group(0), None, None, None, None, weekday)
                )
                taken.append((m.start(), m.end()))
    return sorted(found, key=lambda d: d.start)


def years_named(norm: str) -> list[int]:
    """Years a text names as years ("2016 жылы", "в 2019 году", "in 2022")."""
    return [int(a or b) for a, b in _YEAR_ANY.findall(norm)]


def resolve(
    mention: DateMention, published: dt.date | None, context_year: int | None = None
) -> dt.date | None:
    """The calendar day a mention means, or None when it cannot be known."""
    if mention.offset_days is not None:
        return published + dt.timedelta(days=mention.offset_days) if published else None
    if mention.weekday is not None:
        if published is None:
            return None
        back = (published.isoweekday() - mention.weekday) % 7
        return published - dt.timedelta(days=back)
    assert mention.month is not None and mention.day is not None
    year = mention.year
    if year is None and published is not None:
        year = published.year
        try:
            candidate = dt.date(year, mention.month, mention.day)
        except ValueError:
            return None
        # a day-and-month later than publication (with a day's slack) was last year's
        if candidate > published + dt.timedelta(days=1):
            year -= 1
    if year is None:
        year = context_year
    if year is None:
        return None
    try:
        return dt.date(year, mention.month, mention.day)
    except ValueError:
        return None


def partial_iso(mention: DateMention) -> str | None:
    """ISO 8601 form of what is known of a date without its year ("--05-09")."""
    if mention.month and mention.day:
        return f"--{mention.month:02d}-{mention.day:02d}"
    return None


def parse_published(value: str) -> dt.date:
    """A publication date given by a person: ISO first, else any format dateparser knows."""
    value = value.strip()
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        pass
    import dateparser  # loaded only when needed: it is slow to import

    parsed = dateparser.parse(
        value,
        languages=["en", "ru", "kk", "ar"],
        settings={"PREFER_DAY_OF_MONTH": "first", "RETURN_AS_TIMEZONE_AWARE": False},
    )
    if parsed is None:
        raise ValueError(f"not a date: {value!r} (use YYYY-MM-DD)")
    return parsed.date()
