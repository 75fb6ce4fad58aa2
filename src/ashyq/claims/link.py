"""Checking a claim against what was measured: a pure function over events and verdicts.

For each target of a claim (a platform is expanded to its domains from the lexicon), within
the claim's window (its day in Kazakhstan, widened to cover UTC+5/+6: from 18:00 UTC the day
before to 00:00 UTC the day after) and its places:

- ``corroborated``: a blocking or throttling event of that target, or verdicts saying blocked
  or throttled;
- ``outage``: an outage event there, or every measurement failing at the control too
  (``down``): the network was out, the target was not singled out;
- ``contradicted``: measurements judged ``ok`` for that target and no failure;
- ``no_data``: nothing measured.

The claim's status is the strongest of its targets' (corroborated, outage, contradicted,
no_data), with the event ids and measurement uids behind it. Account claims are never
visible to network measurements: always ``no_data`` with a note saying so.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

from ashyq.claims import lexicon
from ashyq.claims.extract import find_places
from ashyq.claims.text import normalise

STATUSES = ("corroborated", "outage", "contradicted", "no_data")
_RANK = {s: i for i, s in enumerate(STATUSES)}
_GENERIC = {"internet", "mobile_internet"}
MAX_UIDS = 50


@dataclass(slots=True)
class TargetLink:
    target: str
    status: str
    domains: list[str]
    event_ids: list[str] = field(default_factory=list)
    measurement_uids: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # verdict status → how many


@dataclass(slots=True)
class Link:
    claim_id: str | None
    status: str
    window: tuple[str, str] | None
    targets: list[TargetLink]
    event_ids: list[str]
    measurement_uids: list[str]
    notes: list[str]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def claim_window(claim: dict[str, Any]) -> tuple[dt.datetime, dt.datetime] | None:
    """UTC bounds [start, end) of the claim's day in Kazakhstan, or None without a date."""
    day = claim.get("date") or claim.get("published")
    if not day:
        return None
    d = dt.date.fromisoformat(str(day)[:10])
    start = dt.datetime.combine(d, dt.time()) - dt.timedelta(hours=6)
    return start, dt.datetime.combine(d + dt.timedelta(days=1), dt.time())


def domains_of(target: str) -> list[str]:
    """The domains a claim target stands for: a platform's from the lexicon, else itself."""
    mapped = lexicon.platform_domains().get(target)
    if mapped is not None:
        return list(mapped)
    return [target.lower()] if "." in target else []


def host_matches(host: str | None, domains: list[str]) -> bool:
    if not host:
        return False
    host = host.lower().rstrip(".")
    return any(host == d or host.endswith("." + d) for d in domains)


def canonical_places(values: list[str] | None) -> set[str]:
    """Event or verdict regions as canonical place names (unknown strings kept, lower-cased)."""
    out: set[str] = set()
    for value in values or []:
        if not value:
            continue
        found, _ = find_places(normalise(value))
        out.update(p.lower() for p in found) if found else out.add(value.strip().lower())
    return out


def places_fit(claim_places: list[str], regions: list[str] | None, scope: str | None) -> bool:
    """Unknown on either side fits; a national event fits every place."""
    if not claim_places or scope == "national":
        return True
    have = canonical_places(regions)
    if not have:
        return True
    return bool(have & {p.lower() for p in claim_places})


def networks_fit(claim_asns: list[str], asns: list[str] | None) -> bool:
    """A claim naming providers fits only events/verdicts on their networks (unknown fits)."""
    if not claim_asns or not asns:
        return True
    return bool({a.upper() for a in claim_asns} & {a.upper() for a in asns if a})


