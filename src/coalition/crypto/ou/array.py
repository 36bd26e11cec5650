"""``EncryptedArray`` for Okamoto–Uchiyama: an n-d array of ciphertexts mod ``n = p²q``.

The same API as :class:`coalition.crypto.paillier.EncryptedArray`, so a protocol can hold
either: indexing, ``ravel``/``reshape``, ``+``/``-`` with arrays and plaintexts, ``mul`` by
plaintexts, ``sum``, ``group_sum``, ``xt_dot``, ``rerandomize`` and :func:`concatenate`.

Homomorphisms (Okamoto & Uchiyama, EUROCRYPT 1998): ``E(a)·E(b) = E(a+b)``,
``E(a)^k = E(k a)``, ``E(a)^-1 = E(-a)``, all mod ``n`` — half the width of Paillier's
``n²`` at equal ``n``. Plaintexts live in ``Z_p``: signed fixed-point values with
``|m| < p/3`` (see :class:`~coalition.crypto.ou.keys.OUPrivateKey.decrypt`); a result outside
that range decrypts to :class:`~coalition.core.errors.EncodingOverflowError`, never to a wrong
number silently. Scales behave exactly as Paillier's (``encoding``): adding arrays lifts the
lower scale, float multipliers add ``precision`` bits, integer multipliers are exact.

Masking contract as Paillier's: ``is_masked`` means every ciphertext carries a secret
``h^r``; results from masked arrays stay masked (an empty product becomes a fresh ``E(0)``);
the codec refuses unmasked arrays. ``r`` is uniform modulo ``ord(h)`` (:mod:`.kernels`), so a mask is
uniform even to the key holder and ``rerandomize()`` gives circuit privacy with or without
``uniform=True``.

The class has no ``decrypt``: only :class:`~coalition.crypto.ou.keys.OUPrivateKey` can.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import gmpy2
import numpy as np
import numpy.typing as npt
from gmpy2 import mpz

from coalition.core import Executor
from coalition.core.errors import CryptoError, EncodingOverflowError, InputError
from coalition.crypto.ou.kernels import EncryptTask, MaskTask, encrypt_chunk, mask_chunk
from coalition.crypto.paillier.dispatch import chunked_map
from coalition.crypto.paillier.elementwise import inverses, objects, powers, products
from coalition.crypto.paillier.encoding import (
    DEFAULT_MUL_PRECISION,
    is_integer_valued,
    scaled_exponents,
    scaled_integers,
)
from coalition.crypto.paillier.reductions import group_products, xt_dot_products

if TYPE_CHECKING:
    from coalition.crypto.ou.keys import OUPublicKey

__all__ = ["EncryptedArray", "concatenate", "plain_ciphertexts"]

ObjArray = npt.NDArray[np.object_]


def plain_ciphertexts(pk: OUPublicKey, ints: ObjArray) -> ObjArray:
    """The unmasked ``g^m mod n`` for signed plaintexts ``ints`` (``|m| < signed_limit``)."""
    flat = [int(m) for m in ints.ravel().tolist()]
    if flat and max(abs(m) for m in flat) >= pk.signed_limit:
        raise EncodingOverflowError("value too large for the key's plaintext range",
                                    limit_bits=pk.signed_limit.bit_length())
    cs = encrypt_chunk(EncryptTask(int(pk.n), int(pk.g), int(pk.h), [abs(m) for m in flat],
                                   False))
    # g^-|m| = (g^|m|)^-1: the table only covers non-negative exponents below 2^plaintext_bits
    out = [gmpy2.invert(c, pk.n) if m < 0 else c for c, m in zip(cs, flat, strict=True)]
    return objects(out, ints.shape)


class EncryptedArray:
    """Ciphertexts with numpy-like shape, indexing and arithmetic with plaintext operands."""

    __slots__ = ("_c", "_masked", "_pk", "_scale")
    __array_ufunc__ = None  # ndarray (op) EncryptedArray defers to our reflected methods

    def __init__(self, public_key: OUPublicKey, ciphertexts: ObjArray, scale_bits: int,
                 masked: bool) -> None:
        """Wrap ciphertexts already validated as ``0 < c < n`` (use ``encrypt`` instead)."""
        self._pk = public_key
        self._c = ciphertexts
        self._scale = int(scale_bits)
        self._masked = bool(masked)

    # -- container ---------------------------------------------------------------------
    @property
    def public_key(self) -> OUPublicKey:
        """The key these ciphertexts were made under."""
        return self._pk

    @property
    def shape(self) -> tuple[int, ...]:
        """Array shape."""
        return tuple(self._c.shape)

    @property
    def size(self) -> int:
        """Number of ciphertexts."""
        return int(self._c.size)

    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return int(self._c.ndim)

    @property
    def scale_bits(self) -> int:
        """Plaintexts hold ``round(x * 2**scale_bits)``."""
        return self._scale

    @property
    def is_masked(self) -> bool:
        """Whether every ciphertext carries a secret random factor (see module docstring)."""
        return self._masked

    @property
    def ciphertexts(self) -> ObjArray:
        """A copy of the raw ciphertexts (object array of ``mpz``)."""
        return self._c.copy()

    def __len__(self) -> int:
        if self._c.ndim == 0:
            raise TypeError("len() of a 0-d EncryptedArray")
        return int(self._c.shape[0])

    def __getitem__(self, key: Any) -> EncryptedArray:
        picked = self._c[key]
        if not isinstance(picked, np.ndarray):
            picked = objects([picked], ())
        return self._like(picked)

    def ravel(self) -> EncryptedArray:
        """Flattened copy."""
        return self._like(self._c.ravel())

    def reshape(self, *shape: Any) -> EncryptedArray:
        """Same ciphertexts, new shape (numpy rules)."""
        return self._like(self._c.reshape(*shape))

    def _like(self, c: ObjArray, scale: int | None = None,
              masked: bool | None = None) -> EncryptedArray:
        return EncryptedArray(self._pk, c, self._scale if scale is None else scale,
                              self._masked if masked is None else masked)

    def __repr__(self) -> str:
        return (f"ou.EncryptedArray(shape={self.shape}, scale_bits={self._scale}, "
                f"masked={self._masked}, key={self._pk!r})")

    # -- helpers -----------------------------------------------------------------------
    def _fill(self, cs: list[mpz | None], masked: bool) -> list[mpz]:
        """Replace ``None`` (an empty product) by a fresh E(0) if masked, else by ``1``."""
        holes = [i for i, c in enumerate(cs) if c is None]
        zeros = (mask_chunk(MaskTask(int(self._pk.n), int(self._pk.h), [1] * len(holes)))
                 if masked else [mpz(1)] * len(holes))
        for i, z in zip(holes, zeros, strict=True):
            cs[i] = z
        return cs

    def _same_key(self, other: EncryptedArray) -> None:
        if other._pk != self._pk:
            raise CryptoError("arrays were encrypted under different public keys")

    def _lift(self, scale: int) -> ObjArray:
        """Ciphertexts of ``x * 2**(scale - self.scale_bits)``."""
        if scale == self._scale:
            return self._c
        lifted = gmpy2.powmod_base_list(self._c.ravel().tolist(), 1 << (scale - self._scale),
                                        self._pk.n)
        return objects(lifted, self.shape)

    # -- arithmetic --------------------------------------------------------------------
    def __add__(self, other: Any) -> EncryptedArray:
        if isinstance(other, EncryptedArray):
            self._same_key(other)
            scale = max(self._scale, other._scale)
            return self._like(products(self._lift(scale), other._lift(scale), self._pk.n),
                              scale=scale, masked=self._masked or other._masked)
        return self._add_plain(scaled_integers(other, self._scale))

    __radd__ = __add__

    def __neg__(self) -> EncryptedArray:
        return self._like(inverses(self._c, self._pk.n))

    def __sub__(self, other: Any) -> EncryptedArray:
        if isinstance(other, EncryptedArray):
            return self + (-other)
        ints = scaled_integers(other, self._scale)
        return self._add_plain(np.asarray(-ints, dtype=object).reshape(ints.shape))

    def __rsub__(self, other: Any) -> EncryptedArray:
        return (-self)._add_plain(scaled_integers(other, self._scale))

    def _add_plain(self, ints: ObjArray) -> EncryptedArray:
        return self._like(products(self._c, plain_ciphertexts(self._pk, ints), self._pk.n))

    def mul(self, plain: Any, *, precision: int | None = None) -> EncryptedArray:
        """``self * plain`` elementwise (numpy broadcasting).

        Integer operands with ``precision=None`` are exact and keep ``scale_bits``; anything
        else is encoded with ``precision`` bits (default ``DEFAULT_MUL_PRECISION`` = 24) which
        is added to ``scale_bits``.
        """
        if isinstance(plain, EncryptedArray):
            raise InputError("Okamoto-Uchiyama cannot multiply two ciphertexts")
        exact = precision is None and is_integer_valued(plain)
        bits = 0 if exact else (DEFAULT_MUL_PRECISION if precision is None else precision)
        out, shape = powers(self._c, scaled_integers(plain, bits), self._pk.n)
        return self._like(objects(self._fill(out, self._masked), shape), scale=self._scale + bits)

    def __mul__(self, other: Any) -> EncryptedArray:
        if isinstance(other, EncryptedArray):
            return NotImplemented
        return self.mul(other)

    __rmul__ = __mul__

    # -- reductions --------------------------------------------------------------------
    def sum(self, axis: int | None = None) -> EncryptedArray:
        """Encrypted sum over all elements (shape ``()``) or along ``axis``."""
        if axis is None:
            return self.ravel().reshape(-1, 1).sum(axis=0).reshape(())
        rows = np.moveaxis(self._c, _axis(axis, self.ndim), 0)
        flat = rows.reshape(rows.shape[0], -1)
        acc = group_products(flat, [0] * flat.shape[0], 1, self._pk.n)
        return self._like(objects(self._fill(acc, self._masked), rows.shape[1:]))

    def group_sum(self, group_ids: Any, n_groups: int) -> EncryptedArray:
        """Sums of the rows of each group: ``out[g] = Σ_{i: ids[i]=g} self[i]`` (histograms)."""
        ids = np.asarray(group_ids)
        if self.ndim == 0 or ids.shape != (self.shape[0],) or ids.dtype.kind not in "iu":
            raise InputError("group_ids must be an integer array of shape (N,)",
                             expected=self.shape[:1], got=ids.shape)
        if n_groups < 1 or (ids.size and (ids.min() < 0 or ids.max() >= n_groups)):
            raise InputError("group ids must lie in [0, n_groups)", n_groups=n_groups)
        flat = self._c.reshape(self.shape[0], -1)
        acc = group_products(flat, ids.tolist(), n_groups, self._pk.n)
        return self._like(objects(self._fill(acc, self._masked), (n_groups, *self.shape[1:])))

    def xt_dot(self, X: Any, *, precision: int = DEFAULT_MUL_PRECISION,
               executor: Executor | None = None) -> EncryptedArray:
        """``X.T @ self`` for a plaintext ``X`` of shape ``(N, F)`` and ``self`` of shape ``(N,)``.

        Same contract and multi-exponentiation as Paillier's ``xt_dot``, modulo ``n``.
        """
        mat = np.asarray(X)
        if self.ndim != 1 or mat.ndim != 2 or mat.shape[0] != self.shape[0]:
            raise InputError("xt_dot needs X of shape (N, F) and an array of shape (N,)",
                             x_shape=mat.shape, enc_shape=self.shape)
        bits = 0 if is_integer_valued(mat) else precision
        K = scaled_exponents(mat, bits)
        cols = xt_dot_products(self._c.tolist(), K, self._pk.n, executor)
        return self._like(objects(self._fill(cols, self._masked), (mat.shape[1],)),
                          scale=self._scale + bits)

    def rerandomize(self, executor: Executor | None = None, *,
                    uniform: bool = False) -> EncryptedArray:
        """Same plaintexts, each ciphertext times a fresh uniform ``h^r``; always masked.

        ``uniform`` is accepted for API parity with Paillier: OU masks are always uniform.
        """
        del uniform  # every OU mask is uniform mod ord(h) (see the module docstring)
        n, h = int(self._pk.n), int(self._pk.h)
        out = chunked_map(mask_chunk, lambda part: MaskTask(n, h, part),
                          self._c.ravel().tolist(), executor)
        return self._like(objects(out, self.shape), masked=True)

    @classmethod
    def concatenate(cls, arrays: Sequence[EncryptedArray], axis: int = 0) -> EncryptedArray:
        """Join arrays under one key along ``axis`` (scales are lifted to the largest)."""
        return concatenate(arrays, axis=axis)


def concatenate(arrays: Sequence[EncryptedArray], axis: int = 0) -> EncryptedArray:
    """Join arrays under one key along ``axis`` (scales are lifted to the largest)."""
    if not arrays:
        raise InputError("concatenate needs at least one array")
    first = arrays[0]
    for a in arrays[1:]:
        first._same_key(a)
    scale = max(a.scale_bits for a in arrays)
    try:
        joined = np.concatenate([a._lift(scale) for a in arrays], axis=axis)
    except ValueError as exc:
        raise InputError("arrays cannot be concatenated", reason=str(exc)) from exc
    return EncryptedArray(first.public_key, joined, scale, all(a.is_masked for a in arrays))


def _axis(axis: int, ndim: int) -> int:
    if not -ndim <= axis < ndim:
        raise InputError("axis out of range", axis=axis, ndim=ndim)
    return axis % ndim
