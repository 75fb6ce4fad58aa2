"""Claims from a news report: pure functions from text (and a publication date) to claims.

How a report is read
1. The text is split into sentences (and headline lines). Each sentence is searched for
   targets (domains, platforms, outlets, the internet itself), cues (what happened: blocking,
   throttling, outage — or that a target still works), places, dates, official explanations.
2. A sentence is cut into clauses at words of contrast ("but", "а", "ал", "بينما", ";"). In a
   clause with cues of one polarity every target shares it; where a clause mixes "blocked" and
   "works", it is cut again at commas and "and", and each part keeps its own cue.
3. A sentence with affected targets gives one claim per kind. Sentences close together with
   the same kind, a compatible date and compatible places become one claim; targets said to
   still work go to the claim of their sentence or the nearest one.
4. The date is the sentence's own (resolved against publication), else the date of the claim
   before it in the report, else the publication date, each recorded in ``date_source``.
Only a named target makes a claim: "sites were blocked" alone is too vague to check, unless
the words point back ("these sites", "бұл сайттар", "эти ресурсы") to targets of the sentence
before, which they then stand for.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from functools import cache

from ashyq.claims import dates as dates_mod
from ashyq.claims import lexicon
from ashyq.claims.language import report_language, sentence_language
from ashyq.claims.model import Claim, Evidence, Report
from ashyq.claims.text import (
    Document,
    Sentence,
    html_published_date,
    normalise,
    split_sentences,
    to_document,
)

# Top-level domains a report may name: the common generic ones, every country code of the
# region and the larger countries, and the Cyrillic ones. A word like "вчера.Но" (a missing
# space) or "photo.jpg" is not a domain.
_TLDS = (
    "com|org|net|info|io|me|tv|co|us|cc|biz|su|eu|asia|news|media|online|site|press|tech|"
    "today|live|app|blog|space|store|shop|world|global|center|agency|club|xyz|top|pro|one|ai|"
    "digital|network|email|cloud|fm|am|ly|gl|to|ws|int|edu|gov|mil|"
    "kz|ru|uz|kg|tj|tm|ua|by|az|ge|md|lt|lv|ee|pl|cz|sk|hu|ro|bg|rs|de|fr|it|es|pt|nl|be|lu|"
    "ch|at|uk|ie|se|no|fi|dk|is|ca|au|nz|jp|kr|cn|hk|tw|in|pk|ir|iq|sy|lb|jo|sa|ae|qa|kw|bh|"
    "om|ye|eg|tn|dz|ma|sd|tr|il|ps|mn|af|bd|id|my|sg|th|vn|ph|br|ar|mx|cl|za|ng|ke|"
    "қаз|рф|бел|укр|срб|мкд|мон"
)
_DOMAIN = re.compile(
    r"(?<![\w@.\-])((?:[a-z0-9а-яәғқңөұүһі](?:[a-z0-9а-яәғқңөұүһі\-]{0,61}[a-z0-9а-яәғқңөұүһі])?\.)+"
    rf"(?:{_TLDS}))(?![\w\-]|\.[a-z0-9])",
    re.IGNORECASE,
)
_LATIN_LETTER = re.compile(r"[a-z]", re.IGNORECASE)
_CYRILLIC_LETTER = re.compile(r"[а-яәғқңөұүһі]", re.IGNORECASE)
_CONTRAST = re.compile(
    r";|؛|\s[—–]\s|,?\s+(?:а|но|однако|зато|тогда как|в то время как|but|while|whereas|"
    r"however|although|though|yet|ал|бірақ|алайда|ал енді|әйтсе де|"
    r"لكن|ولكن|بينما|في حين|إلا أن|الا ان)"
    r"(?=[\s,])",
    re.IGNORECASE,
)
_LIST_BREAK = re.compile(
    r",|\s(?:and|и|және|әрі|также|as well as|and also|й|&)\s|\sو", re.IGNORECASE
)
_STRENGTH = {"strong": 2, "weak": 1}
_AFFECTING = ("blocking", "throttling", "outage")
_GENERIC_NETWORK = ("internet", "mobile_internet")
_GENERIC_NAMES = frozenset({"internet", "mobile_internet", "social_media", "vpn"})


@dataclass(frozen=True, slots=True)
class Target:
    name: str  # canonical platform name, outlet domain, or a domain
    kind: str  # platform | outlet | generic | domain
    start: int  # offsets in the sentence
    end: int


@dataclass(frozen=True, slots=True)
class Cue:
    kind: str  # blocking | throttling | outage | works
    strength: int  # 2 strong, 1 weak
    start: int
    end: int
    text: str


@dataclass(slots=True)
class SentenceFacts:
    sentence: Sentence
    language: str | None
    affected: dict[str, list[Target]] = field(default_factory=dict)  # claim kind → targets
    strength: dict[str, int] = field(default_factory=dict)  # claim kind → strongest cue
    not_affected: list[Target] = field(default_factory=list)
    places: list[str] = field(default_factory=list)
    places_by_kind: dict[str, list[str]] = field(default_factory=dict)
    isps: list[str] = field(default_factory=list)
    national: bool = False
    date_mentions: list[dates_mod.DateMention] = field(default_factory=list)
    explanations: list[str] = field(default_factory=list)
    hedged: bool = False
    denial: bool = False
    cue_spans: list[tuple[int, int]] = field(default_factory=list)  # cues of affected targets


# --- finding things in one sentence ----------------------------------------------------------


@cache
def _cue_patterns() -> dict[str, dict[str, re.Pattern[str]]]:
    return lexicon.cues()


def _near(pattern: re.Pattern[str], text: str) -> bool:
    return pattern.search(text) is not None


def find_domains(norm: str) -> list[Target]:
    out = []
    for m in _DOMAIN.finditer(norm):
        host = m.group(1).lower().rstrip(".")
        if host.startswith("www."):
            host = host[4:]
        if "." not in host or host.split(".")[0].isdigit():
            continue
        tld = m.group(1).rsplit(".", 1)[-1]
        if tld[0].isupper() and not tld.isupper():
            continue  # "blocked.In Almaty": a sentence run on without its space
        if _LATIN_LETTER.search(host) and _CYRILLIC_LETTER.search(host):
            continue  # mixed scripts ("влаcт.кз" with a Latin "c"): no real domain looks so
        out.append(Target(host, "domain", m.start(1), m.end(1)))
    return out


def find_platforms(norm: str) -> list[Target]:
    out = []
    for entity in lexicon.platforms():
        for m in entity.pattern.finditer(norm):
            out.append(Target(entity.name, entity.kind, m.start(), m.end()))
    return out


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def find_targets(norm: str) -> list[Target]:
    """Domains and named platforms in a sentence; a platform's alias wins over a domain."""
    named = find_platforms(norm)
    spans = [(t.start, t.end) for t in named]
    domains = [
        d for d in find_domains(norm) if not any(_overlaps((d.start, d.end), s) for s in spans)
    ]
    # a platform's own domain beside its name adds nothing ("Facebook (facebook.com)")
    domain_of = {d: name for name, ds in lexicon.platform_domains().items() for d in ds}
    names = {t.name for t in named}
    domains = [d for d in domains if domain_of.get(d.name) not in names]
    # the longest alias wins where aliases of two entities overlap ("X (Twitter)")
    named.sort(key=lambda t: (t.start, -(t.end - t.start)))
    kept: list[Target] = []
    for t in named:
        if kept and _overlaps((t.start, t.end), (kept[-1].start, kept[-1].end)):
            continue
        kept.append(t)
    return sorted(kept + domains, key=lambda t: t.start)


