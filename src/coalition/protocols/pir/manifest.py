"""The signed table manifest, and the Merkle tree over buckets that it commits to.

Records are sorted by tag; bucket ``j`` holds the records whose tag's first ``bucket_bits``
bits equal ``j`` (so buckets are contiguous). Each bucket has a digest
``H("coalition-pir/bucket" || j || records)``, and the manifest signs the root of a
binary Merkle tree over the ``2**bucket_bits`` digests (RFC 6962 §2.1 style domain separation:
``0x00`` for leaves, ``0x01`` for inner nodes). ``H`` is the table's suite's hash (the signed
``suite`` field): SHA-256 under ``standard``, SM3 (GB/T 32905) under ``sm``. A download-all client recomputes the root over
its whole copy; a bucketed client checks each bucket it receives with a ``bucket_bits``-long
proof. The manifest itself is canonical JSON signed with the server's Ed25519 key (RFC 8032)
under a context prefix; the client pins the server's public key.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from coalition.core.errors import CryptoError, ProtocolError
from coalition.crypto.signing import SigningKey, VerifyKey
from coalition.crypto.sm.sm3 import sm3
from coalition.crypto.suite import CryptoSuite
from coalition.protocols.pir.records import TAG_BYTES, RecordLayout
from coalition.protocols.pir.spec import FORMAT, MAX_BUCKET_BITS

__all__ = [
    "Manifest",
    "SignedManifest",
    "bucket_bounds",
    "bucket_digest",
    "merkle_levels",
    "merkle_proof",
    "merkle_root_from",
    "table_root",
]

U8 = npt.NDArray[np.uint8]
_SIGN_CONTEXT = b"coalition-pir/manifest\x00"
Suite = CryptoSuite | str


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _hash(suite: Suite) -> Callable[[bytes], bytes]:
    """The tree's hash: SHA-256, or SM3 under ``sm`` (both 32 bytes)."""
    return sm3 if CryptoSuite(suite) == CryptoSuite.SM else _sha256


def bucket_of(tags: U8, bucket_bits: int) -> npt.NDArray[np.int64]:
    """Bucket index of each tag (its first ``bucket_bits`` bits)."""
    if bucket_bits == 0:
        return np.zeros(tags.shape[0], dtype=np.int64)
    head = tags[:, :4].astype(np.uint32)
    top = (head[:, 0] << 24) | (head[:, 1] << 16) | (head[:, 2] << 8) | head[:, 3]
    return (top >> np.uint32(32 - bucket_bits)).astype(np.int64)


def bucket_bounds(records: U8, bucket_bits: int) -> npt.NDArray[np.int64]:
    """``bounds[j]:bounds[j+1]`` are bucket ``j``'s rows in tag-sorted ``records``."""
    idx = bucket_of(records[:, :TAG_BYTES], bucket_bits)
    return np.searchsorted(idx, np.arange((1 << bucket_bits) + 1)).astype(np.int64)


def bucket_digest(index: int, records: U8, suite: Suite = CryptoSuite.STANDARD) -> bytes:
    """Leaf of bucket ``index``."""
    return _hash(suite)(b"\x00coalition-pir/bucket" + index.to_bytes(4, "big")
                        + np.ascontiguousarray(records).tobytes())


def merkle_levels(leaves: list[bytes], suite: Suite = CryptoSuite.STANDARD) -> list[list[bytes]]:
    """All levels of the tree, leaves first; ``len(leaves)`` is a power of two."""
    h = _hash(suite)
    levels = [leaves]
    while len(levels[-1]) > 1:
        prev = levels[-1]
        levels.append([h(b"\x01" + prev[i] + prev[i + 1]) for i in range(0, len(prev), 2)])
    return levels


def merkle_proof(levels: list[list[bytes]], index: int) -> list[bytes]:
    """The sibling hashes from leaf ``index`` up to the root."""
    return [levels[h][(index >> h) ^ 1] for h in range(len(levels) - 1)]