def _time(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    text = str(value).replace("Z", "").replace("T", " ")
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        return None


def _overlaps(event: dict[str, Any], window: tuple[dt.datetime, dt.datetime]) -> bool:
    start = _time(event.get("start"))
    end = _time(event.get("end")) or _time(event.get("first_good_after")) or dt.datetime.max
    return start is not None and start < window[1] and end >= window[0]


def _in_window(verdict: dict[str, Any], window: tuple[dt.datetime, dt.datetime]) -> bool:
    t = _time(verdict.get("measurement_start_time"))
    return t is not None and window[0] <= t < window[1]


def link_claim(
    claim: dict[str, Any], events: list[dict[str, Any]], verdicts: list[dict[str, Any]]
) -> Link:
    """Judge one claim (a dict as ``list_claims`` gives) against events and verdict rows."""
    claim_id = claim.get("claim_id")
    window = claim_window(claim)
    notes: list[str] = []
    if claim.get("kind") == "account":
        notes.append("account blocking is not visible to network measurements")
        return Link(claim_id, "no_data", _iso(window), [], [], [], notes)
    if window is None:
        notes.append("the claim has no date: it cannot be placed against measurements")
        return Link(claim_id, "no_data", None, [], [], [], notes)
    places = list(claim.get("places") or [])
    claim_asns = list(claim.get("asns") or [])
    in_window = [
        e for e in events if _overlaps(e, window) and networks_fit(claim_asns, e.get("asns"))
    ]
    near = [
        v
        for v in verdicts
        if _in_window(v, window) and networks_fit(claim_asns, [v.get("probe_asn")])
    ]
    near = [
        v for v in near if places_fit(places, [v.get("region")] if v.get("region") else [], None)
    ]
    outages = [
        e
        for e in in_window
        if e.get("kind") == "outage" and places_fit(places, e.get("regions"), e.get("scope"))
    ]
    links = [
        _link_target(t, claim.get("kind", ""), places, in_window, near, outages)
        for t in claim.get("targets") or []
    ]
    status = min((t.status for t in links), key=_RANK.__getitem__, default="no_data")
    for name in claim.get("not_affected") or []:
        other = _link_target(name, "blocking", places, in_window, near, outages)
        if other.status == "corroborated":
            notes.append(f"the report says {name} worked, but it was measured blocked")
    if status == "no_data":
        notes.append("no measurement of these targets in that window and place")
    elif len({t.status for t in links}) > 1:
        notes.append("targets differ: " + ", ".join(f"{t.target} {t.status}" for t in links))
    return Link(
        claim_id,
        status,
        _iso(window),
        links,
        _unique(i for t in links for i in t.event_ids),
        _unique(u for t in links for u in t.measurement_uids)[:MAX_UIDS],
        notes,
    )


def _link_target(
    target: str,
    kind: str,
    places: list[str],
    events: list[dict[str, Any]],
    verdicts: list[dict[str, Any]],
    outages: list[dict[str, Any]],
) -> TargetLink:
    if target in _GENERIC:
        return _link_network(target, verdicts, outages)
    domains = domains_of(target)
    link = TargetLink(target, "no_data", domains)
    wanted = ("throttling", "blocking") if kind == "throttling" else ("blocking", "throttling")
    hits = [
        e
        for e in events
        if e.get("kind") in wanted
        and host_matches(e.get("target"), domains)
        and places_fit(places, e.get("regions"), e.get("scope"))
    ]
    mine = [v for v in verdicts if host_matches(v.get("target"), domains)]
    for v in mine:
        link.counts[v["status"]] = link.counts.get(v["status"], 0) + 1
    failing = [v for v in mine if v.get("status") in ("blocked", "throttled")]
    down = [v for v in mine if v.get("status") == "down"]
    fine = [v for v in mine if v.get("status") == "ok"]
    if hits or failing:
        link.status = "corroborated"
        link.event_ids = _unique(e["event_id"] for e in hits)
        uids = [u for e in hits for u in e.get("measurement_uids") or []]
        link.measurement_uids = _unique([*uids, *(v["measurement_uid"] for v in failing)])
    elif outages or (down and len(down) >= len(fine)):
        link.status = "outage"
        link.event_ids = _unique(e["event_id"] for e in outages)
        link.measurement_uids = _unique(v["measurement_uid"] for v in down)
    elif fine:
        link.status = "contradicted"
        link.measurement_uids = _unique(v["measurement_uid"] for v in fine)
    link.measurement_uids = link.measurement_uids[:MAX_UIDS]
    return link


def _link_network(
    target: str, verdicts: list[dict[str, Any]], outages: list[dict[str, Any]]
) -> TargetLink:
    """A claim about the network itself: an outage event corroborates it."""
    link = TargetLink(target, "no_data", [])
    for v in verdicts:
        link.counts[v["status"]] = link.counts.get(v["status"], 0) + 1
    down = [v for v in verdicts if v.get("status") == "down"]
    fine = [v for v in verdicts if v.get("status") == "ok"]
    if outages or (down and len(down) > len(fine)):
        link.status = "corroborated"
        link.event_ids = _unique(e["event_id"] for e in outages)
        uids = [u for e in outages for u in e.get("measurement_uids") or []]
        link.measurement_uids = _unique([*uids, *(v["measurement_uid"] for v in down)])
    elif fine:
        link.status = "contradicted"
        link.measurement_uids = _unique(v["measurement_uid"] for v in fine)
    link.measurement_uids = link.measurement_uids[:MAX_UIDS]
    return link


def _unique(values: Any) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


def _iso(window: tuple[dt.datetime, dt.datetime] | None) -> tuple[str, str] | None:
    if window is None:
        return None
    return (
        window[0].strftime("%Y-%m-%dT%H:%M:%SZ"),
        window[1].strftime("%Y-%m-%dT%H:%M:%SZ"),
    )


def check_claims(
    claims: list[dict[str, Any]], events: list[dict[str, Any]], verdicts: list[dict[str, Any]]
) -> list[Link]:
    return [link_claim(c, events, verdicts) for c in claims]