def _is_medium_or_source(norm: str, t: Target) -> bool:
    """A platform where someone wrote, or an outlet that reports, is not what was blocked."""
    c = _cue_patterns()
    after = norm[t.end : t.end + 28]
    before = norm[max(0, t.start - 28) : t.start]
    if t.kind in ("platform", "outlet"):
        next_words = " ".join(re.findall(r"\w+", after)[:2])
        prev_words = " ".join(re.findall(r"\w+", before)[-3:])
        where = c["medium"]["where"]
        beside = where.search(next_words) or where.search(prev_words)
        # "Facebook парақшасында ... жазды"; but "her Facebook page was blocked" is an account
        if beside and c["medium"]["wrote"].search(norm) and not _has_affecting_cue_near(norm, t):
            return True
    if t.kind in ("outlet", "platform", "domain"):
        following = [w.lstrip("-") for w in re.findall(r"[^\s'’ʼ\"»”()]+", after)[:2]]
        # "Инстаграм-аккаунт журналиста": the account of a reporter, not a reporter's report
        owned = bool(following) and c["medium"]["where"].match(following[0]) is not None
        if not owned and any(c["source"]["after"].match(w) for w in following):
            return True
        if re.search(r"(?:" + c["source"]["before"].pattern + r")\s*$", before, re.I):
            return True
    return False


