"""Blockpage and DNS fingerprints, loaded from CSV files the user can update.

The format is OONI's (github.com/ooni/blocking-fingerprints): columns ``name, scope,
other_names, location_found, pattern_type, pattern, confidence_no_fp, expected_countries,
source, exp_url, notes``. ``location_found`` is ``dns`` (an answer address or name), ``body``, or
``header.<name>``; ``pattern_type`` is ``full``, ``prefix``, ``contains`` or ``regexp``. Rows
with scope ``fp`` describe known *false positives* (pages that look odd but are not censorship);
they are used as guards, never as evidence of blocking.

Where fingerprints come from, in order: ``--fingerprints DIR`` (or a file), else
``$ASHYQ_FINGERPRINTS`` (directories or files separated by ``os.pathsep``), else
``<data dir>/fingerprints`` (``$ASHYQ_DATA`` or ``~/.local/share/ashyq``) if it exists; plus
the project's own ``data/fingerprints/`` (Kazakh fingerprints written for ashyq) when it is
present beside the package. OONI's files are not shipped inside the package: download them
from the repository above into a directory and point ashyq to it.

Everything is compiled once: DNS patterns into a dict, header patterns per header name, body
``contains`` patterns into one Aho-Corasick automaton over UTF-8 bytes (``ahocorasick-rs``)
together with the literal text each regular expression needs, so that one pass over a body
finds the patterns and tells which regular expressions are worth running. Without that
package, ``pyahocorasick`` or one prefix-tree regular expression does the same, slower. The
results of recent body scans are remembered (blockpages recur byte for byte).
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: scope -> how sure a match makes us (fingerprints of national/ISP blockpages are confirmations)
SCOPE_CONFIDENCE = {
    "nat": 1.0,
    "isp": 1.0,
    "injb": 1.0,
    "prod": 0.9,
    "inst": 0.9,
    "vbw": 0.9,
    "prov": 0.9,
}
BODY_SCAN_LIMIT = 16 * 1024  # blockpages are small; their markers sit near the top
SCAN_CACHE_SIZE = 256  # recent body scans remembered (at most 16 Ki characters each)
PROJECT_FINGERPRINTS = Path(__file__).resolve().parents[3] / "data" / "fingerprints"

try:  # an Aho-Corasick automaton finds any of 1,300 patterns in one pass over the body
    import ahocorasick as _ahocorasick
except ImportError:  # pragma: no cover - the regular expression below is the fallback
    _ahocorasick = None
try:  # the same in Rust over UTF-8 bytes: three to five times faster still
    import ahocorasick_rs as _ahocorasick_rs
except ImportError:  # pragma: no cover - pyahocorasick (or the regular expression) instead
    _ahocorasick_rs = None


@dataclass(frozen=True, slots=True)
class Fingerprint:
    name: str
    scope: str
    location: str  # "dns", "body", "header.location"...
    pattern_type: str  # "full", "prefix", "contains", "regexp"
    pattern: str
    countries: tuple[str, ...] = ()
    source: str = ""
    notes: str = ""
    confidence_no_fp: int = 10  # OONI's 0-10 score of how free of false positives it is

    @property
    def false_positive(self) -> bool:
        return self.scope == "fp"

    @property
    def confirmed(self) -> bool:
        """A specific fingerprint (score 8 or more): its match is a confirmation."""
        return self.confidence_no_fp >= 8

    @property
    def confidence(self) -> float:
        base = SCOPE_CONFIDENCE.get(self.scope, 0.8)
        return round(base * (0.6 + 0.4 * min(self.confidence_no_fp, 10) / 10), 3)

    def applies_to(self, cc: str | None) -> bool:
        return not self.countries or (cc or "") in self.countries


@dataclass
class FingerprintDB:
    """A compiled set of fingerprints; ``match_dns`` and ``match_http`` are the hot paths."""

    dns_full: dict[str, Fingerprint] = field(default_factory=dict)
    dns_other: list[Fingerprint] = field(default_factory=list)
    body_contains: dict[str, Fingerprint] = field(default_factory=dict)
    body_full: dict[str, Fingerprint] = field(default_factory=dict)
    body_regexps: list[tuple[re.Pattern[str], Fingerprint]] = field(default_factory=list)
    headers: dict[str, list[Fingerprint]] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    _body_re: re.Pattern[str] | None = None
    _body_ac: Any = None
    count: int = 0
    #: scans of recent bodies: blockpages (and many sites' pages) recur byte for byte
    scan_cache_size: int = SCAN_CACHE_SIZE  # 0: scan every body afresh
    use_rs: bool = True  # False: the pure-Python scan (pyahocorasick or regular expressions)
    _rs: Any = field(default=None, repr=False, compare=False)
    _scan_cache: dict[tuple[str, str | None], Fingerprint | None] = field(
        default_factory=dict, repr=False, compare=False
    )

    def add(self, fp: Fingerprint) -> None:
        self.count += 1
        loc = fp.location
        if loc == "dns":
            if fp.pattern_type == "full":
                self.dns_full.setdefault(fp.pattern.strip().lower(), fp)
            else:
                self.dns_other.append(fp)
        elif loc == "body":
            if fp.pattern_type == "contains":
                self.body_contains.setdefault(fp.pattern, fp)
            elif fp.pattern_type == "full":
                self.body_full.setdefault(fp.pattern, fp)
            elif fp.pattern_type == "regexp":
                self.body_regexps.append((re.compile(fp.pattern), fp))
            elif fp.pattern_type == "prefix":
                self.body_regexps.append((re.compile(re.escape(fp.pattern)), fp))
        elif loc.startswith("header."):
            self.headers.setdefault(loc[7:].lower(), []).append(fp)
        self._body_re = None
        self._body_ac = None
        self._rs = None
        self._scan_cache.clear()

    def _scan_rs(self, text: str, cc: str | None) -> Fingerprint | None:
        """One pass over the UTF-8 bytes finds the ``contains`` patterns and the literal every
        regular expression needs (its anchor); only regular expressions whose anchor is in
        the body (or that have none) are run. Same answers as the pure-Python path."""
        if self._rs is None:
            words = list(self.body_contains)
            index = {w: i for i, w in enumerate(words)}
            anchors = []
            for rx, fp in self.body_regexps:
                a = fp.pattern if fp.pattern_type == "prefix" else regex_anchor(rx.pattern)
                if a and len(a) >= 3:
                    if a not in index:
                        index[a] = len(words)
                        words.append(a)
                    anchors.append(index[a])
                else:
                    anchors.append(-1)
            ac = (
                _ahocorasick_rs.BytesAhoCorasick(
                    [w.encode("utf-8", "surrogatepass") for w in words],
                    implementation=_ahocorasick_rs.Implementation.ContiguousNFA,
                )
                if words
                else None
            )
            self._rs = (ac, words, anchors, len(self.body_contains))
        ac, words, anchors, n_contains = self._rs
        seen: set[int] = set()
        if ac is not None:
            data = text.encode("utf-8", "surrogatepass")
            for i, _start, _end in ac.find_matches_as_indexes(data, overlapping=True):
                seen.add(i)
                if i < n_contains:
                    fp = self.body_contains[words[i]]
                    if fp.applies_to(cc):
                        return fp
        for (rx, fp), a in zip(self.body_regexps, anchors, strict=True):
            if (a < 0 or a in seen) and fp.applies_to(cc) and rx.search(text):
                return fp
        return None

    def _body_contains_match(self, text: str, cc: str | None) -> Fingerprint | None:
        if not self.body_contains:
            return None
        if _ahocorasick is not None:
            if self._body_ac is None:
                ac = _ahocorasick.Automaton()
                for pat in self.body_contains:
                    ac.add_word(pat, pat)
                ac.make_automaton()
                self._body_ac = ac
            for _end, pat in self._body_ac.iter(text):
                fp = self.body_contains.get(pat)
                if fp is not None and fp.applies_to(cc):
                    return fp
            return None
        rx = self._compiled_body()
        pos = 0
        while rx is not None:
            m = rx.search(text, pos)
            if m is None:
                return None
            fp = self.body_contains.get(m.group(0))
            if fp is not None and fp.applies_to(cc):
                return fp
            pos = m.start() + 1
        return None

    def _compiled_body(self) -> re.Pattern[str] | None:
        if self._body_re is None and self.body_contains:
            self._body_re = re.compile(trie_regex(self.body_contains))
        return self._body_re

    def match_dns(self, answers: Iterable[str], cc: str | None = None) -> Fingerprint | None:
        """The first fingerprint matching a DNS answer (for the probe's country ``cc``)."""
        answers = [a for a in answers if isinstance(a, str)]
        for a in answers:
            fp = self.dns_full.get(a.lower())
            if fp is not None and fp.applies_to(cc):
                return fp
        for fp in self.dns_other:
            if fp.applies_to(cc) and any(_match(fp.pattern_type, fp.pattern, a) for a in answers):
                return fp
        return None

    def match_http(
        self, body: str | None, headers: dict[str, str] | None, cc: str | None = None
    ) -> Fingerprint | None:
        """The first fingerprint matching the response (header fingerprints first)."""
        fp = self.match_http_headers(headers, cc) if headers else None
        if fp is None and body:
            fp = self.match_http_body(body, cc)
        return fp

    def match_http_headers(
        self, headers: dict[str, str] | None, cc: str | None = None
    ) -> Fingerprint | None:
        """The first header fingerprint matching the response's headers (cheap: look-ups)."""
        if not headers or not self.headers:
            return None
        for hname, value in headers.items():
            fps = self.headers.get(hname.lower())
            if not fps or not isinstance(value, str):
                continue
            for fp in fps:
                if fp.applies_to(cc) and _match(fp.pattern_type, fp.pattern, value):
                    return fp
        return None

    def match_http_body(self, body: str | None, cc: str | None = None) -> Fingerprint | None:
        """The first body fingerprint found in the first ``BODY_SCAN_LIMIT`` characters."""
        if not body:
            return None
        if self.body_full:
            fp = self.body_full.get(body)
            if fp is not None and fp.applies_to(cc):
                return fp
        chunk = body[:BODY_SCAN_LIMIT]
        key = (chunk, cc)
        cache = self._scan_cache
        if key in cache:
            return cache[key]
        size = self.scan_cache_size
        if _ahocorasick_rs is not None and self.use_rs:
            found = self._scan_rs(chunk, cc)
        else:
            found = self._body_contains_match(chunk, cc)
            if found is None:
                for rx2, fp in self.body_regexps:
                    if fp.applies_to(cc) and rx2.search(chunk):
                        found = fp
                        break
        if size > 0:
            if len(cache) >= size:
                cache.clear()  # bounded memory; recurring pages come back quickly
            cache[key] = found
        return found


_REGEX_META = frozenset(".^$*+?{}[]|()")


def regex_anchor(pattern: str) -> str | None:
    """The longest literal text every match of ``pattern`` must contain, or None.

    Conservative: patterns with alternation, inline flags or quantified groups get None (they
    are always run). Character classes, escapes such as \\d and optional characters end a run
    of literal text.
    """
    if "|" in pattern or "(?" in pattern or re.search(r"\)[*?{]", pattern):
        return None
    best, run = "", []
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        lit: str | None
        if ch == "\\":
            nxt = pattern[i + 1] if i + 1 < n else ""
            lit = nxt if nxt and not nxt.isalnum() else None
            i += 2
        elif ch == "[":
            j = i + 1
            if j < n and pattern[j] == "^":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1
            while j < n and pattern[j] != "]":
                j += 2 if pattern[j] == "\\" else 1
            lit, i = None, j + 1
        elif ch == "{":  # a counted repetition: its digits are not text
            j = pattern.find("}", i)
            lit, i = None, (j + 1 if j >= 0 else n)
        elif ch in _REGEX_META:
            lit, i = None, i + 1
        else:
            lit, i = ch, i + 1
        if lit is not None and i < n and pattern[i] in "*?{":
            lit = None  # an optional character
        if lit is None:
            if len(run) > len(best):
                best = "".join(run)
            run = []
        else:
            run.append(lit)
    if len(run) > len(best):
        best = "".join(run)
    return best or None


def trie_regex(words: Iterable[str]) -> str:
    """One regular expression finding any of ``words``, shaped as a prefix tree.

    Python's ``re`` tries the branches of a plain alternation one by one at every position;
    as a tree, each position costs one step per character that still matches some word. A
    word that is a prefix of another ends the match there, so the text matched is always one
    of the words (used to look the fingerprint up).
    """
    trie: dict[str, Any] = {}
    for w in words:
        if not w:
            continue
        node = trie
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str | None:
        if "" in node:
            return None  # a whole word ends here: stop, it is a match
        alts: list[str] = []
        singles: list[str] = []
        for ch in sorted(node):
            sub = build(node[ch])
            if sub is None:
                singles.append(ch)
            else:
                alts.append(re.escape(ch) + sub)
        if singles:
            alts.append(
                re.escape(singles[0])
                if len(singles) == 1
                else "[" + "".join(re.escape(c) for c in singles) + "]"
            )
        return alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"

    return build(trie) or ""


def _match(kind: str, pattern: str, value: str) -> bool:
    if kind == "full":
        return value == pattern
    if kind == "prefix":
        return value.startswith(pattern)
    if kind == "contains":
        return pattern in value
    if kind == "regexp":
        try:
            return re.search(pattern, value) is not None
        except re.error:
            return False
    return False


REQUIRED = ("name", "location_found", "pattern_type", "pattern")


def parse_csv(text: str, source: str, db: FingerprintDB) -> None:
    """Add the rows of one fingerprint CSV to ``db``; bad rows are recorded in ``db.errors``."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in REQUIRED if c not in (reader.fieldnames or ())]
    if missing:
        db.errors.append(f"{source}: not a fingerprint file (missing columns {', '.join(missing)})")
        return
    for lineno, row in enumerate(reader, start=2):
        name = (row.get("name") or "").strip()
        loc = (row.get("location_found") or "").strip().lower()
        kind = (row.get("pattern_type") or "").strip().lower()
        pattern = row.get("pattern") or ""
        if not name or not pattern or kind not in ("full", "prefix", "contains", "regexp"):
            db.errors.append(f"{source}:{lineno}: incomplete or unknown fingerprint row")
            continue
        if not (loc == "dns" or loc == "body" or loc.startswith("header.")):
            db.errors.append(f"{source}:{lineno}: unknown location_found {loc!r}")
            continue
        if kind == "regexp":
            try:
                re.compile(pattern)
            except re.error as exc:
                db.errors.append(f"{source}:{lineno}: bad regular expression ({exc})")
                continue
        try:
            cnf = int((row.get("confidence_no_fp") or "10").strip())
        except ValueError:
            cnf = 5
        countries = tuple(
            c.strip().upper() for c in (row.get("expected_countries") or "").split(",") if c.strip()
        )
        db.add(
            Fingerprint(
                name=name,
                scope=(row.get("scope") or "").strip().lower(),
                location=loc,
                pattern_type=kind,
                pattern=pattern,
                countries=countries,
                source=(row.get("source") or "").strip(),
                notes=(row.get("notes") or "").strip(),
                confidence_no_fp=cnf,
            )
        )


def load_fingerprints(paths: Sequence[str | Path]) -> FingerprintDB:
    """Load every ``*.csv`` in the given directories (or the given files)."""
    db = FingerprintDB()
    for p in paths:
        path = Path(p)
        if path.is_dir():
            files = sorted(path.glob("*.csv"))
        elif path.is_file():
            files = [path]
        else:
            db.errors.append(f"{path}: no such fingerprint file or directory")
            continue
        for f in files:
            try:
                text = f.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                db.errors.append(f"{f}: cannot read ({exc})")
                continue
            parse_csv(text, str(f), db)
            db.sources.append(str(f))
    return db


def fingerprint_paths(explicit: Sequence[str | Path] | None = None) -> list[Path]:
    """Where to load fingerprints from: explicit paths, else $ASHYQ_FINGERPRINTS; plus ours."""
    chosen: list[Path] = [Path(p) for p in explicit or ()]
    if not chosen:
        env = os.environ.get("ASHYQ_FINGERPRINTS", "")
        chosen = [Path(p) for p in env.split(os.pathsep) if p.strip()]
    if not chosen:
        from ashyq.paths import default_data_dir

        user = default_data_dir() / "fingerprints"  # e.g. ~/.local/share/ashyq/fingerprints
        if user.is_dir():
            chosen = [user]
    if PROJECT_FINGERPRINTS.is_dir() and all(
        p.resolve() != PROJECT_FINGERPRINTS for p in chosen if p.exists()
    ):
        chosen.append(PROJECT_FINGERPRINTS)
    return chosen


_DEFAULT: FingerprintDB | None = None


def default_fingerprints() -> FingerprintDB:
    """Fingerprints from $ASHYQ_FINGERPRINTS and the project's own, loaded once."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = load_fingerprints(fingerprint_paths())
    return _DEFAULT
