"""Tamper protection (防篡改保护) of stored model parts: digest + node signature.

Every stored part has the digest of its file in the node's crypto suite: SHA-256 under
``standard``, SM3 (GB/T 32905) under ``sm``. The algorithm is recorded with the part
(``model_versions.part_digest_alg``; NULL, from before it was recorded, means ``sha256``), so
parts published before a node changed suites keep verifying. With protection on, the node also
signs a canonical record binding that digest (and, unless it is SHA-256, its algorithm) to the
model name, version, organisation and role, so a part cannot be swapped for another version's
part or edited in place without the node's key; SHA-256 records keep their exact old bytes. A
part whose recorded algorithm is not the one its digest or signature was made with fails with
:class:`DigestAlgorithmMismatch`.
Loading recomputes the digest and checks the signature; any mismatch raises
:class:`ModelTampered`. Signatures are in the node's crypto suite
(:mod:`coalition.crypto.signing`): Ed25519 (RFC 8032) under ``standard``, SM2 (GB/T 32918.2)
under ``sm``. The signer's public key is recorded with the signature, and its length names its
suite: a node on one suite refuses a part signed under the other, before any key comparison.

Limitation: an attacker who can write the node's database *and* read its signing key can
re-sign a forged part; the key file is 0600 and the audit trail records every verification.
"""

from __future__ import annotations

import hmac
import json
from typing import ClassVar

from coalition.core.errors import CryptoError
from coalition.crypto.signing import SigningKey, VerifyKey
from coalition.crypto.suite import CryptoSuite, hexdigest

__all__ = ["DIGEST_ALGS", "DigestAlgorithmMismatch", "ModelTampered", "check_part",
           "part_digest", "sign_part", "signed_record"]

_DOMAIN = "coalition-model-part/1"
#: Each part digest algorithm and the suite whose hash it is.
DIGEST_ALGS: dict[str, CryptoSuite] = {"sha256": CryptoSuite.STANDARD, "sm3": CryptoSuite.SM}
_DEFAULT_ALG = "sha256"
_SHOWN = {"sha256": "SHA-256", "sm3": "SM3"}


class ModelTampered(CryptoError):
    """A stored model part does not match its digest or signature (or is missing)."""

    code: ClassVar[str] = "model.tampered"
    http_status: ClassVar[int] = 409


class DigestAlgorithmMismatch(ModelTampered):
    """A part's recorded digest algorithm is unknown, or not the one its digest or signature
    was made with (the record was edited to claim another algorithm)."""

    code: ClassVar[str] = "model.digest_algorithm"


def part_digest(blob: bytes, alg: str = _DEFAULT_ALG) -> str:
    """The ``alg`` digest (SHA-256 or SM3) of a part file, lowercase hex."""
    try:
        suite = DIGEST_ALGS[alg]
    except KeyError as exc:
        raise DigestAlgorithmMismatch("unknown model part digest algorithm", alg=alg) from exc
    return hexdigest(blob, suite)


def signed_record(name: str, version: int, org: str, role: str, sha256: str, *,
                  alg: str = _DEFAULT_ALG) -> bytes:
    """The exact bytes a node signs for one part (domain-separated canonical JSON). The
    digest's field is ``sha256`` whatever its algorithm; ``alg`` joins the record unless it
    is ``sha256``, so SHA-256 records are byte-for-byte those of earlier releases."""
    record = {"domain": _DOMAIN, "model": name, "version": version, "org": org, "role": role,
              "sha256": sha256}
    if alg != _DEFAULT_ALG:
        record["alg"] = alg
    return json.dumps(record, sort_keys=True, separators=(",", ":")).encode()


def sign_part(key: SigningKey, name: str, version: int, *, org: str, role: str,
              sha256: str, alg: str = _DEFAULT_ALG) -> str:
    """Hex signature (Ed25519 or SM2, the key's suite) of the part's record."""
    return key.sign(signed_record(name, version, org, role, sha256, alg=alg)).hex()


def _signs(key: VerifyKey, record: bytes, signature: bytes) -> bool:
    try:
        key.verify(record, signature, suite=key.suite)
    except (CryptoError, ValueError):
        return False
    return True


def check_part(blob: bytes, *, expected_sha256: str, signature: str | None,
               signer: str | None, key: VerifyKey, name: str, version: int, org: str,
               role: str, digest_alg: str | None = None) -> None:
    """Raise :class:`ModelTampered` unless ``blob`` matches the stored digest and, when a
    signature is stored, the signature verifies under this node's key.
    ``digest_alg`` is the recorded algorithm (``None``: ``sha256``, parts from before it was
    recorded); :class:`DigestAlgorithmMismatch` when the digest or the signature was made with
    another algorithm than the one recorded."""
    alg = digest_alg or _DEFAULT_ALG
    actual = part_digest(blob, alg)
    if not hmac.compare_digest(actual, expected_sha256):
        if any(hmac.compare_digest(part_digest(blob, other), expected_sha256)
               for other in DIGEST_ALGS if other != alg):
            raise DigestAlgorithmMismatch("model part digest was made with another algorithm "
                                          "than the one recorded", model=name,
                                          version=version, alg=alg)
        raise ModelTampered(f"model part file was modified: its {_SHOWN[alg]} digest differs from the "
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
        raw = bytes.fromhex(signature)
    except ValueError as exc:
        raise ModelTampered("model part signature does not verify", model=name,
                            version=version) from exc
    if _signs(key, signed_record(name, version, org, role, expected_sha256, alg=alg), raw):
        return
    # signed over the file's digest under another algorithm: the record was relabelled
    if any(_signs(key, signed_record(name, version, org, role, part_digest(blob, other),
                                     alg=other), raw)
           for other in DIGEST_ALGS if other != alg):
        raise DigestAlgorithmMismatch("model part was signed with another digest algorithm "
                                      "than the one recorded", model=name, version=version,
                                      alg=alg)
    raise ModelTampered("model part signature does not verify", model=name, version=version)
