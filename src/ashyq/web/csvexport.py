"""CSV exports for spreadsheets, with a guard against formula injection.

A cell that a spreadsheet would read as a formula (text starting with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return) is prefixed with a single quote, so that a target name or a page
title chosen by a measured site can never run as a formula in the reader's spreadsheet.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def guard_cell(value: Any) -> str:
    """The text of one cell, safe to open in a spreadsheet."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, list | tuple):
        text = ";".join("" if v is None else str(v) for v in value)
    else:
        text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def to_csv(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A CSV document (header row first, CRLF line ends as RFC 4180 says)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([guard_cell(c) for c in columns])
    for row in rows:
        writer.writerow([guard_cell(v) for v in row])
    return out.getvalue()
