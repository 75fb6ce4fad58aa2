"""Sub-commands of ashyq.control: ``ashyq control serve``."""

from __future__ import annotations

import argparse
import asyncio
import sys


def _hostport(text: str) -> tuple[str, int]:
    from ashyq.servers.runner import parse_hostport

    try:
        host, port = parse_hostport(text, 53)
    except ValueError:
        raise argparse.ArgumentTypeError(f"want HOST:PORT, got {text!r}") from None
    if not host or not 0 <= port < 65536:
        raise argparse.ArgumentTypeError(f"want HOST:PORT, got {text!r}")
    return host, port


def register(sub: argparse._SubParsersAction) -> None:
    """Add this area's sub-commands to `ashyq`."""
    control = sub.add_parser(
        "control",
        help="run the control (OONI web_connectivity test helper)",
        description="The control measures URLs from outside the probe's network.",
    )
    csub = control.add_subparsers(dest="control_command", metavar="COMMAND")
    control.set_defaults(print_help=control.print_help)
    serve = csub.add_parser(
        "serve",
        help="serve the OONI test-helper protocol (POST /)",
        description=(
            "Serve OONI's web_connectivity test-helper protocol (ts-017): POST / with "
            "{http_request, http_request_headers, tcp_connect} answers {dns, tcp_connect, "
            "tls_handshake, http_request, ip_info}. Refuses loopback, private, link-local and "
            "bogon addresses unless --lab."
        ),
    )
    serve.add_argument(
        "--listen",
        default="127.0.0.1:8765",
        type=_hostport,
        metavar="HOST:PORT",
        help="address to listen on (port 0: any free port; default %(default)s)",
    )
    serve.add_argument(
        "--resolver",
        type=_hostport,
        metavar="IP:PORT",
        help="DNS server (over UDP) used by the control (default: the system's)",
    )
    serve.add_argument(
        "--lab",
        action="store_true",
        help="allow loopback/private/bogon addresses (lab and tests only)",
    )
    serve.add_argument(
        "--max-inflight",
        type=int,
        default=64,
        metavar="N",
        help="requests measured at once; 503 beyond (default %(default)s)",
    )
    serve.add_argument(
        "--max-body",
        type=int,
        default=64 * 1024,
        metavar="BYTES",
        help="largest request accepted; 413 beyond (default %(default)s)",
    )
    serve.add_argument(
        "--timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="time bound of each step (default %(default)s)",
    )
    serve.add_argument(
        "--request-timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="time bound of one request (default %(default)s)",
    )
    serve.add_argument(
        "--ca-file", metavar="PEM", help="extra CA certificates to trust (lab/test CA)"
    )
    serve.add_argument(
        "--asn-db",
        metavar="FILE",
        help="IP-to-ASN table (iptoasn.com TSV: range_start, range_end, AS_number, "
        "country_code, AS_description; IPv4 and IPv6; may be gzipped) for ip_info[addr].asn "
        "(default: $ASHYQ_ASN_DB, else asn 0)",
    )
    serve.set_defaults(func=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    # Imported here so that `ashyq --help` and other commands do not load the network stack.
    from ashyq.cli import CliError
    from ashyq.control.measure import ControlConfig
    from ashyq.control.server import ControlServer
    from ashyq.probe.asndb import AsnDBError, open_db

    try:
        asn_db = open_db(getattr(args, "asn_db", None))
    except AsnDBError as exc:
        raise CliError(f"--asn-db: {exc}") from None
    cfg = ControlConfig(
        asn_db=asn_db,
        resolver=args.resolver,
        lab=args.lab,
        ca_file=args.ca_file,
        step_timeout=args.timeout,
        request_timeout=args.request_timeout,
        max_inflight=max(1, args.max_inflight),
        max_body=max(1024, args.max_body),
    )
    host, port = args.listen
    server = ControlServer(cfg, host, port)

    async def main() -> None:
        await server.start_async()
        mode = " (lab mode: private addresses allowed)" if cfg.lab else ""
        print(f"ashyq control listening on {server.url}{mode}", file=sys.stderr, flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await server.stop_async()

    try:
        asyncio.run(main())
    except OSError as exc:
        from ashyq.cli import CliError

        raise CliError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return 0
