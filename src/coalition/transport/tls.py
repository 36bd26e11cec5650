"""Party identities and trust for mutual TLS (RFC 8446 over gRPC; X.509 per RFC 5280).

The transport authenticates *parties* (``role:name``), not nodes: every party of a run holds a
:class:`PartyIdentity`, a private key and a certificate whose subject common name is its party id
(``host:telco``) and whose DNS subject-alternative name is :func:`party_dns_name` of that id.
The DNS name is what a client verifies when it dials a peer, so a certificate issued to one
party can never pass as another's server; the common name is what the peer server compares
with the ``sender`` of every envelope, so a client cannot claim another party id.

Partners are trusted in one of two ways (:class:`Trust`):

* **federation CA** — any certificate issued by the federation's CA is accepted, its common
  name being the party it speaks for (``Trust.federation(ca_pem)``);
* **pinned certificates** — each partner's exact certificate is listed
  (``Trust.pinned({party: cert_pem})``); a connection presenting any other certificate is
  refused, even a valid one from the same issuer.

Helpers to mint a CA and party certificates (ECDSA P-256, via ``cryptography``/OpenSSL) serve
tests, the ``coalition psi``/``pir`` commands, and nodes, which issue one per job party with
their own node key (:mod:`coalition.node.jobs.certs`)::

    ca = generate_ca("federation")
    guest = issue_party_cert(ca, Party.guest())
    trust = Trust.federation(ca.cert_pem)
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from coalition.core.errors import AuthError, ConfigError
from coalition.core.ids import Party

__all__ = [
    "JOB_URN_PREFIX",
    "CertificateAuthority",
    "PartyIdentity",
    "Trust",
    "cert_fingerprint",
    "cert_job",
    "cert_party",
    "generate_ca",
    "issue_party_cert",
    "party_dns_name",
    "self_signed_party_cert",
]

_DNS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_DNS_SUFFIX = "coalition.invalid"  # RFC 6761: never resolves, only ever used for verification


def party_dns_name(party: Party) -> str:
    """The DNS name a party's certificate carries and its peers verify when dialling it."""
    name = party.name.lower()
    if not _DNS_LABEL.match(name) or name != party.name:
        name = "x-" + hashlib.sha256(party.name.encode()).hexdigest()[:32]
    return f"{name}.{party.role.value}.{_DNS_SUFFIX}"


@dataclass(frozen=True, repr=False)
class CertificateAuthority:
    """A CA's key and self-signed certificate (PEM). Its ``repr`` names the certificate by
    fingerprint and never shows the key."""

    key_pem: bytes = field(repr=False)
    cert_pem: bytes

    def __repr__(self) -> str:
        return f"CertificateAuthority(cert_sha256={_safe_fingerprint(self.cert_pem)})"


@dataclass(frozen=True, repr=False)
class PartyIdentity:
    """One party's private key and certificate chain (PEM), speaking for ``party`` in a run
    (a node issues one per job party; ``coalition psi``/``pir`` mint them for a pair). Its
    ``repr`` names the party and the certificate by fingerprint and never shows the key."""

    party: Party
    key_pem: bytes = field(repr=False)
    cert_pem: bytes

    def __repr__(self) -> str:
        return (f"PartyIdentity(party={self.party!s}, "
                f"cert_sha256={_safe_fingerprint(self.cert_pem)})")

    def save(self, directory: Path) -> tuple[Path, Path]:
        """Write ``node.key`` (mode 0600) and ``node.crt`` into ``directory``."""
        directory.mkdir(parents=True, exist_ok=True)
        key_path, cert_path = directory / "node.key", directory / "node.crt"
        key_path.touch(mode=0o600, exist_ok=True)
        key_path.write_bytes(self.key_pem)
        cert_path.write_bytes(self.cert_pem)
        return key_path, cert_path

    @classmethod
    def load(cls, key_path: Path, cert_path: Path) -> PartyIdentity:
        """Read a key and certificate; the party is the certificate's common name."""
        key_pem, cert_pem = key_path.read_bytes(), cert_path.read_bytes()
        return cls(cert_party(cert_pem), key_pem, cert_pem)


@dataclass(frozen=True)
class Trust:
    """Which partner certificates a party accepts (see the module docstring).

    ``roots_pem`` anchors TLS verification of clients; ``pins`` (party -> SHA-256
    fingerprint), when set, additionally requires each party's exact certificate;
    ``peer_roots``, when set, is the one anchor used to verify each peer's server (its own
    self-signed certificate), otherwise ``roots_pem`` is.
    """

    roots_pem: bytes
    pins: Mapping[Party, str] | None = None
    peer_roots: Mapping[Party, bytes] | None = None

    @classmethod
    def federation(cls, ca_pem: bytes, *, pin: Mapping[Party, bytes] | None = None) -> Trust:
        """Accept certificates issued by the federation CA ``ca_pem``; with ``pin``
        (party -> certificate PEM), only those exact certificates and parties."""
        return cls(ca_pem, _pins(pin) if pin else None)

    @classmethod
    def pinned(cls, certs: Mapping[Party, bytes]) -> Trust:
        """Accept exactly these self-signed certificates (:func:`self_signed_party_cert`)."""
        if not certs:
            raise ConfigError("pinned trust needs at least one certificate")
        return cls(b"".join(certs[p] for p in sorted(certs)), _pins(certs), dict(certs))

    def roots_for(self, peer: Party) -> bytes:
        """Anchor used when dialling ``peer``."""
        if self.peer_roots is None:
            return self.roots_pem
        if peer not in self.peer_roots:
            raise ConfigError("no pinned certificate for peer", peer=str(peer))
        return self.peer_roots[peer]

    def check(self, claimed: Party, cert_pem: bytes) -> None:
        """Raise :class:`AuthError` unless ``cert_pem`` may speak for ``claimed``."""
        subject, fingerprint = _describe(cert_pem)
        if subject != claimed:
            raise AuthError("certificate does not belong to the claimed sender",
                            claimed=str(claimed), certificate=str(subject))
        if self.pins is not None and self.pins.get(claimed) != fingerprint:
            raise AuthError("certificate is not the one pinned for this party",
                            party=str(claimed), fingerprint=fingerprint)


