"""`ashyq store ...` and `ashyq import ooni ...`."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

from ashyq.paths import add_data_option, data_dir


def register(sub: argparse._SubParsersAction) -> None:
    """Add `store` and `import` to `ashyq`."""
    store = sub.add_parser(
        "store",
        help="the measurement store: statistics, rebuild, re-analysis",
        description="Manage the store: the raw archive of measurements (the source of truth) "
        "and the tables derived from it (measurements, verdicts, events).",
    )
    store.set_defaults(print_help=store.print_help)
    ssub = store.add_subparsers(dest="store_command", metavar="COMMAND")

    p = ssub.add_parser(
        "stats",
        help="counts of measurements, verdicts, events, archive size",
        description="Show what the store holds.",
    )
    add_data_option(p)
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=cmd_stats)

    p = ssub.add_parser(
        "sync",
        help="load archived measurements not yet in the tables",
        description="Load into the tables what the raw archive holds and the tables do not "
        "yet (left by a collector that stopped, or copied in from elsewhere), judge it, and "
        "recompute the events. The collector does this by itself while it runs.",
    )
    add_data_option(p)
    p.set_defaults(func=cmd_sync)

    p = ssub.add_parser(
        "rebuild",
        help="remake the derived tables from the raw archive",
        description="Remake the measurements, verdicts and events tables from the raw archive "
        "(verdicts of older rule versions are kept). Every other table in the file (claims, "
        "incidents, ...) is copied over unchanged. Safe to interrupt: the new file replaces "
        "the old one only when complete.",
    )
    add_data_option(p)
    p.set_defaults(func=cmd_rebuild)

    p = ssub.add_parser(
        "reanalyze",
        help="judge every measurement again with the current rules",
        description="Judge every stored measurement with the current rules (RULE_VERSION). "
        "Verdicts of other rule versions are kept, marked not current, for provenance.",
    )
    add_data_option(p)
    p.set_defaults(func=cmd_reanalyze)

    imp = sub.add_parser(
        "import",
        help="import measurements from elsewhere (OONI)",
        description="Import measurements made by others into the store.",
    )
    imp.set_defaults(print_help=imp.print_help)
    isub = imp.add_subparsers(dest="import_command", metavar="SOURCE")
    p = isub.add_parser(
        "ooni",
        help="OONI measurements from files or from OONI's public API",
        description="Import OONI measurements. Give FILEs (JSON Lines, gzip'd JSON Lines, or API "
        "JSON: a raw measurement, a list, or measurement_meta with raw_measurement), or "
        "--country with --since/--until to download them from OONI's API. Re-importing is "
        "harmless: measurements are stored once.",
    )
    add_data_option(p)
    p.add_argument("files", nargs="*", type=Path, metavar="FILE")
    p.add_argument("--country", metavar="CC", help="download measurements of this country")
    p.add_argument("--since", metavar="DATE", help="first day (YYYY-MM-DD), with --country")
    p.add_argument("--until", metavar="DATE", help="day after the last (YYYY-MM-DD)")
    p.add_argument(
        "--api",
        default="https://api.ooni.io",
        metavar="URL",
        help="OONI API base URL (default: https://api.ooni.io)",
    )
    p.add_argument("--test-name", metavar="NAME", help="only this test (e.g. web_connectivity)")
    p.add_argument("--limit", type=int, metavar="N", help="download at most N measurements")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.set_defaults(func=cmd_import_ooni)


def _open(args: argparse.Namespace, read_only: bool = False):
    from ashyq.store import open_for_cli

    return open_for_cli(data_dir(args), read_only=read_only)


def cmd_stats(args: argparse.Namespace) -> int:
    stats = _open(args).stats()
    if args.json:
        print(json.dumps(stats, indent=2, default=str))
        return 0
    print(f"data directory     {stats['data_dir']}")
    a = stats["archive"]
    print(
        f"archive            {a['segments']} segments, {a['bytes']:,} bytes "
        f"({a['pending_bytes']:,} not yet loaded)"
    )
    by_source = ", ".join(f"{k} {v:,}" for k, v in stats["measurements_by_source"].items())
    print(
        f"measurements       {stats['measurements']:,}" + (f" ({by_source})" if by_source else "")
    )
    print(f"time range         {stats['first_measurement']} .. {stats['last_measurement']} UTC")
    print(
        "countries          "
        + (", ".join(f"{k} {v:,}" for k, v in stats["countries"].items()) or "-")
    )
    print(
        f"verdicts           {stats['verdicts']:,} (unjudged measurements: {stats['unjudged']:,})"
    )
    print(
        "current verdicts   "
        + (", ".join(f"{k} {v:,}" for k, v in stats["current_verdicts_by_status"].items()) or "-")
    )
    print(
        "rule versions      "
        + (", ".join(f"{k} ({v:,})" for k, v in stats["rule_versions"].items()) or "-")
    )
    print(
        "events             "
        + (", ".join(f"{k} {v:,}" for k, v in stats["events_by_kind"].items()) or "-")
    )
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    n = _open(args).sync(recompute_events=True)
    print(f"loaded {n:,} measurements from the archive")
    return 0


def cmd_rebuild(args: argparse.Namespace) -> int:
    import duckdb

    from ashyq.store.store import DB_NAME

    started = time.monotonic()
    from ashyq.store import Store

    try:
        store = Store.open(data_dir(args))
    except duckdb.Error as exc:  # a damaged table file: the archive is the truth, start afresh
        root = data_dir(args)
        aside = root / f"{DB_NAME}.damaged-{int(time.time())}"
        (root / DB_NAME).rename(aside)
        wal = root / (DB_NAME + ".wal")
        if wal.exists():
            wal.rename(Path(str(aside) + ".wal"))
        print(f"the table file could not be opened ({exc}); moved it to {aside}", file=sys.stderr)
        store = _open(args)
    from ashyq.cli import CliError
    from ashyq.store.carry import CarryError

    try:
        n = store.rebuild()
    except CarryError as exc:
        raise CliError(
            f"rebuild stopped, the old table file is unchanged: cannot copy {exc}"
        ) from None
    print(f"rebuilt from the archive: {n:,} measurements in {time.monotonic() - started:.1f} s")
    if store.carried:
        print(f"kept {len(store.carried)} other table(s): {', '.join(store.carried)}")
    return 0


def cmd_reanalyze(args: argparse.Namespace) -> int:
    from ashyq.cli import CliError

    store = _open(args)
    try:
        n = store.reanalyze(progress=lambda k: print(f"  judged {k:,}", file=sys.stderr))
    except RuntimeError as exc:
        raise CliError(str(exc)) from None
    print(f"re-judged {n:,} measurements with the current rules")
    return 0


def _check_day(value: str | None, name: str) -> str:
    from ashyq.cli import CliError

    if not value:
        raise CliError(f"--country needs --{name} DATE (YYYY-MM-DD)")
    try:
        return date.fromisoformat(value[:10]).isoformat()
    except ValueError:
        raise CliError(f"--{name}: {value!r} is not a date (YYYY-MM-DD)") from None


def _progress(quiet: bool, label: str):
    last = [time.monotonic()]

    def show(result: Any, force: bool = False) -> None:
        now = time.monotonic()
        if quiet or (not force and now - last[0] < 1.0):
            return
        last[0] = now
        print(
            f"  {label}: added {result.added:,}, duplicate {result.duplicate:,}, "
            f"rejected {result.rejected:,}",
            file=sys.stderr,
        )

    return show


def cmd_import_ooni(args: argparse.Namespace) -> int:
    from ashyq.cli import CliError
    from ashyq.store import IngestResult
    from ashyq.store.ooni import ImportProblem, download, read_file

    if not args.files and not args.country:
        raise CliError("give FILEs to import, or --country CC --since DATE --until DATE")
    if args.files and args.country:
        raise CliError("give either FILEs or --country, not both")
    for f in args.files:
        if not f.is_file():
            raise CliError(f"{f}: no such file")
    store = _open(args)
    total = IngestResult()
    if args.files:
        for path in args.files:
            show = _progress(args.quiet, path.name)

            def items(path: Path = path) -> Iterator[Any]:
                yield from read_file(path)

            try:
                result = store.add_measurements(
                    items(), source="ooni", progress=show, recompute_events=False
                )
            except ImportProblem as exc:
                raise CliError(str(exc)) from None
            show(result, force=True)
            total.merge(result)
    else:
        since = _check_day(args.since, "since")
        until = _check_day(args.until, "until")
        if since >= until:
            raise CliError("--since must be before --until")
        if not (len(args.country) == 2 and args.country.isalpha()):
            raise CliError(f"--country: {args.country!r} is not a two-letter country code")

        def on_page(seen: int, count: int | None) -> None:
            if not args.quiet:
                of = f" of {count:,}" if count else ""
                print(f"  downloaded {seen:,}{of}", file=sys.stderr)

        async def run() -> None:
            async for raws in download(
                args.api,
                args.country,
                since,
                until,
                test_name=args.test_name,
                limit=args.limit,
                on_page=on_page,
            ):
                total.merge(store.add_measurements(raws, source="ooni", recompute_events=False))

        try:
            asyncio.run(run())
        except ImportProblem as exc:
            if total.added:
                store.recompute_events()
            raise CliError(
                f"{exc} (kept the {total.added:,} measurements imported before)"
            ) from None
    if total.added:
        store.recompute_events()
    print(
        f"imported: added {total.added:,}, duplicate {total.duplicate:,}, "
        f"rejected {total.rejected:,}"
    )
    for err in total.errors[:10]:
        print(f"  rejected {err}", file=sys.stderr)
    return 0
