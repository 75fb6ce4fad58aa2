"""`ashyq events` and `ashyq timeline`."""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime

from ashyq.paths import add_data_option, data_dir

KINDS = ("blocking", "throttling", "outage")
SCOPES = ("national", "regional", "network")


def register(sub: argparse._SubParsersAction) -> None:
    """Add `events` and `timeline` to `ashyq`."""
    p = sub.add_parser(
        "events",
        help="blocking, throttling and outage events found in the store",
        description="List events built from the verdicts' time series per target, network "
        "(ASN) and region: blocking, throttling and outages, with start and end bounded by the "
        "last good and first good measurements around them, scope (national, regional, "
        "network), methods and confidence. Events are recomputed after each ingest (the "
        "collector at most every --events-every seconds) and whenever this command finds the "
        "store changed; --rebuild forces it.",
    )
    add_data_option(p)
    p.add_argument("--since", metavar="DATE", help="events still going on at or after DATE (UTC)")
    p.add_argument("--until", metavar="DATE", help="events that started before DATE (UTC)")
    p.add_argument("--country", metavar="CC", help="two-letter country code, e.g. KZ")
    p.add_argument("--target", metavar="DOMAIN", help="only this target (host name)")
    p.add_argument("--kind", choices=KINDS, help="only this kind of event")
    p.add_argument("--scope", choices=SCOPES, help="only this scope")
    p.add_argument(
        "--format",
        choices=("table", "json", "csv", "stop"),
        default="table",
        help="table (default), json, csv, or stop (CSV shaped like Access Now's "
        "#KeepItOn STOP data set)",
    )
    p.add_argument("--rebuild", action="store_true", help="recompute the events first")
    p.set_defaults(func=cmd_events)

    p = sub.add_parser(
        "timeline",
        help="one target's history per network, as text",
        description="Show one target's verdicts over time, per network (ASN and region), "
        "as runs of equal status with their methods, then its events.",
    )
    add_data_option(p)
    p.add_argument("target", metavar="DOMAIN")
    p.add_argument("--since", metavar="DATE", help="from DATE (UTC)")
    p.add_argument("--until", metavar="DATE", help="until DATE (UTC)")
    p.add_argument("--country", metavar="CC", help="two-letter country code")
    p.set_defaults(func=cmd_timeline)


def _when(value: str | None, name: str) -> str | None:
    from ashyq.cli import CliError

    if value is None:
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text).isoformat()
        t = datetime.fromisoformat(text.replace("Z", "+00:00").replace("T", " "))
        return t.strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        raise CliError(
            f"--{name}: {value!r} is not a date (YYYY-MM-DD or YYYY-MM-DD hh:mm)"
        ) from None


def _country(value: str | None) -> str | None:
    from ashyq.cli import CliError

    if value is None:
        return None
    if len(value) != 2 or not value.isalpha():
        raise CliError(f"--country: {value!r} is not a two-letter country code")
    return value.upper()


def cmd_events(args: argparse.Namespace) -> int:
    from ashyq.cli import CliError
    from ashyq.events import formats
    from ashyq.store import open_for_cli

    since, until = _when(args.since, "since"), _when(args.until, "until")
    if since and until and since >= until:
        raise CliError("--since must be before --until")
    store = open_for_cli(data_dir(args))
    if args.rebuild:
        n = store.recompute_events()
        print(f"recomputed {n} events", file=sys.stderr)
    events = store.events(
        since,
        until,
        country=_country(args.country),
        target=args.target,
        kind=args.kind,
        scope=args.scope,
    )
    if args.format == "json":
        sys.stdout.write(formats.to_json(events) + "\n")
    elif args.format == "csv":
        sys.stdout.write(formats.to_csv(events, formats.CSV_COLUMNS))
    elif args.format == "stop":
        sys.stdout.write(formats.to_csv(formats.stop_rows(events), formats.STOP_COLUMNS))
    else:
        sys.stdout.write(formats.to_table(events))
    return 0


def cmd_timeline(args: argparse.Namespace) -> int:
    from ashyq.events import formats
    from ashyq.events.timeline import render
    from ashyq.store import open_for_cli

    store = open_for_cli(data_dir(args))
    since, until = _when(args.since, "since"), _when(args.until, "until")
    country = _country(args.country)
    target = args.target.lower().strip()
    rows = store.verdicts_for(target, since=since, until=until, country=country)
    events = store.events(since, until, country=country, target=target)
    sys.stdout.write(render(target, rows))
    if events:
        sys.stdout.write("\nevents:\n" + formats.to_table(events))
    return 0