@functools.lru_cache(maxsize=256)
def _describe(cert_pem: bytes) -> tuple[Party, str]:
    # Checked on every call a peer makes; parsing X.509 each time would dominate small messages.
    return cert_party(cert_pem), cert_fingerprint(cert_pem)


def _pins(certs: Mapping[Party, bytes]) -> dict[Party, str]:
    pins: dict[Party, str] = {}
    for party, pem in certs.items():
        if cert_party(pem) != party:
            raise ConfigError("pinned certificate is not issued to that party",
                              party=str(party), subject=str(cert_party(pem)))
        pins[party] = cert_fingerprint(pem)
    return pins


def _safe_fingerprint(cert_pem: bytes) -> str:
    # A repr must never raise: an unreadable certificate is shown as such.
    try:
        return cert_fingerprint(cert_pem)
    except ValueError:
        return "<unreadable>"


def cert_fingerprint(cert_pem: bytes) -> str:
    """SHA-256 of the DER certificate, lowercase hex."""
    cert = x509.load_pem_x509_certificate(cert_pem)
    return cert.fingerprint(hashes.SHA256()).hex()


def cert_party(cert_pem: bytes) -> Party:
    """The party a certificate speaks for (its subject common name)."""
    try:
        cert = x509.load_pem_x509_certificate(cert_pem)
        names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        value = names[0].value if names else ""
        return Party.parse(value if isinstance(value, str) else value.decode())
    except (ValueError, ConfigError) as exc:
        raise AuthError("certificate does not name a party") from exc


JOB_URN_PREFIX = "urn:coalition:job:"


def cert_job(cert_pem: bytes) -> str | None:
    """The job a certificate is bound to (its ``urn:coalition:job:`` SAN URI), or ``None``;
    :class:`AuthError` if it names more than one job or cannot be read."""
    try:
        cert = x509.load_pem_x509_certificate(cert_pem)
    except ValueError as exc:
        raise AuthError("certificate cannot be read") from exc
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None
    jobs = [u[len(JOB_URN_PREFIX):] for u in san.get_values_for_type(
        x509.UniformResourceIdentifier) if u.startswith(JOB_URN_PREFIX)]
    if len(jobs) > 1:
        raise AuthError("certificate is bound to more than one job")
    return jobs[0] if jobs else None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def generate_ca(name: str = "coalition federation", *, days: int = 3650) -> CertificateAuthority:
    """A fresh ECDSA P-256 certificate authority."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
            key_encipherment=False, data_encipherment=False, key_agreement=False,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                       critical=False)
        .sign(key, hashes.SHA256())
    )
    return CertificateAuthority(_key_pem(key), cert.public_bytes(serialization.Encoding.PEM))


def issue_party_cert(
    ca: CertificateAuthority,
    party: Party,
    *,
    days: int = 365,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
    job_id: str | None = None,
) -> PartyIdentity:
    """A party key and certificate for ``party`` signed by ``ca`` (client and server use).

    ``not_before``/``not_after`` override the validity window (tests mint expired ones).
    ``job_id`` binds the certificate to one job: a SAN URI ``urn:coalition:job:<id>``
    (:func:`cert_job` reads it back), so a certificate minted for one job cannot be presented
    for another.
    """
    ca_key = serialization.load_pem_private_key(ca.key_pem, password=None)
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise ConfigError("CA key must be an EC key")
    ca_cert = x509.load_pem_x509_certificate(ca.cert_pem)
    key = ec.generate_private_key(ec.SECP256R1())
    start = not_before or _now() - dt.timedelta(minutes=5)
    end = not_after or start + dt.timedelta(days=days)
    cert = _party_builder(party, key, ca_cert.subject, start, end, ca=False,
                         job_id=job_id).sign(ca_key, hashes.SHA256())
    return PartyIdentity(party, _key_pem(key), cert.public_bytes(serialization.Encoding.PEM))


def self_signed_party_cert(party: Party, *, days: int = 365) -> PartyIdentity:
    """A self-signed party certificate for pinned trust (:meth:`Trust.pinned`)."""
    key = ec.generate_private_key(ec.SECP256R1())
    start = _now() - dt.timedelta(minutes=5)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, str(party))])
    # A pinned certificate is its own trust anchor, hence CA:TRUE with path length 0.
    cert = _party_builder(party, key, subject, start, start + dt.timedelta(days=days),
                         ca=True).sign(key, hashes.SHA256())
    return PartyIdentity(party, _key_pem(key), cert.public_bytes(serialization.Encoding.PEM))


def _party_builder(party: Party, key: ec.EllipticCurvePrivateKey, issuer: x509.Name,
                  start: dt.datetime, end: dt.datetime, *, ca: bool,
                  job_id: str | None = None) -> x509.CertificateBuilder:
    names: list[x509.GeneralName] = [x509.DNSName(party_dns_name(party))]
    if job_id is not None:
        names.append(x509.UniformResourceIdentifier(f"{JOB_URN_PREFIX}{job_id}"))
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, str(party))]))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None),
                       critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, key_cert_sign=ca, crl_sign=False, content_commitment=False,
            key_encipherment=False, data_encipherment=False, key_agreement=False,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                              ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
    )


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())
