"""KKRT session keys and the per-item functions both parties compute: the 128-bit item hash,
the 3 candidate bins, and the pseudorandom code.

Keys: each party contributes a fresh 32-byte seed in its hello, after its input is fixed; the
root key is BLAKE2b of both seeds, and every role below gets its own key derived from it with
keyed BLAKE2b and a label. So the code, the bin hashes, the item hash and the hashing
permutation are independent, fresh per run, and unknown to both parties before they committed
to their sets (a semi-honest party cannot aim its IDs at collisions or cuckoo failures).

* item hash ``x = CBC-MAC_k(len || utf8(id))`` (prefix-free, so a PRF on strings; see
  :func:`coalition.crypto.symmetric.cbc_mac`), computed on whole batches: the IDs of a batch are
  joined once, cut into one byte matrix per distinct length, and MACed with one AES call per
  128-bit block.
* bins ``h_1, h_2, h_3``: three 64-bit words ``w`` of ``AES_{kb}(x)``, ``AES_{kb'}(x)``, each
  scaled to ``floor(w * bins / 2^64)`` (bias ``<= bins / 2^64``).
* code ``C_i(x) = AES_{k_i0}(x) || ... || AES_{k_i3}(x)`` (512 bits) for hash function ``i``:
  KKRT's pseudorandom code applied to ``x || i``, with one independent key per 128-bit block.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from coalition.core.errors import InputError, ProtocolError
from coalition.crypto.sm.sm3 import hmac_sm3, sm3
from coalition.crypto.suite import CryptoSuite, primitives
from coalition.crypto.symmetric import KEY_BYTES, AesEcb, cbc_mac
from coalition.protocols.psi.kkrt.cuckoo import NUM_HASHES

__all__ = ["CODE_BLOCKS", "SEED_BYTES", "SessionKeys", "candidate_bins", "codewords",
           "derive_keys", "hash_ids"]

SEED_BYTES = 32
CODE_BLOCKS = 4  # 512-bit codewords
_PERSON = b"coalition-kkrt"
_HASH_BATCH = 1 << 18  # IDs per batch: bounds the padded matrix and its gather index

U8 = npt.NDArray[np.uint8]
U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class SessionKeys:
    """The independent keys of one run (see module docstring)."""

    ids: AesEcb
    bins: tuple[AesEcb, AesEcb]
    code: tuple[tuple[AesEcb, ...], ...]  # [hash function][block]
    perm: AesEcb  # the permutation of the correlation-robust hash


def derive_keys(receiver_seed: bytes, sender_seed: bytes,
                suite: CryptoSuite | str = CryptoSuite.STANDARD) -> SessionKeys:
    """Keys from both parties' seeds (order matters: receiver first). Under the ``sm`` suite
    the root and the labels go through SM3 / HMAC-SM3 and every key is an SM4 key; under
    ``standard`` through keyed BLAKE2b, with AES."""
    for seed in (receiver_seed, sender_seed):
        if not isinstance(seed, bytes) or len(seed) != SEED_BYTES:
            raise ProtocolError("KKRT seeds must be 32 bytes")
    if CryptoSuite(suite) == CryptoSuite.STANDARD:
        root = hashlib.blake2b(receiver_seed + sender_seed, digest_size=32,
                               person=_PERSON).digest()

        def key(label: str) -> AesEcb:
            return AesEcb(hashlib.blake2b(label.encode(), key=root, digest_size=KEY_BYTES,
                                          person=_PERSON).digest())
    else:
        cipher = primitives(suite).block_cipher
        root = sm3(_PERSON, receiver_seed, sender_seed)

        def key(label: str) -> AesEcb:
            return AesEcb(hmac_sm3(root, _PERSON + label.encode())[:KEY_BYTES], cipher)

    return SessionKeys(
        ids=key("item-hash"),
        bins=(key("bins-0"), key("bins-1")),
        code=tuple(tuple(key(f"code-{i}-{b}") for b in range(CODE_BLOCKS))
                   for i in range(NUM_HASHES)),
        perm=key("cr-hash"),
    )


def _utf8(ids: Sequence[str]) -> tuple[U8, I64]:
    """All IDs of a batch as one byte array, and each one's length in bytes."""
    joined = "".join(ids)
    try:
        data = joined.encode("utf-8")
        if len(data) == len(joined):  # ASCII: byte lengths are character lengths
            lengths = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
        else:
            encoded = [x.encode("utf-8") for x in ids]
            lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(ids))
    except UnicodeEncodeError as exc:
        raise InputError("IDs must be valid Unicode text (no lone surrogates)") from exc
    return np.frombuffer(data, dtype=np.uint8), lengths


def _hash_batch(ids: Sequence[str], mac: AesEcb) -> U64:
    data, lengths = _utf8(ids)
    n = len(ids)
    out = np.empty((n, 2), dtype=np.uint64)
    distinct = np.flatnonzero(np.bincount(lengths)) if n else lengths
    starts = np.cumsum(lengths) - lengths if distinct.size > 1 else None
    for length in distinct.tolist():
        # one group per byte length: 8-byte length prefix, the bytes, zero padding
        nblocks = (length + 8 + 15) // 16
        if starts is None:  # every ID has this length: the bytes already form a matrix
            rows = None
            body = data.reshape(n, length)
        else:
            rows = np.flatnonzero(lengths == length)
            body = data[starts[rows, None] + np.arange(length, dtype=np.int64)[None, :]]
        count = n if rows is None else rows.size
        msg = np.zeros((count, 16 * nblocks), dtype=np.uint8)
        msg[:, :8] = np.frombuffer(int(length).to_bytes(8, "little"), dtype=np.uint8)
        msg[:, 8:8 + length] = body
        if rows is None:
            out[:] = cbc_mac(mac, msg, nblocks)
        else:
            out[rows] = cbc_mac(mac, msg, nblocks)
    return out


def hash_ids(ids: Sequence[str], keys: SessionKeys) -> U64:
    """The 128-bit item hash of every ID, ``(n, 2)`` uint64."""
    out = np.empty((len(ids), 2), dtype=np.uint64)
    for start in range(0, len(ids), _HASH_BATCH):
        out[start:start + _HASH_BATCH] = _hash_batch(ids[start:start + _HASH_BATCH], keys.ids)
    return out


def candidate_bins(items: U64, keys: SessionKeys, bins: int) -> I64:
    """``(n, 3)`` candidate bins of every item hash."""
    if not 0 < bins <= 1 << 32:
        raise InputError("bin count out of range", bins=bins)
    first = keys.bins[0].encrypt(items)
    second = keys.bins[1].encrypt(items)
    out = np.empty((items.shape[0], NUM_HASHES), dtype=np.int64)
    for i, word in enumerate((first[:, 0], first[:, 1], second[:, 0])):
        out[:, i] = _scale(word, bins)
    return out


def _scale(word: U64, bins: int) -> U64:
    """``floor(word * bins / 2^64)`` exactly, in 64-bit arithmetic (needs ``bins <= 2^32``):
    uniform words map to bins with bias at most ``bins / 2^64``, without a slow modulo."""
    m = np.uint64(bins)
    low = (word & np.uint64(0xFFFFFFFF)) * m
    high = (word >> np.uint64(32)) * m
    high += low >> np.uint64(32)
    return high >> np.uint64(32)


def codewords(keys: SessionKeys, hash_index: int, items: U64) -> U64:
    """The 512-bit codeword ``C_i(x)`` of each item hash, block-major: ``(4, n, 2)`` uint64."""
    return np.stack([aes.encrypt(items) for aes in keys.code[hash_index]])
