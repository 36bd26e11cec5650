"""Okamoto–Uchiyama key pairs, with key custody as types.

Scheme: Okamoto & Uchiyama, "A new public-key cryptosystem as secure as factoring",
EUROCRYPT 1998. ``n = p²q`` with ``|p| = |q| = ceil(bits(n)/3)``; ``g`` a unit whose
``g^(p-1) mod p²`` has order ``p``; ``h = g^n mod n`` (an encryption of 0). Plaintexts live in
``Z_p``; the public side, which does not know ``p``, accepts raw plaintexts below
``2^plaintext_bits`` (``plaintext_bits = |p| - 1``, so every accepted value is below ``p``).

:class:`OUPublicKey` encrypts; :class:`OUPrivateKey` (the key holder) also decrypts. No
public-side class has a ``decrypt`` method, and the private key has no codec registration, so
it cannot be sent by mistake (CONVENTIONS #4). Reprs never show ``p``, ``q`` or ``g``.
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
from coalition.crypto.ou.array import EncryptedArray
from coalition.crypto.ou.kernels import (
    DecryptTask,
    EncryptTask,
    decrypt_chunk,
    encrypt_chunk,
    plaintext_bits,
    prime_bits,
)
from coalition.crypto.paillier.dispatch import chunked_map
from coalition.crypto.paillier.encoding import (
    DEFAULT_PRECISION,
    decode_signed,
    is_integer_valued,
    scaled_integers,
)
from coalition.crypto.paillier.keys import InsecureKeyWarning

__all__ = [
    "DEFAULT_BITS",
    "OUPrivateKey",
    "OUPublicKey",
    "generate_keypair",
]

DEFAULT_BITS = 2048
SECURE_BITS = (2048, 3072, 4096)
INSECURE_BITS = (1024,)
MIN_BITS = 1024
# A received key is validated with one g^n mod n: bounding n bounds what a hostile peer's key
# costs to check (and no supported size is larger).
MAX_BITS = 4096


class OUPublicKey:
    """Encrypts and evaluates; knows ``(n, g, h)``. Equal keys have equal ``(n, g, h)``.

    ``OUPublicKey.from_parts`` returns one shared instance per key in a process (validated
    once; the fixed-base tables are cached per key in :mod:`.kernels`).
    """

    __slots__ = ("__weakref__", "g", "h", "n")

    def __init__(self, n: int, g: int, h: int) -> None:
        n, g, h = int(n), int(g), int(h)
        if n % 2 == 0 or not MIN_BITS <= n.bit_length() <= MAX_BITS:
            raise CryptoError("invalid Okamoto-Uchiyama modulus", bits=n.bit_length())
        if not (1 < g < n and 1 < h < n) or gmpy2.gcd(g, n) != 1:
            raise CryptoError("invalid Okamoto-Uchiyama generator")
        if gmpy2.powmod(g, n, n) != h:
            raise CryptoError("h is not g^n mod n")
        self.n, self.g, self.h = mpz(n), mpz(g), mpz(h)

    @classmethod
    def from_parts(cls, n: int, g: int, h: int) -> OUPublicKey:
        """The process-wide instance for ``(n, g, h)`` (created and validated on first use)."""
        ident = (int(n), int(g), int(h))
        key = _interned.get(ident)
        if key is None:
            key = cls(*ident)
            _interned[ident] = key
        return key

    @property
    def bits(self) -> int:
        """Bit length of ``n``."""
        return int(self.n.bit_length())

    @property
    def ciphertext_modulus(self) -> mpz:
        """Ciphertexts live mod ``n`` (Paillier's mod ``n²``): the ring a host multiplies in."""
        return self.n

    @property
    def plaintext_bits(self) -> int:
        """Raw plaintexts (``encrypt_int``, packing) must lie in ``[0, 2^plaintext_bits)``."""
        return plaintext_bits(int(self.n))

    @property
    def signed_limit(self) -> int:
        """Encoded signed values need ``|m| < signed_limit`` (a third of ``2^plaintext_bits``)."""
        return (1 << self.plaintext_bits) // 3

    def encrypt(self, values: Any, precision: int = DEFAULT_PRECISION, *,
                rerandomize: bool = True, executor: Executor | None = None) -> EncryptedArray:
        """Encrypt numbers as fixed point ``round(x * 2**precision)`` (signed; see ``array``).

        With ``rerandomize=False`` the result is ``g^m`` with no mask: cheap, readable by
        anyone, and refused by the codec until :meth:`EncryptedArray.rerandomize`. Raises
        :class:`EncodingOverflowError` when ``|m| >= signed_limit``.
        """
        ints = scaled_integers(values, precision)
        check_signed(ints, self.signed_limit)
        return _encrypt(self, ints, precision, rerandomize, executor)

    def encrypt_int(self, values: Any, *, rerandomize: bool = True,
                    executor: Executor | None = None) -> EncryptedArray:
        """Encrypt raw integers in ``[0, 2^plaintext_bits)`` (``scale_bits = 0``; packing)."""
        return _encrypt(self, _raw_ints(values, self.plaintext_bits), 0, rerandomize, executor)

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, OUPublicKey) and self.n == other.n and self.g == other.g
                and self.h == other.h)

    def __hash__(self) -> int:
        return hash(("ou", int(self.n), int(self.g)))

    def __repr__(self) -> str:
        return f"OUPublicKey(bits={self.bits}, n=0x{int(self.n) >> (self.bits - 32):08x}…)"

    def __reduce__(self) -> tuple[Any, ...]:
        return (OUPublicKey.from_parts, (int(self.n), int(self.g), int(self.h)))


