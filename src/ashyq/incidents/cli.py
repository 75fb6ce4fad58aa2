"""Sub-commands of ashyq.incidents (not yet written)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add this area's sub-commands to `ashyq`."""
