"""Interface languages: English, Kazakh and Russian message catalogs (``locales/*.json``).

A catalog maps a message key to a text with ``{name}`` placeholders. A key missing from a
catalog falls back to English, then to the key itself, so a page never breaks on a gap.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

LANGUAGES: tuple[str, ...] = ("en", "kk", "ru")
DEFAULT_LANGUAGE = "en"
LANGUAGE_NAMES = {"en": "English", "kk": "Қазақша", "ru": "Русский"}


@cache
def catalog(lang: str) -> dict[str, str]:
    """The message catalog of one language (empty for an unknown language)."""
    if lang not in LANGUAGES:
        return {}
    text = resources.files("ashyq.web").joinpath("locales", f"{lang}.json").read_text("utf-8")
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError(f"catalog {lang}.json is not an object")
    return {str(k): str(v) for k, v in data.items()}


def translate(lang: str, key: str, **values: object) -> str:
    """The text of ``key`` in ``lang``, with ``{name}`` placeholders filled from ``values``."""
    text = catalog(lang).get(key) or catalog(DEFAULT_LANGUAGE).get(key) or key
    if values:
        try:
            return text.format(**values)
        except (KeyError, IndexError, ValueError):
            return text
    return text


def parse_accept_language(header: str | None) -> list[str]:
    """Primary language tags of an Accept-Language header, best first ("kk-KZ" -> "kk")."""
    if not header:
        return []
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        piece = part.strip()
        if not piece:
            continue
        tag, _, params = piece.partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary and quality > 0:
            ranked.append((-quality, index, primary))
    ranked.sort()
    return [tag for _, _, tag in ranked]


def choose_language(query: str | None, cookie: str | None, accept: str | None) -> str:
    """``?lang=`` first, then the remembered choice, then Accept-Language, then English."""
    for candidate in (query, cookie):
        if candidate in LANGUAGES:
            return str(candidate)
    for tag in parse_accept_language(accept):
        if tag in LANGUAGES:
            return tag
    return DEFAULT_LANGUAGE
