"""Hosts' pair keys for masking partial scores in online and offline serving (finding 19).

With several hosts, each host of a service holds a key-agreement key derived from its node key
and the binding (guest, service, model, version), and sends the guest its public half **signed**
(below). The guest relays every host's signed public key to the other hosts (``ServingKeys``); a
host verifies each against the certificate *it* has pinned for that organisation, so the guest
cannot substitute keys of its own (a man in the middle would learn both pair keys and unmask).
Pair keys are ``HKDF(DH(a, B), info=binding and the two organisations)`` and mask row ``i`` by
``HMAC(k, id_i)`` (see :mod:`coalition.protocols.linear.masking`). Because the keys are a
function of the node key and the binding, a host rebuilds them after a restart from the
co-hosts' public keys stored with its binding; no secret is stored.

The primitives follow the node's crypto suite (``crypto_suite``, :mod:`coalition.crypto.suite`):

* ``standard`` — an X25519 key (derived with HKDF-SHA256), its public half signed with the
  node's TLS key (ECDSA P-256 / SHA-256, FIPS 186-5): ``{"public", "signature"}``, exactly as
  before suites existed;
* ``sm`` — an SM2 key (derived with HKDF-SM3), HKDF-SM3 pair keys and HMAC-SM3 row masks; its
  public half signed with the node's **SM2 signing key** (:mod:`coalition.node.signing`,
  GB/T 32918.2). The co-host knows the node by its pinned TLS certificate only, and TLS stays
  standard TLS 1.3 by design, so the SM2 key is vouched for by the TLS key: ``endorsement`` is
  the TLS key's ECDSA signature of (organisation, SM2 public key), a two-link chain like a
  TLCP (GB/T 38636) signing certificate under its identity. The message is
  ``{"suite": "sm", "public", "signature", "signer", "endorsement"}``.

A host refuses a co-host's key of the other suite (:class:`MaskKeySuiteMismatch`): a federation
on ``sm`` never masks under X25519/HMAC-SHA256 because one party asks for it, and vice versa.

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
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from coalition.core.errors import AuthError, CryptoError, InputError
from coalition.crypto.signing import SigningKey, VerifyKey
from coalition.crypto.suite import CryptoSuite, primitives
from coalition.node.identity import NodeIdentity
from coalition.protocols.linear.masking import MaskKey

__all__ = ["Binding", "MaskKeySuiteMismatch", "decoy_key", "pair_keys", "signed_public"]

#: (guest, service, model, version): what a host's masking key is bound to.
Binding = tuple[str, str, str, int]

_SM_FIELDS = frozenset({"suite", "public", "signature", "signer", "endorsement"})


class MaskKeySuiteMismatch(AuthError):
    """A co-host's masking key is of another crypto suite than this node's."""

    code = "serving.crypto_suite"


def _derive(identity: NodeIdentity, salt: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(
        identity.key_pem)


def decoy_key(identity: NodeIdentity,
              suite: CryptoSuite | str = CryptoSuite.STANDARD) -> bytes:
    """The node's secret key for choosing decoy rows of unknown IDs (stable across restarts
    and the same for every partner and service, so no two answers for an unknown ID differ);
    HKDF-SHA256 of the node key, or HKDF-SM3 under ``sm``."""
    if CryptoSuite(suite) == CryptoSuite.SM:
        return primitives(suite).kdf(identity.key_pem, length=32, info=b"decoy rows",
                                     salt=b"coalition/serving/decoy-sm/v1")
    return _derive(identity, b"coalition/serving/decoy/v1", b"decoy rows")


def _private(identity: NodeIdentity, binding: Binding, suite: CryptoSuite) -> MaskKey:
    info = json.dumps(list(binding)).encode()
    if suite == CryptoSuite.SM:
        secret = primitives(suite).kdf(identity.key_pem, length=48, info=info,
                                       salt=b"coalition/serving/mask-sm2/v1")
        return MaskKey(suite, secret)
    return MaskKey(suite, _derive(identity, b"coalition/serving/mask-x25519/v1", info))


def _statement(binding: Binding, org: str, public: bytes, suite: CryptoSuite) -> bytes:
    tag = (b"coalition/serving/mask-key/sm/v1\x00" if suite == CryptoSuite.SM
           else b"coalition/serving/mask-key/v1\x00")
    return tag + json.dumps([*binding, org, base64.b64encode(public).decode()]).encode()


def _endorsed(org: str, signer: bytes) -> bytes:
    return b"coalition/serving/sm2-signer/v1\x00" + json.dumps([org, signer.hex()]).encode()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def signed_public(identity: NodeIdentity, org: str, binding: Binding,
                  suite: CryptoSuite | str = CryptoSuite.STANDARD,
                  signer: SigningKey | None = None) -> dict[str, str]:
    """The host's public masking key for ``binding`` in ``suite``, signed (module docstring).
    Under ``sm``, ``signer`` is the node's SM2 signing key."""
    suite = CryptoSuite(suite)
    public = _private(identity, binding, suite).public
    key = serialization.load_pem_private_key(identity.key_pem, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):  # pragma: no cover - node keys are EC
        raise CryptoError("the node key is not an EC key")
    if suite == CryptoSuite.STANDARD:
        signature = key.sign(_statement(binding, org, public, suite), ec.ECDSA(hashes.SHA256()))
        return {"public": _b64(public), "signature": _b64(signature)}
    if signer is None or signer.verify_key.suite != suite:
        raise CryptoError("an sm masking key is signed with the node's SM2 signing key")
    sm2 = signer.verify_key.to_bytes()
    return {"suite": suite.value, "public": _b64(public),
            "signature": _b64(signer.sign(_statement(binding, org, public, suite))),
            "signer": _b64(sm2),
            "endorsement": _b64(key.sign(_endorsed(org, sm2), ec.ECDSA(hashes.SHA256())))}


