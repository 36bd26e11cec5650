"""Partner nodes: registration (by fingerprint or bundle), listing, removal, trust roots.

A partner is pinned by the SHA-256 fingerprint of its certificate. Registering by fingerprint
alone fetches the certificate from the partner's peer endpoint over TLS and keeps it only if the
fingerprint matches, so the human-verified fingerprint is the only trust decision; a bundle
written by ``coalition node export-identity`` carries the certificate itself.
"""

from __future__ import annotations

import json
import socket
import ssl
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from coalition.core.errors import ConflictError, CryptoError, InputError, NotFoundError, PeerError
from coalition.node.audit.events import Event, EventKind, emit
from coalition.node.db.types import utcnow
from coalition.node.identity import (
    fingerprint_of_pem,
    key_and_cert_paths,
    normalise_fingerprint,
    tls_name_of_pem,
)
from coalition.node.partners.tables import Partner
from coalition.node.runtime import NodeRuntime

__all__ = [
    "BUNDLE_FORMAT",
    "export_bundle",
    "fetch_certificate",
    "get_partner",
    "list_partners",
    "parse_address",
    "parse_bundle",
    "partner_by_fingerprint",
    "register_partner",
    "remove_partner",
    "trusted_roots",
]

BUNDLE_FORMAT = "coalition-partner/1"


def parse_address(address: str) -> tuple[str, int]:
    """Split ``host:port`` (IPv6 as ``[::1]:port``)."""
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise InputError("address must be host:port", address=address)
    return host.strip("[]"), int(port)


def export_bundle(rt: NodeRuntime) -> dict[str, Any]:
    """The identity of this node as a partner bundle (public: no secrets)."""
    return {
        "format": BUNDLE_FORMAT,
        "name": rt.name,
        "address": rt.settings.advertised_peer_address,
        "fingerprint": rt.identity.fingerprint,
        "certificate_pem": rt.identity.cert_pem.decode(),
    }


def parse_bundle(text: str) -> dict[str, str]:
    """Validate a bundle's JSON text; return name, address, fingerprint and certificate."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError("partner bundle is not JSON") from exc
    if not isinstance(data, dict) or data.get("format") != BUNDLE_FORMAT:
        raise InputError(f"not a {BUNDLE_FORMAT} bundle")
    fields = ("name", "address", "fingerprint", "certificate_pem")
    if any(not isinstance(data.get(k), str) for k in fields):
        raise InputError("partner bundle lacks " + ", ".join(fields))
    return {k: data[k] for k in fields}


def fetch_certificate(rt: NodeRuntime, address: str) -> bytes:
    """Fetch the certificate a peer endpoint presents (unverified: the caller pins it)."""
    host, port = parse_address(address)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # trust comes from the fingerprint check that follows
    ctx.set_alpn_protocols(["h2"])
    key_path, cert_path = key_and_cert_paths(rt.settings.identity_dir)
    ctx.load_cert_chain(cert_path, key_path)
    try:
        with socket.create_connection((host, port), timeout=rt.settings.peer_timeout_s) as raw, \
                ctx.wrap_socket(raw) as tls:
            der = tls.getpeercert(binary_form=True)
    except OSError as exc:
        raise PeerError("could not fetch the partner's certificate", address=address) from exc
    if der is None:
        raise PeerError("partner presented no certificate", address=address)
    return ssl.DER_cert_to_PEM_cert(der).encode()


def register_partner(db: Session, rt: NodeRuntime, actor: str, *, name: str, address: str,
                     fingerprint: str, certificate_pem: bytes) -> Partner:
    """Pin a partner; the certificate must match the fingerprint a human checked."""
    fp = normalise_fingerprint(fingerprint)
    parse_address(address)
    try:
        actual = fingerprint_of_pem(certificate_pem)
        tls_name_of_pem(certificate_pem)
    except CryptoError as exc:
        raise InputError(f"unusable partner certificate: {exc.message}", name=name) from exc
    if actual != fp:
        raise InputError("certificate does not match the fingerprint", name=name)
    if name == rt.name or fp == rt.identity.fingerprint:
        raise InputError("a node cannot be its own partner")
    clash = db.scalars(select(Partner).where((Partner.name == name) | (Partner.fingerprint == fp))).first()
    if clash is not None:
        raise ConflictError("partner name or fingerprint already registered", name=clash.name)
    partner = Partner(name=name, address=address, fingerprint=fp,
                      certificate_pem=certificate_pem.decode(), created_at=utcnow())
    db.add(partner)
    db.flush()
    emit(db, Event(EventKind.PARTNER_REGISTERED, actor, f"partner:{name}",
                   {"address": address, "fingerprint": fp}))
    return partner


def list_partners(db: Session) -> list[Partner]:
    """All partners, by name."""
    return list(db.scalars(select(Partner).order_by(Partner.name)).all())


def get_partner(db: Session, name: str) -> Partner:
    """The partner called ``name``."""
    partner = db.scalars(select(Partner).where(Partner.name == name)).first()
    if partner is None:
        raise NotFoundError("no such partner", name=name)
    return partner


def remove_partner(db: Session, actor: str, name: str) -> None:
    """Forget a partner: its certificate stops being trusted on the next call."""
    partner = get_partner(db, name)
    db.delete(partner)
    emit(db, Event(EventKind.PARTNER_REMOVED, actor, f"partner:{name}", {"fingerprint": partner.fingerprint}))


def partner_by_fingerprint(db: Session, fingerprint: str) -> Partner | None:
    """The registered partner whose certificate has this fingerprint, if any."""
    return db.scalars(select(Partner).where(Partner.fingerprint == fingerprint)).first()


def trusted_roots(db: Session) -> list[tuple[str, bytes]]:
    """Fingerprint and PEM of every partner certificate (the peer endpoint's trust store)."""
    rows = db.execute(select(Partner.fingerprint, Partner.certificate_pem).order_by(Partner.id)).all()
    return [(fp, pem.encode()) for fp, pem in rows]

