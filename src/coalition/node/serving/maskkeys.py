"""Hosts' pair keys for masking partial scores in online and offline serving (finding 19).

With several hosts, each host of a service holds an X25519 key derived from its node key and
the binding (guest, service, model, version), and sends the guest its public half **signed
with its node key** (ECDSA P-256 / SHA-256, FIPS 186-5; the key of the node's pinned TLS
certificate). The guest relays every host's signed public key to the other hosts
(``ServingKeys``); a host verifies each against the certificate *it* has pinned for that
organisation, so the guest cannot substitute keys of its own (a man in the middle would learn
both pair keys and unmask). Pair keys are ``HKDF-SHA256(X25519(a, B), info=binding and the two
organisations)`` and mask row ``i`` by ``HMAC-SHA256(k, id_i)`` (see
:mod:`coalition.protocols.linear.masking`). Because the keys are a function of the node key and
the binding, a host rebuilds them after a restart from the co-hosts' public keys stored with
its binding; no secret is stored.

Consequence: a host serves a multi-host linear model only when every other host is a
registered partner of it (certificate pinned; no network path between hosts is needed).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from coalition.core.errors import AuthError, CryptoError, InputError
from coalition.node.identity import NodeIdentity
from coalition.protocols.linear.masking import agree, public_bytes

__all__ = ["Binding", "decoy_key", "pair_keys", "signed_public"]

#: (guest, service, model, version): what a host's masking key is bound to.
Binding = tuple[str, str, str, int]


def _derive(identity: NodeIdentity, salt: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(
        identity.key_pem)


def decoy_key(identity: NodeIdentity) -> bytes:
    """The node's secret key for choosing decoy rows of unknown IDs (stable across restarts
    and the same for every partner and service, so no two answers for an unknown ID differ)."""
    return _derive(identity, b"coalition/serving/decoy/v1", b"decoy rows")


def _private(identity: NodeIdentity, binding: Binding) -> X25519PrivateKey:
    info = json.dumps(list(binding)).encode()
    return X25519PrivateKey.from_private_bytes(
        _derive(identity, b"coalition/serving/mask-x25519/v1", info))


def _statement(binding: Binding, org: str, public: bytes) -> bytes:
    return b"coalition/serving/mask-key/v1\x00" + json.dumps(
        [*binding, org, base64.b64encode(public).decode()]).encode()


def signed_public(identity: NodeIdentity, org: str, binding: Binding) -> dict[str, str]:
    """The host's public masking key for ``binding``, signed with its node key."""
    public = public_bytes(_private(identity, binding))
    key = serialization.load_pem_private_key(identity.key_pem, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):  # pragma: no cover - node keys are EC
        raise CryptoError("the node key is not an EC key")
    signature = key.sign(_statement(binding, org, public), ec.ECDSA(hashes.SHA256()))
    return {"public": base64.b64encode(public).decode(),
            "signature": base64.b64encode(signature).decode()}


def _verify(cert_pem: str, binding: Binding, org: str, signed: Mapping[str, Any]) -> bytes:
    try:
        public = base64.b64decode(str(signed["public"]), validate=True)
        signature = base64.b64decode(str(signed["signature"]), validate=True)
    except (KeyError, ValueError) as exc:
        raise InputError("malformed masking key of a co-host", host=org) from exc
    key = x509.load_pem_x509_certificate(cert_pem.encode()).public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise AuthError("the co-host's certificate has no EC key", host=org)
    try:
        key.verify(signature, _statement(binding, org, public), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:
        raise AuthError("a co-host's masking key is not signed by its pinned certificate",
                        host=org) from exc
    return public


def pair_keys(identity: NodeIdentity, me: str, binding: Binding,
              cohosts: Mapping[str, tuple[str, Mapping[str, Any]]]) -> dict[str, bytes]:
    """Pair keys with every co-host; ``cohosts`` maps an organisation to (its pinned
    certificate PEM, its signed public key). Refuses keys not signed by the pinned certificate."""
    private = _private(identity, binding)
    out = {}
    for org, (cert_pem, signed) in cohosts.items():
        if org == me:
            raise InputError("a host cannot be its own co-host")
        public = _verify(cert_pem, binding, org, signed)
        lo, hi = sorted((me, org))
        out[org] = agree(private, public, b"coalition/serving/mask|" + json.dumps(
            [*binding, lo, hi]).encode())
    return out