def _has_affecting_cue_near(norm: str, t: Target) -> bool:
    # "the Instagram accounts of four reporters from Pavlodar were blocked": the cue may come
    # a long phrase after the platform
    window = norm[t.end : t.end + 100]
    c = _cue_patterns()
    return any(c[k]["strong"].search(window) for k in ("blocking",)) and not c["medium"][
        "wrote"
    ].search(window)


def find_cues(norm: str, masked: list[tuple[int, int]]) -> list[Cue]:
    """Cues with their spans; overlapping cues resolved longest first; negations applied."""
    c = _cue_patterns()
    raw: list[Cue] = []
    for kind in (*_AFFECTING, "works"):
        for strength, pattern in c[kind].items():
            for m in pattern.finditer(norm):
                raw.append(Cue(kind, _STRENGTH[strength], m.start(), m.end(), m.group(0)))
    raw.sort(key=lambda q: (-(q.end - q.start), -q.strength))
    chosen: list[Cue] = []
    for q in raw:
        span = (q.start, q.end)
        if any(_overlaps(span, m) for m in masked):
            continue
        if any(_overlaps(span, (k.start, k.end)) for k in chosen):
            continue
        chosen.append(q)
    out: list[Cue] = []
    before_neg = c["negation"]["before"]
    after_neg = c["negation"]["after"]
    for q in sorted(chosen, key=lambda q: q.start):
        before = norm[max(0, q.start - 14) : q.start]
        after = norm[q.end : q.end + 8]
        negated = bool(re.search(r"(?:" + before_neg.pattern + r")\s*$", before, re.I)) or bool(
            re.match(r"^\s*(?:" + after_neg.pattern + ")", after, re.I)
        )
        if not negated:
            out.append(q)
        elif q.kind == "works":  # "not working": weakly blocked
            out.append(Cue("blocking", 1, q.start, q.end, q.text))
        elif q.kind == "blocking":  # "not blocked": works
            out.append(Cue("works", q.strength, q.start, q.end, q.text))
    return out


def find_places(norm: str) -> tuple[list[str], bool]:
    """Canonical places and whether the sentence speaks of the whole country."""
    found: list[tuple[int, str]] = []
    region_word = lexicon.region_word()
    region_before = lexicon.region_word_before()
    region_of = lexicon.region_of_city()
    spans: list[tuple[int, int]] = []
    for entity in lexicon.places():
        for pattern in (entity.pattern, entity.exact_pattern):
            if pattern is None:
                continue
            for m in pattern.finditer(norm):
                if any(_overlaps((m.start(), m.end()), s) for s in spans):
                    continue
                name = entity.name
                if entity.kind == "city" and (
                    region_word.match(norm[m.end() : m.end() + 20])
                    or region_before.search(norm[max(0, m.start() - 14) : m.start()])
                ):
                    name = region_of.get(name, f"{name} Region")
                found.append((m.start(), name))
                spans.append((m.start(), m.end()))
    names: list[str] = []
    for _, name in sorted(found):
        if name not in names:
            names.append(name)
    return names, _national(norm)


