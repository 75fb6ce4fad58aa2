"""store: the raw archive (source of truth) and the derived DuckDB tables.

The names below load on first use (PEP 562), so that importing the command line does not
load DuckDB for commands that never touch the store.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ashyq.store.identity import InvalidMeasurement, check_measurement
    from ashyq.store.lock import StoreBusy
    from ashyq.store.store import IngestResult, Store, open_for_cli

_HOMES = {
    "InvalidMeasurement": "ashyq.store.identity",
    "check_measurement": "ashyq.store.identity",
    "StoreBusy": "ashyq.store.lock",
    "IngestResult": "ashyq.store.store",
    "Store": "ashyq.store.store",
    "open_for_cli": "ashyq.store.store",
}

__all__ = [
    "IngestResult",
    "InvalidMeasurement",
    "Store",
    "StoreBusy",
    "check_measurement",
    "open_for_cli",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'ashyq.store' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
