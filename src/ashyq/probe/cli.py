"""Sub-commands of ashyq.probe: ``ashyq probe`` and ``ashyq check``."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import re
import sys
import tomllib
from pathlib import Path
from typing import Any

from ashyq.paths import add_data_option

DEFAULTS: dict[str, Any] = {
    "cc": "ZZ",
    "asn": "AS0",
    "network_name": "",
    "region": None,
    "resolver": "1.1.1.1:53",
    "no_system_resolver": False,
    "ca_file": None,
    "control": None,
    "concurrency": 32,
    "per_host": 2,
    "timeout": 10.0,
    "url_timeout": 60.0,
    "lab_clock": None,
    "upload": None,
    "token": None,
    "asn_db": None,
}


def _add_common(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("where the probe is (never its IP address)")
    g.add_argument("--cc", help="country code of the probe's network, e.g. KZ")
    g.add_argument("--asn", help="AS number of the probe's network, e.g. AS9198")
    g.add_argument("--network-name", help="name of the probe's network, e.g. 'JSC Kazakhtelecom'")
    g.add_argument("--region", help="region chosen by the volunteer (annotations.region)")
    g.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="TOML file with the same keys (cc, asn, network_name, region, resolver, "
        "control, ca_file, timeout, url_timeout, concurrency, per_host, ...); "
        "options given on the command line win",
    )
    m = p.add_argument_group("how to measure")
    m.add_argument(
        "--control",
        metavar="URL",
        help="control (OONI test helper) to ask, e.g. http://control.example:8765/",
    )
    m.add_argument(
        "--resolver",
        metavar="IP:PORT",
        help="DNS-over-UDP resolver measured beside the system resolver "
        "(default 1.1.1.1:53; 'none' to skip)",
    )
    m.add_argument(
        "--no-system-resolver",
        action="store_true",
        default=None,
        help="skip the system resolver (getaddrinfo); for tests and the lab",
    )
    m.add_argument("--ca-file", metavar="PEM", help="extra CA certificates to trust (lab/test CA)")
    m.add_argument(
        "--asn-db",
        metavar="FILE",
        help="IP-to-ASN table (iptoasn.com TSV: range_start, range_end, AS_number, "
        "country_code, AS_description; IPv4 and IPv6; may be gzipped) to fill the AS of "
        "every DNS answer and of the resolver (default: $ASHYQ_ASN_DB, else asn 0)",
    )
    m.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="time bound of each step: DNS, connect, TLS, HTTP (default 10)",
    )
    m.add_argument(
        "--url-timeout",
        type=float,
        metavar="SECONDS",
        help="hard time bound of one URL (default 60)",
    )
    m.add_argument(
        "--lab-clock",
        metavar="ISO8601",
        help="lab only: record times as if the run started at this instant",
    )
    m.add_argument(
        "--output",
        "-o",
        type=Path,
        metavar="FILE",
        help="append measurements (JSONL) to FILE (default: standard output)",
    )


def register(sub: argparse._SubParsersAction) -> None:
    """Add this area's sub-commands to `ashyq`."""
    probe = sub.add_parser(
        "probe",
        help="measure websites (OONI web_connectivity), write JSONL",
        description=(
            "Measure URLs like OONI's Web Connectivity v0.5: DNS (system and UDP resolver), TCP "
            "to every address, TLS with SNI (whole certificate chain), HTTP GET with up to 10 "
            "redirects and throughput samples, and the control's answer for the same URL. "
            "Writes one OONI measurement per line as each URL finishes. The probe's IP address "
            "is never recorded (probe_ip is always 127.0.0.1)."
        ),
    )
    probe.add_argument("urls", nargs="*", metavar="URL", help="URLs to measure")
    probe.add_argument(
        "--list",
        type=Path,
        metavar="FILE.csv",
        help="Citizen Lab test list (url,category_code,category_description,"
        "date_added,source,notes)",
    )
    _add_common(probe)
    r = probe.add_argument_group("running a list")
    r.add_argument(
        "--concurrency",
        type=int,
        metavar="N",
        help="URLs measured at once, on different hosts (default 32; at most --per-host "
        "of one host)",
    )
    r.add_argument(
        "--per-host", type=int, metavar="N", help="URLs of one host measured at once (default 2)"
    )
    r.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar on stderr (default: when stderr is a terminal)",
    )
    u = probe.add_argument_group("uploading")
    u.add_argument("--upload", metavar="URL", help="queue each measurement for this collector")
    u.add_argument("--token", help="collector token (if the collector wants one)")
    u.add_argument(
        "--upload-wait",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="how long to keep trying to upload at the end; what is not uploaded "
        "stays queued in DIR/upload-queue for the next run (default %(default)s)",
    )
    add_data_option(probe)
    probe.set_defaults(func=run_probe)

    check = sub.add_parser(
        "check",
        help="one-line answer: is this URL reachable, blocked (how), or down?",
        description=(
            "Measure one URL against the control and print a one-line answer with the facts "
            "behind it: reachable, blocked (and how), down for everyone, or inconclusive."
        ),
    )
    check.add_argument("url", metavar="URL")
    _add_common(check)
    check.add_argument("--json", action="store_true", help="print the verdict as JSON")
    check.set_defaults(func=run_check)


