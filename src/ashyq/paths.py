"""Where ashyq keeps its data: ``--data DIR``, else ``$ASHYQ_DATA``, else the user's data dir."""

from __future__ import annotations

import argparse
import os
from pathlib import Path


def default_data_dir() -> Path:
    env = os.environ.get("ASHYQ_DATA")
    if env:
        return Path(env)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "ashyq"


def add_data_option(parser: argparse.ArgumentParser) -> None:
    """Add the shared ``--data DIR`` option to a sub-command."""
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        metavar="DIR",
        help="data directory (default: $ASHYQ_DATA, else ~/.local/share/ashyq)",
    )


def data_dir(args: argparse.Namespace) -> Path:
    chosen = getattr(args, "data", None)
    path = Path(chosen) if chosen else default_data_dir()
    path.mkdir(parents=True, exist_ok=True)
    return path
