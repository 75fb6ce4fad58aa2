"""Writing verdicts: JSON lines, CSV, or a table for people at a terminal."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from dataclasses import fields
from typing import IO

from ashyq.analysis.model import Verdict

# Every field of a verdict, in its order, but the numbers behind the evidence (``details``).
CSV_COLUMNS = tuple(f.name for f in fields(Verdict) if f.name != "details")


def _plain(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class VerdictWriter:
    """Writes verdicts one at a time (streaming); call ``close`` at the end."""

    def __init__(self, out: IO[str], fmt: str) -> None:
        self.out = out
        self.fmt = fmt
        self._csv = None
        self._rows: list[Verdict] = []
        if fmt == "csv":
            self._csv = csv.writer(out)
            self._csv.writerow(CSV_COLUMNS)

    def write(self, v: Verdict) -> None:
        if self.fmt == "jsonl":
            self.out.write(json.dumps(v.to_dict(), ensure_ascii=False, default=str) + "\n")
        elif self._csv is not None:
            d = v.to_dict()
            d["evidence"] = "; ".join(v.evidence)
            self._csv.writerow([_plain(d[c]) for c in CSV_COLUMNS])
        else:
            self._rows.append(v)
            if len(self._rows) >= 500:
                self._flush_table()

    def _flush_table(self) -> None:
        if not self._rows:
            return
        from rich.console import Console
        from rich.table import Table

        table = Table(show_lines=False)
        for col in ("target", "network", "time (UTC)", "status", "method", "conf.", "evidence"):
            table.add_column(col, overflow="fold")
        colours = {"blocked": "red", "throttled": "yellow", "down": "magenta", "ok": "green"}
        for v in self._rows:
            c = colours.get(v.status, "white")
            table.add_row(
                v.target or v.input or "",
                " ".join(x for x in (v.probe_cc, v.probe_asn, v.region) if x),
                v.measurement_start_time or "",
                f"[{c}]{v.status}[/{c}]",
                v.method or "",
                f"{v.confidence:.2f}",
                "; ".join(v.evidence),
            )
        tty = hasattr(self.out, "isatty") and self.out.isatty()
        Console(file=self.out, width=None if tty else 200).print(table)
        self._rows.clear()

    def close(self) -> None:
        if self.fmt == "table":
            self._flush_table()
        self.out.flush()


def write_all(verdicts: Iterable[Verdict], out: IO[str], fmt: str) -> int:
    w = VerdictWriter(out, fmt)
    n = 0
    for v in verdicts:
        w.write(v)
        n += 1
    w.close()
    return n