# -- options ---------------------------------------------------------------------------------
def _error(msg: str) -> Exception:
    from ashyq.cli import CliError

    return CliError(msg)


def load_settings(args: argparse.Namespace) -> dict[str, Any]:
    """Defaults, then the TOML config, then the command line."""
    settings = dict(DEFAULTS)
    if getattr(args, "config", None):
        try:
            data = tomllib.loads(args.config.read_text(encoding="utf-8"))
        except OSError as exc:
            raise _error(f"cannot read {args.config}: {exc.strerror or exc}") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise _error(f"{args.config}: not valid TOML ({exc})") from None
        if "probe" in data and isinstance(data["probe"], dict):
            data = data["probe"]
        for key, value in data.items():
            k = key.replace("-", "_")
            if k not in DEFAULTS:
                raise _error(f"{args.config}: unknown key {key!r}")
            settings[k] = value
    for key in DEFAULTS:
        value = getattr(args, key, None)
        if value is not None:
            settings[key] = value
    return settings


def _hostport(text: str, what: str) -> tuple[str, int]:
    from ashyq.servers.runner import parse_hostport

    try:
        host, port = parse_hostport(str(text), 53)
    except ValueError:
        raise _error(f"{what}: want IP:PORT, got {text!r}") from None
    from ashyq.probe.dns import is_ip

    if not is_ip(host) or not 0 < port < 65536:
        raise _error(f"{what}: want IP:PORT, got {text!r}")
    return host, port


