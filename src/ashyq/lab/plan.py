"""The lab's address plan and, for each round of the scenario clock, each censor's rules.

Pure functions: from a :class:`Scenario` they compute addresses, DNS zones, site configs, the
nftables ruleset of every censor router and the middlebox policy that goes with it. Nothing
here runs a command, so it is all testable without root.

Addresses (documentation and private ranges only, never routed outside the lab):

* sites: ``203.0.113.10+i`` (a CDN site also answers at ``203.0.113.100+i`` in some regions)
* authoritative DNS: ``198.51.100.53`` (main node) and ``198.51.100.54`` (regional node)
* control (test helper): ``198.51.100.10:8080``
* network k (1-based): internet side ``100.64.k.1/30``, censor side ``100.64.k.2/30``,
  blockpage server ``192.0.2.k`` (a documentation address, as "public" as the sites')
* vantage j (1-based, in network k): ``10.k.j.2/24``, its gateway/resolver ``10.k.j.1``
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from ashyq.lab.middlebox import BLOCKPAGE_HTML
from ashyq.lab.scenario import STAGE_ORDER, Rule, Scenario, Vantage

DNS_MAIN = "198.51.100.53"
DNS_REGIONAL = "198.51.100.54"
CONTROL_IP = "198.51.100.10"
CONTROL_PORT = 8080
COLLECTOR_IP = "198.51.100.20"  # the demo's collector (a lab management address, like the control)
COLLECTOR_PORT = 8470
SITES_NET = "203.0.113.0/24"
PROXY_PORT = 3129
EDGE_PORT = 3130
BOGON = "127.0.0.1"
GEOBLOCKED_FROM = "10.0.0.0/8, 100.64.0.0/10"  # "Kazakhstan": the probes and their ISPs
CDN_REGION_INDEX = 1  # vantages whose region sorts after the first one get the regional node

GEOBLOCK_BODY = (
    "<!DOCTYPE html><html><head><title>Not available in your region</title></head><body>"
    "<h1>Not available in your region</h1><p>Our service is not offered in your country. "
    "This is a decision of the site's operator.</p></body></html>"
)
CHALLENGE_BODY = (
    "<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>"
    "<h1>Checking your browser before accessing the site</h1>"
    "<p>Please enable JavaScript and cookies to continue.</p></body></html>"
)


@dataclass(frozen=True, slots=True)
class VantageAddr:
    vantage: Vantage
    k: int  # network index, 1-based
    j: int  # vantage index, 1-based
    ns: str  # namespace short name
    address: str
    gateway: str
    subnet: str
    censor_if: str  # short interface name on the censor side
    vp_if: str

    @property
    def resolver(self) -> str:
        return f"{self.gateway}:53"


@dataclass(frozen=True, slots=True)
class Plan:
    scenario: Scenario
    site_ip: dict[str, str]
    site_alt_ip: dict[str, str]
    network_index: dict[str, int]
    vantages: tuple[VantageAddr, ...]

    def vantage(self, vantage_id: str) -> VantageAddr:
        return next(v for v in self.vantages if v.vantage.id == vantage_id)

    def site_addrs(self, host: str) -> list[str]:
        out = [self.site_ip[host]]
        if host in self.site_alt_ip:
            out.append(self.site_alt_ip[host])
        return out

    @property
    def control_url(self) -> str:
        return f"http://{CONTROL_IP}:{CONTROL_PORT}/"


def blockpage_ip(k: int) -> str:
    """The blockpage server of network `k`, on its censor router."""
    return f"192.0.2.{k}"


def make_plan(scenario: Scenario) -> Plan:
    if len(scenario.sites) > 80 or len(scenario.networks) > 200:
        raise ValueError("too many sites or networks for the lab's address plan")
    site_ip = {s.host: f"203.0.113.{10 + i}" for i, s in enumerate(scenario.sites)}
    site_alt_ip = {
        s.host: f"203.0.113.{100 + i}" for i, s in enumerate(scenario.sites) if s.behaviour == "cdn"
    }
    network_index = {n.id: k for k, n in enumerate(scenario.networks, start=1)}
    vps = []
    for j, v in enumerate(scenario.vantages, start=1):
        k = network_index[v.network]
        vps.append(
            VantageAddr(
                vantage=v,
                k=k,
                j=j,
                ns=f"v{j}",
                address=f"10.{k}.{j}.2",
                gateway=f"10.{k}.{j}.1",
                subnet=f"10.{k}.{j}.0/24",
                censor_if=f"c{k}v{j}",
                vp_if=f"v{j}",
            )
        )
    return Plan(scenario, site_ip, site_alt_ip, network_index, tuple(vps))


def regional_vantages(plan: Plan) -> list[VantageAddr]:
    """Vantages that a CDN answers from its regional node (every region but the first)."""
    regions = sorted({v.vantage.region for v in plan.vantages})
    far = set(regions[CDN_REGION_INDEX:])
    return [v for v in plan.vantages if v.vantage.region in far]


def dns_zones(plan: Plan) -> tuple[dict[str, Any], dict[str, Any]]:
    """Zones of the main and the regional authoritative node."""
    main: dict[str, Any] = {}
    regional: dict[str, Any] = {}
    for host, ip in plan.site_ip.items():
        main[host] = [ip]
        main[f"www.{host}"] = [ip]
        alt = plan.site_alt_ip.get(host, ip)
        regional[host] = [alt]
        regional[f"www.{host}"] = [alt]
    return main, regional


def site_pages(plan: Plan) -> dict[str, dict[str, Any]]:
    """``ashyq.servers.site`` page configs per host (what every visitor gets)."""
    pages: dict[str, dict[str, Any]] = {}
    for s in plan.scenario.sites:
        page: dict[str, Any] = {"title": s.title or s.host, "size": s.size}
        if s.behaviour == "slow":
            page["delay"] = 1.5
            page["rate_kbit_s"] = 400
        elif s.behaviour == "challenge":
            page = {"status": 503, "body": CHALLENGE_BODY}
        pages[s.host] = page
        pages[f"www.{s.host}"] = page
    return pages


def inet_nft(plan: Plan) -> str:
    """Rules of the internet namespace: sites that are down, and the operator edge."""
    lines = ["table ip aq_inet {", "  chain input {", "    type filter hook input priority 0;"]
    for s in plan.scenario.sites:
        if s.behaviour == "down":
            addrs = ", ".join(plan.site_addrs(s.host))
            lines.append(
                f"    ip daddr {{ {addrs} }} tcp dport {{ 80, 443 }} reject with tcp reset"
            )
    lines += ["  }", "  chain prerouting {", "    type nat hook prerouting priority dstnat;"]
    for s in plan.scenario.sites:
        if s.behaviour == "geoblock":
            addrs = ", ".join(plan.site_addrs(s.host))
            lines.append(
                f"    ip saddr {{ {GEOBLOCKED_FROM} }} ip daddr {{ {addrs} }} "
                f"tcp dport {{ 80, 443 }} redirect to :{EDGE_PORT}"
            )
    lines += ["  }", "}"]
    return "\n".join(lines) + "\n"


def edge_policy(plan: Plan, site_ca_dir: str) -> dict[str, Any]:
    """The operator edge in the internet namespace: geo-blocked sites answer 451 to Kazakhstan."""
    rules = []
    for s in plan.scenario.sites:
        if s.behaviour == "geoblock":
            rules.append(
                {
                    "action": "serve",
                    "names": [s.host],
                    "sources": GEOBLOCKED_FROM.split(", "),
                    "status": 451,
                    "body": GEOBLOCK_BODY,
                }
            )
    return {"tcp_rules": rules, "site_ca_dir": site_ca_dir}


# --------------------------------------------------------------------------- censor rules


def active_rules(plan: Plan, network_id: str, when: dt.datetime) -> list[tuple[Rule, list[str]]]:
    """(rule, vantage subnets it applies to) for one censor at one moment, in stage order."""
    out = []
    for rule in sorted(plan.scenario.rules, key=lambda r: STAGE_ORDER.index(r.technique)):
        subnets = [
            v.subnet
            for v in plan.vantages
            if v.vantage.network == network_id and rule.applies(v.vantage, when)
        ]
        if subnets:
            out.append((rule, subnets))
    return out


def censor_nft(plan: Plan, network_id: str, when: dt.datetime) -> str:
    """The nftables ruleset of one censor router at one moment of the scenario clock."""
    k = plan.network_index[network_id]
    blockpage = blockpage_ip(k)
    filt = [
        f"    ip daddr {CONTROL_IP} tcp dport {CONTROL_PORT} accept",
        f"    ip saddr {CONTROL_IP} tcp sport {CONTROL_PORT} accept",
        f"    ip daddr {COLLECTOR_IP} tcp dport {COLLECTOR_PORT} accept",
        f"    ip saddr {COLLECTOR_IP} tcp sport {COLLECTOR_PORT} accept",
        f"    ip daddr {blockpage} tcp dport 443 reject with tcp reset",
    ]
    nat = [
        f"    ip daddr {blockpage} tcp dport 80 redirect to :{PROXY_PORT}",
    ]
    for rule, subnets in active_rules(plan, network_id, when):
        src = "{ " + ", ".join(subnets) + " }"
        if rule.technique in _TCP_ACTIONS:
            # Only what a DPI rule looks at goes through the middlebox; everything else is
            # routed untouched, so innocent failures keep their own shape.
            addrs = "{ " + ", ".join(a for t in rule.targets for a in plan.site_addrs(t)) + " }"
            nat.append(
                f"    ip saddr {src} ip daddr {addrs} tcp dport {{ 80, 443 }} "
                f"redirect to :{PROXY_PORT}"
            )
        if rule.technique == "shutdown":
            filt.append(f"    ip saddr {src} drop")
            filt.append(f"    ip daddr {src} drop")
            continue
        addrs = "{ " + ", ".join(a for t in rule.targets for a in plan.site_addrs(t)) + " }"
        if rule.technique == "ip.blackhole":
            filt.append(f"    ip saddr {src} ip daddr {addrs} drop")
        elif rule.technique == "tcp.reset":
            filt.append(
                f"    ip saddr {src} ip daddr {addrs} tcp dport {{ 80, 443 }} reject with tcp reset"
            )
    return "\n".join(
        [
            "table ip aq_censor {",
            "  chain filter_pre {",
            "    type filter hook prerouting priority -200; policy accept;",
            *filt,
            "  }",
            "  chain nat_pre {",
            "    type nat hook prerouting priority dstnat; policy accept;",
            *nat,
            "  }",
            "}",
            "",
        ]
    )


def region_rates(plan: Plan, when: dt.datetime) -> dict[str, int | None]:
    """Per vantage id: the tc rate limit (kbit/s) of its link at `when`, or None."""
    rates: dict[str, int | None] = {}
    for v in plan.vantages:
        limits = [
            r.rate_kbit
            for r in plan.scenario.rules
            if r.technique == "region.throttle" and r.applies(v.vantage, when)
        ]
        rates[v.vantage.id] = min(limits) if limits else None
    return rates


def tc_commands(iface: str, rate_kbit: int | None) -> list[list[str]]:
    """tc commands that set (tbf) or clear the rate limit of a censor's link to a vantage."""
    if rate_kbit is None:
        return [["tc", "qdisc", "del", "dev", iface, "root"]]
    burst = max(1600, rate_kbit * 1000 // 8 // 50)  # about 20 ms of traffic
    return [
        [
            "tc",
            "qdisc",
            "replace",
            "dev",
            iface,
            "root",
            "tbf",
            "rate",
            f"{rate_kbit}kbit",
            "burst",
            str(burst),
            "latency",
            "400ms",
        ]
    ]


_TCP_ACTIONS = {
    "tls.timeout": ("stall", "tls"),
    "tls.reset": ("reset", "tls"),
    "tls.mitm": ("intercept", "tls"),
    "http.blockpage": ("blockpage", "http"),
    "throttle": ("pace", None),
}
_DNS_ACTIONS = {"dns.nxdomain": "nxdomain", "dns.bogon": "bogon", "dns.blockpage": "redirect"}


def censor_policy(
    plan: Plan, network_id: str, when: dt.datetime, mitm_ca_dir: str | None
) -> dict[str, Any]:
    """The middlebox policy of one censor router at one moment of the scenario clock."""
    k = plan.network_index[network_id]
    blockpage = blockpage_ip(k)
    dns_rules: list[dict[str, Any]] = []
    tcp_rules: list[dict[str, Any]] = [
        {"action": "blockpage", "dst": [f"{blockpage}/32"]},
    ]
    for rule, subnets in active_rules(plan, network_id, when):
        if rule.technique in _DNS_ACTIONS:
            action = _DNS_ACTIONS[rule.technique]
            entry: dict[str, Any] = {"action": action, "names": list(rule.targets)}
            entry["sources"] = subnets
            if action == "bogon":
                entry["address"] = BOGON
            elif action == "redirect":
                entry["address"] = blockpage
            dns_rules.append(entry)
        elif rule.technique in _TCP_ACTIONS:
            action, kind = _TCP_ACTIONS[rule.technique]
            entry = {"action": action, "names": list(rule.targets), "sources": subnets}
            if kind:
                entry["kind"] = kind
            if action == "pace":
                entry["rate_kbit"] = rule.rate_kbit
            tcp_rules.append(entry)
    regional = {
        v.subnet: f"{DNS_REGIONAL}:53"
        for v in regional_vantages(plan)
        if v.vantage.network == network_id
    }
    return {
        "dns_rules": dns_rules,
        "tcp_rules": tcp_rules,
        "upstream_dns": f"{DNS_MAIN}:53",
        "upstream_by_source": regional,
        "blockpage_html": BLOCKPAGE_HTML,
        "mitm_ca_dir": mitm_ca_dir,
    }
