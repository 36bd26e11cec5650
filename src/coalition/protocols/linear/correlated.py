"""Correlated randomness for the secret-shared model: seed-expanded Beaver matrix triples.

Every random share a computing party needs is expanded locally from a 128-bit seed with the
Philox counter-based generator, keyed by ``(seed, purpose, epoch, batch)`` (Salmon et al.,
"Parallel random numbers: as easy as 1, 2, 3", SC 2011). So the dealer sends party 0 only its
seed, and party 1 its seed plus the one correction per triple that cannot be random
(``c1 = a·b − c0``): a pseudo-random-share dealer as in SPDZ2k/SEMI2K's "trusted third party"
mode, which halves and often removes dealer bandwidth.

Triples per mini-batch ``B`` of rows (Mohassel & Zhang, "SecureML", §4.2): the feature matrix is
masked once, ``E = X − U`` opened at set-up and reused, because ``U`` only ever masks the same
``X``; each batch uses fresh ``V`` (masks the weights, forward ``X_B·w``), ``V'`` (masks the
residual, backward ``X_B^T·d``) and a square pair ``(A, ΣA²)`` (masks ``z − t`` for the loss).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from coalition.protocols.linear.fixedpoint import Ring

__all__ = ["BatchTriples", "Purpose", "ShareStream", "dealer_corrections", "dw_pair",
           "dw_correction", "new_seed", "party_triples"]


class Purpose(IntEnum):
    """Domain separation of the expanded streams."""

    U = 1
    V = 2
    Z = 3
    VT = 4
    ZT = 5
    A = 6
    S = 7
    INPUT = 8
    AW = 9
    SW = 10


def new_seed() -> int:
    """A fresh 128-bit seed from the OS CSPRNG."""
    return secrets.randbits(128)


class ShareStream:
    """Deterministic uniform ring elements expanded from one seed."""

    def __init__(self, seed: int) -> None:
        self._words = [(seed >> (32 * i)) & 0xFFFFFFFF for i in range(4)]

    def ring(self, purpose: Purpose, *index: int, shape: tuple[int, ...] = ()) -> Ring:
        """Uniform elements of Z_2^64 for ``(purpose, *index)``."""
        seq = np.random.SeedSequence([*self._words, int(purpose), *index])
        gen = np.random.Philox(seq)
        size = int(np.prod(shape)) if shape else 1
        raw = gen.random_raw(size).astype(np.uint64)
        return raw.reshape(shape) if shape else raw.reshape(())


@dataclass(frozen=True)
class BatchTriples:
    """One party's share of the correlated randomness of one mini-batch."""

    v: Ring  # (D,)   masks w in X_B·w; z = U_B·v
    z: Ring  # (B,)
    vt: Ring  # (B,)  masks d in X_B^T·d; zt = U_B^T·vt
    zt: Ring  # (D,)
    a: Ring  # (B,)   square pair for the loss: s = Σ a²
    s: Ring  # ()


def party_triples(stream: ShareStream, epoch: int, batch: int, b: int, d: int, *,
                  correction: dict[str, Ring] | None) -> BatchTriples:
    """Party shares: all from the seed (party 0) or with the dealer's corrections (party 1)."""

    def part(p: Purpose, shape: tuple[int, ...]) -> Ring:
        return stream.ring(p, epoch, batch, shape=shape)

    def corrected(name: str, p: Purpose, shape: tuple[int, ...]) -> Ring:
        return part(p, shape) if correction is None else correction[name]

    return BatchTriples(v=part(Purpose.V, (d,)), z=corrected("z", Purpose.Z, (b,)),
                        vt=part(Purpose.VT, (b,)), zt=corrected("zt", Purpose.ZT, (d,)),
                        a=part(Purpose.A, (b,)), s=corrected("s", Purpose.S, ()))


def dealer_corrections(s0: ShareStream, s1: ShareStream, u: Ring, rows: np.ndarray, *,
                       epoch: int, batch: int) -> dict[str, Ring]:
    """Party 1's non-random shares for one batch, ``u`` the full mask matrix ``U0 + U1``."""
    b, d = len(rows), u.shape[1]
    t0 = party_triples(s0, epoch, batch, b, d, correction=None)
    v = t0.v + s1.ring(Purpose.V, epoch, batch, shape=(d,))
    vt = t0.vt + s1.ring(Purpose.VT, epoch, batch, shape=(b,))
    a = t0.a + s1.ring(Purpose.A, epoch, batch, shape=(b,))
    ub = u[rows]
    with np.errstate(over="ignore"):
        return {"z": ub @ v - t0.z, "zt": ub.T @ vt - t0.zt,
                "s": np.asarray(a @ a - t0.s, dtype=np.uint64)}


def dw_pair(stream: ShareStream, epoch: int, d: int, correction: Ring | None
            ) -> tuple[Ring, Ring]:
    """Square pair ``(A_w, Σ A_w²)`` shares that mask the epoch's weight change."""
    a = stream.ring(Purpose.AW, epoch, shape=(d,))
    s = stream.ring(Purpose.SW, epoch, shape=()) if correction is None else correction
    return a, s


def dw_correction(s0: ShareStream, s1: ShareStream, epoch: int, d: int) -> Ring:
    """Party 1's share of ``Σ A_w²``."""
    a0, c0 = dw_pair(s0, epoch, d, None)
    a = a0 + s1.ring(Purpose.AW, epoch, shape=(d,))
    with np.errstate(over="ignore"):
        return np.asarray(a @ a - c0, dtype=np.uint64)