def build_config(settings: dict[str, Any]) -> Any:
    from ashyq.probe.webconnectivity import Clock, ProbeConfig

    cc = str(settings["cc"]).upper()
    if not re.fullmatch(r"[A-Z]{2}", cc):
        raise _error(f"--cc: want a two-letter country code, got {settings['cc']!r}")
    asn = str(settings["asn"]).upper()
    if re.fullmatch(r"\d+", asn):
        asn = "AS" + asn
    if not re.fullmatch(r"AS\d+", asn):
        raise _error(f"--asn: want an AS number like AS9198, got {settings['asn']!r}")
    resolver = settings["resolver"]
    res = None if resolver in (None, "", "none") else _hostport(resolver, "--resolver")
    system = not settings["no_system_resolver"]
    if res is None and not system:
        raise _error("no resolver left: drop --no-system-resolver or give --resolver")
    control = settings["control"]
    if control and not re.match(r"https?://", str(control)):
        raise _error(f"--control: want an http(s):// URL, got {control!r}")
    ca_file = settings["ca_file"]
    if ca_file and not Path(ca_file).is_file():
        raise _error(f"--ca-file: no such file {ca_file}")
    clock = Clock()
    if settings["lab_clock"]:
        try:
            start = dt.datetime.fromisoformat(str(settings["lab_clock"]).replace("Z", "+00:00"))
        except ValueError:
            raise _error(f"--lab-clock: not an ISO 8601 time: {settings['lab_clock']!r}") from None
        if start.tzinfo is None:
            start = start.replace(tzinfo=dt.UTC)
        clock = Clock(start)
    from ashyq.probe.asndb import AsnDBError, open_db

    try:
        asn_db = open_db(settings.get("asn_db"))
    except AsnDBError as exc:
        raise _error(f"--asn-db: {exc}") from None
    timeout = float(settings["timeout"])
    url_timeout = float(settings["url_timeout"])
    if not 0 < timeout <= 600 or not 0 < url_timeout <= 3600:
        raise _error("--timeout and --url-timeout must be positive (at most 600 / 3600 s)")
    return ProbeConfig(
        cc=cc,
        asn=asn,
        network_name=str(settings["network_name"] or ""),
        region=settings["region"] or None,
        resolver=res,
        system_resolver=system,
        ca_file=str(ca_file) if ca_file else None,
        control=str(control) if control else None,
        timeout=timeout,
        url_timeout=max(url_timeout, timeout),
        clock=clock,
        asn_db=asn_db,
    )


# -- ashyq probe -----------------------------------------------------------------------------
def _open_sink(args: argparse.Namespace, settings: dict[str, Any]) -> Any:
    if not settings["upload"]:
        return None
    try:
        from ashyq.collector.upload import UploadQueue  # type: ignore[import-not-found]
    except ImportError:
        raise _error("--upload needs ashyq.collector.upload, which is not installed") from None
    from ashyq.paths import data_dir

    queue_dir = data_dir(args) / "upload-queue"
    return UploadQueue(queue_dir, str(settings["upload"]), settings["token"])


def run_probe(args: argparse.Namespace) -> int:
    from ashyq.probe.runner import run_targets
    from ashyq.probe.testlist import Target, check_url, read_testlist

    settings = load_settings(args)
    cfg = build_config(settings)
    targets: list[Target] = []
    for url in args.urls:
        problem = check_url(url)
        if problem:
            raise _error(problem)
        targets.append(Target(url))
    if args.list:
        try:
            listed, errors = read_testlist(args.list)
        except ValueError as exc:
            raise _error(str(exc)) from None
        for err in errors:
            print(f"ashyq: skipped {err}", file=sys.stderr)
        if not listed and not targets:
            raise _error(f"{args.list}: no measurable URL")
        targets.extend(listed)
    if not targets:
        raise _error("give URLs or --list FILE.csv")
    sink = _open_sink(args, settings)
    concurrency = int(settings["concurrency"])
    per_host = int(settings["per_host"])
    if concurrency < 1 or per_host < 1:
        raise _error("--concurrency and --per-host must be at least 1")
    show = args.progress if args.progress is not None else sys.stderr.isatty()
    out = sys.stdout
    if args.output:
        try:
            args.output.parent.mkdir(parents=True, exist_ok=True)
            out = args.output.open("a", encoding="utf-8")
        except OSError as exc:
            raise _error(f"cannot write {args.output}: {exc.strerror or exc}") from None
    progress = None
    try:
        on_done = None
        if show:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

            progress = Progress(
                "[progress.description]{task.description}",
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=False,
            )
            progress.start()
            task = progress.add_task("measuring", total=len(targets))

            def on_done(m: dict[str, Any]) -> None:
                progress.update(task, advance=1, description=m["input"][:50])

        try:
            summary = asyncio.run(
                run_targets(
                    targets,
                    cfg,
                    out,
                    concurrency=concurrency,
                    per_host=per_host,
                    sink=sink,
                    on_done=on_done,
                )
            )
        except BrokenPipeError:
            # the reader of stdout went away (e.g. `| head`): stop quietly
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 0
        except OSError as exc:
            raise _error(f"cannot write the measurements: {exc.strerror or exc}") from None
    finally:
        if progress is not None:
            progress.stop()
        if out is not sys.stdout:
            out.close()
    where = f" -> {args.output}" if args.output else ""
    print(
        f"ashyq: measured {summary.measured} URL(s) in {summary.seconds:.1f} s{where}",
        file=sys.stderr,
    )
    if sink is not None:
        import time

        result = sink.drain(time.time() + max(0.0, args.upload_wait))
        left = getattr(result, "remaining", None)
        if left:
            print(f"ashyq: {left} measurement(s) still queued for upload", file=sys.stderr)
        else:
            print("ashyq: all measurements uploaded", file=sys.stderr)
    return 0