_interned: weakref.WeakValueDictionary[tuple[int, int, int], OUPublicKey] = (
    weakref.WeakValueDictionary())


class OUPrivateKey:
    """The key holder: decrypts (one ``powmod`` mod ``p²`` per value).

    Never serialised by the codec. Pickling is allowed only so a *local* process pool of the
    same party can run decryption chunks.
    """

    __slots__ = ("_g_inv", "_p", "_q", "public_key")

    def __init__(self, public_key: OUPublicKey, p: int, q: int) -> None:
        p_, q_ = mpz(p), mpz(q)
        k = prime_bits(int(public_key.n))
        if p_ == q_ or p_ * p_ * q_ != public_key.n or p_.bit_length() != k:
            raise CryptoError("p and q do not form the public modulus p²q")
        p2 = p_ * p_
        lg = (gmpy2.powmod(public_key.g, p_ - 1, p2) - 1) // p_
        if lg % p_ == 0:
            raise CryptoError("g^(p-1) mod p² does not have order p")
        self.public_key = public_key
        self._p, self._q = p_, q_
        self._g_inv = gmpy2.invert(lg, p_)

    def encrypt(self, values: Any, precision: int = DEFAULT_PRECISION, *,
                rerandomize: bool = True, executor: Executor | None = None,
                short_randomness: bool = False) -> EncryptedArray:
        """Same ciphertext distribution as :meth:`OUPublicKey.encrypt`, computed faster (CRT).

        ``short_randomness``: as in :meth:`encrypt_int`, for values only parties without this
        key will see.
        """
        pk = self.public_key
        ints = scaled_integers(values, precision)
        check_signed(ints, pk.signed_limit)
        return _encrypt(pk, ints, precision, rerandomize, executor, p=int(self._p),
                        q=int(self._q), short=short_randomness)

    def encrypt_int(self, values: Any, *, rerandomize: bool = True,
                    executor: Executor | None = None,
                    short_randomness: bool = False) -> EncryptedArray:
        """Raw integers in ``[0, 2^plaintext_bits)``, as :meth:`OUPublicKey.encrypt_int` (CRT).

        ``short_randomness=True`` draws ``r`` from 256 bits (:mod:`.kernels`: the
        short-exponent assumption), several times cheaper; for ciphertexts that only parties
        without this key will see, e.g. a guest's gradients sent to hosts.
        """
        pk = self.public_key
        return _encrypt(pk, _raw_ints(values, pk.plaintext_bits), 0, rerandomize, executor,
                        p=int(self._p), q=int(self._q), short=short_randomness)

    def decrypt_int(self, enc: EncryptedArray, *,
                    executor: Executor | None = None) -> npt.NDArray[np.object_]:
        """Raw plaintexts in ``[0, p)`` as an object array of Python ints (``enc.shape``)."""
        raw = self._decrypt_raw(enc, executor)
        out = np.empty(len(raw), dtype=object)
        out[:] = [int(m) for m in raw]
        return out.reshape(enc.shape)

    def decrypt_signed_int(self, enc: EncryptedArray, *,
                           executor: Executor | None = None) -> npt.NDArray[np.object_]:
        """Plaintexts as centred integers in ``(-p/2, p/2)`` (Python ints, ``enc.shape``).

        For packed sums (several signed slots per plaintext): the caller never needs ``p``.
        Any signed value of fewer than ``plaintext_bits`` bits — ``encrypt(ints,
        precision=0)`` and sums of them that stay that small — reads back exactly.
        """
        p = int(self._p)
        half = p >> 1
        raw = self._decrypt_raw(enc, executor)
        out = np.empty(len(raw), dtype=object)
        out[:] = [int(m) - p if m > half else int(m) for m in raw]
        return out.reshape(enc.shape)

    def decrypt(self, enc: EncryptedArray, *,
                executor: Executor | None = None) -> npt.NDArray[np.float64]:
        """Signed fixed-point values ``m / 2**enc.scale_bits`` as float64 (``enc.shape``).

        ``[0, p/3]`` reads as positive, ``[p - p/3, p)`` as negative; the middle third raises
        :class:`EncodingOverflowError` (a sum or product left the plaintext space).
        """
        raw = self._decrypt_raw(enc, executor)
        return decode_signed(raw, int(self._p), enc.scale_bits).reshape(enc.shape)

    def _decrypt_raw(self, enc: EncryptedArray, executor: Executor | None) -> list[mpz]:
        if not isinstance(enc, EncryptedArray):
            raise InputError("decrypt expects an OU EncryptedArray", type=type(enc).__qualname__)
        if enc.public_key != self.public_key:
            raise CryptoError("ciphertexts were made under a different public key")
        p, g_inv = int(self._p), int(self._g_inv)
        return chunked_map(decrypt_chunk, lambda cs: DecryptTask(p, g_inv, cs),
                           enc.ciphertexts.ravel().tolist(), executor)

    def __repr__(self) -> str:
        return f"OUPrivateKey(bits={self.public_key.bits})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (OUPrivateKey, (self.public_key, int(self._p), int(self._q)))


