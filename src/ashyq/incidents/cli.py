"""``ashyq incidents``: record account incidents, import/export them, find campaigns."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ashyq.paths import add_data_option, data_dir

TYPES_HELP = (
    "account_blocked, locked_out, post_removed, copyright_complaint, message_flood, call_flood"
)


def _err(message: str) -> Exception:
    from ashyq.cli import CliError

    return CliError(message)


def register(sub: argparse._SubParsersAction) -> None:
    """Add this area's sub-commands to `ashyq`."""
    p = sub.add_parser(
        "incidents",
        help="account incidents (blocked accounts, removed posts, floods) and their campaigns",
        description=(
            "A registry of censorship that network probes cannot see: accounts blocked, posts "
            "removed on false complaints, message and call floods. Reporters may stay anonymous "
            "and have the account stored only as a salted hash."
        ),
    )
    p.set_defaults(print_help=p.print_help)
    s = p.add_subparsers(dest="incidents_command", metavar="SUBCOMMAND")

    add = s.add_parser("add", help="record one incident", description="Record one incident.")
    add.add_argument("--platform", required=True, help="whatsapp, instagram, facebook, ...")
    add.add_argument("--type", required=True, help=TYPES_HELP)
    add.add_argument(
        "--when",
        required=True,
        help="YYYY-MM (month), YYYY-MM-DD (day), YYYY-MM-DDTHH (hour) or YYYY-MM-DDTHH:MM, "
        "UTC unless an offset such as +05:00 is given",
    )
    add.add_argument("--precision", choices=("minute", "hour", "day", "month"))
    add.add_argument("--account", help="the account (name, number) concerned")
    add.add_argument(
        "--hash-account", action="store_true", help="store the account only as a salted SHA-256"
    )
    add.add_argument("--person", help="who it happened to (omit to stay anonymous)")
    add.add_argument("--outlet", help="the person's outlet, if any")
    add.add_argument(
        "--country", action="append", default=[], help="country code of a foreign number (GB)"
    )
    add.add_argument("--prefix", action="append", default=[], help="number prefix (+44)")
    add.add_argument("--number", action="append", default=[], help="a foreign number involved")
    add.add_argument("--complainant", help="who filed the complaint")
    add.add_argument("--notice", help="the platform's notice text")
    add.add_argument("--notice-file", type=Path, help="read the notice text from a file")
    add.add_argument("--source", help="where this report came from")
    add.add_argument("--status", default="draft", choices=("draft", "in_review", "verified"))
    add.add_argument("--notes")
    add.add_argument("--format", choices=("json", "table"), default="table")
    add_data_option(add)
    add.set_defaults(func=cmd_add)

    ls = s.add_parser("list", help="list incidents", description="List recorded incidents.")
    ls.add_argument("--platform")
    ls.add_argument("--type")
    ls.add_argument("--status", choices=("draft", "in_review", "verified"))
    ls.add_argument("--since", metavar="DATE")
    ls.add_argument("--until", metavar="DATE")
    ls.add_argument("--format", choices=("json", "table"), default="table")
    add_data_option(ls)
    ls.set_defaults(func=cmd_list)

    st = s.add_parser(
        "status", help="set an incident's status", description="Set an incident's status."
    )
    st.add_argument("incident_id")
    st.add_argument("status", choices=("draft", "in_review", "verified"))
    add_data_option(st)
    st.set_defaults(func=cmd_status)

    im = s.add_parser(
        "import",
        help="import incidents from CSV or JSON",
        description=(
            "Import incidents from a CSV file (columns as `incidents export` writes them) or a "
            "JSON list. Every row is checked first: if any is broken, each problem is listed "
            "with its line and nothing is imported."
        ),
    )
    im.add_argument("file", type=Path)
    im.add_argument("--format", choices=("csv", "json"), help="default: from the file name")
    im.add_argument(
        "--hash-accounts", action="store_true", help="store the accounts only as salted hashes"
    )
    add_data_option(im)
    im.set_defaults(func=cmd_import)

    ex = s.add_parser(
        "export", help="export incidents as CSV or JSON", description="Export every incident."
    )
    ex.add_argument("--format", choices=("csv", "json"), default="csv")
    ex.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    add_data_option(ex)
    ex.set_defaults(func=cmd_export)

    ca = s.add_parser(
        "campaigns",
        help="group incidents into campaigns",
        description=(
            "Group incidents into campaigns: same platform, related types, within the window "
            "of each other, sharing a number prefix or country, a complainant or a "
            "near-identical notice text."
        ),
    )
    ca.add_argument("--window", type=float, default=24.0, metavar="HOURS")
    ca.add_argument("--similarity", type=float, default=0.8, help="notice-text Jaccard threshold")
    ca.add_argument("--platform")
    ca.add_argument("--format", choices=("json", "table"), default="table")
    add_data_option(ca)
    ca.set_defaults(func=cmd_campaigns)


def _table(rows: list[dict[str, str]], columns: tuple[str, ...]) -> str:
    widths = {c: max(len(c), *(len(r.get(c, "")) for r in rows)) for c in columns}
    lines = ["  ".join(c.ljust(widths[c]) for c in columns).rstrip()]
    lines += ["  ".join(r.get(c, "").ljust(widths[c]) for c in columns).rstrip() for r in rows]
    return "\n".join(lines)


