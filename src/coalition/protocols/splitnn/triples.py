"""Correlated randomness for the interactive layer: seed-expanded Beaver matrix triples.

The three products that cross between guest and host each take one matrix from each party
(Mohassel & Zhang, "SecureML", IEEE S&P 2017, §4.2, as two-party matrix triples)::

    1  forward   α_h (host, B×d)  · U_g  (guest, d×k)   revealed to the guest (with α_h·U_h)
    2  backward  α_hᵀ (host, d×B) · δ'   (guest, B×k)   stays shared: the step of W_h
    3  backward  δ   (guest, B×k) · U_hᵀ (host, k×d)    revealed to the host (with δ·U_gᵀ)
    4  finish    U_h (host, d×k)  · R    (guest, k×k)   revealed to the host (with U_g·R)

For ``X`` (left party L) times ``Y`` (right party R) with a triple ``(A, B, C = A·B)``: L
knows ``A``, R knows ``B``, and they hold ``C_L + C_R = C``. L opens ``E = X − A``, R opens
``F = Y − B``; then ``X·Y = (A·F + C_L) + (E·Y + C_R)``, L's share on the left, R's on the
right. ``A``, ``B`` and ``C_L`` come from the owner's seed through the suite's PRG
(:class:`coalition.crypto.prg.Stream`: HKDF-SHA256 → ChaCha20 under ``standard``, bit-identical
to before suites existed; HKDF-SM3 → SM4-CTR under ``sm``), so the dealer and the owner MUST run
the same suite (the job's ``suite``, checked in SETUP under ``sm``); the dealer sends R only ``C_R = A·B − C_L``, as the
SS linear model's dealer does (SPDZ2k/SEMI2K "trusted third party" mode).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from coalition.core.errors import CryptoError, ProtocolError
from coalition.crypto.prg import Stream, purpose_info
from coalition.crypto.suite import CryptoSuite
from coalition.protocols.linear.fixedpoint import Ring

__all__ = ["FINISH_EPOCH", "Product", "Shares", "Triple", "batch_shapes", "correction",
           "new_seed", "triple"]

SALT = b"coalition/split-nn/correlated/v1"
LABEL = b"split-nn"
#: The epoch index of the finishing product's triple (never a training epoch).
FINISH_EPOCH = (1 << 32) - 1


class Product(IntEnum):
    """The three cross products of one batch."""

    FORWARD = 1
    WEIGHT_STEP = 2
    HOST_GRADIENT = 3
    FINISH = 4


class _Part(IntEnum):
    A = 1
    B = 2
    C = 3


def new_seed() -> int:
    """A fresh 128-bit seed from the OS CSPRNG."""
    return secrets.randbits(128)


class Shares:
    """Uniform ring elements expanded from one party's secret 128-bit seed with the PRG of
    ``suite``."""

    def __init__(self, seed: int, suite: CryptoSuite | str = CryptoSuite.STANDARD) -> None:
        if not 0 <= seed < 1 << 128:
            raise CryptoError("split-NN seed must be a 128-bit integer")
        self._stream = Stream(seed.to_bytes(16, "big"), SALT, suite)

    def ring(self, product: Product, part: int, epoch: int, batch: int,
             shape: tuple[int, int]) -> Ring:
        """``shape`` uniform elements of Z_2^64 for one part of one triple."""
        info = purpose_info(LABEL, int(product), part, epoch, batch)
        return self._stream.words(info, shape[0] * shape[1]).reshape(shape)


def batch_shapes(product: Product, b: int, d: int, k: int
                 ) -> tuple[tuple[int, int], tuple[int, int]]:
    """Shapes of the left and right operands of ``product`` for a batch of ``b`` rows."""
    return {Product.FORWARD: ((b, d), (d, k)),
            Product.WEIGHT_STEP: ((d, b), (b, k)),
            Product.HOST_GRADIENT: ((b, k), (k, d)),
            Product.FINISH: ((d, k), (k, k))}[product]


@dataclass(frozen=True)
class Triple:
    """One party's part of a triple: its mask (A on the left, B on the right) and C share."""

    mask: Ring
    c: Ring


def triple(shares: Shares, product: Product, epoch: int, batch: int, *, left: bool,
           shapes: tuple[tuple[int, int], tuple[int, int]], correction: object = None) -> Triple:
    """A party's triple part: all from its seed (left), or its mask plus the dealer's
    correction ``C_R`` (right)."""
    (m, n), (_, p) = shapes
    if left:
        return Triple(shares.ring(product, _Part.A, epoch, batch, (m, n)),
                      shares.ring(product, _Part.C, epoch, batch, (m, p)))
    if not isinstance(correction, np.ndarray) or correction.dtype != np.uint64 \
            or correction.shape != (m, p):
        raise ProtocolError("malformed dealer correction", field=product.name.lower())
    return Triple(shares.ring(product, _Part.B, epoch, batch, shapes[1]), correction)


def correction(left: Shares, right: Shares, product: Product, epoch: int, batch: int, *,
               shapes: tuple[tuple[int, int], tuple[int, int]]) -> Ring:
    """The dealer's ``C_R = A·B − C_L`` for the right party."""
    (m, n), (_, p) = shapes
    a = left.ring(product, _Part.A, epoch, batch, (m, n))
    c_left = left.ring(product, _Part.C, epoch, batch, (m, p))
    b = right.ring(product, _Part.B, epoch, batch, shapes[1])
    return np.asarray(a @ b - c_left, dtype=np.uint64)
