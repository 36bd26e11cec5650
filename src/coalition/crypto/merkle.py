"""Merkle tree hashing, inclusion and consistency proofs of RFC 9162 (Certificate Transparency 2.0).

The federation log is an append-only list of entries; its state at size ``n`` is the Merkle Tree
Hash ``MTH(D[0:n])`` of RFC 9162 §2.1.1 over a hash ``H``, with domain separation between leaves
(``0x00``) and interior nodes (``0x01``) so a leaf can never be passed off as a node:

* ``MTH({}) = H()``; ``MTH({d0}) = H(0x00 || d0)``;
* ``MTH(D[n]) = H(0x01 || MTH(D[0:k]) || MTH(D[k:n]))`` with ``k`` the largest power of two
  smaller than ``n``.

``H`` is named by ``alg``: ``sha256`` (RFC 9162's SHA-256, the default) or ``sm3`` (SM3, GB/T
32905, for the ``sm`` crypto suite: :func:`coalition.crypto.suite.digest_alg`). RFC 9162 §2.1 leaves the hash to the log's
parameters; the ``sm3`` variant changes nothing but ``H`` (same prefixes, same 32-byte hashes,
same proofs), so every algorithm below is the RFC's with SM3 in place of SHA-256. A tree, its
proofs and their verification MUST use one ``alg``; a log records it in its signed tree head
(:mod:`coalition.crypto.checkpoint`).

Proofs (§2.1.3 inclusion, §2.1.4 consistency) are produced from the list of *leaf hashes*
(:func:`leaf_hash` of each entry), so a prover never needs the entries themselves. The verifiers
(:func:`verify_inclusion`, :func:`verify_consistency`) implement the iterative algorithms of
§2.1.3.2 and §2.1.4.2; they raise :class:`~coalition.core.errors.CryptoError` and never return
``False``. The consistency check is what lets a witness that kept the head of size ``m`` accept
the head of size ``n`` only if the first ``m`` entries are unchanged: an operator that rewrote,
removed or reordered any of them (a fork) cannot produce a proof that passes.

The module is pure (no I/O, no state) and the hashes are byte-compatible with RFC 6962, Go's
``transparency-dev/merkle`` and Sigstore's Rekor; ``tests/crypto/test_merkle.py`` checks it
against their published vectors.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

from coalition.core.errors import CryptoError
from coalition.crypto.sm.sm3 import sm3

__all__ = [
    "ALGS",
    "EMPTY_ROOT",
    "HASH_BYTES",
    "empty_root",
    "MerkleTree",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root_from_inclusion_proof",
    "root_hash",
    "verify_consistency",
    "verify_inclusion",
]

HASH_BYTES = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
_LEAF = b"\x00"
_NODE = b"\x01"


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


_HASHES: dict[str, Callable[[bytes], bytes]] = {"sha256": _sha256, "sm3": sm3}
#: The tree hashes: ``sha256`` (RFC 9162) and ``sm3``.
ALGS = tuple(_HASHES)


def _hash_of(alg: str) -> Callable[[bytes], bytes]:
    try:
        return _HASHES[alg]
    except KeyError as exc:
        raise CryptoError("unknown Merkle tree hash", alg=alg) from exc


def empty_root(alg: str = "sha256") -> bytes:
    """``MTH({}) = H()``."""
    return _hash_of(alg)(b"")


def leaf_hash(entry: bytes, alg: str = "sha256") -> bytes:
    """``H(0x00 || entry)``: the hash of one log entry (RFC 9162 §2.1.1)."""
    return _hash_of(alg)(_LEAF + entry)


def node_hash(left: bytes, right: bytes, alg: str = "sha256") -> bytes:
    """``H(0x01 || left || right)``: an interior node (RFC 9162 §2.1.1)."""
    return _hash_of(alg)(_NODE + left + right)


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (``n >= 2``)."""
    return 1 << ((n - 1).bit_length() - 1)