@cache
def _national_patterns() -> tuple[re.Pattern[str], ...]:
    data = lexicon.country()
    stems = [normalise(a) for a in data["aliases"]]
    alias = "(?:" + "|".join(re.escape(s) for s in sorted(stems, key=len, reverse=True)) + ")"
    kk_end = "|".join(data["kk_locative_endings"])
    before = "|".join(re.escape(w) for w in [*data["ru_before"], *data["en_before"]])
    ar_before = "|".join(re.escape(normalise(w)) for w in data["ar_before"])
    return (
        re.compile(rf"(?<!\w){alias}(?:{kk_end})(?!\w)", re.I),
        re.compile(rf"(?<!\w)(?:{before})\s+{alias}\w{{0,3}}(?!\w)", re.I),
        re.compile(rf"(?:{ar_before})\s*(?:ال)?{alias}", re.I),
        lexicon.compile_phrases(list(data["nationwide"])),
    )


def _national(norm: str) -> bool:
    return any(p.search(norm) for p in _national_patterns())


def find_isps(norm: str) -> list[str]:
    """Internet providers a sentence names ("абоненты «Казахтелекома»")."""
    found = [(m.start(), e.name) for e in lexicon.networks() for m in e.pattern.finditer(norm)]
    return list(dict.fromkeys(name for _, name in sorted(found)))


_NOT_THE_REASON = re.compile(
    r"(?:(?<!\w)(?:без|without|no|not|бeз|بدون|دون)(?:\s+(?:any|a|an|какого-либо|каких-либо|"
    r"всякого|какого|any\s+kind\s+of))?\s*$)",
    re.IGNORECASE,
)


def find_explanations(norm: str) -> list[tuple[str, tuple[int, int]]]:
    """Reasons officials gave; one said to be absent ("без решения суда", "without a court
    order") is no explanation."""
    out = []
    for name, pattern in lexicon.explanations():
        for m in pattern.finditer(norm):
            if _NOT_THE_REASON.search(norm[max(0, m.start() - 24) : m.start()]):
                continue
            out.append((name, (m.start(), m.end())))
    return out


# --- assigning cues to targets ------------------------------------------------------------


def _segments(norm: str, pattern: re.Pattern[str], a: int, b: int) -> list[tuple[int, int]]:
    cuts = [a]
    for m in pattern.finditer(norm, a, b):
        cuts.append(m.start())
        cuts.append(m.end())
    cuts.append(b)
    return [(cuts[i], cuts[i + 1]) for i in range(0, len(cuts), 2) if cuts[i + 1] > cuts[i]]


def _polarity(cue: Cue) -> str:
    return "works" if cue.kind == "works" else "affected"


def _assign(norm: str, targets: list[Target], cues: list[Cue]) -> list[tuple[Target, Cue | None]]:
    """Each target with the cue that governs it (None: no cue reaches it)."""
    clauses = _segments(norm, _CONTRAST, 0, len(norm))

    def inside(span: tuple[int, int], x: Target | Cue) -> bool:
        return span[0] <= x.start < span[1]

    per_clause: list[list[tuple[Target, Cue | None]]] = []
    for span in clauses:
        ts = [t for t in targets if inside(span, t)]
        qs = [q for q in cues if inside(span, q)]
        polarities = {_polarity(q) for q in qs}
        if len(polarities) <= 1:
            per_clause.append([(t, _nearest(t, qs)) for t in ts])
            continue
        # mixed clause: cut at commas and "and", each part keeps its cue
        parts = _segments(norm, _LIST_BREAK, *span)
        part_cues = [[q for q in qs if inside(p, q)] for p in parts]
        assigned = []
        for t in ts:
            i = next(k for k, p in enumerate(parts) if inside(p, t) or k == len(parts) - 1)
            if part_cues[i]:
                assigned.append((t, _nearest(t, part_cues[i])))
                continue
            prev_i = next((k for k in range(i - 1, -1, -1) if part_cues[k]), None)
            next_i = next((k for k in range(i + 1, len(parts)) if part_cues[k]), None)
            # verb first ("blocked Facebook, YouTube") continues to the right; else a list
            # runs on to its verb ("Facebook, YouTube and Instagram were blocked")
            if prev_i is not None and (
                next_i is None or part_cues[prev_i][0].start < _first_target_in(parts[prev_i], ts)
            ):
                assigned.append((t, part_cues[prev_i][-1]))
            elif next_i is not None:
                assigned.append((t, part_cues[next_i][0]))
            else:
                assigned.append((t, None))
        per_clause.append(assigned)
    # a clause without cues says nothing of its targets: contrast words separate predicates
    return [pair for assigned in per_clause for pair in assigned]


