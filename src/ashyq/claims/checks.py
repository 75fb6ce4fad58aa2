"""``claims check``'s I/O: stored claims, and the events and verdicts of their windows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ashyq.claims.link import Link, check_claims, claim_window
from ashyq.claims.storage import list_claims
from ashyq.store import Store

_VERDICT_COLUMNS = (
    "measurement_uid, target, status, method, region, probe_asn, measurement_start_time"
)


def check_stored(where: Store | Path | str, claim_id: str | None = None) -> list[Link]:
    """Check every stored claim (or one) against the store's events and current verdicts."""
    store = where if isinstance(where, Store) else Store.open(Path(where))
    claims = list_claims(store, claim_id=claim_id)
    windows = [w for w in (claim_window(c) for c in claims) if w]
    events: list[dict[str, Any]] = []
    verdicts: list[dict[str, Any]] = []
    if windows:
        since = min(w[0] for w in windows).isoformat(sep=" ")
        until = max(w[1] for w in windows).isoformat(sep=" ")
        events = store.events(since=since, until=until)
        verdicts = store.query(
            f"SELECT {_VERDICT_COLUMNS} FROM current_verdicts "
            "WHERE measurement_start_time >= ?::TIMESTAMP "
            "AND measurement_start_time < ?::TIMESTAMP",
            [since, until],
        )
    return check_claims(claims, events, verdicts)