def _check_hashes(leaves: Sequence[bytes]) -> None:
    for h in leaves:
        if len(h) != HASH_BYTES:
            raise CryptoError("a Merkle leaf hash must be 32 bytes", length=len(h))


class MerkleTree:
    """An append-only tree of leaf hashes that keeps every complete subtree's hash.

    ``_levels[k][j]`` is the hash of the complete subtree of ``2**k`` leaves starting at leaf
    ``j * 2**k``. Appending is amortised O(1) hashes; the root, inclusion and consistency proofs
    of any size up to :attr:`size` cost O(log n) hashes, because every left subtree in the
    RFC 9162 recursion is complete and aligned (a lookup). ``alg`` is the tree hash.
    """

    def __init__(self, leaves: Sequence[bytes] = (), alg: str = "sha256") -> None:
        self.alg = alg
        self._h = _hash_of(alg)
        self._levels: list[list[bytes]] = [[]]
        for leaf in leaves:
            self.append(leaf)

    @property
    def size(self) -> int:
        """Number of leaves."""
        return len(self._levels[0])

    def append(self, leaf: bytes) -> int:
        """Append a leaf hash; return its index."""
        _check_hashes([leaf])
        index = self.size
        self._levels[0].append(leaf)
        level, count = 0, index + 1
        while count % 2 == 0:
            row = self._levels[level]
            if len(self._levels) == level + 1:
                self._levels.append([])
            self._levels[level + 1].append(self._node(row[-2], row[-1]))
            level, count = level + 1, count // 2
        return index

    def _node(self, left: bytes, right: bytes) -> bytes:
        return self._h(_NODE + left + right)

    def _hash(self, lo: int, hi: int) -> bytes:
        n = hi - lo
        if n == 0:
            return self._h(b"")
        if n & (n - 1) == 0 and lo % n == 0:
            k = n.bit_length() - 1
            return self._levels[k][lo >> k]
        k = _split(n)
        return self._node(self._hash(lo, lo + k), self._hash(lo + k, hi))

    def _check_size(self, size: int | None) -> int:
        n = self.size if size is None else size
        if not 0 <= n <= self.size:
            raise CryptoError("tree size beyond the log", size=n, log_size=self.size)
        return n

    def root(self, size: int | None = None) -> bytes:
        """``MTH`` of the first ``size`` leaves (default: all)."""
        return self._hash(0, self._check_size(size))

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """``PATH(index, D[0:size])`` of RFC 9162 §2.1.3.1, leaf to root."""
        n = self._check_size(size)
        if not 0 <= index < n:
            raise CryptoError("leaf index outside the tree", index=index, size=n)
        return self._path(index, 0, n)

    def _path(self, index: int, lo: int, hi: int) -> list[bytes]:
        if hi - lo <= 1:
            return []
        k = _split(hi - lo)
        if index < k:
            return [*self._path(index, lo, lo + k), self._hash(lo + k, hi)]
        return [*self._path(index - k, lo + k, hi), self._hash(lo, lo + k)]

    def consistency_proof(self, old_size: int, size: int | None = None) -> list[bytes]:
        """``PROOF(old_size, D[0:size])`` of RFC 9162 §2.1.4.1; empty for 0 or ``size``."""
        n = self._check_size(size)
        if not 0 <= old_size <= n:
            raise CryptoError("old tree size outside the tree", old_size=old_size, size=n)
        if old_size in (0, n):
            return []
        return self._subproof(old_size, 0, n, True)

    def _subproof(self, m: int, lo: int, hi: int, complete: bool) -> list[bytes]:
        if m == hi - lo:
            return [] if complete else [self._hash(lo, hi)]
        k = _split(hi - lo)
        if m <= k:
            return [*self._subproof(m, lo, lo + k, complete), self._hash(lo + k, hi)]
        return [*self._subproof(m - k, lo + k, hi, False), self._hash(lo, lo + k)]


