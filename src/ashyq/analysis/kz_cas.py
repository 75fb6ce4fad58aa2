"""Certificate authorities known to have been used for state TLS interception in Kazakhstan.

Facts (names as they appear in the certificates' subject/issuer), with their sources:

- "Qaznet Trust Network": root used for the July–August 2019 interception in Nur-Sultan
  (Mozilla bug 1567114; Censored Planet, "Kazakhstan's HTTPS Interception", 2019).
- "Information Security Certification Authority" and "Information Security Certification
  Authority CA" (C=KZ, O=ISCA): roots introduced in 2020 and the intermediates seen in OONI
  measurements from 2021 to 2024, each valid about 75 days (Mozilla bug 1680927; OONI and
  Internet Freedom Kazakhstan, "Kazakhstan: Censorship of news media...", 2024-09-19).
- "НЕГІЗГІ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ" (Kazakh for "root certification authority"): the national
  root announced in 2015 for the planned "national security certificate" (valid 2015–2020); a
  certificate for a foreign site chained to it can only be interception.

A certificate naming one of these as issuer (or, for ISCA, the organisation ``O=ISCA`` with
``C=KZ``) on a connection the control completed with a trusted certificate is interception
``confirmed`` by the verdict.
"""

from __future__ import annotations

KZ_INTERCEPTION_CA_NAMES: tuple[str, ...] = (
    "Qaznet Trust Network",
    "Information Security Certification Authority",
    "Information Security Certification Authority CA",
    "НЕГІЗГІ КУӘЛАНДЫРУШЫ ОРТАЛЫҚ",
)
KZ_INTERCEPTION_ORGS: tuple[str, ...] = ("ISCA",)

_NAMES_LOWER = frozenset(n.casefold() for n in KZ_INTERCEPTION_CA_NAMES)


def is_kz_interception_ca(common_name: str | None, organization: str | None = None) -> bool:
    """True when an issuer's CN (or O=ISCA) names a known Kazakh interception CA."""
    if common_name and common_name.strip().casefold() in _NAMES_LOWER:
        return True
    return bool(organization and organization.strip() in KZ_INTERCEPTION_ORGS)


def mentions_kz_interception_ca(text: str | None) -> bool:
    """True when a free-text issuer string (e.g. 'C=KZ, CN=...') names a known Kazakh CA."""
    if not text:
        return False
    low = text.casefold()
    return any(name in low for name in _NAMES_LOWER) or "o=isca" in low.replace(" ", "")
