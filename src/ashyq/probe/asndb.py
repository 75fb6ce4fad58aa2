"""IP-to-ASN lookups from a table the user supplies (the public iptoasn.com format).

The table is TSV, one range a line: ``range_start  range_end  AS_number  country_code
AS_description``, IPv4 and IPv6 ranges in one file or several (``ip2asn-v4.tsv``,
``ip2asn-v6.tsv``, ``ip2asn-combined.tsv``, optionally gzipped). AS number 0 marks space that is
not routed. The file is read once into sorted arrays; each lookup is one binary search.

    db = AsnDB.load("ip2asn-combined.tsv.gz")
    db.lookup("1.1.1.1") -> AsnInfo(asn=13335, cc="US", name="CLOUDFLARENET")  (or None)
"""

from __future__ import annotations

import bisect
import functools
import gzip
import ipaddress
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

ENV_VAR = "ASHYQ_ASN_DB"


class AsnDBError(ValueError):
    """The table cannot be read or is not in the iptoasn format."""


@dataclass(frozen=True)
class AsnInfo:
    asn: int
    cc: str
    name: str


class _Table:
    """Non-overlapping ranges of one address family, sorted by start."""

    def __init__(self, rows: list[tuple[int, int, AsnInfo]]) -> None:
        rows.sort(key=lambda r: r[0])
        self.starts = [r[0] for r in rows]
        self.ends = [r[1] for r in rows]
        self.infos = [r[2] for r in rows]

    def find(self, value: int) -> AsnInfo | None:
        i = bisect.bisect_right(self.starts, value) - 1
        if i >= 0 and value <= self.ends[i]:
            return self.infos[i]
        return None


class AsnDB:
    def __init__(self, v4: list[tuple[int, int, AsnInfo]], v6: list[tuple[int, int, AsnInfo]]):
        self._v4 = _Table(v4)
        self._v6 = _Table(v6)
        self.ranges = len(v4) + len(v6)

    @classmethod
    def from_lines(cls, lines: Iterable[str], source: str = "<table>") -> AsnDB:
        v4: list[tuple[int, int, AsnInfo]] = []
        v6: list[tuple[int, int, AsnInfo]] = []
        names: dict[tuple[int, str, str], AsnInfo] = {}  # one object per AS, not per range
        for lineno, line in enumerate(lines, 1):
            line = line.rstrip("\r\n")
            if not line.strip() or line.startswith("#"):
                continue
            fields = line.split("\t")
            if len(fields) < 3:
                raise AsnDBError(
                    f"{source}:{lineno}: want range_start<TAB>range_end<TAB>AS_number"
                    f"<TAB>country_code<TAB>AS_description, got {line[:80]!r}"
                )
            try:
                start = ipaddress.ip_address(fields[0].strip())
                end = ipaddress.ip_address(fields[1].strip())
                asn = int(fields[2].strip().upper().removeprefix("AS"))
            except ValueError as exc:
                raise AsnDBError(f"{source}:{lineno}: {exc}") from None
            if start.version != end.version or int(end) < int(start) or asn < 0:
                raise AsnDBError(f"{source}:{lineno}: bad range {fields[0]} - {fields[1]}")
            cc = fields[3].strip() if len(fields) > 3 else ""
            name = fields[4].strip() if len(fields) > 4 else ""
            if asn == 0:  # "Not routed": no AS to name
                cc, name = "", ""
            key = (asn, cc, name)
            info = names.get(key) or names.setdefault(key, AsnInfo(asn, cc, name))
            (v4 if start.version == 4 else v6).append((int(start), int(end), info))
        return cls(v4, v6)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> AsnDB:
        p = Path(path)
        try:
            raw = p.read_bytes()
            if raw[:2] == b"\x1f\x8b":
                raw = gzip.decompress(raw)
            text = raw.decode("utf-8", errors="replace")
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            raise AsnDBError(f"cannot read {p}: {getattr(exc, 'strerror', None) or exc}") from None
        db = cls.from_lines(text.splitlines(), str(p))
        if db.ranges == 0:
            raise AsnDBError(f"{p}: no IP ranges in the file")
        return db

    def lookup(self, address: str) -> AsnInfo | None:
        """The AS announcing ``address``; None when unknown, not routed or not an address."""
        try:
            ip = ipaddress.ip_address(address.split("%")[0])
        except ValueError:
            return None
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        table = self._v4 if ip.version == 4 else self._v6
        info = table.find(int(ip))
        if info is None or info.asn == 0:
            return None
        return info

    def asn(self, address: str) -> int:
        info = self.lookup(address)
        return info.asn if info else 0

    def org(self, address: str) -> str:
        info = self.lookup(address)
        return info.name if info else ""


@functools.lru_cache(maxsize=4)
def _load_cached(path: str, mtime_ns: int, size: int) -> AsnDB:
    return AsnDB.load(path)


def open_db(path: str | os.PathLike[str] | None) -> AsnDB | None:
    """The table at ``path`` (or ``$ASHYQ_ASN_DB`` when ``path`` is None), read once per
    process; None when neither is set. Raises :class:`AsnDBError` for an unusable file."""
    chosen = str(path) if path else os.environ.get(ENV_VAR, "")
    if not chosen:
        return None
    try:
        st = os.stat(chosen)
    except OSError as exc:
        raise AsnDBError(f"cannot read {chosen}: {exc.strerror or exc}") from None
    return _load_cached(chosen, st.st_mtime_ns, st.st_size)
