"""From verdict time series to events. Pure functions over plain rows; no I/O.

Rules (justified in docs/events.md):

* A *series* is one target seen from one network: (country, target, ASN, region).
* In a series, ``ok`` verdicts are good, ``blocked`` / ``throttled`` are bad, and
  ``down`` / ``inconclusive`` are ignored (they say nothing about censorship).
* A *run* is a maximal stretch of consecutive bad verdicts of one status. A run becomes a
  network-level span only with at least ``MIN_RUN`` (2) measurements: a single failure never
  makes an event. Each span carries the first and last bad measurement (observed start and end)
  and the last good before and first good after (the bounds of the true start and end).
* An *outage round* is a measurement round (time bucket) of one network in which at least
  ``OUTAGE_FRACTION`` of at least ``OUTAGE_MIN_TARGETS`` distinct targets fail silently (down,
  inconclusive, or blocked by a DNS or TCP timeout or failure; any later failure — a TLS or
  HTTP timeout or reset, a blockpage, a forged DNS answer, a refused connection — needed a
  working network and never counts toward an outage). Its measurements are kept out
  of blocking detection. At least ``MIN_RUN`` consecutive outage rounds, or one round in
  which ``OUTAGE_ONE_ROUND_TARGETS`` targets fail, make an *outage*.
* Spans of one (country, target, kind) that overlap in time are merged: *national* when they
  cover at least two ASNs and no measured network of the country saw the target fine during
  the event; *regional* when the blocked regions saw it fine nowhere; otherwise one *network*
  event per ASN.
* *Recurrence*: at least three events of the same target, kind and networks on three different
  local days starting and ending at the same local hours.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

MIN_RUN = 2
OUTAGE_FRACTION = 0.8
OUTAGE_MIN_TARGETS = 3
OUTAGE_ONE_ROUND_TARGETS = 6  # one round alone makes an outage when this many targets fail
LOCAL_TZ = "Asia/Almaty"
BAD = {"blocked": "blocking", "throttled": "throttling"}
FAR = datetime(9999, 1, 1)


@dataclass(frozen=True, slots=True)
class Span:
    """Bad measurements of one target (or, for outages, of most targets) on one network."""

    kind: str  # blocking | throttling | outage
    country: str
    target: str | None
    asn: str
    region: str  # "" when unknown
    first_bad: datetime
    last_bad: datetime
    last_good_before: datetime | None
    first_good_after: datetime | None
    n: int
    methods: tuple[str, ...] = ()
    method_counts: tuple[tuple[str, int], ...] = ()
    confidence: float = 0.5
    uids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Good:
    """A stretch in which a network saw the target (or, for outages, the internet) fine."""

    country: str
    target: str | None
    asn: str
    region: str
    first: datetime
    last: datetime


@dataclass
class Event:
    kind: str
    target: str | None
    scope: str
    country: str
    asns: list[str]
    regions: list[str]
    start: datetime
    end: datetime | None
    last_good_before: datetime | None
    first_good_after: datetime | None
    method: str | None
    methods: list[str]
    measurements: int
    confidence: float
    networks: list[dict] = field(default_factory=list)
    measurement_uids: list[str] = field(default_factory=list)
    recurrence: str | None = None

    @property
    def event_id(self) -> str:
        key = "|".join(
            [
                self.kind,
                self.target or "",
                self.scope,
                self.country,
                ",".join(self.asns),
                ",".join(self.regions),
                self.start.isoformat(),
            ]
        )
        return hashlib.sha1(key.encode()).hexdigest()[:16]


# --------------------------------------------------------------------------- runs
def spans_from_verdicts(rows: Iterable[dict]) -> tuple[list[Span], list[Good]]:
    """The reference implementation of run detection over verdict dicts (keys: probe_cc,
    target, probe_asn, region, measurement_start_time (datetime), status, method, confidence,
    measurement_uid). The store does the same in SQL (events/build.py) for large tables."""
    series: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        if r.get("target") is None or r["status"] not in ("ok", "blocked", "throttled"):
            continue
        key = (r["probe_cc"] or "", r["target"], r["probe_asn"] or "", r.get("region") or "")
        series[key].append(r)
    spans: list[Span] = []
    goods: list[Good] = []
    for (cc, target, asn, region), items in series.items():
        items.sort(key=lambda r: r["measurement_start_time"])
        runs: list[list[dict]] = []
        for r in items:
            if runs and runs[-1][0]["status"] == r["status"]:
                runs[-1].append(r)
            else:
                runs.append([r])
        for i, run in enumerate(runs):
            st = run[0]["status"]
            t0 = run[0]["measurement_start_time"]
            t1 = run[-1]["measurement_start_time"]
            if st == "ok":
                goods.append(Good(cc, target, asn, region, t0, t1))
                continue
            if len(run) < MIN_RUN:
                continue
            before = [x for x in runs[:i] if x[0]["status"] == "ok"]
            after = [x for x in runs[i + 1 :] if x[0]["status"] == "ok"]
            counts = Counter(r["method"] for r in run if r.get("method"))
            spans.append(
                Span(
                    kind=BAD[st],
                    country=cc,
                    target=target,
                    asn=asn,
                    region=region,
                    first_bad=t0,
                    last_bad=t1,
                    last_good_before=before[-1][-1]["measurement_start_time"] if before else None,
                    first_good_after=after[0][0]["measurement_start_time"] if after else None,
                    n=len(run),
                    methods=tuple(sorted(counts)),
                    method_counts=tuple(counts.most_common()),
                    confidence=sum(float(r.get("confidence") or 0) for r in run) / len(run),
                    uids=tuple(r["measurement_uid"] for r in run[:200]),
                )
            )
    return spans, goods


# --------------------------------------------------------------------------- outages
@dataclass(frozen=True, slots=True)
class Bucket:
    """One measurement round of one network: how many distinct targets failed."""

    country: str
    asn: str
    region: str
    index: int  # bucket number (time // bucket width)
    targets: int
    failed_targets: int
    first_fail: datetime | None
    last_fail: datetime | None
    first_ok: datetime | None
    last_ok: datetime | None
    failed: int  # failing measurements


def is_outage_bucket(b: Bucket) -> bool:
    return b.targets >= OUTAGE_MIN_TARGETS and b.failed_targets >= OUTAGE_FRACTION * b.targets


def find_outages(
    buckets: Iterable[Bucket],
) -> tuple[list[Span], list[Good], list[tuple[str, str, str, int]]]:
    """Outage spans per network from its buckets (consecutive buckets with data), the good
    stretches (rounds that were not outages) that tell a local outage from a national one, and
    every outage round (country, asn, region, bucket): measurements in those rounds say
    nothing about single sites and are kept out of blocking detection."""
    by_net: dict[tuple, list[Bucket]] = defaultdict(list)
    for b in buckets:
        by_net[(b.country, b.asn, b.region)].append(b)
    spans: list[Span] = []
    goods: list[Good] = []
    rounds: list[tuple[str, str, str, int]] = []
    for (cc, asn, region), items in by_net.items():
        items.sort(key=lambda b: b.index)
        flags = [is_outage_bucket(b) for b in items]
        rounds.extend((cc, asn, region, b.index) for b, f in zip(items, flags, strict=True) if f)
        i = 0
        while i < len(items):
            j = i
            while j < len(items) and flags[j] == flags[i]:
                j += 1
            group = items[i:j]
            if not flags[i]:
                oks = [b for b in group if b.first_ok is not None]
                if oks:
                    goods.append(
                        Good(cc, None, asn, region, oks[0].first_ok, max(b.last_ok for b in oks))
                    )
            elif len(group) >= MIN_RUN or group[0].failed_targets >= OUTAGE_ONE_ROUND_TARGETS:
                prev = items[i - 1] if i > 0 else None
                nxt = items[j] if j < len(items) else None
                spans.append(
                    Span(
                        kind="outage",
                        country=cc,
                        target=None,
                        asn=asn,
                        region=region,
                        first_bad=min(b.first_fail for b in group if b.first_fail),
                        last_bad=max(b.last_fail for b in group if b.last_fail),
                        last_good_before=prev.last_ok if prev else None,
                        first_good_after=nxt.first_ok if nxt else None,
                        n=sum(b.failed for b in group),
                        methods=("outage",),
                        method_counts=(("outage", len(group)),),
                        confidence=sum(b.failed_targets / b.targets for b in group) / len(group),
                    )
                )
            i = j
    return spans, goods, rounds


# --------------------------------------------------------------------------- merging
def _reach(s: Span) -> datetime:
    return s.first_good_after or FAR


def _components(spans: list[Span]) -> list[list[Span]]:
    """Spans whose [first_bad, first_good_after) intervals overlap, transitively."""
    spans = sorted(spans, key=lambda s: s.first_bad)
    out: list[list[Span]] = []
    reach = datetime.min
    for s in spans:
        if out and s.first_bad <= reach:
            out[-1].append(s)
            reach = max(reach, _reach(s))
        else:
            out.append([s])
            reach = _reach(s)
    return out


def _confidence(spans: Sequence[Span]) -> float:
    n = sum(s.n for s in spans)
    mean = sum(s.confidence * s.n for s in spans) / n if n else 0.0
    return round(min(1.0, mean) * (1 - 0.5**n), 3)


def make_event(kind: str, scope: str, spans: Sequence[Span]) -> Event:
    first = min(spans, key=lambda s: s.first_bad)
    last = max(spans, key=lambda s: s.last_bad)
    ongoing = any(s.first_good_after is None for s in spans)
    counts: Counter[str] = Counter()
    for s in spans:
        counts.update(dict(s.method_counts))
    uids: list[str] = []
    for s in sorted(spans, key=lambda s: s.first_bad):
        uids.extend(s.uids[: max(0, 200 - len(uids))])
    return Event(
        kind=kind,
        target=first.target,
        scope=scope,
        country=first.country,
        asns=sorted({s.asn for s in spans}),
        regions=sorted({s.region for s in spans if s.region}),
        start=first.first_bad,
        end=None if ongoing else last.last_bad,
        last_good_before=first.last_good_before,
        first_good_after=None if ongoing else last.first_good_after,
        method=counts.most_common(1)[0][0] if counts else None,
        methods=sorted({m for s in spans for m in s.methods}),
        measurements=sum(s.n for s in spans),
        confidence=_confidence(spans),
        networks=[
            {
                "asn": s.asn,
                "region": s.region or None,
                "first_bad": s.first_bad.isoformat(sep=" "),
                "last_bad": s.last_bad.isoformat(sep=" "),
                "last_good_before": _iso(s.last_good_before),
                "first_good_after": _iso(s.first_good_after),
                "measurements": s.n,
                "methods": list(s.methods),
            }
            for s in sorted(spans, key=lambda s: (s.asn, s.region, s.first_bad))
        ],
        measurement_uids=uids,
    )


def _iso(t: datetime | None) -> str | None:
    return None if t is None else t.isoformat(sep=" ")


def merge_scopes(spans: Iterable[Span], goods: Iterable[Good]) -> list[Event]:
    """Group network spans into national, regional and network events."""
    by_key: dict[tuple, list[Span]] = defaultdict(list)
    for s in spans:
        by_key[(s.country, s.target, s.kind)].append(s)
    good_by: dict[tuple, list[Good]] = defaultdict(list)
    for g in goods:
        good_by[(g.country, g.target)].append(g)
    events: list[Event] = []
    for (cc, target, kind), group in by_key.items():
        for comp in _components(group):
            t0 = min(s.first_bad for s in comp)
            t1 = max(s.last_bad for s in comp)
            nets = {(s.asn, s.region) for s in comp}
            fine = [
                g
                for g in good_by.get((cc, target), [])
                if g.first <= t1 and g.last >= t0 and (g.asn, g.region) not in nets
            ]
            asns = {s.asn for s in comp}
            regions = {s.region for s in comp}
            if len(asns) >= 2 and not fine:
                events.append(make_event(kind, "national", comp))
            elif (
                len(asns) >= 2 and "" not in regions and not any(g.region in regions for g in fine)
            ):
                events.append(make_event(kind, "regional", comp))
            else:
                per_asn: dict[str, list[Span]] = defaultdict(list)
                for s in comp:
                    per_asn[s.asn].append(s)
                for part in per_asn.values():
                    events.append(make_event(kind, "network", part))
    return events


def suppress_outage_blocking(
    spans: list[Span], outages: list[Span], slack: timedelta = timedelta(0)
) -> list[Span]:
    """Drop blocking/throttling spans lying inside an outage of the same network (widened by
    ``slack``, one measurement round, for targets measured just around its edges)."""
    by_net: dict[tuple, list[Span]] = defaultdict(list)
    for o in outages:
        by_net[(o.country, o.asn, o.region)].append(o)
    kept = []
    for s in spans:
        inside = any(
            o.first_bad - slack <= s.first_bad and s.last_bad <= o.last_bad + slack
            for o in by_net.get((s.country, s.asn, s.region), [])
        )
        if not inside:
            kept.append(s)
    return kept


# --------------------------------------------------------------------------- recurrence
def _hour_floor(t: datetime) -> datetime:
    return t.replace(minute=0, second=0, microsecond=0)


def _hour_round(t: datetime) -> datetime:
    return _hour_floor(t + timedelta(minutes=30))


def add_recurrence(events: list[Event], tz: str = LOCAL_TZ) -> list[Event]:
    """Mark events that repeat daily at the same local hours."""
    zone = ZoneInfo(tz)
    utc = ZoneInfo("UTC")
    groups: dict[tuple, list[int]] = defaultdict(list)
    for i, e in enumerate(events):
        if e.end is not None:
            groups[(e.kind, e.target, e.scope, e.country, tuple(e.asns))].append(i)
    out = list(events)
    for indexes in groups.values():
        if len(indexes) < 3:
            continue
        slots: dict[tuple[int, int], list[int]] = defaultdict(list)
        for i in indexes:
            e = events[i]
            start = e.start.replace(tzinfo=utc).astimezone(zone)
            end_utc = e.first_good_after or (e.end + timedelta(minutes=59))
            end = end_utc.replace(tzinfo=utc).astimezone(zone)
            slots[
                (
                    _hour_floor(start).hour,
                    _hour_round(end).hour if e.first_good_after else _hour_floor(end).hour,
                )
            ].append(i)
        for (h0, h1), members in slots.items():
            days = {events[i].start.replace(tzinfo=utc).astimezone(zone).date() for i in members}
            if len(days) >= 3 and len(members) >= 0.6 * len(indexes):
                text = f"every day {h0:02d}:00–{h1:02d}:00 {tz}"
                for i in members:
                    out[i] = replace(events[i], recurrence=text)
    return out


def detect(
    spans: list[Span],
    goods: list[Good],
    outages: list[Span],
    outage_goods: list[Good],
    slack: timedelta = timedelta(0),
) -> list[Event]:
    """All events from network spans (blocking/throttling) and outage spans."""
    kept = suppress_outage_blocking(spans, outages, slack)
    events = merge_scopes(kept, goods) + merge_scopes(outages, outage_goods)
    events = add_recurrence(events)
    events.sort(key=lambda e: (e.start, e.kind, e.target or ""))
    return events
