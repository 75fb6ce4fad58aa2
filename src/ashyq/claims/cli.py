"""``ashyq claims``: extract claims from news reports, store them, check them against events."""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from ashyq.paths import add_data_option, data_dir

MAX_DOWNLOAD = 8_000_000


def register(sub: argparse._SubParsersAction) -> None:
    """Add this area's sub-commands to `ashyq`."""
    p = sub.add_parser(
        "claims",
        help="claims from news reports (kk, ru, en, ar) and their check against measurements",
        description=(
            "Turn news reports into structured claims (what was blocked, slowed or cut, where, "
            "when, what officials said) and check stored claims against measured events."
        ),
    )
    p.set_defaults(print_help=p.print_help)
    cs = p.add_subparsers(dest="claims_command", metavar="SUBCOMMAND")

    ex = cs.add_parser(
        "extract",
        help="extract claims from reports (files, URLs or - for stdin)",
        description=(
            "Read each report (plain text or HTML; a URL is downloaded when online; '-' reads "
            "stdin), detect its language and print its claims: kind, targets, targets said to "
            "still work, places, date, official explanation, evidence sentences with offsets "
            "into the input, and a confidence. Nothing in a page is run."
        ),
    )
    ex.add_argument("files", nargs="+", metavar="FILE", help="report file, URL, or - for stdin")
    ex.add_argument(
        "--published",
        metavar="DATE",
        help="publication date (YYYY-MM-DD or any common form) for relative and partial dates",
    )
    ex.add_argument("--format", choices=("json", "table"), default="json")
    ex.add_argument("--html", action="store_true", help="treat input as HTML even if unsure")
    ex.add_argument("--save", action="store_true", help="store the claims in the data directory")
    add_data_option(ex)
    ex.set_defaults(func=cmd_extract)

    ls = cs.add_parser(
        "list",
        help="list stored claims",
        description="List the claims stored with `claims extract --save`, newest first.",
    )
    ls.add_argument("--kind", choices=("blocking", "throttling", "outage", "account"))
    ls.add_argument("--target", help="a platform name (facebook) or domain (vlast.kz)")
    ls.add_argument("--since", metavar="DATE")
    ls.add_argument("--until", metavar="DATE")
    ls.add_argument("--format", choices=("json", "table"), default="table")
    add_data_option(ls)
    ls.set_defaults(func=cmd_list)

    ck = cs.add_parser(
        "check",
        help="check stored claims against measured events",
        description=(
            "Compare each stored claim with the events and verdicts of its day and places: "
            "corroborated (measured blocking), contradicted (measured fine), outage (everything "
            "down there: not targeted) or no_data, with the event ids and measurement uids."
        ),
    )
    ck.add_argument("--claim", metavar="ID", help="check only this claim")
    ck.add_argument("--format", choices=("json", "table"), default="table")
    add_data_option(ck)
    ck.set_defaults(func=cmd_check)


def _cli_error(message: str) -> Exception:
    from ashyq.cli import CliError

    return CliError(message)


