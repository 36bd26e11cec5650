"""Seed expansion: a CSPRNG stream per purpose, keyed through HKDF, expanded by a stream cipher.

* :func:`derive` — HKDF-SHA256 (RFC 5869): ``Extract`` once per secret seed (:class:`Stream`
  keeps the PRK), then ``Expand`` with an ``info`` string per purpose into a 32-byte key. Two
  purposes (or two seeds) give computationally independent keys.
* :func:`expand` — the ChaCha20 keystream (RFC 8439, OpenSSL through ``cryptography``) of a
  32-byte key under the all-zero nonce and counter, read as little-endian ``uint64`` words and
  reduced modulo ``2**modulus_bits``. Each key is used for exactly one stream, so the fixed nonce
  is safe (a key is never reused with another message).

This is the construction SecAgg has always used for its masks; the secret-shared linear model
(Beaver triples and masks), the guest's secret ``data_split`` permutation and ``feature_sample``
use it too.

**Crypto suites** (:mod:`coalition.crypto.suite`): every entry point takes ``suite``. Under
``standard`` (the default) the streams are exactly the ones above. Under ``sm`` HKDF runs on
SM3 (HMAC-SM3 Extract and Expand, GB/T 32905) and the keystream is SM4-CTR (:func:`expand_sm4`,
GB/T 32907): a seed gives different streams under the two suites, so parties of one protocol
MUST agree on the suite (the job's ``suite`` parameter, checked by the node's privacy policy).
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from collections.abc import Callable

import numpy as np
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand
from numpy.typing import NDArray

from coalition.core.errors import CryptoError
from coalition.crypto.sm.sm3 import hmac_sm3
from coalition.crypto.suite import CryptoSuite

__all__ = ["KEY_BYTES", "Expander", "Stream", "derive", "expand", "expand_for", "expand_sm4",
           "purpose_info"]

Expander = Callable[[bytes, int, int], NDArray[np.uint64]]
"""``expander(seed, length, modulus_bits)``: :func:`expand` or :func:`expand_sm4`."""

KEY_BYTES = 32
_NONCE = bytes(16)  # 4-byte block counter + 12-byte nonce, both zero: one stream per key


def expand(seed: bytes, length: int, modulus_bits: int = 64) -> NDArray[np.uint64]:
    """``length`` pseudo-random integers in ``[0, 2**modulus_bits)``: the ChaCha20 keystream
    of the 32-byte key ``seed`` (see module docstring)."""
    if len(seed) != KEY_BYTES:
        raise CryptoError("PRG seed must be 32 bytes", length=len(seed))
    if length < 0 or not 1 <= modulus_bits <= 64:
        raise CryptoError("bad PRG request", length=length, modulus_bits=modulus_bits)
    enc = Cipher(algorithms.ChaCha20(seed, _NONCE), mode=None).encryptor()
    # Little-endian on every platform, so all parties expand a seed to the same integers.
    words = np.frombuffer(enc.update(bytes(8 * length)), dtype="<u8").astype(np.uint64, copy=False)
    if modulus_bits < 64:
        return np.bitwise_and(words, np.uint64((1 << modulus_bits) - 1))
    return words


def expand_sm4(seed: bytes, length: int, modulus_bits: int = 64) -> NDArray[np.uint64]:
    """:func:`expand` for the ``sm`` crypto suite: the SM4-CTR keystream (GB/T 32907) under the
    key ``seed[:16]`` from the initial counter block ``seed[16:]``, read the same way. A
    32-byte seed is used for exactly one stream, as for :func:`expand`."""
    if len(seed) != KEY_BYTES:
        raise CryptoError("PRG seed must be 32 bytes", length=len(seed))
    if length < 0 or not 1 <= modulus_bits <= 64:
        raise CryptoError("bad PRG request", length=length, modulus_bits=modulus_bits)
    enc = Cipher(algorithms.SM4(seed[:16]), modes.CTR(seed[16:])).encryptor()
    words = np.frombuffer(enc.update(bytes(8 * length)), dtype="<u8").astype(np.uint64, copy=False)
    if modulus_bits < 64:
        return np.bitwise_and(words, np.uint64((1 << modulus_bits) - 1))
    return words


def _is_sm(suite: CryptoSuite | str) -> bool:
    return CryptoSuite(suite) == CryptoSuite.SM


def expand_for(suite: CryptoSuite | str = CryptoSuite.STANDARD) -> Expander:
    """The suite's keystream expander: :func:`expand` (ChaCha20) or :func:`expand_sm4`."""
    return expand_sm4 if _is_sm(suite) else expand


def derive(ikm: bytes, salt: bytes, info: bytes,
           suite: CryptoSuite | str = CryptoSuite.STANDARD) -> bytes:
    """HKDF(ikm, salt, info) -> 32 bytes (RFC 5869 Extract-then-Expand) with the suite's hash:
    SHA-256, or SM3 under ``sm``."""
    return Stream(ikm, salt, suite).key(info)


def purpose_info(label: bytes, *index: int) -> bytes:
    """An unambiguous ``info`` string: ``label``, its length, then each index as 8 bytes."""
    if any(i < 0 or i >= 1 << 64 for i in index):
        raise CryptoError("PRG index out of range")
    return struct.pack(">H", len(label)) + label + struct.pack(f">{len(index)}Q", *index)


class Stream:
    """Independent CSPRNG streams from one secret seed, one per ``info`` (purpose and index).

    ``PRK = HMAC-H(salt, seed)`` is computed once (RFC 5869 §2.2); each stream's key is
    ``HKDF-Expand(PRK, info, 32)`` (§2.3) and its words are :func:`expand` of that key. ``H``
    and the expander are the suite's: SHA-256 and ChaCha20 (``standard``), SM3 and SM4-CTR
    (``sm``).
    """

    def __init__(self, seed: bytes, salt: bytes,
                 suite: CryptoSuite | str = CryptoSuite.STANDARD) -> None:
        if len(seed) < 16:
            raise CryptoError("PRG seed must have at least 128 bits", length=len(seed))
        sm = _is_sm(suite)
        self._hash: hashes.HashAlgorithm = hashes.SM3() if sm else hashes.SHA256()
        self._expand = expand_for(suite)
        self._prk = hmac_sm3(salt, seed) if sm else hmac.new(salt, seed, hashlib.sha256).digest()

    def key(self, info: bytes) -> bytes:
        """The 32-byte key of the stream ``info``."""
        return HKDFExpand(self._hash, KEY_BYTES, info).derive(self._prk)

    def words(self, info: bytes, length: int, modulus_bits: int = 64) -> NDArray[np.uint64]:
        """``length`` words of the stream ``info``."""
        return self._expand(self.key(info), length, modulus_bits)