def merkle_root_from(leaf: bytes, index: int, proof: list[bytes],
                     suite: Suite = CryptoSuite.STANDARD) -> bytes:
    """The root implied by ``leaf`` at ``index`` and its proof."""
    hash_ = _hash(suite)
    node = leaf
    for h, sibling in enumerate(proof):
        pair = sibling + node if (index >> h) & 1 else node + sibling
        node = hash_(b"\x01" + pair)
    return node


def table_levels(records: U8, bucket_bits: int,
                 suite: Suite = CryptoSuite.STANDARD) -> list[list[bytes]]:
    """The Merkle tree of a whole tag-sorted table."""
    bounds = bucket_bounds(records, bucket_bits)
    leaves = [bucket_digest(j, records[bounds[j]:bounds[j + 1]], suite)
              for j in range(1 << bucket_bits)]
    return merkle_levels(leaves, suite)


def table_root(records: U8, bucket_bits: int, suite: Suite = CryptoSuite.STANDARD) -> bytes:
    """The Merkle root of a whole tag-sorted table."""
    return table_levels(records, bucket_bits, suite)[-1][0]


@dataclass(frozen=True)
class Manifest:
    """What the server commits to for one table version (signed; see module docstring)."""

    table_id: str
    epoch: str
    version: int
    rows: int
    payload_bytes: int
    bucket_bits: int
    root: str  # hex Merkle root
    payload_format: str = "bytes"  # "bytes" or "json" (an object of the payload columns)
    columns: list[str] = field(default_factory=list)
    case: str = "lower"  # ID canonicalisation both sides apply
    format: str = FORMAT
    suite: str = "standard"  # crypto suite of the table's OPRF/OT group, tags and AEAD

    @property
    def layout(self) -> RecordLayout:
        """The record layout of this table."""
        return RecordLayout(self.payload_bytes)

    def to_bytes(self) -> bytes:
        """Canonical JSON (sorted keys, no spaces): what is signed."""
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"),
                          ensure_ascii=False).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> Manifest:
        """Parse, checking types and ranges (after the signature has been checked)."""
        try:
            raw: dict[str, Any] = json.loads(data.decode("utf-8"))
            m = cls(**raw)
        except (ValueError, TypeError, UnicodeDecodeError) as exc:
            raise ProtocolError("malformed PIR manifest") from exc
        if (m.format != FORMAT or not 0 <= m.bucket_bits <= MAX_BUCKET_BITS or m.rows < 0
                or m.payload_format not in ("bytes", "json") or len(m.root) != 64
                or m.suite not in ("standard", "sm")):
            raise ProtocolError("unsupported PIR manifest", format=m.format)
        return m

    def sign(self, key: SigningKey) -> SignedManifest:
        """Sign with the server's key."""
        body = self.to_bytes()
        return SignedManifest(body, key.sign(_SIGN_CONTEXT + body))


@dataclass(frozen=True)
class SignedManifest:
    """Manifest bytes and their signature (Ed25519, or SM2 for an ``sm`` table), as they
    travel."""

    body: bytes
    signature: bytes

    def verify(self, key: VerifyKey, table_id: str | None = None) -> Manifest:
        """Check the signature with the pinned key (and the expected table) and parse."""
        key.verify(_SIGN_CONTEXT + self.body, self.signature)
        m = Manifest.from_bytes(self.body)
        if key.suite.value != m.suite:  # a table's manifest is signed in the table's suite
            raise CryptoError("manifest signed under another crypto suite", suite=m.suite)
        if table_id is not None and m.table_id != table_id:
            raise CryptoError("server signed another table", expected=table_id, got=m.table_id)
        return m

    def to_wire(self) -> dict[str, bytes]:
        """Codec-ready form."""
        return {"body": self.body, "signature": self.signature}

    @classmethod
    def from_wire(cls, value: object) -> SignedManifest:
        """Parse the codec form."""
        if (not isinstance(value, dict) or not isinstance(value.get("body"), bytes)
                or not isinstance(value.get("signature"), bytes)):
            raise ProtocolError("malformed signed manifest")
        return cls(value["body"], value["signature"])
