"""Text handling for reports: HTML to text with offsets, matching normalisation, sentences.

Nothing here runs or loads anything from the document: HTML is read as characters, tags are
dropped, the contents of script, style and similar elements are skipped, and character
references are decoded. Every character of the produced text remembers where it came from in
the original, so evidence can point into the original document.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

MAX_REPORT_CHARS = 2_000_000  # a news report is far smaller; larger input is refused

# Elements whose content is never text a reader sees.
_SKIP_ELEMENTS = ("script", "style", "noscript", "template", "iframe", "object", "svg", "head")
# Elements that end a line of text.
_BLOCK_TAG = re.compile(
    r"</?(p|div|br|li|ul|ol|h[1-6]|tr|td|th|table|section|article|header|footer|blockquote|"
    r"title|pre|hr|dd|dt|figcaption|main|aside|nav)\b",
    re.IGNORECASE,
)
_TAG_START = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9:-]*)|<!--|<!|<\?")
_ENTITY = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z][a-zA-Z0-9]{1,31});?")
_HTML_SNIFF = re.compile(
    r"<(!doctype|html|head|body|p|div|article|span|br|meta|title|h[1-6]|script)\b", re.I
)


class ReportTooLarge(ValueError):
    """The input is larger than any news report: refused rather than processed."""


@dataclass(frozen=True, slots=True)
class Document:
    """Readable text of a report, with the span in the original of each character."""

    text: str
    starts: tuple[int, ...]  # original offset where text[i] came from
    ends: tuple[int, ...]  # original offset just after it
    original_length: int
    is_html: bool

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Offsets in the original of text[start:end]."""
        if not self.text or start >= end:
            return (0, 0)
        return self.starts[start], self.ends[end - 1]


def looks_like_html(raw: str) -> bool:
    return bool(_HTML_SNIFF.search(raw[:4000]))


def plain_document(raw: str) -> Document:
    if len(raw) > MAX_REPORT_CHARS:
        raise ReportTooLarge(
            f"too large for a report: {len(raw)} characters (limit {MAX_REPORT_CHARS})"
        )
    n = len(raw)
    return Document(raw, tuple(range(n)), tuple(range(1, n + 1)), n, False)


def html_document(raw: str) -> Document:
    """Readable text of an HTML page (tags dropped, scripts and styles skipped)."""
    if len(raw) > MAX_REPORT_CHARS:
        raise ReportTooLarge(
            f"too large for a report: {len(raw)} characters (limit {MAX_REPORT_CHARS})"
        )
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []

    def emit_text(a: int, b: int) -> None:
        pos = a
        for m in _ENTITY.finditer(raw, a, b):
            for i in range(pos, m.start()):
                out.append(raw[i])
                starts.append(i)
                ends.append(i + 1)
            decoded = html.unescape(m.group(0))
            for ch in decoded:
                # control characters from hostile references are dropped
                if ch == "\x00" or (ord(ch) < 32 and ch not in "\n\t"):
                    continue
                out.append(ch)
                starts.append(m.start())
                ends.append(m.end())
            pos = m.end()
        for i in range(pos, b):
            out.append(raw[i])
            starts.append(i)
            ends.append(i + 1)

    def emit_break(at: int) -> None:
        out.append("\n")
        starts.append(at)
        ends.append(at)

    i = 0
    n = len(raw)
    while i < n:
        lt = raw.find("<", i)
        if lt < 0:
            emit_text(i, n)
            break
        m = _TAG_START.match(raw, lt)
        if m is None:  # a lone "<" is text
            emit_text(i, lt + 1)
            i = lt + 1
            continue
        emit_text(i, lt)
        token = m.group(0)
        if token == "<!--":
            close = raw.find("-->", lt + 4)
            i = n if close < 0 else close + 3
            continue
        close = raw.find(">", m.end())
        tag_end = n if close < 0 else close + 1
        name = (m.group(2) or "").lower()
        if m.group(1) == "" and name in _SKIP_ELEMENTS:
            closing = re.compile(rf"</{name}\s*>", re.IGNORECASE).search(raw, tag_end)
            i = n if closing is None else closing.end()
            emit_break(lt)
            continue
        if _BLOCK_TAG.match(raw, lt):
            emit_break(lt)
        i = tag_end
    return Document("".join(out), tuple(starts), tuple(ends), n, True)


