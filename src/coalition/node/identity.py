"""A node's long-term identity: an ECDSA P-256 key and a self-signed X.509 certificate.

The certificate names the *organisation* (one per node), whereas ``coalition.transport.tls``
certificates name a job party (``role:name``); fingerprints are computed the same way (its
:func:`~coalition.transport.tls.cert_fingerprint`).

Partners pin the certificate by its SHA-256 fingerprint (of the DER encoding), the same idea as
certificate pinning in RFC 7469, so no public CA is involved. The certificate names the
organisation in its subject (CN) and carries the DNS name ``coalition-<name>`` that peers use as
the TLS target name, so the address a partner dials may be any host or IP.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from coalition.core.errors import ConfigError, CryptoError
from coalition.transport.tls import cert_fingerprint

__all__ = [
    "NodeIdentity",
    "create_identity",
    "fingerprint_of_pem",
    "key_and_cert_paths",
    "load_identity",
    "normalise_fingerprint",
    "tls_name",
    "tls_name_of_pem",
]

_KEY_FILE = "node.key"
_CERT_FILE = "node.crt"
_VALIDITY = dt.timedelta(days=730)


@dataclass(frozen=True, repr=False)
class NodeIdentity:
    """The node's (organisation's) long-term private key and certificate, both PEM. Its
    ``repr`` names the certificate by fingerprint and never shows the key."""

    key_pem: bytes = field(repr=False)
    cert_pem: bytes

    def __repr__(self) -> str:
        try:
            shown = self.fingerprint
        except CryptoError:  # a repr must never raise
            shown = "<unreadable>"
        return f"NodeIdentity(cert_sha256={shown})"

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the certificate's DER encoding, lowercase hex."""
        return fingerprint_of_pem(self.cert_pem)


def tls_name(org: str) -> str:
    """The DNS name in an organisation's certificate, used as the TLS target name."""
    return f"coalition-{org.lower().replace('_', '-').replace('.', '-')}"


def fingerprint_of_pem(cert_pem: bytes) -> str:
    """SHA-256 fingerprint of a PEM certificate; raises :class:`CryptoError` if unparsable."""
    try:
        return cert_fingerprint(cert_pem)
    except ValueError as exc:
        raise CryptoError("not a PEM certificate") from exc


def normalise_fingerprint(value: str) -> str:
    """Accept ``sha256:AB:CD...``, ``ab cd ...`` or plain hex; return 64 lowercase hex digits."""
    text = value.strip().lower().removeprefix("sha256:")
    hexed = "".join(ch for ch in text if ch not in ": ")
    if len(hexed) != 64 or any(ch not in "0123456789abcdef" for ch in hexed):
        raise ConfigError("a fingerprint is 64 hex digits (SHA-256)")
    return hexed


def create_identity(directory: Path, org: str) -> NodeIdentity:
    """Generate a key and certificate into ``directory`` (key file mode 0600)."""
    directory.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, org),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
    ])
    now = dt.datetime.now(dt.UTC)
    san = x509.SubjectAlternativeName([
        x509.DNSName(tls_name(org)),
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
    ])
    # CA:TRUE with path length 0 lets TLS stacks accept the self-signed certificate as its own
    # trust anchor; it can sign nothing that another TLS peer would accept as a leaf of it.
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(san, critical=False)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_path = directory / _KEY_FILE
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key_pem)
    (directory / _CERT_FILE).write_bytes(cert_pem)
    return NodeIdentity(key_pem=key_pem, cert_pem=cert_pem)


def load_identity(directory: Path) -> NodeIdentity:
    """Read the key and certificate written by :func:`create_identity`."""
    try:
        return NodeIdentity(
            key_pem=(directory / _KEY_FILE).read_bytes(),
            cert_pem=(directory / _CERT_FILE).read_bytes(),
        )
    except FileNotFoundError as exc:
        raise ConfigError("node identity missing; run `coalition node init`", path=str(directory)) from exc


def key_and_cert_paths(directory: Path) -> tuple[Path, Path]:
    """Paths of the key and certificate files (for TLS libraries that want files)."""
    return directory / _KEY_FILE, directory / _CERT_FILE


def tls_name_of_pem(cert_pem: bytes) -> str:
    """The ``coalition-...`` DNS name a peer's certificate carries (its TLS target name)."""
    try:
        cert = x509.load_pem_x509_certificate(cert_pem)
    except ValueError as exc:
        raise CryptoError("not a PEM certificate") from exc
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound as exc:
        raise CryptoError("partner certificate has no subject alternative name") from exc
    for name in san.get_values_for_type(x509.DNSName):
        if name.startswith("coalition-"):
            return name
    raise CryptoError("partner certificate carries no coalition-* DNS name")
