"""Bring a scenario's network up in namespaces, switch its censors' rules, tear it down.

Layout (``P`` is the run's prefix, e.g. ``aq1f2e-``)::

    Pv1 (probe, AS9198 Almaty) ─┐
    Pv2 (probe, AS9198 Shymkent)┼─ Pc1 (censor router AS9198) ─┐
    Pv3 (probe, AS29355 Almaty) ── Pc2 (censor router AS29355) ┼─ Pin (internet: sites,
                                                               │   DNS, control, operator edge)

Every censor router runs the middlebox (resolver on :53, proxy on :3129) and an nftables table
``aq_censor`` that the scenario clock rewrites; the internet namespace runs the site servers
from ``ashyq.servers``, two authoritative DNS nodes, the control and the operator edge.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ashyq.lab import inns
from ashyq.lab import plan as planmod
from ashyq.lab.middlebox import write_policy
from ashyq.lab.netns import Lab, ns_exec, require
from ashyq.lab.plan import Plan
from ashyq.lab.scenario import Scenario

LAB_CA_NAME = "ashyq lab CA"
MITM_CA_NAME = "Qaznet Trust Network"


@dataclass
class LabNetwork:
    lab: Lab
    plan: Plan
    inet: str
    censors: dict[str, str]  # network id -> namespace
    vantage_ns: dict[str, str]  # vantage id -> namespace
    ca_file: Path  # what probes trust (the lab CA, not the state one)
    mitm_ca_dir: Path
    policies: dict[str, Path] = field(default_factory=dict)
    control: bool = False
    rates: dict[str, int | None] = field(default_factory=dict)  # tc limit per vantage

    @property
    def scenario(self) -> Scenario:
        return self.plan.scenario

    def apply(self, when: dt.datetime) -> None:
        """Switch every censor to the rules active at scenario time `when`."""
        for net_id, ns in self.censors.items():
            nft = planmod.censor_nft(self.plan, net_id, when)
            ns_exec(ns, ["nft", "-f", "-"], input="flush ruleset\n" + nft)
            policy = planmod.censor_policy(self.plan, net_id, when, str(self.mitm_ca_dir))
            write_policy(self.policies[net_id], policy)
        for vid, rate in planmod.region_rates(self.plan, when).items():
            if rate == self.rates.get(vid):
                continue
            va = self.plan.vantage(vid)
            ns = self.censors[va.vantage.network]
            for cmd in planmod.tc_commands(self.lab.iface(va.censor_if), rate):
                ns_exec(ns, cmd, check=rate is not None)
            self.rates[vid] = rate

    def close(self) -> None:
        self.lab.close()


def cli_has(*words: str) -> bool:
    """True when ``ashyq <words...>`` is a registered command (others' areas land over time)."""
    import argparse

    from ashyq.cli import build_parser

    parser: argparse.ArgumentParser = build_parser()
    for word in words:
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs or word not in subs[0].choices:
            return False
        parser = subs[0].choices[word]
    return True


def _control_command(listen: str, resolver: str) -> list[str] | None:
    """The control server's command line, when ``ashyq control serve`` exists."""
    if not cli_has("control", "serve"):
        return None
    return [
        sys.executable,
        "-m",
        "ashyq",
        "control",
        "serve",
        "--lab",
        "--listen",
        listen,
        "--resolver",
        resolver,
    ]


def up(scenario: Scenario, lab: Lab | None = None, *, with_control: bool = True) -> LabNetwork:
    """Build the scenario's network and start its servers; the caller must ``close()`` it."""
    require()
    from ashyq.servers.ca import CertAuthority

    lab = lab or Lab()
    try:
        return _up(scenario, lab, with_control, CertAuthority)
    except BaseException:
        lab.close()
        raise


def _up(scenario: Scenario, lab: Lab, with_control: bool, CertAuthority) -> LabNetwork:
    plan = planmod.make_plan(scenario)
    state = lab.state
    # Certificates: the lab's CA (trusted by probes and the control) and the state CA.
    lab_ca = CertAuthority.create(LAB_CA_NAME)
    lab_ca_dir = state / "lab-ca"
    ca_file = lab_ca.write(lab_ca_dir)
    mitm_ca_dir = state / "mitm-ca"
    CertAuthority.create(MITM_CA_NAME).write(mitm_ca_dir)
    certs: dict[str, list[str]] = {}
    for s in scenario.sites:
        cert, key = lab_ca.issue([s.host, f"www.{s.host}"]).write(state / "certs", stem=s.host)
        certs[s.host] = [str(cert), str(key)]
        certs[f"www.{s.host}"] = certs[s.host]

    # Namespaces and links.
    inet = lab.ns("in")
    ns_exec(inet, ["sysctl", "-qw", "net.ipv4.ip_forward=1"])
    addrs = [*plan.site_ip.values(), *plan.site_alt_ip.values()]
    addrs += [planmod.DNS_MAIN, planmod.DNS_REGIONAL, planmod.CONTROL_IP, planmod.COLLECTOR_IP]
    for a in addrs:
        ns_exec(inet, ["ip", "addr", "add", f"{a}/32", "dev", "lo"])
    censors: dict[str, str] = {}
    for net in scenario.networks:
        k = plan.network_index[net.id]
        c = lab.ns(f"c{k}")
        censors[net.id] = c
        ns_exec(c, ["sysctl", "-qw", "net.ipv4.ip_forward=1"])
        lab.veth(inet, f"i{k}", f"100.64.{k}.1/30", c, f"c{k}u", f"100.64.{k}.2/30")
        ns_exec(c, ["ip", "route", "add", "default", "via", f"100.64.{k}.1"])
        ns_exec(inet, ["ip", "route", "add", f"10.{k}.0.0/16", "via", f"100.64.{k}.2"])
        ns_exec(c, ["ip", "addr", "add", f"{planmod.blockpage_ip(k)}/32", "dev", "lo"])
    vantage_ns: dict[str, str] = {}
    for v in plan.vantages:
        c = censors[v.vantage.network]
        vns = lab.ns(v.ns)
        vantage_ns[v.vantage.id] = vns
        lab.veth(c, v.censor_if, f"{v.gateway}/24", vns, v.vp_if, f"{v.address}/24")
        ns_exec(vns, ["ip", "route", "add", "default", "via", v.gateway])

    # The internet: DNS nodes, sites, the operator edge, the control.
    main_zone, regional_zone = planmod.dns_zones(plan)
    for name, zone, ip in (
        ("dns-main", main_zone, planmod.DNS_MAIN),
        ("dns-regional", regional_zone, planmod.DNS_REGIONAL),
    ):
        zf = state / f"{name}.json"
        zf.write_text(json.dumps(zone))
        lab.python(
            inet, "ashyq.servers.dns", "--listen", f"{ip}:53", "--zone", str(zf), log=f"{name}.log"
        )
    pages = planmod.site_pages(plan)
    for port, tls in ((80, None), (443, certs)):
        cfg = {"listen": f"0.0.0.0:{port}", "sites": pages}
        if tls:
            cfg["tls"] = tls
        cf = state / f"site-{port}.json"
        cf.write_text(json.dumps(cfg))
        lab.python(inet, "ashyq.servers.site", "--config", str(cf), log=f"site-{port}.log")
    ns_exec(inet, ["nft", "-f", "-"], input=planmod.inet_nft(plan))
    edge = state / "edge-policy.json"
    write_policy(edge, planmod.edge_policy(plan, str(lab_ca_dir)))
    lab.python(
        inet,
        "ashyq.lab.middlebox",
        str(edge),
        "--proxy-port",
        str(planmod.EDGE_PORT),
        log="edge.log",
    )
    control = False
    if with_control:
        cmd = _control_command(
            f"{planmod.CONTROL_IP}:{planmod.CONTROL_PORT}", f"{planmod.DNS_MAIN}:53"
        )
        if cmd is not None:
            lab.spawn(inet, [*cmd, "--ca-file", str(ca_file)], log="control.log")
            control = True

    # Censors: a middlebox each, then the rules of the first round.
    net = LabNetwork(lab, plan, inet, censors, vantage_ns, ca_file, mitm_ca_dir, control=control)
    for net_id, c in censors.items():
        pf = state / f"policy-{net_id}.json"
        net.policies[net_id] = pf
        write_policy(pf, {})
        lab.python(
            c,
            "ashyq.lab.middlebox",
            str(pf),
            "--proxy-port",
            str(planmod.PROXY_PORT),
            "--dns-port",
            "53",
            "--verbose",
            log=f"middlebox-{net_id}.log",
        )
    net.apply(scenario.start)

    # Wait for every server; if one does not come up, say which process died and why.
    first = scenario.sites[0].host
    waits = [
        lambda: inns.wait_udp_dns(inet, planmod.DNS_MAIN, 53, first),
        lambda: inns.wait_udp_dns(inet, planmod.DNS_REGIONAL, 53, first),
        lambda: inns.wait_tcp(inet, "127.0.0.1", 80),
        lambda: inns.wait_tcp(inet, "127.0.0.1", 443),
        lambda: inns.wait_tcp(inet, "127.0.0.1", planmod.EDGE_PORT),
    ]
    if control:
        waits.append(
            lambda: inns.wait_tcp(inet, planmod.CONTROL_IP, planmod.CONTROL_PORT, timeout=90)
        )
    for c in censors.values():
        waits.append(lambda c=c: inns.wait_tcp(c, "127.0.0.1", planmod.PROXY_PORT))
    for wait in waits:
        try:
            wait()
        except TimeoutError as exc:
            dead = [
                f"{' '.join(map(str, p.args[-6:]))} exited {p.returncode}"
                for p in lab.procs
                if p.poll() is not None
            ]
            logs = {
                log: lab.log_tail(log, 5)
                for log in sorted(os.listdir(lab.state))
                if log.endswith(".log")
            }
            detail = "; ".join(dead) or "no process died"
            tails = " | ".join(f"{k}: {v}" for k, v in logs.items() if v and dead)
            raise RuntimeError(f"the lab did not come up: {exc} ({detail}) {tails}") from exc
    return net