def root_hash(leaves: Sequence[bytes], alg: str = "sha256") -> bytes:
    """The Merkle Tree Hash of a log whose leaf hashes are ``leaves`` (in log order)."""
    return MerkleTree(leaves, alg).root()


def inclusion_proof(leaves: Sequence[bytes], index: int, alg: str = "sha256") -> list[bytes]:
    """``PATH(index, D[0:n])`` of RFC 9162 §2.1.3.1: the audit path proving that leaf ``index``
    is in the tree of all ``leaves``, ordered from the leaf up to the root."""
    return MerkleTree(leaves, alg).inclusion_proof(index)


def consistency_proof(leaves: Sequence[bytes], old_size: int, alg: str = "sha256") -> list[bytes]:
    """``PROOF(m, D[0:n])`` of RFC 9162 §2.1.4.1: proves that the tree of the first ``old_size``
    leaves is a prefix of the tree of all ``leaves``. Empty when ``old_size`` is 0 or ``n``."""
    return MerkleTree(leaves, alg).consistency_proof(old_size)


def root_from_inclusion_proof(leaf: bytes, index: int, size: int, proof: Sequence[bytes],
                              alg: str = "sha256") -> bytes:
    """The root that ``proof`` implies for ``leaf`` at ``index`` in a tree of ``size`` leaves
    (RFC 9162 §2.1.3.2, steps 1–3); raises if the proof has the wrong shape for that position."""
    if not 0 <= index < size:
        raise CryptoError("leaf index outside the tree", index=index, size=size)
    _check_hashes([leaf, *proof])
    h = _hash_of(alg)

    def node_hash(left: bytes, right: bytes) -> bytes:
        return h(_NODE + left + right)

    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise CryptoError("inclusion proof too long", size=size)
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise CryptoError("inclusion proof too short", size=size)
    return r


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes, *,
    alg: str = "sha256",
) -> None:
    """Raise :class:`CryptoError` unless ``proof`` shows ``leaf`` at ``index`` in the tree of
    ``size`` leaves whose root is ``root`` (RFC 9162 §2.1.3.2), under the tree hash ``alg``."""
    if root_from_inclusion_proof(leaf, index, size, proof, alg) != root:
        raise CryptoError("inclusion proof does not lead to the root", index=index, size=size)


def verify_consistency(
    old_size: int,
    new_size: int,
    proof: Sequence[bytes],
    old_root: bytes,
    new_root: bytes,
    *,
    alg: str = "sha256",
) -> None:
    """Raise :class:`CryptoError` unless ``proof`` shows that the tree ``(old_size, old_root)``
    is a prefix of ``(new_size, new_root)`` (RFC 9162 §2.1.4.2), under the tree hash ``alg``.

    A witness calls this with the head it kept and the head the operator now presents; any
    failure means the operator rewrote history (or presents a fork) and MUST be treated as such.
    """
    _check_hashes([old_root, new_root, *proof])
    h = _hash_of(alg)

    def node_hash(left: bytes, right: bytes) -> bytes:
        return h(_NODE + left + right)

    if not 0 <= old_size <= new_size:
        raise CryptoError("tree sizes out of order", old_size=old_size, new_size=new_size)
    if old_size == new_size:
        if proof:
            raise CryptoError("consistency proof between equal sizes must be empty")
        if old_root != new_root:
            raise CryptoError("two different roots for one tree size", size=old_size)
        return
    if old_size == 0:
        # Every tree extends the empty tree; RFC 9162 defines no proof for it.
        if proof:
            raise CryptoError("consistency proof from the empty tree must be empty")
        return
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    if not path:
        raise CryptoError("consistency proof is empty")
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise CryptoError("consistency proof too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise CryptoError("consistency proof too short")
    if fr != old_root:
        raise CryptoError("consistency proof does not lead to the old root", old_size=old_size)
    if sr != new_root:
        raise CryptoError("consistency proof does not lead to the new root", new_size=new_size)