def _first_target_in(span: tuple[int, int], targets: list[Target]) -> int:
    return min((t.start for t in targets if span[0] <= t.start < span[1]), default=span[1])


def _nearest(t: Target, cues: list[Cue]) -> Cue | None:
    if not cues:
        return None
    return min(cues, key=lambda q: (max(q.start - t.end, t.start - q.end, 0), -q.strength))


def _generic_reached(norm: str, t: Target, q: Cue | None) -> bool:
    """A network target counts only when its cue is close and in the same phrase (no comma)."""
    if q is None:
        return False
    a, b = (t.end, q.start) if t.end <= q.start else (q.end, t.start)
    between = norm[a:b]
    # a comma or full stop between them breaks the phrase; "19:00" or "3.5" does not
    return len(between) <= 45 and not re.search(r"[,;؛،]|(?<!\d)[:.]|[:.](?!\d)", between)


def _elided(norm: str, targets: list[Target], cues: list[Cue]) -> list[tuple[Target, Cue]]:
    """A clause with a cue and no target ("интернет Жаңаөзенде өшірілді, ал Ақтауда баяулады")
    goes on about the network named in the clause before it."""
    out: list[tuple[Target, Cue]] = []
    previous: Target | None = None
    for a, b in _segments(norm, _CONTRAST, 0, len(norm)):
        inside = [t for t in targets if a <= t.start < b]
        if inside:
            nets = [t for t in inside if t.name in _GENERIC_NETWORK]
            previous = nets[-1] if nets else None
            continue
        affecting = [q for q in cues if a <= q.start < b and q.kind in _AFFECTING]
        if previous is not None and affecting and affecting[0].strength >= 2:
            q = affecting[0]
            out.append((Target(previous.name, "generic", q.start, q.start), q))
    return out


def _is_locative(norm: str, t: Target) -> bool:
    """A network in a place form ("интернеттегі", "в интернете", "online") is not a target."""
    pattern = _cue_patterns()["locative"]["internet"]
    window_start = max(0, t.start - 12)
    return any(
        m.start() <= t.start < m.end() or (m.start() < t.end and m.end() > t.start)
        for m in pattern.finditer(norm, window_start, t.end + 8)
    )


def _claim_kind(t: Target, q: Cue, account_clause: bool) -> str:
    if account_clause and t.kind == "platform" and q.kind in ("blocking", "outage"):
        return "account"  # "accounts blocked", "lost access to their WhatsApp accounts"
    if t.name in _GENERIC_NETWORK and q.kind == "blocking":
        return "outage"  # the network itself blocked: a shutdown
    imposed = _cue_patterns()["imposed"]["words"]
    if t.name not in _GENERIC_NETWORK and q.kind == "outage" and imposed.match(q.text):
        return "blocking"  # a service cut off by someone
    return q.kind


# --- one sentence ---------------------------------------------------------------------------


def _anaphora(norm: str, targets: list[Target], antecedents: list[Target]) -> list[Target]:
    """Targets an anaphor stands for ("these services", "бұл сайттар", "эти ресурсы"):
    the affected targets of an earlier sentence, placed where the anaphor is."""
    if not antecedents:
        return []
    out: list[Target] = []
    for m in _cue_patterns()["anaphora"]["words"].finditer(norm):
        if any(_overlaps((m.start(), m.end()), (t.start, t.end)) for t in targets):
            continue
        out += [Target(a.name, a.kind, m.start(), m.end()) for a in antecedents]
        break
    return out