# -- ashyq check -----------------------------------------------------------------------------
def summarize(m: dict[str, Any]) -> str:
    """A plain summary of a measurement (no verdict)."""
    tk = m.get("test_keys", {})
    parts = []
    addrs = sorted(
        {
            a.get("ipv4") or a.get("ipv6")
            for q in tk.get("queries") or []
            for a in (q.get("answers") or [])
            if a.get("ipv4") or a.get("ipv6")
        }
    )
    dns_fail = tk.get("dns_experiment_failure")
    parts.append(f"DNS {dns_fail}" if dns_fail else f"DNS {', '.join(addrs) or 'no query'}")
    tcp = tk.get("tcp_connect") or []
    ok = sum(1 for e in tcp if e["status"]["success"])
    parts.append(f"TCP {ok}/{len(tcp)} connected")
    tls = tk.get("tls_handshakes") or []
    if tls:
        fails = sorted({t["failure"] for t in tls if t["failure"]})
        parts.append("TLS " + (", ".join(fails) if fails else "ok"))
    reqs = tk.get("requests") or []
    if tk.get("http_experiment_failure"):
        parts.append(f"HTTP {tk['http_experiment_failure']}")
    elif reqs:
        r = reqs[0]["response"]
        parts.append(f"HTTP {r['code']} {r.get('x_title', '')!r} ({r.get('x_body_length', 0)} B)")
    ctrl = tk.get("control") or {}
    if tk.get("control_failure"):
        parts.append(f"control failed: {tk['control_failure']}")
    elif ctrl:
        h = ctrl.get("http_request") or {}
        parts.append(f"control HTTP {h.get('failure') or h.get('status_code')}")
    return "; ".join(parts)


def run_check(args: argparse.Namespace) -> int:
    import json

    from ashyq.probe.runner import to_line
    from ashyq.probe.testlist import check_url
    from ashyq.probe.webconnectivity import measure

    problem = check_url(args.url)
    if problem:
        raise _error(problem)
    cfg = build_config(load_settings(args))

    async def go() -> dict[str, Any]:
        import aiohttp

        async with aiohttp.ClientSession() as session:
            return await measure(args.url, cfg, session if cfg.control else None)

    m = asyncio.run(go())
    if args.output:
        try:
            with args.output.open("a", encoding="utf-8") as f:
                f.write(to_line(m))
        except OSError as exc:
            raise _error(f"cannot write {args.output}: {exc.strerror or exc}") from None
    try:
        from ashyq.analysis.verdict import judge
    except ImportError:
        judge = None
    verdict = None
    if judge is not None:
        try:
            verdict = judge(m)
        except Exception as exc:  # the analysis must not hide the measurement
            print(f"ashyq: the analysis failed on this measurement: {exc}", file=sys.stderr)
    if args.json:
        out = {"input": args.url, "summary": summarize(m)}
        if verdict is not None:
            out["verdict"] = verdict.to_dict()
        print(json.dumps(out, ensure_ascii=False))
        return 0
    if verdict is None:
        print(f"{args.url}: no verdict (analysis unavailable) — {summarize(m)}")
        return 0
    how = f" ({verdict.method})" if verdict.method else ""
    facts = "; ".join(list(verdict.evidence)[:3])
    print(f"{args.url}: {verdict.status}{how}" + (f" — {facts}" if facts else ""))
    return 0