def check_signed(ints: npt.NDArray[np.object_], limit: int) -> None:
    """Refuse signed plaintexts with ``|m| >= limit`` (they would decode ambiguously)."""
    if ints.size and max(abs(int(v)) for v in ints.ravel().tolist()) >= limit:
        raise EncodingOverflowError("value too large for the key's plaintext range",
                                    limit_bits=limit.bit_length())


def _raw_ints(values: Any, plaintext_bits: int) -> npt.NDArray[np.object_]:
    if not is_integer_valued(values if isinstance(values, int) else np.asarray(values)):
        raise InputError("encrypt_int expects integers")
    ints = scaled_integers(values, 0)
    flat = ints.ravel().tolist()
    if flat and (min(flat) < 0 or max(flat) >> plaintext_bits):
        raise EncodingOverflowError("raw plaintexts must lie in [0, 2^plaintext_bits)",
                                    plaintext_bits=plaintext_bits)
    return ints


def _encrypt(pk: OUPublicKey, ints: npt.NDArray[np.object_], scale: int, masked: bool,
             executor: Executor | None, *, p: int = 0, q: int = 0,
             short: bool = False) -> EncryptedArray:
    n, g, h = int(pk.n), int(pk.g), int(pk.h)
    flat = [int(m) for m in ints.ravel().tolist()]
    # signed plaintexts: the kernels take g^-|m| from a table of g^-1
    cs = chunked_map(encrypt_chunk, lambda ms: EncryptTask(n, g, h, ms, masked, p, q, short),
                     flat, executor)
    out = np.empty(len(cs), dtype=object)
    out[:] = cs
    return EncryptedArray(pk, out.reshape(ints.shape), scale, masked)


def _random_prime(k: int) -> mpz:
    while True:
        start = mpz(secrets.randbits(k)) | (mpz(1) << (k - 1)) | 1
        p = gmpy2.next_prime(start)
        if p.bit_length() == k and gmpy2.is_prime(p, 64):
            return p


def _generator(p: mpz, n: mpz) -> mpz:
    p2 = p * p
    while True:
        g = mpz(secrets.randbelow(int(n) - 3) + 2)
        if gmpy2.gcd(g, n) == 1 and gmpy2.powmod(g, p - 1, p2) != 1:
            return g


def generate_keypair(bits: int = DEFAULT_BITS, *,
                     allow_insecure: bool = False) -> tuple[OUPublicKey, OUPrivateKey]:
    """A fresh key pair with ``n = p²q`` of exactly ``bits`` bits (2048 default; 3072, 4096).

    ``|p| = |q| = ceil(bits/3)`` (683 bits at 2048). ``bits=1024`` needs
    ``allow_insecure=True`` and emits :class:`InsecureKeyWarning`; it is for tests only.
    Primes come from :func:`gmpy2.next_prime` on ``secrets`` randomness.
    """
    if bits in INSECURE_BITS:
        if not allow_insecure:
            raise ConfigError("Okamoto-Uchiyama keys below 2048 bits need allow_insecure=True",
                              bits=bits)
        warnings.warn(f"{bits}-bit Okamoto-Uchiyama key: insecure, for tests only",
                      InsecureKeyWarning, stacklevel=2)
    elif bits not in SECURE_BITS:
        raise ConfigError("unsupported Okamoto-Uchiyama key size", bits=bits,
                          allowed=SECURE_BITS)
    k = -(-bits // 3)
    while True:
        p = _random_prime(k)
        for _ in range(16):  # a q that makes p²q exactly `bits` bits long, else a new p
            q = _random_prime(k)
            n = p * p * q
            if p != q and n.bit_length() == bits:
                break
        else:
            continue
        break
    g = _generator(p, n)
    pk = OUPublicKey.from_parts(int(n), int(g), int(gmpy2.powmod(g, n, n)))
    return pk, OUPrivateKey(pk, int(p), int(q))
