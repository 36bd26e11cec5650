r"""Signed tree heads and witness co-signing for a Merkle transparency log.

A :class:`Checkpoint` is a log's state — its origin (the federation log's name), size and
RFC 9162 root hash (:mod:`coalition.crypto.merkle`) — serialised in the C2SP ``tlog-checkpoint``
note body (``origin\nsize\nbase64(root)\n``), the format Go's checksum database and Sigstore's
Rekor sign. A log whose tree hash is not SHA-256 (``sm3`` under the ``sm`` crypto suite:
:func:`coalition.crypto.suite.digest_alg`) adds one extension line ``hash sm3``, so the operator's
signature covers the algorithm; SHA-256 bodies are byte-for-byte the plain note. The log
operator signs it with its node key (Ed25519, or SM2 under ``sm``); each :class:`Witness` (one
per partner node) keeps the last checkpoint it co-signed and co-signs a new one only when

1. the operator's signature over it verifies, its tree hash is the one the witness expects, and
2. a consistency proof shows the old tree is a prefix of the new one.

A checkpoint signed by the operator that fails (2) is a *fork*: the operator showed this witness
one history and now shows another. :meth:`Witness.cosign` raises :class:`ForkDetected` and keeps
its old checkpoint, so the evidence (the two signed heads) survives. A checkpoint is final when
:func:`count_cosignatures` reaches the federation's quorum: then no single party — operator
included — can rewrite the history up to it without the witnesses' keys.

Who learns what: checkpoints carry only sizes and hashes; a witness learns nothing about the
entries it did not fetch.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from coalition.core.errors import CryptoError
from coalition.crypto import merkle
from coalition.crypto.signing import SigningKey, VerifyKey

__all__ = ["Checkpoint", "ForkDetected", "Witness", "count_cosignatures"]

_COSIGN_CONTEXT = b"coalition.ledger.cosign/v1\n"
_HASH_LINE = "hash "


class ForkDetected(CryptoError):
    """A log operator presented a signed tree head inconsistent with one it signed before."""

    code = "ledger.fork"
    http_status = 409


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """One signed-tree-head body: ``origin`` names the log, ``root`` is ``MTH`` of ``size``
    under the tree hash ``alg`` (:data:`coalition.crypto.merkle.ALGS`)."""

    origin: str
    size: int
    root: bytes
    alg: str = "sha256"

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin:
            raise CryptoError("checkpoint origin must be one non-empty line")
        if self.size < 0 or len(self.root) != merkle.HASH_BYTES:
            raise CryptoError("checkpoint size or root malformed", size=self.size)
        if self.alg not in merkle.ALGS:
            raise CryptoError("unknown checkpoint tree hash", alg=self.alg)

    def body(self) -> bytes:
        """The C2SP tlog-checkpoint note body that the operator signs (with the ``hash``
        extension line unless the tree hash is SHA-256)."""
        root = base64.b64encode(self.root).decode("ascii")
        extension = "" if self.alg == "sha256" else f"{_HASH_LINE}{self.alg}\n"
        return f"{self.origin}\n{self.size}\n{root}\n{extension}".encode()

    @classmethod
    def from_body(cls, body: bytes) -> Checkpoint:
        """Parse :meth:`body`; malformed text raises :class:`CryptoError`."""
        try:
            origin, size, root, tail = body.decode("utf-8").split("\n", 3)
            alg = "sha256"
            if tail:
                line, _, rest = tail.partition("\n")
                alg = line.removeprefix(_HASH_LINE)
                if rest or not line.startswith(_HASH_LINE) or alg == "sha256":
                    raise ValueError("extra lines")
            if not size.isdigit():
                raise ValueError("bad size")
            return cls(origin, int(size), base64.b64decode(root, validate=True), alg)
        except (UnicodeDecodeError, ValueError) as exc:
            raise CryptoError("malformed checkpoint") from exc

    def sign(self, key: SigningKey) -> bytes:
        """The operator's signature over :meth:`body`."""
        return key.sign(self.body())

    def cosignature_message(self) -> bytes:
        """What a witness signs: domain-separated from the operator's own signature."""
        return _COSIGN_CONTEXT + self.body()


class Witness:
    """One partner's view of a log operated elsewhere: the last checkpoint it co-signed.

    Contract: :meth:`cosign` returns a co-signature only for a checkpoint the operator signed
    that extends (or equals) :attr:`last`; otherwise it raises and :attr:`last` is unchanged.
    The caller persists :attr:`last` after each co-signature so it survives restarts.
    """

    def __init__(
        self,
        key: SigningKey,
        operator: VerifyKey,
        origin: str,
        last: Checkpoint | None = None,
        alg: str = "sha256",
    ) -> None:
        if last is not None and (last.origin != origin or last.alg != alg):
            raise CryptoError("kept checkpoint belongs to another log")
        self._key = key
        self._operator = operator
        self.origin = origin
        self.alg = alg
        self.last = last

    def cosign(
        self, checkpoint: Checkpoint, operator_signature: bytes, proof: Sequence[bytes]
    ) -> bytes:
        """Verify ``checkpoint`` against :attr:`last` with ``proof`` and co-sign it.

        Raises :class:`CryptoError` for a bad operator signature, a foreign origin or another
        tree hash than :attr:`alg` (a log never changes its hash), and :class:`ForkDetected`
        when the operator signed a head that does not extend the last one.
        """
        if checkpoint.origin != self.origin:
            raise CryptoError("checkpoint belongs to another log")
        if checkpoint.alg != self.alg:
            raise CryptoError("checkpoint uses another tree hash than this log",
                              alg=checkpoint.alg, expected=self.alg)
        self._operator.verify(checkpoint.body(), operator_signature)
        old = self.last
        if old is not None:
            if checkpoint.size < old.size:
                raise ForkDetected(
                    "signed tree head shrank", old_size=old.size, new_size=checkpoint.size
                )
            try:
                merkle.verify_consistency(
                    old.size, checkpoint.size, proof, old.root, checkpoint.root,
                    alg=self.alg,
                )
            except CryptoError as exc:
                raise ForkDetected(
                    "signed tree head is not consistent with the last one",
                    old_size=old.size,
                    new_size=checkpoint.size,
                ) from exc
        self.last = checkpoint
        return self._key.sign(checkpoint.cosignature_message())


def count_cosignatures(
    checkpoint: Checkpoint,
    cosignatures: Mapping[str, bytes],
    witnesses: Mapping[str, VerifyKey],
) -> int:
    """How many of ``witnesses`` (name → key) validly co-signed ``checkpoint``.

    Signatures from unknown names or that fail to verify are not counted (never trusted).
    """
    message = checkpoint.cosignature_message()
    valid = 0
    for name, signature in cosignatures.items():
        key = witnesses.get(name)
        if key is None:
            continue
        try:
            key.verify(message, signature)
        except CryptoError:
            continue
        valid += 1
    return valid