def analyse_sentence(
    sentence: Sentence, norm: str, antecedents: list[Target] | None = None
) -> SentenceFacts:
    """Everything the extractor needs from one sentence (norm: its normalised text).
    ``antecedents``: the affected targets of the sentence before, for anaphora."""
    facts = SentenceFacts(sentence, sentence_language(sentence.text))
    c = _cue_patterns()
    explanations = find_explanations(norm)
    facts.explanations = list(dict.fromkeys(name for name, _ in explanations))
    facts.date_mentions = dates_mod.find_dates(norm)
    undated = _mask(norm, [(d.start, d.end) for d in facts.date_mentions])
    # a question reports nothing for sure
    facts.hedged = _near(c["hedge"]["words"], undated) or norm.rstrip().endswith(("?", "؟"))
    facts.denial = _near(c["denial"]["words"], norm)
    targets = [t for t in find_targets(norm) if not _is_medium_or_source(norm, t)]
    cues = find_cues(norm, [span for _, span in explanations])
    if not cues:
        return facts
    targets = sorted(targets + _anaphora(norm, targets, antecedents or []), key=lambda t: t.start)
    if not targets:
        return facts
    # "only through a VPN do they open": the works cue is about the means, not the targets
    via_vpn = any(t.name == "vpn" for t in targets)
    account_words = c["account"]["words"]
    specific = any(t.kind != "generic" for t in targets)
    for t, q in _assign(norm, targets, cues) + _elided(norm, targets, cues):
        if q is None:
            continue
        if t.kind == "generic":
            if q.strength < 2 or _is_locative(norm, t):
                continue
            if t.name in _GENERIC_NETWORK and not _generic_reached(norm, t, q):
                continue
            if t.name not in _GENERIC_NETWORK and specific:
                continue  # "social networks such as Facebook": Facebook is the target
        if q.kind == "works":
            if t.name not in ("vpn", "social_media") and not via_vpn:
                facts.not_affected.append(t)
            continue
        clause = _clause_of(norm, t)
        kind = _claim_kind(t, q, bool(account_words.search(clause)))
        facts.affected.setdefault(kind, []).append(t)
        facts.strength[kind] = max(facts.strength.get(kind, 0), q.strength)
        facts.cue_spans.append((q.start, q.end))
    if c["not_censorship"]["words"].search(norm):
        # blocking a fraud scheme, a bank card or a number is not censorship of a service
        for kind in ("blocking", "account"):
            facts.affected.pop(kind, None)
            facts.strength.pop(kind, None)
    if facts.affected or facts.not_affected:
        facts.places, facts.national = find_places(norm)
        facts.isps = find_isps(norm)
        if not facts.places and not facts.national and lexicon.foreign().search(norm):
            facts.affected = {}  # about another country
            facts.strength = {}
            facts.not_affected = []
        elif facts.places:
            facts.places_by_kind = _places_by_kind(norm, facts.affected)
    return facts


def _places_by_kind(norm: str, affected: dict[str, list[Target]]) -> dict[str, list[str]]:
    """Where kinds sit in different clauses, each takes the places of its own clauses."""
    out: dict[str, list[str]] = {}
    for kind, targets in affected.items():
        names: list[str] = []
        for t in targets:
            found, _ = find_places(_clause_of(norm, t))
            names += [n for n in found if n not in names]
        if names:
            out[kind] = names
    return out


def _mask(text: str, spans: list[tuple[int, int]]) -> str:
    chars = list(text)
    for a, b in spans:
        chars[a:b] = " " * (b - a)
    return "".join(chars)


def _clause_of(norm: str, t: Target) -> str:
    for a, b in _segments(norm, _CONTRAST, 0, len(norm)):
        if a <= t.start < b:
            return norm[a:b]
    return norm


# --- a whole report -------------------------------------------------------------------------


def _asns(isps: list[str]) -> list[str]:
    by_name = {e.name: e.domains for e in lexicon.networks()}
    return [a for name in isps for a in by_name.get(name, ())]


def _names(targets: list[Target]) -> list[str]:
    return list(dict.fromkeys(t.name for t in targets))