def read_input(name: str) -> tuple[str, bool | None]:
    """The text of a report and whether it is known to be HTML (None: look at it)."""
    if name == "-":
        return sys.stdin.read(), None
    if name.startswith(("http://", "https://")):
        return _download(name)
    path = Path(name)
    if not path.is_file():
        raise _cli_error(f"{name}: no such file" if not path.exists() else f"{name}: not a file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _cli_error(f"{name}: cannot read ({exc.strerror or exc})") from exc
    if len(data) > MAX_DOWNLOAD:
        raise _cli_error(f"{name}: {len(data)} bytes is too large for a report")
    html = True if path.suffix.lower() in (".html", ".htm", ".xhtml") else None
    return data.decode("utf-8", errors="replace"), html


def _download(url: str) -> tuple[str, bool | None]:
    request = urllib.request.Request(url, headers={"User-Agent": "ashyq-claims/0.1"})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            data = response.read(MAX_DOWNLOAD + 1)
            charset = response.headers.get_content_charset() or "utf-8"
            ctype = response.headers.get_content_type()
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise _cli_error(f"{url}: cannot download ({exc})") from exc
    if len(data) > MAX_DOWNLOAD:
        raise _cli_error(f"{url}: larger than {MAX_DOWNLOAD} bytes, not a report")
    try:
        text = data.decode(charset, errors="replace")
    except LookupError:
        text = data.decode("utf-8", errors="replace")
    return text, True if "html" in ctype else None


def cmd_extract(args: argparse.Namespace) -> int:
    from ashyq.claims.dates import parse_published
    from ashyq.claims.extract import extract_report
    from ashyq.claims.text import ReportTooLarge

    published = None
    if args.published:
        try:
            published = parse_published(args.published)
        except ValueError as exc:
            raise _cli_error(f"--published: {exc}") from exc
    reports = []
    for k, name in enumerate(args.files, 1):
        if len(args.files) > 3:
            print(f"[{k}/{len(args.files)}] {name}", file=sys.stderr)
        raw, is_html = read_input(name)
        try:
            report = extract_report(
                raw, published, source=name, is_html=True if args.html else is_html
            )
        except ReportTooLarge as exc:
            raise _cli_error(f"{name}: {exc}") from exc
        reports.append(report)
    if args.save:
        from ashyq.claims.storage import save_report

        where = data_dir(args)
        for report in reports:
            ids = save_report(where, report)
            print(f"saved {len(ids)} claim(s) from {report.source}", file=sys.stderr)
    if args.format == "json":
        docs = [r.to_dict() for r in reports]
        print(json.dumps(docs if len(docs) > 1 else docs[0], ensure_ascii=False, indent=2))
    else:
        for r in reports:
            print(f"{r.source}  language={r.language}  published={r.published or '-'}")
            if r.official_explanation:
                print(f"  official explanation: {r.official_explanation}")
            rows = [_claim_row(c.to_dict()) for c in r.claims]
            print(_table(rows, _CLAIM_COLUMNS) if rows else "  (no claims)")
    return 0


_CLAIM_COLUMNS = ("kind", "targets", "not_affected", "places", "date", "confidence")


def _claim_row(c: dict[str, Any]) -> dict[str, str]:
    return {
        "id": c.get("claim_id", ""),
        "kind": c["kind"],
        "targets": ",".join(c["targets"]),
        "not_affected": ",".join(c["not_affected"]) or "-",
        "places": ",".join(c["places"]) or (c.get("scope") or "-"),
        "date": c["date"] or (f"? ({c['date_text']})" if c.get("date_text") else "-"),
        "confidence": f"{c['confidence']:.2f}",
    }


def _table(rows: list[dict[str, str]], columns: tuple[str, ...]) -> str:
    widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in columns}
    lines = ["  " + "  ".join(c.ljust(widths[c]) for c in columns)]
    lines += ["  " + "  ".join(str(r.get(c, "")).ljust(widths[c]) for c in columns) for r in rows]
    lines = [line.rstrip() for line in lines]
    return "\n".join(lines)


def _iso_day(value: str | None, option: str) -> str | None:
    if value is None:
        return None
    import datetime as dt

    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError as exc:
        raise _cli_error(f"{option}: {value!r} is not a date (YYYY-MM-DD)") from exc


def cmd_list(args: argparse.Namespace) -> int:
    from ashyq.claims.storage import list_claims

    args.since = _iso_day(args.since, "--since")
    args.until = _iso_day(args.until, "--until")

    claims = list_claims(
        data_dir(args), kind=args.kind, target=args.target, since=args.since, until=args.until
    )
    if args.format == "json":
        print(json.dumps(claims, ensure_ascii=False, indent=2))
    elif not claims:
        print("no claims stored")
    else:
        print(_table([_claim_row(c) for c in claims], ("id", *_CLAIM_COLUMNS)))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from ashyq.claims.checks import check_stored

    links = check_stored(data_dir(args), claim_id=args.claim)
    if args.claim and not links:
        raise _cli_error(f"no stored claim {args.claim}")
    if args.format == "json":
        print(json.dumps([link.to_dict() for link in links], ensure_ascii=False, indent=2))
    elif not links:
        print("no claims stored")
    else:
        rows = [
            {
                "claim": link.claim_id or "",
                "status": link.status,
                "targets": ",".join(f"{t.target}:{t.status}" for t in link.targets) or "-",
                "events": str(len(link.event_ids)),
                "measurements": str(len(link.measurement_uids)),
                "notes": "; ".join(link.notes) or "-",
            }
            for link in links
        ]
        print(_table(rows, ("claim", "status", "targets", "events", "measurements", "notes")))
    return 0
