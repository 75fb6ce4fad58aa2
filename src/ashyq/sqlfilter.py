"""WHERE clauses built from optional filters, with their parameters (``?`` placeholders)."""

from __future__ import annotations

from typing import Any


class Filters:
    """The conditions of a query, one per filter that was given.

    ``add`` skips a value that is None or an empty string, so a query lists each of its filters
    once: ``f.add("target = ?", target)``. ``sql`` joins the conditions with AND (``true`` when
    there are none); ``params`` holds their values in order.
    """

    def __init__(self, *always: str, params: list[Any] | None = None) -> None:
        self.clauses: list[str] = list(always)
        self.params: list[Any] = list(params or [])

    def add(self, clause: str, value: Any) -> None:
        if value is None or value == "":
            return
        self.clauses.append(clause)
        self.params.append(value)

    @property
    def sql(self) -> str:
        return " AND ".join(self.clauses) or "true"