def _evidence(doc: Document, s: Sentence, role: str) -> Evidence:
    start, end = doc.span(s.start, s.end)
    return Evidence(start, end, s.text, role)


def _confidence(claim: Claim, strength: int) -> float:
    score = 0.55 if strength >= 2 else 0.35
    if any(t not in _GENERIC_NETWORK for t in claim.targets) or claim.kind != "blocking":
        score += 0.1
    score += {"explicit": 0.1, "relative": 0.1, "partial": 0.05, "context": 0.05}.get(
        claim.date_source or "", 0.0
    )
    if claim.places or claim.scope == "national":
        score += 0.1
    score += min(0.1, 0.05 * (sum(e.role == "claim" for e in claim.evidence) - 1))
    if claim.hedged:
        score *= 0.6
    return round(min(score, 0.95), 2)


def extract_report(
    raw: str,
    published: dt.date | None = None,
    source: str = "-",
    is_html: bool | None = None,
) -> Report:
    """Claims of one report (plain text or HTML). Pure: reads nothing, runs nothing."""
    doc = to_document(raw, is_html)
    if published is None and doc.is_html:
        declared = html_published_date(raw)
        if declared:
            try:
                published = dt.date.fromisoformat(declared)
            except ValueError:
                published = None  # a page declaring an impossible date: ignore it
    norm_all = normalise(doc.text)
    sentences = split_sentences(doc.text)
    language, shares = report_language([s.text for s in sentences])
    norm_all = _mask_dateline(norm_all)
    facts: list[SentenceFacts] = []
    antecedents: list[Target] = []
    for s in sentences:
        f = analyse_sentence(s, norm_all[s.start : s.end], antecedents)
        facts.append(f)
        named = [t for ts in f.affected.values() for t in ts if t.kind != "generic"]
        if named:
            antecedents = list({t.name: t for t in named}.values())
        elif f.not_affected or any(f.affected.values()):
            antecedents = []  # a later sentence's "they" is not about targets two claims back
    named_years = dates_mod.years_named(norm_all)
    context_year = named_years[0] if named_years else None

    candidates: list[tuple[Claim, int, int]] = []  # claim, last sentence index, strength
    pending_not_affected: list[tuple[int, list[str], Evidence]] = []
    last_date: tuple[str, str] | None = None  # (iso date, text)
    explanations: list[tuple[str, Evidence]] = []
    for f in facts:
        s = f.sentence
        if f.explanations:
            explanations.append((f.explanations[0], _evidence(doc, s, "explanation")))
        if f.denial and not f.not_affected:
            continue  # officials denying or explaining: evidence for the explanation only
        date_iso, date_text, date_source = _sentence_date(f, published, context_year)
        if f.affected:
            if date_iso:
                last_date = (date_iso, date_text or "")
            elif last_date and date_source != "partial":
                date_iso, date_text, date_source = last_date[0], last_date[1], "context"
            elif published and date_source != "partial":
                date_iso, date_text, date_source = published.isoformat(), None, "published"
        for kind, targets in f.affected.items():
            claim = Claim(
                kind=kind,
                targets=_names(targets),
                not_affected=_names(f.not_affected),
                places=list(f.places_by_kind.get(kind, f.places)),
                scope="national" if f.national else ("local" if f.places else None),
                isps=list(f.isps),
                asns=_asns(f.isps),
                date=date_iso,
                date_text=date_text,
                date_source=date_source,
                hedged=f.hedged,
                language=f.language,
                evidence=[_evidence(doc, s, "claim")],
            )
            _merge_or_add(candidates, claim, s.index, f.strength[kind])
        if f.not_affected and not f.affected:
            pending_not_affected.append(
                (s.index, _names(f.not_affected), _evidence(doc, s, "not_affected"))
            )

    claims = [c for c, _, _ in candidates]
    for index, names, ev in pending_not_affected:
        if not claims:
            break
        nearest = min(candidates, key=lambda item: (abs(item[1] - index), item[1] > index))[0]
        for n in names:
            if n not in nearest.not_affected:
                nearest.not_affected.append(n)
        nearest.evidence.append(ev)
    official = explanations[0][0] if explanations else None
    for claim, _, strength in candidates:
        claim.not_affected = [n for n in claim.not_affected if n not in claim.targets]
        if any(t not in _GENERIC_NAMES for t in claim.targets):
            # "social networks" beside Facebook and YouTube names nothing more
            claim.targets = [t for t in claim.targets if t != "social_media"]
        if "mobile_internet" in claim.targets and "internet" in claim.targets:
            claim.targets.remove("internet")  # "3G және 4G интернет" is the mobile internet
        if official:
            claim.official_explanation = official
            have = {(e.start, e.end, e.role) for e in claim.evidence}
            claim.evidence.extend(
                ev for _, ev in explanations if (ev.start, ev.end, ev.role) not in have
            )
        claim.evidence.sort(key=lambda e: e.start)
        claim.confidence = _confidence(claim, strength)
    return Report(
        source=source,
        language=language,
        language_shares=shares,
        published=published.isoformat() if published else None,
        claims=claims,
        official_explanation=official,
        sha256=hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest(),
    )


