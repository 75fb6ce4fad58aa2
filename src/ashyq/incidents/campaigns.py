"""Campaigns: incidents that belong together. A pure function over incidents.

Two incidents are linked when they concern the same platform, their types belong to the same
family (an account blocked after a message flood is one story; a post removed after a false
copyright complaint is another), their times lie within the window of each other (the
precision of each time widens it: a "day" incident covers the whole day), and they share at
least one indicator:

- a foreign number prefix (+44) or country (GB) of the numbers involved;
- the same complainant (compared without case, spaces or punctuation);
- near-identical notice text: Jaccard similarity of word 3-shingles of the normalised texts
  at or above the threshold (0.8).

A campaign is a connected component of these links with at least two incidents. The shared
evidence lists, for each indicator, how many members show it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ashyq.incidents.model import TYPE_FAMILY, Incident

DEFAULT_WINDOW_HOURS = 24.0
DEFAULT_SIMILARITY = 0.8


@dataclass(slots=True)
class Campaign:
    campaign_id: str
    platform: str
    types: list[str]
    start: str
    end: str
    members: list[str]  # incident ids
    shared: dict[str, Any] = field(default_factory=dict)
    links: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "campaign_id": self.campaign_id,
            "platform": self.platform,
            "types": self.types,
            "start": self.start,
            "end": self.end,
            "size": len(self.members),
            "members": self.members,
            "shared": self.shared,
            "links": self.links,
        }


def normalise_name(name: str | None) -> str:
    return re.sub(r"[\W_]+", "", (name or "").casefold())


def shingles(text: str | None, n: int = 3) -> frozenset[str]:
    words = re.findall(r"\w+", (text or "").casefold())
    if len(words) < n:
        return frozenset([" ".join(words)]) if words else frozenset()
    return frozenset(" ".join(words[i : i + n]) for i in range(len(words) - n + 1))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def _gap(a: Incident, b: Incident) -> dt.timedelta:
    a0, a1 = a.interval()
    b0, b1 = b.interval()
    if a1 <= b0:
        return b0 - a1
    if b1 <= a0:
        return a0 - b1
    return dt.timedelta(0)


def shared_indicators(
    a: Incident, b: Incident, sh: dict[str, frozenset[str]], similarity: float
) -> dict[str, Any]:
    """What two incidents have in common (empty: nothing)."""
    out: dict[str, Any] = {}
    prefixes = sorted(set(a.prefixes) & set(b.prefixes))
    if prefixes:
        out["prefixes"] = prefixes
    countries = sorted(set(a.country_codes) & set(b.country_codes))
    if countries:
        out["country_codes"] = countries
    if a.complainant and normalise_name(a.complainant) == normalise_name(b.complainant):
        out["complainant"] = a.complainant
    if a.notice_text and b.notice_text:
        score = jaccard(sh[a.incident_id or ""], sh[b.incident_id or ""])
        if score >= similarity:
            out["notice_similarity"] = round(score, 3)
    return out


def find_campaigns(
    incidents: list[Incident],
    window_hours: float = DEFAULT_WINDOW_HOURS,
    similarity: float = DEFAULT_SIMILARITY,
) -> list[Campaign]:
    """Campaigns among incidents, largest first."""
    window = dt.timedelta(hours=window_hours)
    items = [i for i in incidents if i.incident_id]
    sh = {i.incident_id or "": shingles(i.notice_text) for i in items}
    parent = {i.incident_id: i.incident_id for i in items}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    links: list[tuple[str, str, dict[str, Any]]] = []
    ordered = sorted(items, key=lambda i: i.occurred_at)
    for k, a in enumerate(ordered):
        for b in ordered[k + 1 :]:
            if b.occurred_at - a.interval()[1] > window:
                break  # sorted by start: nothing later can be close enough
            if a.platform != b.platform or TYPE_FAMILY[a.type] != TYPE_FAMILY[b.type]:
                continue
            if _gap(a, b) > window:
                continue
            common = shared_indicators(a, b, sh, similarity)
            if not common:
                continue
            links.append((a.incident_id or "", b.incident_id or "", common))
            parent[find(a.incident_id or "")] = find(b.incident_id or "")

    groups: dict[str, list[Incident]] = {}
    for i in items:
        groups.setdefault(find(i.incident_id or ""), []).append(i)
    out = []
    for members in groups.values():
        if len(members) < 2:
            continue
        ids = sorted(m.incident_id or "" for m in members)
        member_set = set(ids)
        out.append(
            Campaign(
                campaign_id="camp-" + hashlib.sha256("|".join(ids).encode()).hexdigest()[:10],
                platform=members[0].platform,
                types=sorted({m.type for m in members}),
                start=min(m.interval()[0] for m in members).strftime("%Y-%m-%dT%H:%M:%SZ"),
                end=max(m.interval()[1] for m in members).strftime("%Y-%m-%dT%H:%M:%SZ"),
                members=ids,
                shared=_shared_summary(members),
                links=[
                    {"a": a, "b": b, "shared": common} for a, b, common in links if a in member_set
                ],
            )
        )
    out.sort(key=lambda c: (-len(c.members), c.start))
    return out


def _shared_summary(members: list[Incident]) -> dict[str, Any]:
    """Each indicator seen in more than one member, with how many members show it."""
    summary: dict[str, Any] = {}
    for key in ("prefixes", "country_codes"):
        counts = Counter(v for m in members for v in set(getattr(m, key)))
        common = {v: n for v, n in counts.most_common() if n > 1}
        if common:
            summary[key] = common
    names = Counter(normalise_name(m.complainant) for m in members if m.complainant)
    shown = {
        next(m.complainant for m in members if normalise_name(m.complainant) == k): n
        for k, n in names.items()
        if n > 1
    }
    if shown:
        summary["complainants"] = shown
    notices = [m for m in members if m.notice_text]
    if len(notices) > 1:
        summary["notices"] = len(notices)
    return summary
