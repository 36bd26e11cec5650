"""Paillier key pairs, with key custody as types.

:class:`PaillierPublicKey` encrypts; :class:`PaillierPrivateKey` (the key holder) also
decrypts. No public-side class has a ``decrypt`` method, and the private key has no codec
registration, so it cannot be sent by mistake (CONVENTIONS #4).

Scheme: Paillier, "Public-key cryptosystems based on composite degree residuosity classes",
EUROCRYPT 1999, with ``g = n + 1`` and the Damgård–Jurik–Nielsen randomiser ``hs^a``
(Int. J. Inf. Secur. 2010) — see :mod:`coalition.crypto.paillier.kernels`. Each
``PaillierPublicKey`` object draws its own ``h`` locally (``hs = h^n mod n²``), so the masks a
party adds never depend on a value received from a peer.
"""

from __future__ import annotations

import secrets
import warnings
import weakref
from typing import Any

import gmpy2
import numpy as np
import numpy.typing as npt
from gmpy2 import mpz

from coalition.core import Executor
from coalition.core.errors import ConfigError, CryptoError, EncodingOverflowError, InputError
from coalition.crypto.paillier.array import EncryptedArray
from coalition.crypto.paillier.dispatch import chunked_map
from coalition.crypto.paillier.encoding import (
    DEFAULT_PRECISION,
    check_range,
    decode_signed,
    is_integer_valued,
    scaled_integers,
)
from coalition.crypto.paillier.kernels import (
    DecryptTask,
    EncryptTask,
    MaskTask,
    decrypt_chunk,
    encrypt_chunk,
    mask_chunk,
)
from coalition.crypto.paillier.pool import RandomizerPool

__all__ = [
    "DEFAULT_BITS",
    "InsecureKeyWarning",
    "PaillierPrivateKey",
    "PaillierPublicKey",
    "generate_keypair",
]

DEFAULT_BITS = 2048
SECURE_BITS = (2048, 3072, 4096)
INSECURE_BITS = (1024,)
MIN_BITS = 1024
MAX_BITS = 8192


class InsecureKeyWarning(UserWarning):
    """A key below 2048 bits was generated (tests only)."""


class PaillierPublicKey:
    """Encrypts and evaluates; knows ``n`` only. Equal keys have equal ``n``.

    ``PaillierPublicKey.from_n`` returns one shared instance per ``n`` in a process, so the
    fixed-base table built for its ``hs`` is reused by every array that arrives under it.
    """

    __slots__ = ("__weakref__", "_hs", "n", "nsquare", "pool")

    def __init__(self, n: int) -> None:
        n = int(n)
        if n % 2 == 0 or not MIN_BITS <= n.bit_length() <= MAX_BITS:
            raise CryptoError("invalid Paillier modulus", bits=n.bit_length())
        self.n = mpz(n)
        self.nsquare = self.n * self.n
        self._hs: mpz | None = None
        self.pool = RandomizerPool()  # see :meth:`precompute`

    @classmethod
    def from_n(cls, n: int) -> PaillierPublicKey:
        """The process-wide instance for modulus ``n`` (created on first use)."""
        key = _interned.get(int(n))
        if key is None:
            key = cls(n)
            _interned[int(n)] = key
        return key

    @property
    def bits(self) -> int:
        """Bit length of ``n``."""
        return int(self.n.bit_length())

    @property
    def ciphertext_modulus(self) -> mpz:
        """Ciphertexts live mod ``n²`` (OU's mod ``n``): the ring a host multiplies in."""
        return self.nsquare

    @property
    def plaintext_bits(self) -> int:
        """Every integer below ``2^plaintext_bits`` is a plaintext (``bits(n) - 1``).

        Scheme-neutral with :attr:`OUPublicKey.plaintext_bits`: packing sizes its slots to it,
        and a centred packed value of ``plaintext_bits - 1`` bits reads back exactly through
        :meth:`PaillierPrivateKey.decrypt_signed_int`.
        """
        return int(self.n.bit_length()) - 1

    @property
    def signed_limit(self) -> int:
        """Encoded signed values need ``|m| < signed_limit`` (a third of ``n``, as OU's is of
        ``2^plaintext_bits``)."""
        return int(self.n) // 3

    @property
    def hs(self) -> mpz:
        """``h^n mod n²`` for this object's own random unit ``h`` (DJN randomiser base)."""
        if self._hs is None:
            while True:
                h = mpz(secrets.randbelow(int(self.n) - 2) + 2)
                if gmpy2.gcd(h, self.n) == 1:
                    break
            self._hs = gmpy2.powmod(h, self.n, self.nsquare)
        return self._hs

    def encrypt(self, values: Any, precision: int = DEFAULT_PRECISION, *,
                rerandomize: bool = True, executor: Executor | None = None) -> EncryptedArray:
        """Encrypt numbers as fixed point ``round(x * 2**precision)`` (see ``encoding``).

        With ``rerandomize=False`` the result is ``g^m`` with no mask: cheap, readable by
        anyone, and refused by the codec until :meth:`EncryptedArray.rerandomize`.
        """
        ints = scaled_integers(values, precision)
        check_range(ints, int(self.n))
        return _encrypt(self, ints, precision, rerandomize, executor)

    def encrypt_int(self, values: Any, *, rerandomize: bool = True,
                    executor: Executor | None = None) -> EncryptedArray:
        """Encrypt raw integers in ``[0, n)`` (``scale_bits = 0``; e.g. packed plaintexts)."""
        return _encrypt(self, _raw_ints(values, self.n), 0, rerandomize, executor)

    def precompute(self, count: int, *, executor: Executor | None = None) -> None:
        """Offline phase: make ``count`` randomisers ``hs^a`` now, for later encryptions.

        ``encrypt``, ``encrypt_int`` and ``EncryptedArray.rerandomize()`` (DJN) under this key
        object use pooled randomisers first (each once), at one multiplication per value.
        """
        n, hs = int(self.n), int(self.hs)
        self.pool.add(chunked_map(mask_chunk, lambda cs: MaskTask(n, hs, cs), [1] * count,
                                  executor))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PaillierPublicKey) and self.n == other.n

    def __hash__(self) -> int:
        return hash(("paillier", int(self.n)))

    def __repr__(self) -> str:
        return f"PaillierPublicKey(bits={self.bits}, n=0x{int(self.n) >> (self.bits - 32):08x}…)"

    def __reduce__(self) -> tuple[Any, ...]:
        return (PaillierPublicKey.from_n, (int(self.n),))


