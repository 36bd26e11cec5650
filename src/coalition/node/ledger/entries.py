"""Federation log entries: canonical-JSON records signed by the node that produced them.

Each entry is ``{"kind", "producer", "body"}`` serialised as canonical JSON (sorted keys, no
whitespace, UTF-8; the RFC 8785 form for the strings, integers and short floats that entries
hold) and signed with the producer's Ed25519 node key. The Merkle leaf is
``leaf_hash(canonical({"kind", "producer", "body", "signature"}))`` (RFC 9162), so a stored entry
whose body or signature changed no longer matches the co-signed root.

Bodies carry hashes, sizes and scores — never data values (dataset manifests hold the schema
hash and row count). :data:`KINDS` lists the record kinds; :func:`sign_entry` is the one way to
make an entry, :func:`audit` the one way to check a stored log against a checkpoint. The leaf
hash is the log's tree hash (``sha256``, or ``sm3`` for a log of the ``sm`` crypto suite).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from coalition.core.errors import CryptoError, InputError
from coalition.crypto import merkle
from coalition.crypto.checkpoint import Checkpoint
from coalition.crypto.signing import SigningKey, VerifyKey

__all__ = ["KINDS", "Entry", "audit", "canonical_json", "sign_entry"]

KINDS = frozenset(
    {
        "job.dag",  # DAG hash and parties
        "consent.decision",
        "consent.grant",
        "dataset.manifest",  # schema hash, row count
        "model.update",  # per-round or per-tree update digest
        "model.part",  # part hash at publish / deploy / verify
        "job.metrics",
        "contribution.scores",  # scores and the hashes of their inputs
        "psi.run",  # sizes and result hash
        "pir.run",  # a PIR batch: side, mode, counts, audit hash (never an ID)
        "verify3.run",  # a verification batch: side, counts, audit hash
        "node.admin",  # an administrative change: audit event kind, seq and chain hash
    }
)


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8; NaN and infinities refused."""
    try:
        text = json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
    except (TypeError, ValueError) as exc:
        raise InputError("ledger entry body is not plain JSON") from exc
    return text.encode("utf-8")


@dataclass(frozen=True, slots=True)
class Entry:
    """One signed log record."""

    kind: str
    producer: str
    body: Mapping[str, Any]
    signature: bytes

    def payload(self) -> bytes:
        """The bytes the producer signs."""
        return canonical_json({"kind": self.kind, "producer": self.producer, "body": self.body})

    def leaf(self, alg: str = "sha256") -> bytes:
        """The RFC 9162 leaf hash of the whole record, signature included, under the tree
        hash ``alg`` of the log it belongs to."""
        sig = base64.b64encode(self.signature).decode("ascii")
        record = {"kind": self.kind, "producer": self.producer, "body": self.body, "signature": sig}
        return merkle.leaf_hash(canonical_json(record), alg)

    def verify(self, key: VerifyKey) -> None:
        """Raise :class:`CryptoError` unless ``key`` signed this record."""
        key.verify(self.payload(), self.signature)


def sign_entry(kind: str, producer: str, body: Mapping[str, Any], key: SigningKey) -> Entry:
    """Make an entry of ``kind`` produced (and signed) by ``producer``."""
    if kind not in KINDS:
        raise InputError("unknown ledger entry kind", kind=kind)
    unsigned = Entry(kind, producer, dict(body), b"")
    return Entry(kind, producer, unsigned.body, key.sign(unsigned.payload()))


def audit(
    entries: Sequence[Entry], checkpoint: Checkpoint, producers: Mapping[str, VerifyKey]
) -> None:
    """Check a stored log against a (co-signed) checkpoint.

    Raises :class:`CryptoError` if any entry's signature fails or its producer is unknown, or if
    the first ``checkpoint.size`` entries do not hash to ``checkpoint.root`` — an entry modified,
    deleted, inserted or reordered after the checkpoint was signed.
    """
    if len(entries) < checkpoint.size:
        raise CryptoError(
            "log shorter than its checkpoint", size=len(entries), checkpoint=checkpoint.size
        )
    for index, entry in enumerate(entries):
        key = producers.get(entry.producer)
        if key is None:
            raise CryptoError("ledger entry from an unknown producer", index=index)
        try:
            entry.verify(key)
        except CryptoError as exc:
            raise CryptoError("ledger entry signature does not verify", index=index) from exc
    tree = merkle.MerkleTree([e.leaf(checkpoint.alg) for e in entries[: checkpoint.size]],
                             checkpoint.alg)
    if tree.root() != checkpoint.root:
        raise CryptoError("log does not match its checkpoint", size=checkpoint.size)
