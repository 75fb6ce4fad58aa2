"""The one command-line entry point, `ashyq`.

Each area of the project adds its own sub-commands through a ``register(subparsers)``
function in its ``cli`` module; this file only lists those modules and dispatches.
A sub-command sets ``func`` (taking the parsed namespace, returning an exit code).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from ashyq import __version__

# Modules that add sub-commands, in the order they appear in `ashyq --help`.
COMMAND_MODULES = (
    "ashyq.probe.cli",  # probe, check
    "ashyq.control.cli",  # control serve
    "ashyq.analysis.cli",  # analyze
    "ashyq.store.cli",  # store, import
    "ashyq.collector.cli",  # collector
    "ashyq.events.cli",  # events, timeline
    "ashyq.claims.cli",  # claims
    "ashyq.incidents.cli",  # incidents
    "ashyq.web.cli",  # web
    "ashyq.lab.cli",  # lab, demo
)


class CliError(Exception):
    """A user-facing error: printed as one line, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ashyq",
        description=(
            "ashyq measures, judges and reports internet censorship: probe websites against a "
            "control, store OONI-format measurements, turn verdicts into events, check news "
            "claims against them, and publish the evidence."
        ),
    )
    parser.add_argument("--version", action="version", version=f"ashyq {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        # A command group given without its sub-command: show that group's help.
        helper = getattr(args, "print_help", parser.print_help)
        helper()
        return 2
    try:
        return int(func(args) or 0)
    except CliError as exc:
        print(f"ashyq: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ashyq: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