_interned: weakref.WeakValueDictionary[int, PaillierPublicKey] = weakref.WeakValueDictionary()


class PaillierPrivateKey:
    """The key holder: decrypts, and encrypts faster (CRT over ``p²`` and ``q²``).

    Never serialised by the codec. Pickling is allowed only so a *local* process pool of the
    same party can run decryption chunks.
    """

    __slots__ = ("_p", "_q", "public_key")

    def __init__(self, public_key: PaillierPublicKey, p: int, q: int) -> None:
        if p == q or mpz(p) * mpz(q) != public_key.n:
            raise CryptoError("p and q do not factor the public modulus")
        self.public_key = public_key
        self._p, self._q = mpz(p), mpz(q)

    def encrypt(self, values: Any, precision: int = DEFAULT_PRECISION, *,
                rerandomize: bool = True, executor: Executor | None = None,
                short_randomness: bool = False) -> EncryptedArray:
        """Same ciphertext distribution as :meth:`PaillierPublicKey.encrypt`, computed faster.

        ``short_randomness``: as in :meth:`encrypt_int`, for values only parties without this
        key will see.
        """
        ints = scaled_integers(values, precision)
        check_range(ints, int(self.public_key.n))
        return _encrypt(self.public_key, ints, precision, rerandomize, executor,
                        p=int(self._p), q=int(self._q), short=short_randomness)

    def encrypt_int(self, values: Any, *, rerandomize: bool = True,
                    executor: Executor | None = None,
                    short_randomness: bool = False) -> EncryptedArray:
        """Encrypt raw integers in ``[0, n)`` (``scale_bits = 0``).

        ``short_randomness=True`` draws the DJN exponent from 256 bits instead of
        ``bits(n)/2`` (:mod:`.kernels`: the short-exponent assumption, as OU's key holder
        does), about 4× cheaper; for ciphertexts that only parties without this key will
        see, e.g. a guest's gradients sent to hosts. Pooled randomisers (:meth:`precompute`,
        full length) are still used first.
        """
        return _encrypt(self.public_key, _raw_ints(values, self.public_key.n), 0, rerandomize,
                        executor, p=int(self._p), q=int(self._q), short=short_randomness)

    def precompute(self, count: int, *, executor: Executor | None = None) -> None:
        """Like :meth:`PaillierPublicKey.precompute`, ~1.4× faster by CRT."""
        pk, p, q = self.public_key, int(self._p), int(self._q)
        n, hs = int(pk.n), int(pk.hs)
        pk.pool.add(chunked_map(encrypt_chunk, lambda ms: EncryptTask(n, hs, ms, True, p, q),
                                [0] * count, executor))

    def decrypt_int(self, enc: EncryptedArray, *,
                    executor: Executor | None = None) -> npt.NDArray[np.object_]:
        """Raw plaintexts in ``[0, n)`` as an object array of Python ints (``enc.shape``)."""
        raw = self._decrypt_raw(enc, executor)
        out = np.empty(len(raw), dtype=object)
        out[:] = [int(m) for m in raw]
        return out.reshape(enc.shape)

    def decrypt_signed_int(self, enc: EncryptedArray, *,
                           executor: Executor | None = None) -> npt.NDArray[np.object_]:
        """Plaintexts as centred integers in ``(-n/2, n/2)`` (Python ints, ``enc.shape``).

        The scheme-neutral read of packed signed sums (as
        :meth:`OUPrivateKey.decrypt_signed_int`, whose centre is ``p/2``).
        """
        n = int(self.public_key.n)
        half = n >> 1
        raw = self._decrypt_raw(enc, executor)
        out = np.empty(len(raw), dtype=object)
        out[:] = [int(m) - n if m > half else int(m) for m in raw]
        return out.reshape(enc.shape)

    def decrypt(self, enc: EncryptedArray, *,
                executor: Executor | None = None) -> npt.NDArray[np.float64]:
        """Signed fixed-point values ``m / 2**enc.scale_bits`` as float64 (``enc.shape``).

        Raises :class:`EncodingOverflowError` if a plaintext lies in the overflow range.
        """
        raw = self._decrypt_raw(enc, executor)
        return decode_signed(raw, int(self.public_key.n), enc.scale_bits).reshape(enc.shape)

    def _decrypt_raw(self, enc: EncryptedArray, executor: Executor | None) -> list[mpz]:
        if not isinstance(enc, EncryptedArray):
            raise InputError("decrypt expects an EncryptedArray", type=type(enc).__qualname__)
        if enc.public_key.n != self.public_key.n:
            raise CryptoError("ciphertexts were made under a different public key")
        p, q = int(self._p), int(self._q)
        return chunked_map(decrypt_chunk, lambda cs: DecryptTask(p, q, cs),
                           enc.ciphertexts.ravel().tolist(), executor)

    def __repr__(self) -> str:
        return f"PaillierPrivateKey(bits={self.public_key.bits})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (PaillierPrivateKey, (self.public_key, int(self._p), int(self._q)))


