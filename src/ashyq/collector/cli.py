"""`ashyq collector serve` and `ashyq collector token ...`."""

from __future__ import annotations

import argparse
import asyncio

from ashyq.paths import add_data_option, data_dir


def _listen(value: str) -> tuple[str, int]:
    from ashyq.servers.runner import parse_hostport

    try:
        host, port = parse_hostport(value, -1)
    except ValueError:
        port = -1
    if not 0 <= port < 65536:
        raise argparse.ArgumentTypeError(f"{value!r} is not HOST:PORT")
    return host or "127.0.0.1", port


def register(sub: argparse._SubParsersAction) -> None:
    """Add `collector` to `ashyq`."""
    col = sub.add_parser(
        "collector",
        help="receive measurements from probes over HTTP",
        description="The collector: an HTTP API (OONI's report endpoints plus a batch "
        "endpoint) through which probes upload measurements into the store.",
    )
    col.set_defaults(print_help=col.print_help)
    csub = col.add_subparsers(dest="collector_command", metavar="COMMAND")

    p = csub.add_parser(
        "serve",
        help="run the collector",
        description="Serve POST /report, POST /report/{id}, POST /report/{id}/close and "
        "POST /api/v1/measurements (batch). A measurement is acknowledged only once it is "
        "fsync'd in the raw archive; the tables are loaded from the archive in the background. "
        "Uploads need a token (`ashyq collector token add NAME`) unless --open is given.",
    )
    add_data_option(p)
    p.add_argument(
        "--listen",
        type=_listen,
        default=("127.0.0.1", 8470),
        metavar="HOST:PORT",
        help="address to listen on (default 127.0.0.1:8470; port 0 picks one)",
    )
    p.add_argument(
        "--open",
        action="store_true",
        help="accept uploads without a token (for a closed lab network)",
    )
    p.add_argument(
        "--events-every",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="recompute events at most this often while uploads arrive (default 30)",
    )
    p.set_defaults(func=cmd_serve)

    tok = csub.add_parser(
        "token",
        help="manage per-probe upload tokens",
        description="Issue, list and revoke upload tokens (stored hashed).",
    )
    tok.set_defaults(print_help=tok.print_help)
    tsub = tok.add_subparsers(dest="token_command", metavar="COMMAND")
    p = tsub.add_parser(
        "add",
        help="issue a token for a probe and print it (shown once)",
        description="Issue a new token for probe NAME (replacing its old one) "
        "and print it. Only its hash is kept.",
    )
    add_data_option(p)
    p.add_argument("name", metavar="NAME")
    p.set_defaults(func=cmd_token_add)
    p = tsub.add_parser(
        "list",
        help="list the probes that have a token",
        description="List the names of probes that have a token.",
    )
    add_data_option(p)
    p.set_defaults(func=cmd_token_list)
    p = tsub.add_parser(
        "revoke", help="revoke a probe's token", description="Revoke the token of probe NAME."
    )
    add_data_option(p)
    p.add_argument("name", metavar="NAME")
    p.set_defaults(func=cmd_token_revoke)


def cmd_serve(args: argparse.Namespace) -> int:
    from ashyq.collector.server import serve

    host, port = args.listen
    try:
        asyncio.run(
            serve(data_dir(args), host, port, open_access=args.open, events_every=args.events_every)
        )
    except OSError as exc:
        from ashyq.cli import CliError

        raise CliError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return 0


def cmd_token_add(args: argparse.Namespace) -> int:
    from ashyq.cli import CliError
    from ashyq.collector.tokens import Tokens

    try:
        print(Tokens(data_dir(args)).add(args.name))
    except ValueError as exc:
        raise CliError(str(exc)) from None
    return 0


def cmd_token_list(args: argparse.Namespace) -> int:
    from ashyq.collector.tokens import Tokens

    for name in Tokens(data_dir(args)).names():
        print(name)
    return 0


def cmd_token_revoke(args: argparse.Namespace) -> int:
    from ashyq.cli import CliError
    from ashyq.collector.tokens import Tokens

    if not Tokens(data_dir(args)).revoke(args.name):
        raise CliError(f"no token named {args.name!r}")
    print(f"revoked {args.name}")
    return 0
