"""The readable word lists in ``lexicon/*.toml``, compiled into matchers.

Phrases are written as stems (see the head of ``cues.toml``). All matching runs on the
normalised text (``text.normalise``), and the lexicon is normalised the same way, so "ё" and
"е" or the Arabic alef forms need not be listed twice.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from ashyq.claims.text import normalise

_ARABIC = re.compile(r"[\u0600-\u06FF]")
_CYRILLIC = re.compile(r"[\u0400-\u04FF]")
# Arabic words take clitics in front: "و" and, "ب" by, "ل" for, "ف" so, "ال" the.
_AR_PREFIX = r"(?:[وفبلك]?(?:ال)?)?"
_BOUNDARY = r"(?<!\w)"

# Endings a Cyrillic place name takes, as morphs that chain: Kazakh case, plural, possessive
# and derivation suffixes ("Қарағанды-ға", "Ақтөбе-дегі", "облыс-ы-нда"), Russian declension
# and the adjective of a place ("Атырау-ской", "Караганд-ин-ской"). Up to three may follow a
# name: "Қарағанд-ы-дағы", "Шымкент-тік-тер".
_KK_MORPHS = (
    "а е ы і у н ға ге қа ке на не да де та те нда нде ғы гі қы кі дан ден тан тен нан нен "
    "дың дің тың тің ның нің ды ді ты ті ны ні мен бен пен лық лік дық дік тық тік лар лер "
    "дар дер тар тер сы сі ын ін сын сін ша ше"
)
_RU_MORPHS = (
    "о и й ю я ь ом ой ым ем ей ях ям ам ами ями ах ск ский ская ской ском скую ского ских ские "
    "ским ин ов ев ец цы ца цев ого ому ое ая ую ий ые ых"
)
_MORPHS = sorted(set((_KK_MORPHS + " " + _RU_MORPHS).split()), key=len, reverse=True)
INFLECTION = "(?:" + "|".join(_MORPHS) + "){0,3}"


def load(name: str) -> dict[str, Any]:
    """One lexicon file as data."""
    data = resources.files("ashyq.claims").joinpath("lexicon", f"{name}.toml").read_bytes()
    return tomllib.loads(data.decode("utf-8"))


def _word_regex(
    word: str, last: bool, alias: bool, short: bool = False, inflect: bool = False
) -> str:
    exact = word.endswith("=")
    word = word.rstrip("=")
    body = re.escape(normalise(word)).replace(r"\-", r"[\s\-]?")
    if exact:
        return body + r"(?!\w)"
    if not last and not alias:
        return body + r"\w*"
    if alias:
        if _ARABIC.search(word):
            return body + r"\w{0,3}(?!\w)"
        if _CYRILLIC.search(word):
            if not last:
                return body + r"\w{0,6}"
            if short:
                return body + r"(?!\w)"
            if inflect:
                # a final vowel or "й" is an ending itself: "Костанай" → "Костанае",
                # "Караганда" → "Караганде"
                if len(body) > 4 and body[-1] in "аяйь":
                    body = body[:-1]
                return body + INFLECTION + r"(?!\w)"
            return body + r"\w{0,6}(?!\w)"
        return body + r"s?(?!\w)"  # Latin names: the word itself, or a plural
    return body + r"\w*"


def phrase_regex(phrase: str, alias: bool = False, inflect: bool = False) -> str:
    """Regex source for one lexicon phrase (stems separated by spaces, "~" for a gap)."""
    words = phrase.split()
    parts: list[str] = []
    for i, word in enumerate(words):
        if word == "~":
            parts.append(r"(?:\s+\S+){0,2}?")
            continue
        sep = r"[\s\-]+" if parts and parts[-1] != r"(?:\s+\S+){0,2}?" else ""
        if parts and parts[-1] == r"(?:\s+\S+){0,2}?":
            sep = r"\s+"
        last = i == len(words) - 1
        short = len(phrase.rstrip("=")) < 4
        parts.append(sep + _word_regex(word, last, alias, short=short, inflect=inflect))
    head = _AR_PREFIX if _ARABIC.match(phrase) else ""
    return r"(?<!\w)" + head + "".join(parts)


def _first_chars(phrases: list[str]) -> str:
    """A character class of the letters phrases can start with (both cases), or "" if any
    phrase may start with an Arabic clitic."""
    chars: set[str] = set()
    for p in phrases:
        first = normalise(p)[0]
        if _ARABIC.match(first):
            chars.update("وفبلكا")
        chars.update({first, first.lower(), first.upper()})
    return "[" + "".join(re.escape(c) for c in sorted(chars)) + "]"


def compile_phrases(
    phrases: list[str], alias: bool = False, case_sensitive: bool = False, inflect: bool = False
) -> re.Pattern[str]:
    """One pattern finding any of the phrases, longest phrases tried first."""
    ordered = sorted(set(phrases), key=len, reverse=True)
    if not ordered:
        return re.compile(r"(?!x)x")
    flags = 0 if case_sensitive else re.IGNORECASE
    # the word boundary and a look at the first letter once, before trying every phrase
    cut = len(_BOUNDARY)
    bodies = "|".join(f"(?:{phrase_regex(p, alias, inflect)[cut:]})" for p in ordered)
    return re.compile(rf"(?<!\w)(?={_first_chars(ordered)})(?:{bodies})", flags)


@dataclass(frozen=True, slots=True)
class Entity:
    """A named thing with the pattern that finds it."""

    name: str
    kind: str  # platform | outlet | generic | city | region | country
    pattern: re.Pattern[str]
    domains: tuple[str, ...] = ()
    exact_pattern: re.Pattern[str] | None = None  # case-sensitive aliases


@cache
def platforms() -> tuple[Entity, ...]:
    out = []
    for name, entry in load("platforms").items():
        out.append(
            Entity(
                name=name,
                kind=entry.get("kind", "platform"),
                pattern=compile_phrases(entry["aliases"], alias=True),
                domains=tuple(entry.get("domains", ())),
            )
        )
    return tuple(out)


@cache
def networks() -> tuple[Entity, ...]:
    """Internet providers; ``domains`` holds their AS numbers."""
    return tuple(
        Entity(name, "network", compile_phrases(e["aliases"], alias=True), tuple(e["asns"]))
        for name, e in load("networks").items()
    )


@cache
def platform_domains() -> dict[str, tuple[str, ...]]:
    """Canonical platform name → the domains measurements of it use."""
    return {e.name: e.domains for e in platforms()}


@cache
def places() -> tuple[Entity, ...]:
    data = load("places")
    exact = set(data.get("exact_case", []))
    out = []
    for city, entry in data["cities"].items():
        loose = [a for a in entry["aliases"] if a not in {x.lower() for x in exact}]
        strict = [x for x in exact if x.lower() in entry["aliases"]]
        out.append(
            Entity(
                name=city,
                kind="city",
                pattern=compile_phrases(loose, alias=True, inflect=True),
                exact_pattern=compile_phrases(strict, alias=True, case_sensitive=True, inflect=True)
                if strict
                else None,
            )
        )
    for region, aliases in data.get("named_regions", {}).items():
        out.append(Entity(region, "region", compile_phrases(aliases, alias=True, inflect=True)))
    return tuple(out)


@cache
def foreign() -> re.Pattern[str]:
    """Another country named as where something happened."""
    return compile_phrases(list(load("places").get("foreign", {}).get("aliases", [])), alias=True)


@cache
def region_of_city() -> dict[str, str]:
    return dict(load("places").get("regions", {}))


@cache
def region_word() -> re.Pattern[str]:
    words = load("places")["region_words"]
    return re.compile(r"^[\s\-,]*(?:" + "|".join(phrase_regex(w) for w in words) + ")", re.I)


@cache
def region_word_before() -> re.Pattern[str]:
    """A word for region written before the name (Arabic "منطقة مانغيستاو")."""
    words = load("places").get("region_words_before", [])
    if not words:
        return re.compile(r"(?!x)x")
    return re.compile("(?:" + "|".join(phrase_regex(w) for w in words) + r")\s*$", re.I)


@cache
def country() -> dict[str, Any]:
    return dict(load("places")["country"])


@cache
def cues() -> dict[str, dict[str, re.Pattern[str]]]:
    """Cue patterns: cues()[kind][strength], e.g. cues()["blocking"]["strong"]."""
    out: dict[str, dict[str, re.Pattern[str]]] = {}
    for kind, groups in load("cues").items():
        out[kind] = {g: compile_phrases(list(words)) for g, words in groups.items()}
    return out


@cache
def explanations() -> tuple[tuple[str, re.Pattern[str]], ...]:
    return tuple((name, compile_phrases(p)) for name, p in load("explanations").items())


@cache
def date_words() -> dict[str, Any]:
    data = load("dates")
    months = tuple((int(k), compile_phrases(v)) for k, v in data["months"].items())
    relative = tuple((int(k), compile_phrases(v)) for k, v in data["relative"].items())
    weekdays = tuple((int(k), compile_phrases(v)) for k, v in data["weekdays"].items())
    return {"months": months, "relative": relative, "weekdays": weekdays}
