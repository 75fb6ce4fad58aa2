"""``claims check``'s I/O: stored claims, and the events and verdicts of each claim's window."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ashyq.claims.link import Link, claim_window, link_claim
from ashyq.claims.storage import list_claims
from ashyq.store import Store

_VERDICT_COLUMNS = (
    "measurement_uid, target, status, method, region, probe_asn, measurement_start_time"
)


def check_stored(where: Store | Path | str, claim_id: str | None = None) -> list[Link]:
    """Check every stored claim (or one) against the store's events and current verdicts.

    Events and verdicts are read once per distinct claim window (a day), never all at once.
    """
    store = where if isinstance(where, Store) else Store.open(Path(where))
    claims = list_claims(store, claim_id=claim_id)
    cache: dict[tuple[str, str], tuple[list[dict[str, Any]], list[dict[str, Any]]]] = {}
    links = []
    for claim in claims:
        window = claim_window(claim)
        events: list[dict[str, Any]] = []
        verdicts: list[dict[str, Any]] = []
        if window is not None:
            key = (window[0].isoformat(sep=" "), window[1].isoformat(sep=" "))
            if key not in cache:
                cache[key] = (
                    store.events(since=key[0], until=key[1]),
                    store.query(
                        f"SELECT {_VERDICT_COLUMNS} FROM current_verdicts "
                        "WHERE measurement_start_time >= ?::TIMESTAMP "
                        "AND measurement_start_time < ?::TIMESTAMP",
                        list(key),
                    ),
                )
            events, verdicts = cache[key]
        links.append(link_claim(claim, events, verdicts))
    return links


def claims_for_event(where: Store | Path | str, event: dict[str, Any]) -> list[dict[str, Any]]:
    """Stored claims that an event (a dict as ``Store.events()`` gives) corroborates or, for
    an outage event, explains: for an event page's "what the news said" section."""
    store = where if isinstance(where, Store) else Store.open(Path(where))
    out = []
    for claim in list_claims(store):
        link = link_claim(claim, [event], [])
        if event.get("event_id") in link.event_ids:
            out.append({**claim, "link_status": link.status})
    return out
