"""Bridging node trust to transport trust: per-job party certificates issued by node keys.

A node's long-term certificate names its *organisation*; the gRPC transport authenticates a
*party* (``role:name``, :mod:`coalition.transport.tls`). For each job, the node that runs a
party mints a fresh key and a certificate for that party, **issued by its own node key** (node
certificates are CA:TRUE, path length 0, so they may issue leaves but no sub-CAs). The
certificate travels with the node's answer to the proposal; the initiator relays every party's
certificate to every participant; and each receiver checks that a party's certificate names
that party, was issued by the pinned node certificate of the organisation the job sites it
at, and is bound to this job (a SAN URI ``urn:coalition:job:<id>``). A relaying initiator can
therefore not substitute a certificate of its own, nor one its partner minted for another job.

The worker's :class:`~coalition.transport.tls.Trust` then anchors TLS at the participating
organisations' node certificates (server verification: only the siting organisation's) and
pins each party to its exact certificate, so a party certificate another job or another
organisation minted is refused. Party keys live in ``<home>/jobs/<job>/keys`` (mode 0600) and
are valid for a week. Job ids are checked (:func:`~coalition.core.ids.check_job_id`) and every
job path is resolved and checked to lie under ``<home>/jobs`` (:func:`job_dir`), so no id can
alias another job's folder or escape the home.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature

from coalition.core.errors import AuthError, InputError
from coalition.core.ids import Party, check_job_id
from coalition.node.runtime import NodeRuntime
from coalition.transport.tls import (
    CertificateAuthority,
    Trust,
    cert_fingerprint,
    cert_job,
    cert_party,
    issue_party_cert,
)

__all__ = ["Endpoint", "check_endpoint", "free_port", "job_dir", "job_path", "mint_endpoint",
           "transport_trust"]

_PARTY_CERT_DAYS = 7


@dataclass(frozen=True)
class Endpoint:
    """Where a party's worker listens and the certificate it presents (public)."""

    address: str
    cert_pem: str

    def to_dict(self) -> dict[str, str]:
        """Plain form, as stored and sent."""
        return {"address": self.address, "cert_pem": self.cert_pem}


def job_dir(rt: NodeRuntime, job_id: str) -> Path:
    """The node's private folder for one job (keys, worker specs, exported inputs): a checked
    id, resolved, and exactly one level under ``<home>/jobs``."""
    return job_path(rt, check_job_id(job_id))


def job_path(rt: NodeRuntime, job_id: str, *parts: str) -> Path:
    """``<home>/jobs/<job>/<parts...>`` resolved; :class:`InputError` unless it stays inside
    the job's own folder (a part such as ``..`` or an absolute path is refused)."""
    root = (rt.settings.home / "jobs").resolve()
    folder = (root / check_job_id(job_id)).resolve()
    path = folder.joinpath(*parts).resolve()
    if folder.parent != root or (path != folder and folder not in path.parents):
        raise InputError("job path escapes the job's folder")
    return path


def free_port(host: str) -> int:
    """A port free on ``host`` right now (the worker binds it later)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def key_paths(rt: NodeRuntime, job_id: str, party: Party) -> tuple[Path, Path]:
    """Where the party's per-job key and certificate are kept."""
    stem = f"{party.role.value}-{party.name}"
    return (job_path(rt, job_id, "keys", f"{stem}.key"),
            job_path(rt, job_id, "keys", f"{stem}.crt"))


def mint_endpoint(rt: NodeRuntime, job_id: str, party: Party) -> Endpoint:
    """A fresh key and node-issued certificate for ``party``, bound to ``job_id``, and a port
    for its worker."""
    key_path, cert_path = key_paths(rt, job_id, party)
    ca = CertificateAuthority(rt.identity.key_pem, rt.identity.cert_pem)
    ident = issue_party_cert(ca, party, days=_PARTY_CERT_DAYS, job_id=job_id)
    key_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(ident.key_pem)
    cert_path.write_bytes(ident.cert_pem)
    host = rt.settings.peer_host
    advertised = rt.settings.advertised_peer_address.rpartition(":")[0] or host
    return Endpoint(f"{advertised}:{free_port(host)}", ident.cert_pem.decode())


def check_endpoint(party: Party, cert_pem: bytes, org_cert_pem: bytes, job_id: str) -> None:
    """Raise :class:`AuthError` unless ``cert_pem`` names ``party``, is bound to ``job_id``
    and was issued by the organisation certificate ``org_cert_pem``."""
    if cert_party(cert_pem) != party:
        raise AuthError("party certificate names another party", party=str(party))
    if cert_job(cert_pem) != check_job_id(job_id):
        raise AuthError("party certificate is not bound to this job", party=str(party))
    try:
        cert = x509.load_pem_x509_certificate(cert_pem)
        cert.verify_directly_issued_by(x509.load_pem_x509_certificate(org_cert_pem))
    except (ValueError, TypeError, InvalidSignature) as exc:
        raise AuthError("party certificate is not issued by its organisation's node key",
                        party=str(party)) from exc


def transport_trust(certs: Mapping[Party, bytes], org_certs: Mapping[Party, bytes]) -> Trust:
    """Trust for a worker: anchors are the siting organisations' node certificates, and each
    party is pinned to its exact per-job certificate."""
    roots = b"".join(sorted(set(org_certs.values())))
    return Trust(roots, {p: cert_fingerprint(pem) for p, pem in certs.items()},
                 dict(org_certs))