def to_document(raw: str, force_html: bool | None = None) -> Document:
    is_html = looks_like_html(raw) if force_html is None else force_html
    return html_document(raw) if is_html else plain_document(raw)


_META_DATE = re.compile(
    r"""<meta\b[^>]*?(?:property|name|itemprop)\s*=\s*["']?(?:article:published_time|"""
    r"""datePublished|pubdate|publishdate|date|dc\.date)["']?[^>]*?content\s*=\s*["']"""
    r"""(\d{4}-\d{2}-\d{2})""",
    re.IGNORECASE,
)
_META_DATE_REVERSED = re.compile(
    r"""<meta\b[^>]*?content\s*=\s*["'](\d{4}-\d{2}-\d{2})[^"']*["'][^>]*?(?:property|name)\s*"""
    r"""=\s*["']?(?:article:published_time|datePublished|pubdate|date)""",
    re.IGNORECASE,
)
_TIME_TAG = re.compile(r"<time\b[^>]*datetime\s*=\s*[\"'](\d{4}-\d{2}-\d{2})", re.IGNORECASE)


def html_published_date(raw: str) -> str | None:
    """The publication date an HTML page declares in its metadata, if any (YYYY-MM-DD)."""
    head = raw[:200_000]
    for pattern in (_META_DATE, _META_DATE_REVERSED, _TIME_TAG):
        m = pattern.search(head)
        if m:
            return m.group(1)
    return None


# --- normalisation for matching (same length as the input, so offsets are shared) --------

_NORMALISE = str.maketrans(
    {
        "ё": "е",
        "Ё": "Е",
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ى": "ي",
        "ة": "ه",
        "’": "'",
        "ʼ": "'",
        "‘": "'",
        "\u00a0": " ",
        "‐": "-",
        "‑": "-",
        "–": "-",
        **{chr(0x0660 + d): str(d) for d in range(10)},  # Arabic-Indic digits
        **{chr(0x06F0 + d): str(d) for d in range(10)},  # Eastern Arabic-Indic digits
    }
)


def normalise(text: str) -> str:
    """A same-length copy of text for matching: ё→е, Arabic alef/ya/ta marbuta forms, digits."""
    out = text.translate(_NORMALISE)
    assert len(out) == len(text)
    return out


# --- sentences ----------------------------------------------------------------------------

_SENTENCE_END = re.compile(r"[.!?؟…]+[\"»”')\]]*(?=\s)|\n+|[;؛](?=\s*\n)")
_ABBREVIATION = re.compile(
    r"(?:^|\s)(?:г|гг|ул|им|обл|тел|ж|млн|млрд|тыс|mr|mrs|dr|st|vs|etc|no|e\.g|i\.e|т\.е|т\.б)\.$",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Sentence:
    index: int
    start: int  # offsets into Document.text
    end: int
    text: str


def split_sentences(text: str) -> list[Sentence]:
    """Sentences and headline lines, with their offsets; blank pieces are dropped."""
    pieces: list[tuple[int, int]] = []
    pos = 0
    for m in _SENTENCE_END.finditer(text):
        end = m.end()
        if "\n" not in m.group(0) and _ABBREVIATION.search(text[max(pos, end - 6) : end]):
            continue
        pieces.append((pos, end))
        pos = end
    pieces.append((pos, len(text)))
    out: list[Sentence] = []
    for a, b in pieces:
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if b > a and any(ch.isalnum() for ch in text[a:b]):
            out.append(Sentence(len(out), a, b, text[a:b]))
    return out