def _check_suite(signed: Mapping[str, Any], org: str, suite: CryptoSuite) -> None:
    got = signed.get("suite", CryptoSuite.STANDARD.value)  # keys without one are standard
    if got != suite.value:
        raise MaskKeySuiteMismatch(
            f"a co-host's masking key is not of this node's {suite.value} crypto suite",
            host=org, expected=suite.value)


def _verify(cert_pem: str, binding: Binding, org: str, signed: Mapping[str, Any],
            suite: CryptoSuite) -> bytes:
    _check_suite(signed, org, suite)
    fields = ("public", "signature") if suite == CryptoSuite.STANDARD else sorted(
        _SM_FIELDS - {"suite"})
    try:
        raw = {f: base64.b64decode(str(signed[f]), validate=True) for f in fields}
    except (KeyError, ValueError) as exc:
        raise InputError("malformed masking key of a co-host", host=org) from exc
    key = x509.load_pem_x509_certificate(cert_pem.encode()).public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise AuthError("the co-host's certificate has no EC key", host=org)
    statement = _statement(binding, org, raw["public"], suite)
    try:
        if suite == CryptoSuite.STANDARD:
            key.verify(raw["signature"], statement, ec.ECDSA(hashes.SHA256()))
        else:
            key.verify(raw["endorsement"], _endorsed(org, raw["signer"]),
                       ec.ECDSA(hashes.SHA256()))
            VerifyKey(raw["signer"]).verify(statement, raw["signature"], suite=suite)
    except (InvalidSignature, CryptoError) as exc:
        raise AuthError("a co-host's masking key is not signed by its pinned certificate",
                        host=org) from exc
    return raw["public"]


def pair_keys(identity: NodeIdentity, me: str, binding: Binding,
              cohosts: Mapping[str, tuple[str, Mapping[str, Any]]],
              suite: CryptoSuite | str = CryptoSuite.STANDARD) -> dict[str, bytes]:
    """Pair keys with every co-host in ``suite``; ``cohosts`` maps an organisation to (its
    pinned certificate PEM, its signed public key). Refuses keys not signed by the pinned
    certificate (:class:`AuthError`) and keys of another suite (:class:`MaskKeySuiteMismatch`)."""
    suite = CryptoSuite(suite)
    private = _private(identity, binding, suite)
    out = {}
    for org, (cert_pem, signed) in cohosts.items():
        if org == me:
            raise InputError("a host cannot be its own co-host")
        public = _verify(cert_pem, binding, org, signed, suite)
        lo, hi = sorted((me, org))
        out[org] = private.agree(public, b"coalition/serving/mask|" + json.dumps(
            [*binding, lo, hi]).encode())
    return out