_DATELINE = re.compile(
    r"^\s*([A-ZА-ЯЁӘҒҚҢӨҰҮҺІ][A-ZА-ЯЁӘҒҚҢӨҰҮҺІ\-]{2,}(?: [A-ZА-ЯЁӘҒҚҢӨҰҮҺІ\-]{2,}){0,2})"
    r"(?=\s*(?:,|\s[—–-]\s|\())"
)


def _mask_dateline(norm: str) -> str:
    """A wire report's dateline ("ALMATY, 6 January —", "АЛМАТЫ, 6 января.") says where it
    was filed, not where anything happened: its city is blanked for place finding."""
    m = _DATELINE.match(norm)
    if m is None:
        return norm
    a, b = m.span(1)
    return norm[:a] + " " * (b - a) + norm[b:]


def _sentence_date(
    f: SentenceFacts, published: dt.date | None, context_year: int | None
) -> tuple[str | None, str | None, str | None]:
    # of two dates, the one nearest the cue ("said on Tuesday that … was blocked on 8 July")
    mentions = f.date_mentions
    if len(mentions) > 1 and f.cue_spans:
        mentions = sorted(
            mentions,
            key=lambda d: min(max(a - d.end, d.start - b, 0) for a, b in f.cue_spans),
        )
    for mention in mentions:
        day = dates_mod.resolve(mention, published, context_year)
        if day is not None:
            kind = "relative" if mention.offset_days is not None or mention.weekday else "explicit"
            return day.isoformat(), mention.text, kind
    for mention in mentions:
        if dates_mod.partial_iso(mention):
            return None, mention.text, "partial"
    return None, None, None


def _merge_or_add(
    candidates: list[tuple[Claim, int, int]], claim: Claim, index: int, strength: int
) -> None:
    for i in range(len(candidates) - 1, -1, -1):
        prev, last_index, prev_strength = candidates[i]
        if index - last_index > 2:
            break
        if prev.kind != claim.kind:
            continue
        vague = ("context", "published", None)
        same_day = (
            claim.date == prev.date or claim.date_source in vague or prev.date_source in vague
        )
        places_fit = not claim.places or not prev.places or set(claim.places) <= set(prev.places)
        if same_day and places_fit:
            prev.targets += [t for t in claim.targets if t not in prev.targets]
            prev.not_affected += [t for t in claim.not_affected if t not in prev.not_affected]
            prev.places += [p for p in claim.places if p not in prev.places]
            prev.scope = prev.scope or claim.scope
            prev.isps += [n for n in claim.isps if n not in prev.isps]
            prev.asns += [a for a in claim.asns if a not in prev.asns]
            if prev.date_source in vague and claim.date_source not in vague:
                prev.date, prev.date_text = claim.date, claim.date_text
                prev.date_source = claim.date_source
            prev.hedged = prev.hedged and claim.hedged
            prev.evidence += claim.evidence
            candidates[i] = (prev, index, max(prev_strength, strength))
            return
    candidates.append((claim, index, strength))
