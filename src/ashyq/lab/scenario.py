"""Scenarios: a lab network, its sites, its censor rules and the ground truth they imply.

A scenario is a TOML file (``src/ashyq/lab/scenarios/*.toml``). Its rules are the ground
truth: for every target × vantage point × round of the scenario clock, :func:`expected` says
whether the target was censored there and then, and by which technique (so which verdict
methods count as "found with the right method"). Everything here is pure data.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

SCENARIO_DIR = Path(__file__).with_name("scenarios")

# Censor techniques → (expected status, accepted verdict methods; "x:*" is a prefix match).
TECHNIQUES: dict[str, tuple[str, tuple[str, ...]]] = {
    "dns.nxdomain": ("blocked", ("dns.nxdomain",)),
    "dns.bogon": ("blocked", ("dns.bogon",)),
    "dns.blockpage": ("blocked", ("dns.injected", "http.blockpage:*")),
    "ip.blackhole": ("blocked", ("tcp.timeout",)),
    "tcp.reset": ("blocked", ("tcp.reset", "tcp.refused")),  # RST to the SYN: refused
    "tls.timeout": ("blocked", ("tls.timeout",)),
    "tls.reset": ("blocked", ("tls.reset",)),
    "http.blockpage": ("blocked", ("http.blockpage:*",)),
    "tls.mitm": ("blocked", ("tls.mitm",)),
    "throttle": ("throttled", ("throughput.throttled",)),
    "region.throttle": ("throttled", ("throughput.throttled",)),
    "shutdown": ("blocked", ("dns.timeout", "tcp.timeout", "dns.failure", "shutdown")),
}
# Techniques that hit everything a vantage point reaches (no targets).
WHOLE_REGION = ("shutdown", "region.throttle")
# When several rules hit one target, the first stage the probe meets decides what it sees.
STAGE_ORDER = (
    "shutdown",
    "dns.nxdomain",
    "dns.bogon",
    "dns.blockpage",
    "ip.blackhole",
    "tcp.reset",
    "tls.timeout",
    "tls.reset",
    "tls.mitm",
    "http.blockpage",
    "throttle",
    "region.throttle",
)
# What a site may do on its own (never censorship): the expected status, if the analysis can
# tell (None: anything but blocked/throttled is right).
BEHAVIOURS: dict[str, str | None] = {
    "normal": "ok",
    "down": "down",
    "slow": None,
    "cdn": "ok",
    "challenge": None,
    "geoblock": None,
}


class ScenarioError(ValueError):
    """A scenario file that cannot be used, with the reason."""


@dataclass(frozen=True, slots=True)
class Network:
    id: str
    asn: str
    name: str


@dataclass(frozen=True, slots=True)
class Vantage:
    id: str
    network: str
    region: str


@dataclass(frozen=True, slots=True)
class Site:
    host: str
    url: str
    behaviour: str = "normal"
    size: int = 12_000  # bytes of page body
    title: str = ""

    @property
    def scheme(self) -> str:
        return urlsplit(self.url).scheme


@dataclass(frozen=True, slots=True)
class Rule:
    technique: str
    targets: tuple[str, ...] = ()  # host names; empty only for shutdown
    networks: tuple[str, ...] = ()  # network ids; empty = every network
    regions: tuple[str, ...] = ()  # region names; empty = every region
    start: dt.datetime | None = None  # active from (inclusive), scenario clock
    end: dt.datetime | None = None  # active until (exclusive)
    rate_kbit: int = 130  # for throttle
    note: str = ""

    def active(self, when: dt.datetime) -> bool:
        return (self.start is None or when >= self.start) and (self.end is None or when < self.end)

    def applies(self, vantage: Vantage, when: dt.datetime) -> bool:
        return (
            self.active(when)
            and (not self.networks or vantage.network in self.networks)
            and (not self.regions or vantage.region in self.regions)
        )

    def hits(self, host: str, vantage: Vantage, when: dt.datetime) -> bool:
        if not self.applies(vantage, when):
            return False
        if self.technique in WHOLE_REGION:
            return True
        return host in self.targets


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    title: str
    description: str
    start: dt.datetime
    step: dt.timedelta
    rounds: int
    networks: tuple[Network, ...]
    vantages: tuple[Vantage, ...]
    sites: tuple[Site, ...]
    rules: tuple[Rule, ...]
    path: Path | None = None
    sources: tuple[str, ...] = field(default=())

    def times(self) -> list[dt.datetime]:
        return [self.start + i * self.step for i in range(self.rounds)]

    def network(self, network_id: str) -> Network:
        return next(n for n in self.networks if n.id == network_id)

    def site(self, host: str) -> Site:
        return next(s for s in self.sites if s.host == host)


@dataclass(frozen=True, slots=True)
class Expected:
    """The ground truth for one target at one vantage point and round."""

    censored: bool
    status: str | None  # expected status; None: anything that is not an accusation
    methods: tuple[str, ...]  # accepted methods when censored
    technique: str | None  # the rule's technique, or the site's behaviour when not censored


def expected(scenario: Scenario, host: str, vantage: Vantage, when: dt.datetime) -> Expected:
    hits = [r for r in scenario.rules if r.hits(host, vantage, when)]
    if hits:
        rule = min(hits, key=lambda r: STAGE_ORDER.index(r.technique))
        status, methods = TECHNIQUES[rule.technique]
        return Expected(True, status, methods, rule.technique)
    behaviour = scenario.site(host).behaviour
    return Expected(False, BEHAVIOURS[behaviour], (), behaviour)


def method_matches(method: str | None, accepted: tuple[str, ...]) -> bool:
    if not method:
        return False
    for pat in accepted:
        if pat.endswith("*") and method.startswith(pat[:-1]):
            return True
        if method == pat:
            return True
    return False


# ---------------------------------------------------------------- loading


def parse_time(value: object, what: str) -> dt.datetime:
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise ScenarioError(f"{what}: not an ISO 8601 time: {value!r}") from exc
    else:
        raise ScenarioError(f"{what}: expected a time, got {value!r}")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def parse_duration(value: object, what: str) -> dt.timedelta:
    if isinstance(value, str) and value[:-1].isdigit() and value[-1] in "smhd":
        unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[value[-1]]
        return dt.timedelta(**{unit: int(value[:-1])})
    raise ScenarioError(f"{what}: expected a duration like '30m' or '2h', got {value!r}")


def _strs(value: object, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ScenarioError(f"{what}: expected a list of strings, got {value!r}")


def parse(data: dict, path: Path | None = None) -> Scenario:
    """Validate a scenario given as a TOML-shaped dict."""
    where = str(path or "scenario")
    try:
        name = str(data["name"])
        networks = tuple(
            Network(str(n["id"]), str(n["asn"]), str(n["name"])) for n in data["network"]
        )
        vantages = tuple(
            Vantage(str(v["id"]), str(v["network"]), str(v["region"])) for v in data["vantage"]
        )
        sites = tuple(
            Site(
                host=str(s["host"]).lower(),
                url=str(s.get("url") or f"https://{s['host']}/"),
                behaviour=str(s.get("behaviour", "normal")),
                size=int(s.get("size", 12_000)),
                title=str(s.get("title", "")),
            )
            for s in data["site"]
        )
        start = parse_time(data["start"], f"{where}: start")
        step = parse_duration(data.get("step", "1h"), f"{where}: step")
        rounds = int(data.get("rounds", 1))
    except KeyError as exc:
        raise ScenarioError(f"{where}: missing key {exc}") from exc
    except (TypeError, ValueError) as exc:
        if isinstance(exc, ScenarioError):
            raise
        raise ScenarioError(f"{where}: {exc}") from exc
    net_ids = {n.id for n in networks}
    hosts = {s.host for s in sites}
    regions = {v.region for v in vantages}
    if len(net_ids) != len(networks) or len({v.id for v in vantages}) != len(vantages):
        raise ScenarioError(f"{where}: duplicate network or vantage id")
    if len(hosts) != len(sites):
        raise ScenarioError(f"{where}: duplicate site host")
    for v in vantages:
        if v.network not in net_ids:
            raise ScenarioError(f"{where}: vantage {v.id} names unknown network {v.network}")
    for s in sites:
        if s.behaviour not in BEHAVIOURS:
            raise ScenarioError(f"{where}: site {s.host}: unknown behaviour {s.behaviour!r}")
        if s.scheme not in ("http", "https") or urlsplit(s.url).hostname != s.host:
            raise ScenarioError(f"{where}: site {s.host}: url {s.url!r} must be http(s)://host/")
    rules = []
    for i, r in enumerate(data.get("rule", [])):
        what = f"{where}: rule {i + 1}"
        technique = str(r.get("technique", ""))
        if technique not in TECHNIQUES:
            known = ", ".join(TECHNIQUES)
            raise ScenarioError(f"{what}: unknown technique {technique!r} (known: {known})")
        rule = Rule(
            technique=technique,
            targets=tuple(t.lower() for t in _strs(r.get("targets"), what)),
            networks=_strs(r.get("networks"), what),
            regions=_strs(r.get("regions"), what),
            start=parse_time(r["from"], what) if "from" in r else None,
            end=parse_time(r["until"], what) if "until" in r else None,
            rate_kbit=int(r.get("rate_kbit", 130)),
            note=str(r.get("note", "")),
        )
        if not 8 <= rule.rate_kbit <= 1_000_000:
            raise ScenarioError(f"{what}: rate_kbit must be between 8 and 1000000")
        if technique not in WHOLE_REGION and not rule.targets:
            raise ScenarioError(f"{what}: {technique} needs targets")
        if technique in WHOLE_REGION and rule.targets:
            raise ScenarioError(f"{what}: {technique} hits everything and takes no targets")
        for t in rule.targets:
            if t not in hosts:
                raise ScenarioError(f"{what}: target {t} is not a site of the scenario")
            if technique in ("http.blockpage", "dns.blockpage") and sites_by(sites, t) != "http":
                raise ScenarioError(f"{what}: {technique} needs an http:// site, {t} is not")
        for n in rule.networks:
            if n not in net_ids:
                raise ScenarioError(f"{what}: unknown network {n}")
        for g in rule.regions:
            if g not in regions:
                raise ScenarioError(f"{what}: unknown region {g}")
        rules.append(rule)
    return Scenario(
        name=name,
        title=str(data.get("title", name)),
        description=str(data.get("description", "")).strip(),
        start=start,
        step=step,
        rounds=rounds,
        networks=networks,
        vantages=vantages,
        sites=sites,
        rules=tuple(rules),
        path=path,
        sources=_strs(data.get("sources"), where),
    )


def sites_by(sites: tuple[Site, ...], host: str) -> str:
    return next(s.scheme for s in sites if s.host == host)


def load(name_or_path: str | Path) -> Scenario:
    """Load a bundled scenario by name (``kz-2019-05-09``) or a TOML file by path."""
    path = Path(name_or_path)
    if not path.suffix:
        path = SCENARIO_DIR / f"{name_or_path}.toml"
    if not path.is_file():
        known = ", ".join(available())
        raise ScenarioError(f"no scenario {str(name_or_path)!r} (bundled: {known})")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: not valid TOML: {exc}") from exc
    return parse(data, path)


def available() -> list[str]:
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))