def _raw_ints(values: Any, n: mpz) -> npt.NDArray[np.object_]:
    if not is_integer_valued(values if isinstance(values, int) else np.asarray(values)):
        raise InputError("encrypt_int expects integers")
    ints = scaled_integers(values, 0)
    flat = ints.ravel().tolist()
    if flat and (min(flat) < 0 or max(flat) >= n):
        raise EncodingOverflowError("raw plaintexts must lie in [0, n)")
    return ints


def _encrypt(pk: PaillierPublicKey, ints: npt.NDArray[np.object_], scale: int, masked: bool,
             executor: Executor | None, *, p: int = 0, q: int = 0,
             short: bool = False) -> EncryptedArray:
    n = int(pk.n)
    hs = int(pk.hs) if masked else 0
    flat = [v % n for v in ints.ravel().tolist()]
    pooled = pk.pool.take(len(flat)) if masked else []
    nn, n2 = pk.n, pk.nsquare
    cs = [(1 + mpz(m) * nn) * r % n2 for m, r in zip(flat, pooled, strict=False)]
    cs += chunked_map(encrypt_chunk, lambda ms: EncryptTask(n, hs, ms, masked, p, q, short),
                      flat[len(pooled):], executor) if len(pooled) < len(flat) else []
    out = np.empty(len(cs), dtype=object)
    out[:] = cs
    return EncryptedArray(pk, out.reshape(ints.shape), scale, masked)


def _random_prime(k: int) -> mpz:
    while True:
        # top two bits set: the product of two such primes has exactly 2k bits
        start = mpz(secrets.randbits(k)) | (mpz(3) << (k - 2)) | 1
        p = gmpy2.next_prime(start)
        if p.bit_length() == k and gmpy2.is_prime(p, 64):
            return p


def generate_keypair(bits: int = DEFAULT_BITS, *,
                     allow_insecure: bool = False) -> tuple[PaillierPublicKey, PaillierPrivateKey]:
    """A fresh key pair with an ``n`` of exactly ``bits`` bits (2048 default; 3072, 4096).

    ``bits=1024`` needs ``allow_insecure=True`` and emits :class:`InsecureKeyWarning`; it is
    for tests only. Primes come from :func:`gmpy2.next_prime` on ``secrets`` randomness.
    """
    if bits in INSECURE_BITS:
        if not allow_insecure:
            raise ConfigError("Paillier keys below 2048 bits need allow_insecure=True", bits=bits)
        warnings.warn(f"{bits}-bit Paillier key: insecure, for tests only",
                      InsecureKeyWarning, stacklevel=2)
    elif bits not in SECURE_BITS:
        raise ConfigError("unsupported Paillier key size", bits=bits, allowed=SECURE_BITS)
    half = bits // 2
    while True:
        p, q = _random_prime(half), _random_prime(bits - half)
        # |p - q| tiny would allow Fermat factoring; never happens with fresh random primes
        if p != q and (p * q).bit_length() == bits and abs(p - q).bit_length() > half - 64:
            break
    pk = PaillierPublicKey.from_n(int(p * q))
    return pk, PaillierPrivateKey(pk, int(p), int(q))
