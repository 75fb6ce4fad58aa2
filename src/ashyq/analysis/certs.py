"""Reading the certificates a probe recorded (only on the rare interception path)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from ashyq.analysis.kz_cas import is_kz_interception_ca


@dataclass(frozen=True, slots=True)
class Issuer:
    text: str  # RFC 4514, e.g. "CN=Information Security Certification Authority,O=ISCA,C=KZ"
    common_name: str | None
    organization: str | None
    kz_interception: bool


def _der(entry: Any) -> bytes | None:
    if isinstance(entry, dict) and entry.get("format") == "base64":
        data = entry.get("data")
        if isinstance(data, str):
            try:
                return base64.b64decode(data, validate=False)
            except (binascii.Error, ValueError):
                return None
    return None


def chain_issuers(certs: list[Any]) -> list[Issuer]:
    """Issuers of each recorded certificate, leaf first; unreadable ones are skipped."""
    try:
        from cryptography import x509
        from cryptography.x509.oid import NameOID
    except ImportError:  # pragma: no cover
        return []
    out = []
    for entry in certs[:8]:
        der = _der(entry)
        if not der:
            continue
        try:
            cert = x509.load_der_x509_certificate(der)
            name = cert.issuer
            cn = [a.value for a in name.get_attributes_for_oid(NameOID.COMMON_NAME)]
            org = [a.value for a in name.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
            text = name.rfc4514_string()
        except (ValueError, TypeError):
            continue
        c = str(cn[0]) if cn else None
        o = str(org[0]) if org else None
        out.append(Issuer(text, c, o, is_kz_interception_ca(c, o)))
    return out
