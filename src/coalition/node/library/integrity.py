"""Tamper protection (防篡改保护) of stored model parts: SHA-256 digest + node signature.

Every stored part has the SHA-256 of its file. With protection on, the node also signs a
canonical record binding that digest to the model name, version, organisation and role, so a
part cannot be swapped for another version's part or edited in place without the node's key.
Loading recomputes the digest and checks the signature; any mismatch raises
:class:`ModelTampered`. Signatures are in the node's crypto suite
(:mod:`coalition.crypto.signing`): Ed25519 (RFC 8032) under ``standard``, SM2 (GB/T 32918.2)
under ``sm``. The signer's public key is recorded with the signature, and its length names its
suite: a node on one suite refuses a part signed under the other, before any key comparison.

Limitation: an attacker who can write the node's database *and* read its signing key can
re-sign a forged part; the key file is 0600 and the audit trail records every verification.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import ClassVar

from coalition.core.errors import CryptoError
from coalition.crypto.signing import SigningKey, VerifyKey

__all__ = ["ModelTampered", "check_part", "part_digest", "sign_part", "signed_record"]

_DOMAIN = "coalition-model-part/1"


class ModelTampered(CryptoError):
    """A stored model part does not match its digest or signature (or is missing)."""

    code: ClassVar[str] = "model.tampered"
    http_status: ClassVar[int] = 409


def part_digest(blob: bytes) -> str:
    """SHA-256 of a part file, lowercase hex."""
    return hashlib.sha256(blob).hexdigest()


def signed_record(name: str, version: int, org: str, role: str, sha256: str) -> bytes:
    """The exact bytes a node signs for one part (domain-separated canonical JSON)."""
    return json.dumps({"domain": _DOMAIN, "model": name, "version": version, "org": org,
                       "role": role, "sha256": sha256}, sort_keys=True,
                      separators=(",", ":")).encode()


def sign_part(key: SigningKey, name: str, version: int, *, org: str, role: str,
              sha256: str) -> str:
    """Hex signature (Ed25519 or SM2, the key's suite) of the part's record."""
    return key.sign(signed_record(name, version, org, role, sha256)).hex()


def check_part(blob: bytes, *, expected_sha256: str, signature: str | None,
               signer: str | None, key: VerifyKey, name: str, version: int, org: str,
               role: str) -> None:
    """Raise :class:`ModelTampered` unless ``blob`` matches the stored digest and, when a
    signature is stored, the signature verifies under this node's key."""
    actual = part_digest(blob)
    if not hmac.compare_digest(actual, expected_sha256):
        raise ModelTampered("model part file was modified: its SHA-256 differs from the "
                            "digest recorded at publication", model=name, version=version)
    if signature is None:
        return
    try:
        recorded = VerifyKey(bytes.fromhex(signer or ""))
    except (CryptoError, ValueError) as exc:
        raise ModelTampered("model part signer is not a public key", model=name,
                            version=version) from exc
    if recorded.suite != key.suite:
        raise ModelTampered("model part was signed under another crypto suite", model=name,
                            version=version, suite=recorded.suite.value)
    if signer != key.to_bytes().hex():
        raise ModelTampered("model part was signed by another key", model=name,
                            version=version)
    try:
        key.verify(signed_record(name, version, org, role, expected_sha256),
                   bytes.fromhex(signature), suite=key.suite)
    except (CryptoError, ValueError) as exc:
        raise ModelTampered("model part signature does not verify", model=name,
                            version=version) from exc
