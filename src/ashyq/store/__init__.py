"""store: the raw archive (source of truth) and the derived DuckDB tables."""

from ashyq.store.identity import InvalidMeasurement, check_measurement
from ashyq.store.lock import StoreBusy
from ashyq.store.store import IngestResult, Store, open_for_cli

__all__ = [
    "IngestResult",
    "InvalidMeasurement",
    "Store",
    "StoreBusy",
    "check_measurement",
    "open_for_cli",
]