def _incident_row(d: dict[str, Any]) -> dict[str, str]:
    return {
        "id": d["incident_id"],
        "platform": d["platform"],
        "type": d["type"],
        "when": d["when"],
        "account": (d["account"] or "-")[:20],
        "person": d["person"] or "(anonymous)",
        "indicators": ",".join(d["prefixes"] + d["country_codes"])
        + (f" complainant={d['complainant']}" if d["complainant"] else ""),
        "status": d["status"],
    }


_COLUMNS = ("id", "platform", "type", "when", "account", "person", "indicators", "status")


def cmd_add(args: argparse.Namespace) -> int:
    from ashyq.incidents.model import IncidentError, incident_from_fields
    from ashyq.incidents.registry import add_incident

    notice = args.notice
    if args.notice_file:
        try:
            notice = args.notice_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise _err(f"--notice-file: {exc}") from exc
    fields = {
        "platform": args.platform,
        "type": args.type,
        "when": args.when,
        "precision": args.precision,
        "account": args.account,
        "person": args.person,
        "outlet": args.outlet,
        "country_codes": args.country,
        "prefixes": args.prefix,
        "numbers": args.number,
        "complainant": args.complainant,
        "notice_text": notice,
        "source": args.source,
        "status": args.status,
        "notes": args.notes,
    }
    try:
        inc = incident_from_fields(fields)
        add_incident(data_dir(args), inc, hash_account=args.hash_account)
    except IncidentError as exc:
        raise _err(str(exc)) from exc
    if args.format == "json":
        print(json.dumps(inc.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(inc.incident_id)
    return 0


def _time_bound(value: str | None, option: str) -> str | None:
    if value is None:
        return None
    from ashyq.incidents.model import IncidentError, parse_when

    try:
        return parse_when(value)[0].isoformat(sep=" ")
    except IncidentError as exc:
        raise _err(f"{option}: {value!r} is not a time (YYYY-MM[-DD[THH[:MM]]])") from exc


def cmd_list(args: argparse.Namespace) -> int:
    from ashyq.incidents.registry import list_incidents

    args.since = _time_bound(args.since, "--since")
    args.until = _time_bound(args.until, "--until")

    found = list_incidents(
        data_dir(args),
        platform=args.platform,
        type=args.type,
        status=args.status,
        since=args.since,
        until=args.until,
    )
    dicts = [i.to_dict() for i in found]
    if args.format == "json":
        print(json.dumps(dicts, ensure_ascii=False, indent=2))
    elif not dicts:
        print("no incidents recorded")
    else:
        print(_table([_incident_row(d) for d in dicts], _COLUMNS))
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from ashyq.incidents.model import IncidentError
    from ashyq.incidents.registry import set_status

    try:
        inc = set_status(data_dir(args), args.incident_id, args.status)
    except IncidentError as exc:
        raise _err(str(exc)) from exc
    print(f"{inc.incident_id} {inc.status}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from ashyq.incidents.exchange import ImportFailed, read_csv, read_json
    from ashyq.incidents.registry import add_incidents

    fmt = args.format or ("json" if args.file.suffix.lower() == ".json" else "csv")
    try:
        text = args.file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _err(f"{args.file}: cannot read ({exc})") from exc
    try:
        incidents = read_json(text) if fmt == "json" else read_csv(text)
    except ImportFailed as exc:
        for problem in exc.problems:
            print(f"{args.file}: {problem}", file=sys.stderr)
        raise _err(f"{args.file}: {len(exc.problems)} problem(s), nothing imported") from exc
    ids = add_incidents(data_dir(args), incidents, hash_accounts=args.hash_accounts)
    print(f"imported {len(ids)} incident(s)")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from ashyq.incidents.exchange import write_csv, write_json
    from ashyq.incidents.registry import list_incidents

    found = list_incidents(data_dir(args))
    text = write_json(found) if args.format == "json" else write_csv(found)
    if args.output:
        try:
            args.output.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
        except OSError as exc:
            raise _err(f"{args.output}: cannot write ({exc.strerror or exc})") from exc
        print(f"exported {len(found)} incident(s) to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0


def cmd_campaigns(args: argparse.Namespace) -> int:
    from ashyq.incidents.campaigns import find_campaigns
    from ashyq.incidents.registry import list_incidents

    if args.window <= 0:
        raise _err("--window: must be a positive number of hours")
    if not 0 < args.similarity <= 1:
        raise _err("--similarity: must be in (0, 1]")
    found = find_campaigns(
        list_incidents(data_dir(args), platform=args.platform), args.window, args.similarity
    )
    if args.format == "json":
        print(json.dumps([c.to_dict() for c in found], ensure_ascii=False, indent=2))
    elif not found:
        print("no campaigns")
    else:
        rows = [
            {
                "campaign": c.campaign_id,
                "platform": c.platform,
                "types": ",".join(c.types),
                "from": c.start,
                "to": c.end,
                "size": str(len(c.members)),
                "shared": "; ".join(
                    f"{k}={v}" if not isinstance(v, dict) else f"{k}=" + ",".join(v)
                    for k, v in c.shared.items()
                ),
            }
            for c in found
        ]
        print(_table(rows, ("campaign", "platform", "types", "from", "to", "size", "shared")))
        for c in found:
            print(f"{c.campaign_id}: {' '.join(c.members)}")
    return 0
