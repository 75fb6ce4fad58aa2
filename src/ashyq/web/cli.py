"""``ashyq web``: serve the dashboard, manage users, tokens, alert rules and categories."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import sys
from pathlib import Path

from ashyq.paths import add_data_option, data_dir

PASSWORD_ENV = "ASHYQ_WEB_PASSWORD"


def _cli_error(message: str) -> Exception:
    from ashyq.cli import CliError

    return CliError(message)


def parse_hostport(value: str, default_port: int = 8080) -> tuple[str, int]:
    from ashyq.servers.runner import parse_hostport as split

    try:
        host, number = split(value, default_port)
    except ValueError:
        raise _cli_error(f"not a HOST:PORT: {value!r}") from None
    if not 0 <= number <= 65535:
        raise _cli_error(f"port out of range: {number}")
    return host or "127.0.0.1", number


def _smtp(args: argparse.Namespace):
    from ashyq.web.alerts import SmtpConfig

    if not getattr(args, "smtp", None):
        return None
    host, port = parse_hostport(args.smtp, 25)
    return SmtpConfig(
        host=host,
        port=port,
        sender=args.smtp_from,
        user=os.environ.get("ASHYQ_SMTP_USER") or None,
        password=os.environ.get("ASHYQ_SMTP_PASSWORD") or None,
        starttls=bool(args.smtp_starttls),
    )


def cmd_serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from ashyq.web.app import Config, make_app

    host, port = parse_hostport(args.listen)
    root = data_dir(args)
    config = Config(
        data_dir=root,
        base_url=args.base_url or f"http://{host}:{port}",
        smtp=_smtp(args),
        alerts_interval=float(args.alerts_interval),
        chromium=args.chromium,
    )
    app = make_app(config)
    if args.aggregate_interval > 0:
        app.on_startup.append(_aggregate_task(root, float(args.aggregate_interval)))
    print(f"ashyq web: serving {root} on http://{host}:{port}/", flush=True)
    web.run_app(app, host=host, port=port, print=None, access_log=None)
    return 0


def _aggregate_task(root: Path, interval: float):
    async def start(app) -> None:  # type: ignore[no-untyped-def]
        from ashyq.web.app import TASKS_KEY

        async def loop() -> None:
            from ashyq.store.store import Store
            from ashyq.web.aggregates import refresh

            store = Store.open(root)
            while True:
                try:
                    await asyncio.to_thread(refresh, store)
                except Exception as exc:  # a busy store is retried next time
                    print(f"ashyq web: aggregate refresh failed: {exc}", file=sys.stderr)
                await asyncio.sleep(interval)

        app[TASKS_KEY].append(asyncio.create_task(loop()))

    return start


def _state(args: argparse.Namespace):
    from ashyq.web.state import WebState

    return WebState.open(data_dir(args))


def _password(args: argparse.Namespace) -> str:
    value = os.environ.get(PASSWORD_ENV)
    if value:
        return value
    if not sys.stdin.isatty():
        line = sys.stdin.readline().rstrip("\n")
        if line:
            return line
        raise _cli_error(f"no password: set ${PASSWORD_ENV} or pipe it on standard input")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Again: "):
        raise _cli_error("the passwords differ")
    return first


def cmd_user_add(args: argparse.Namespace) -> int:
    state = _state(args)
    try:
        state.set_user(args.name, _password(args))
    except ValueError as exc:
        raise _cli_error(str(exc)) from None
    print(f"user {args.name} set")
    return 0


def cmd_user_list(args: argparse.Namespace) -> int:
    for name in _state(args).users():
        print(name)
    return 0


def cmd_user_delete(args: argparse.Namespace) -> int:
    if not _state(args).delete_user(args.name):
        raise _cli_error(f"no such user: {args.name}")
    print(f"user {args.name} deleted")
    return 0


def cmd_token_add(args: argparse.Namespace) -> int:
    print(_state(args).add_token(args.name))
    return 0


def cmd_alerts_add(args: argparse.Namespace) -> int:
    kinds = tuple(k.strip() for k in (args.kinds or "").split(",") if k.strip())
    try:
        rule = _state(args).add_rule(
            name=args.name,
            target=args.target,
            category=args.category,
            network=args.network,
            region=args.region,
            kinds=kinds,
            webhook_url=args.webhook,
            email=args.email,
        )
    except ValueError as exc:
        raise _cli_error(str(exc)) from None
    print(f"alert rule #{rule.rule_id} added")
    return 0


def cmd_alerts_list(args: argparse.Namespace) -> int:
    rules = _state(args).rules()
    if args.json:
        print(json.dumps([_rule_dict(r) for r in rules]))
        return 0
    for r in rules:
        fields = [
            f"#{r.rule_id}",
            r.name,
            f"target={r.target or '*'}",
            f"category={r.category or '*'}",
            f"network={r.network or '*'}",
            f"region={r.region or '*'}",
            f"kinds={','.join(r.kinds) or '*'}",
        ]
        if r.webhook_url:
            fields.append(f"webhook={r.webhook_url}")
        if r.email:
            fields.append(f"email={r.email}")
        print("  ".join(fields))
    return 0


def _rule_dict(rule) -> dict:  # type: ignore[no-untyped-def]
    return {name: getattr(rule, name) for name in rule.__slots__}


def cmd_alerts_delete(args: argparse.Namespace) -> int:
    if not _state(args).delete_rule(args.rule_id):
        raise _cli_error(f"no such alert rule: #{args.rule_id}")
    print(f"alert rule #{args.rule_id} deleted")
    return 0


def cmd_alerts_run(args: argparse.Namespace) -> int:
    from ashyq.store.store import Store
    from ashyq.web.alerts import run_once

    root = data_dir(args)
    store = Store.open(root, read_only=True)
    state = _state(args)
    result = asyncio.run(
        run_once(store, state, smtp=_smtp(args), base_url=args.base_url or "http://localhost:8080")
    )
    for rule_id, event_id, phase, channel in result.sent:
        print(f"sent  rule #{rule_id} {phase:5} {channel:7} {event_id}")
    for rule_id, event_id, phase, channel, error in result.failed:
        print(f"FAIL  rule #{rule_id} {phase:5} {channel:7} {event_id}: {error}")
    print(f"{len(result.sent)} sent, {len(result.failed)} failed")
    return 1 if result.failed else 0


def cmd_categories(args: argparse.Namespace) -> int:
    from ashyq.web.state import parse_test_list

    try:
        text = Path(args.file).read_text("utf-8")
        mapping = parse_test_list(text)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise _cli_error(f"{args.file}: {exc}") from None
    _state(args).set_categories(mapping)
    print(f"{len(mapping)} target categories loaded")
    return 0


def cmd_aggregate(args: argparse.Namespace) -> int:
    from ashyq.store.store import Store
    from ashyq.web.aggregates import refresh

    result = refresh(Store.open(data_dir(args)), force=args.force)
    print(json.dumps(result))
    return 0


def _smtp_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--smtp", metavar="HOST:PORT", help="SMTP server for alert e-mails")
    p.add_argument("--smtp-from", default="ashyq@localhost", help="sender of alert e-mails")
    p.add_argument(
        "--smtp-starttls",
        action="store_true",
        help="use STARTTLS (login from $ASHYQ_SMTP_USER and $ASHYQ_SMTP_PASSWORD)",
    )
    p.add_argument("--base-url", default="", help="public address of the site, for links")


def register(sub: argparse._SubParsersAction) -> None:
    """Add this area's sub-commands to `ashyq`."""
    web = sub.add_parser(
        "web",
        help="the dashboard: pages, evidence reports, exports and alerts",
        description=(
            "Serve the dashboard (overview, events, targets, measurements, evidence reports, "
            "CSV exports) and manage its users, API tokens, alert rules and target categories."
        ),
    )
    web.set_defaults(print_help=web.print_help)
    wsub = web.add_subparsers(dest="web_command", metavar="COMMAND")

    p = wsub.add_parser(
        "serve",
        help="serve the dashboard over HTTP",
        description="Serve the dashboard. Admin login: users from `ashyq web user add`, or "
        "user 'admin' with the password in $ASHYQ_WEB_ADMIN_PASSWORD.",
    )
    p.add_argument("--listen", default="127.0.0.1:8080", metavar="HOST:PORT")
    add_data_option(p)
    _smtp_options(p)
    p.add_argument(
        "--alerts-interval",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="check alert rules every SECONDS in the background (0: never; default 60)",
    )
    p.add_argument(
        "--aggregate-interval",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="remake the hourly aggregate table when stale, every SECONDS (needs write access "
        "to the store; 0: never, the default)",
    )
    p.add_argument("--chromium", default="/usr/bin/chromium", help="Chromium for PDF reports")
    p.set_defaults(func=cmd_serve)

    user = wsub.add_parser("user", help="manage admin users", description="Manage admin users.")
    user.set_defaults(print_help=user.print_help)
    usub = user.add_subparsers(dest="user_command", metavar="COMMAND")
    p = usub.add_parser(
        "add",
        help="add a user or change a password",
        description=f"Add a user or change its password (from ${PASSWORD_ENV}, standard "
        "input, or asked twice). Stored hashed with scrypt.",
    )
    p.add_argument("name")
    add_data_option(p)
    p.set_defaults(func=cmd_user_add)
    p = usub.add_parser("list", help="list users", description="List admin users.")
    add_data_option(p)
    p.set_defaults(func=cmd_user_list)
    p = usub.add_parser("delete", help="delete a user", description="Delete an admin user.")
    p.add_argument("name")
    add_data_option(p)
    p.set_defaults(func=cmd_user_delete)

    token = wsub.add_parser("token", help="API tokens", description="Manage API tokens.")
    token.set_defaults(print_help=token.print_help)
    tsub = token.add_subparsers(dest="token_command", metavar="COMMAND")
    p = tsub.add_parser(
        "add",
        help="make a new API token and print it",
        description="Make an API token (sent as 'Authorization: Bearer TOKEN'); printed once.",
    )
    p.add_argument("name")
    add_data_option(p)
    p.set_defaults(func=cmd_token_add)

    alerts = wsub.add_parser(
        "alerts", help="alert rules", description="Manage and run alert rules."
    )
    alerts.set_defaults(print_help=alerts.print_help)
    asub = alerts.add_subparsers(dest="alerts_command", metavar="COMMAND")
    p = asub.add_parser(
        "add",
        help="add an alert rule",
        description="Add a rule: an empty field matches anything. Needs --webhook or --email.",
    )
    p.add_argument("--name", default="rule")
    p.add_argument("--target", help="host name, e.g. telegram.org")
    p.add_argument("--category", help="Citizen Lab category code, e.g. NEWS")
    p.add_argument("--network", help="ASN, e.g. AS9198")
    p.add_argument("--region", help="region, e.g. Shymkent")
    p.add_argument("--kinds", help="comma-separated: blocking,throttling,outage")
    p.add_argument("--webhook", help="URL that receives a JSON POST")
    p.add_argument("--email", help="address that receives an e-mail")
    add_data_option(p)
    p.set_defaults(func=cmd_alerts_add)
    p = asub.add_parser("list", help="list alert rules", description="List alert rules.")
    p.add_argument("--json", action="store_true")
    add_data_option(p)
    p.set_defaults(func=cmd_alerts_list)
    p = asub.add_parser("delete", help="delete a rule", description="Delete an alert rule.")
    p.add_argument("rule_id", type=int)
    add_data_option(p)
    p.set_defaults(func=cmd_alerts_delete)
    p = asub.add_parser(
        "run",
        help="send the alerts that are due, once",
        description="Send webhooks and e-mails for events that started or ended and have not "
        "been announced yet. Exit 1 when a delivery failed (it is retried next run).",
    )
    add_data_option(p)
    _smtp_options(p)
    p.set_defaults(func=cmd_alerts_run)

    p = wsub.add_parser(
        "categories",
        help="load target categories from a test list",
        description="Load host -> category code from a Citizen Lab test list CSV "
        "(columns url, category_code), for the category filter and alert rules.",
    )
    p.add_argument("file")
    add_data_option(p)
    p.set_defaults(func=cmd_categories)

    p = wsub.add_parser(
        "aggregate",
        help="remake the hourly aggregate the target pages read",
        description="Remake web_hourly (verdict counts per target, network, region and hour) "
        "in the store when the verdicts changed since it was made.",
    )
    p.add_argument("--force", action="store_true", help="remake it even when fresh")
    add_data_option(p)
    p.set_defaults(func=cmd_aggregate)
