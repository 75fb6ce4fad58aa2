"""A small certificate authority for tests and the lab.

Interface (stable):

    ca = CertAuthority.create("ashyq test CA")          # new key + self-signed CA cert
    ca = CertAuthority.load(directory)                   # from ca.pem + ca-key.pem
    ca.write(directory) -> Path                          # writes ca.pem, ca-key.pem; returns ca.pem
    leaf = ca.issue(["example.kz", "www.example.kz", "127.0.0.1"], days=30)
    leaf.cert_pem, leaf.key_pem, leaf.chain_pem          # bytes; chain = leaf + CA
    leaf.write(directory, stem="example.kz") -> (cert_path, key_path)  # cert file holds the chain
    ca.cert_pem, ca.key_pem, ca.name

Names that parse as IP addresses go into the certificate as IP SANs, the rest as DNS SANs;
the first name is the subject common name. ``days`` may be negative together with
``not_before`` to make an expired certificate.

Command line (writes PEM files into DIR, reusing an existing CA found there):

    python -m ashyq.servers.ca --out DIR [--name "Qaznet Trust Network"] [--host NAME ...]
"""

from __future__ import annotations

import argparse
import datetime as dt
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _safe_stem(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-._" else "_" for c in name) or "leaf"


@dataclass(frozen=True)
class LeafCert:
    """A certificate issued by a :class:`CertAuthority`, with its key and chain."""

    names: tuple[str, ...]
    cert_pem: bytes
    key_pem: bytes
    chain_pem: bytes  # leaf followed by the CA certificate

    def write(self, directory: Path | str, stem: str | None = None) -> tuple[Path, Path]:
        """Write ``<stem>.pem`` (the chain) and ``<stem>-key.pem``; return both paths."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        stem = _safe_stem(stem or self.names[0])
        cert_path = out / f"{stem}.pem"
        key_path = out / f"{stem}-key.pem"
        cert_path.write_bytes(self.chain_pem)
        key_path.write_bytes(self.key_pem)
        key_path.chmod(0o600)
        return cert_path, key_path


class CertAuthority:
    """A certificate authority: an EC P-256 key and a self-signed CA certificate."""

    def __init__(self, key: ec.EllipticCurvePrivateKey, cert: x509.Certificate) -> None:
        self.key = key
        self.cert = cert

    @property
    def name(self) -> str:
        attrs = self.cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        return str(attrs[0].value) if attrs else self.cert.subject.rfc4514_string()

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        return _key_pem(self.key)

    @classmethod
    def create(cls, name: str = "ashyq test CA", days: int = 3650) -> CertAuthority:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, name),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
            ]
        )
        now = _now()
        ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(ski, critical=False)
            .sign(key, hashes.SHA256())
        )
        return cls(key, cert)

    @classmethod
    def load(cls, directory: Path | str) -> CertAuthority:
        d = Path(directory)
        cert = x509.load_pem_x509_certificate((d / "ca.pem").read_bytes())
        key = serialization.load_pem_private_key((d / "ca-key.pem").read_bytes(), None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError("ca-key.pem is not an EC key")
        return cls(key, cert)

    def write(self, directory: Path | str) -> Path:
        """Write ``ca.pem`` and ``ca-key.pem`` into ``directory``; return the ``ca.pem`` path."""
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        (d / "ca.pem").write_bytes(self.cert_pem)
        key_path = d / "ca-key.pem"
        key_path.write_bytes(self.key_pem)
        key_path.chmod(0o600)
        return d / "ca.pem"

    def issue(
        self,
        names: Sequence[str],
        days: int = 365,
        not_before: dt.datetime | None = None,
    ) -> LeafCert:
        """Issue a server certificate for host names and/or IP addresses."""
        if not names:
            raise ValueError("at least one name is needed")
        key = ec.generate_private_key(ec.SECP256R1())
        sans: list[x509.GeneralName] = []
        for name in names:
            try:
                sans.append(x509.IPAddress(ipaddress.ip_address(name)))
            except ValueError:
                sans.append(x509.DNSName(name))
        start = not_before or (_now() - dt.timedelta(hours=1))
        end = start + dt.timedelta(days=days) if days > 0 else _now() + dt.timedelta(days=days)
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(min(start, end - dt.timedelta(hours=1)))
            .not_valid_after(end)
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                critical=False,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .sign(self.key, hashes.SHA256())
        )
        cert_pem = cert.public_bytes(serialization.Encoding.PEM)
        return LeafCert(tuple(names), cert_pem, _key_pem(key), cert_pem + self.cert_pem)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ashyq.servers.ca",
        description="Make (or reuse) a CA in DIR and issue leaf certificates for host names.",
    )
    parser.add_argument("--out", required=True, type=Path, metavar="DIR")
    parser.add_argument("--name", default="ashyq test CA", help="CA common name")
    parser.add_argument(
        "--host",
        action="append",
        default=[],
        metavar="NAME",
        help="issue a certificate for NAME (repeat; 'a.kz,www.a.kz' puts both in one cert)",
    )
    args = parser.parse_args(argv)
    if (args.out / "ca.pem").exists() and (args.out / "ca-key.pem").exists():
        ca = CertAuthority.load(args.out)
    else:
        ca = CertAuthority.create(args.name)
        ca.write(args.out)
    print(args.out / "ca.pem")
    for spec in args.host:
        names = [n.strip() for n in spec.split(",") if n.strip()]
        cert_path, key_path = ca.issue(names).write(args.out)
        print(cert_path, key_path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
