"""What every additive-HE ciphertext array shares: shape, indexing, fixed-point scales,
homomorphic ``+``/``-``/``mul``, ``sum``, ``group_sum``, ``xt_dot`` and ``concatenate``.

Paillier (ciphertexts mod ``n²``) and Okamoto–Uchiyama (mod ``n = p²q``) differ only in the
ciphertext modulus, how a plaintext becomes a ciphertext, and how fresh masks are drawn: each
scheme's ``EncryptedArray`` subclasses :class:`AdditiveArray` and supplies those four hooks
(:meth:`~AdditiveArray.modulus_of`, :meth:`~AdditiveArray._plain`,
:meth:`~AdditiveArray._fresh_zeros`, :meth:`~AdditiveArray._remask`). Values are fixed point
(:mod:`~coalition.crypto.paillier.encoding`): adding arrays of different scales lifts the lower
one by ``2^diff``; float multipliers add ``precision`` bits to the scale; integer multipliers
are exact. Arrays of different keys or schemes never combine (:class:`CryptoError`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Generic, Self, TypeVar

import gmpy2
import numpy as np
import numpy.typing as npt
from gmpy2 import mpz

from coalition.core import Executor
from coalition.core.errors import CryptoError, InputError
from coalition.crypto.paillier.elementwise import inverses, objects, powers, products
from coalition.crypto.paillier.encoding import (
    DEFAULT_MUL_PRECISION,
    is_integer_valued,
    scaled_exponents,
    scaled_integers,
)
from coalition.crypto.paillier.reductions import group_products, xt_dot_products

__all__ = ["AdditiveArray", "ObjArray", "concatenate"]

ObjArray = npt.NDArray[np.object_]
K = TypeVar("K")
A = TypeVar("A", bound="AdditiveArray[Any]")


class AdditiveArray(Generic[K]):
    """Ciphertexts with numpy-like shape, indexing and arithmetic with plaintext operands."""

    __slots__ = ("_c", "_masked", "_pk", "_scale")
    __array_ufunc__ = None  # ndarray (op) EncryptedArray defers to our reflected methods
    _scheme: ClassVar[str] = "additive HE"
    _repr_name: ClassVar[str] = "EncryptedArray"

    def __init__(self, public_key: K, ciphertexts: ObjArray, scale_bits: int,
                 masked: bool) -> None:
        """Wrap ciphertexts already validated as ``0 < c < modulus`` (use ``encrypt``)."""
        self._pk = public_key
        self._c = ciphertexts
        self._scale = int(scale_bits)
        self._masked = bool(masked)

    # -- the scheme's hooks --------------------------------------------------------------
    @classmethod
    def modulus_of(cls, public_key: K) -> mpz:
        """The ring ciphertexts under ``public_key`` live in (``n²`` or ``n``)."""
        raise NotImplementedError

    @property
    def _modulus(self) -> mpz:
        return self.modulus_of(self._pk)

    def _plain(self, ints: ObjArray) -> ObjArray:
        """Unmasked ciphertexts of the signed integers ``ints`` (range checked)."""
        raise NotImplementedError

    def _fresh_zeros(self, count: int) -> list[mpz]:
        """``count`` fresh masked encryptions of 0."""
        raise NotImplementedError

    def _remask(self, flat: list[mpz], uniform: bool, executor: Executor | None) -> list[mpz]:
        """Each ciphertext times a fresh mask."""
        raise NotImplementedError

    # -- container ---------------------------------------------------------------------
    @property
    def public_key(self) -> K:
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

    def __getitem__(self, key: Any) -> Self:
        picked = self._c[key]
        if not isinstance(picked, np.ndarray):
            picked = objects([picked], ())
        return self._like(picked)

    def ravel(self) -> Self:
        """Flattened copy."""
        return self._like(self._c.ravel())

    def reshape(self, *shape: Any) -> Self:
        """Same ciphertexts, new shape (numpy rules)."""
        return self._like(self._c.reshape(*shape))

    def _like(self, c: ObjArray, scale: int | None = None, masked: bool | None = None) -> Self:
        return type(self)(self._pk, c, self._scale if scale is None else scale,
                          self._masked if masked is None else masked)

    def __repr__(self) -> str:
        return (f"{self._repr_name}(shape={self.shape}, scale_bits={self._scale}, "
                f"masked={self._masked}, key={self._pk!r})")

    # -- helpers -----------------------------------------------------------------------
    def _fill(self, cs: list[mpz | None], masked: bool) -> list[mpz]:
        """Replace ``None`` (an empty product) by a fresh encryption of 0 if masked, else 1."""
        holes = [i for i, c in enumerate(cs) if c is None]
        zeros = self._fresh_zeros(len(holes)) if masked else [mpz(1)] * len(holes)
        for i, z in zip(holes, zeros, strict=True):
            cs[i] = z
        return cs

    def _same_key(self, other: AdditiveArray[Any]) -> None:
        if type(other) is not type(self) or other._pk != self._pk:
            raise CryptoError("arrays were encrypted under different public keys")

    def _lift(self, scale: int) -> ObjArray:
        """Ciphertexts of ``x * 2**(scale - self.scale_bits)``."""
        if scale == self._scale:
            return self._c
        lifted = gmpy2.powmod_base_list(self._c.ravel().tolist(), 1 << (scale - self._scale),
                                        self._modulus)
        return objects(lifted, self.shape)

    # -- arithmetic --------------------------------------------------------------------
    def __add__(self, other: Any) -> Self:
        if isinstance(other, AdditiveArray):
            self._same_key(other)
            scale = max(self._scale, other._scale)
            return self._like(products(self._lift(scale), other._lift(scale), self._modulus),
                              scale=scale, masked=self._masked or other._masked)
        return self._add_plain(scaled_integers(other, self._scale))

    __radd__ = __add__

    def __neg__(self) -> Self:
        return self._like(inverses(self._c, self._modulus))

    def __sub__(self, other: Any) -> Self:
        if isinstance(other, AdditiveArray):
            return self + (-other)
        ints = scaled_integers(other, self._scale)
        return self._add_plain(np.asarray(-ints, dtype=object).reshape(ints.shape))

    def __rsub__(self, other: Any) -> Self:
        return (-self)._add_plain(scaled_integers(other, self._scale))

    def _add_plain(self, ints: ObjArray) -> Self:
        return self._like(products(self._c, self._plain(ints), self._modulus))

    def mul(self, plain: Any, *, precision: int | None = None) -> Self:
        """``self * plain`` elementwise (numpy broadcasting).

        Integer operands with ``precision=None`` are exact and keep ``scale_bits``; anything
        else is encoded with ``precision`` bits (default ``DEFAULT_MUL_PRECISION`` = 24, error
        at most ``2**-(precision+1)`` per multiplier) which is added to ``scale_bits``.
        """
        if isinstance(plain, AdditiveArray):
            raise InputError(f"{self._scheme} cannot multiply two ciphertexts")
        exact = precision is None and is_integer_valued(plain)
        bits = 0 if exact else (DEFAULT_MUL_PRECISION if precision is None else precision)
        out, shape = powers(self._c, scaled_integers(plain, bits), self._modulus)
        return self._like(objects(self._fill(out, self._masked), shape), scale=self._scale + bits)

    def __mul__(self, other: Any) -> Self:
        if isinstance(other, type(self)):
            return NotImplemented
        return self.mul(other)

    __rmul__ = __mul__

    # -- reductions --------------------------------------------------------------------
    def sum(self, axis: int | None = None) -> Self:
        """Encrypted sum over all elements (shape ``()``) or along ``axis``."""
        if axis is None:
            return self.ravel().reshape(-1, 1).sum(axis=0).reshape(())
        rows = np.moveaxis(self._c, _axis(axis, self.ndim), 0)
        flat = rows.reshape(rows.shape[0], -1)
        acc = group_products(flat, [0] * flat.shape[0], 1, self._modulus)
        return self._like(objects(self._fill(acc, self._masked), rows.shape[1:]))

    def group_sum(self, group_ids: Any, n_groups: int) -> Self:
        """Sums of the rows of each group: ``out[g] = Σ_{i: ids[i]=g} self[i]`` (histograms).

        ``group_ids`` is an integer array of shape ``(N,)`` with values in ``[0, n_groups)``;
        the result has shape ``(n_groups,) + self.shape[1:]``.
        """
        ids = np.asarray(group_ids)
        if self.ndim == 0 or ids.shape != (self.shape[0],) or ids.dtype.kind not in "iu":
            raise InputError("group_ids must be an integer array of shape (N,)",
                             expected=self.shape[:1], got=ids.shape)
        if n_groups < 1 or (ids.size and (ids.min() < 0 or ids.max() >= n_groups)):
            raise InputError("group ids must lie in [0, n_groups)", n_groups=n_groups)
        flat = self._c.reshape(self.shape[0], -1)
        acc = group_products(flat, ids.tolist(), n_groups, self._modulus)
        return self._like(objects(self._fill(acc, self._masked), (n_groups, *self.shape[1:])))

    def xt_dot(self, X: Any, *, precision: int = DEFAULT_MUL_PRECISION,
               executor: Executor | None = None) -> Self:
        """``X.T @ self`` for a plaintext ``X`` of shape ``(N, F)`` and ``self`` of shape ``(N,)``.

        Float ``X`` is encoded with ``precision`` bits (absolute error of each output at most
        ``2**-(precision+1) · Σ|d_i|``) and the scale grows by ``precision``; integer ``X`` is
        exact. Row chunks run on ``executor`` (each ciphertext crosses a process boundary once
        and is inverted in the worker that owns it); the bucket multi-exponentiation is in
        :mod:`~coalition.crypto.paillier.multiexp`.
        """
        mat = np.asarray(X)
        if self.ndim != 1 or mat.ndim != 2 or mat.shape[0] != self.shape[0]:
            raise InputError("xt_dot needs X of shape (N, F) and an array of shape (N,)",
                             x_shape=mat.shape, enc_shape=self.shape)
        bits = 0 if is_integer_valued(mat) else precision
        K = scaled_exponents(mat, bits)
        cols = xt_dot_products(self._c.tolist(), K, self._modulus, executor)
        return self._like(objects(self._fill(cols, self._masked), (mat.shape[1],)),
                          scale=self._scale + bits)

    def rerandomize(self, executor: Executor | None = None, *, uniform: bool = False) -> Self:
        """Same plaintexts, each ciphertext multiplied by a fresh mask; always masked (the
        scheme's subclass says what ``uniform`` changes)."""
        out = self._remask(self._c.ravel().tolist(), uniform, executor)
        return self._like(objects(out, self.shape), masked=True)

    @classmethod
    def concatenate(cls, arrays: Sequence[A], axis: int = 0) -> A:
        """Join arrays under one key along ``axis`` (scales are lifted to the largest)."""
        return concatenate(arrays, axis=axis)


def concatenate(arrays: Sequence[A], axis: int = 0) -> A:
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
    return type(first)(first.public_key, joined, scale, all(a.is_masked for a in arrays))


def _axis(axis: int, ndim: int) -> int:
    if not -ndim <= axis < ndim:
        raise InputError("axis out of range", axis=axis, ndim=ndim)
    return axis % ndim
