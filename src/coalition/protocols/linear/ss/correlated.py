"""Correlated randomness for the secret-shared model: seed-expanded Beaver matrix triples.

Every random share a computing party needs is expanded locally from a secret 128-bit seed by a
CSPRNG: one key per ``(purpose, epoch, batch)`` by HKDF-SHA256 (RFC 5869) from the seed, its
ChaCha20 keystream (RFC 8439) as the ring elements (:class:`coalition.crypto.prg.Stream`, the
construction SecAgg uses); HKDF-SM3 and SM4-CTR under the ``sm`` crypto suite
(``LinearParams.suite``). A party that sees some expanded shares (opened masks ``E = X − U``,
for instance) learns nothing about the other streams of the seed, which a statistical generator
such as Philox, whose key is the seed itself, does not promise. So the dealer sends party 0 only its
seed, and party 1 its seed plus the one correction per triple that cannot be random
(``c1 = a·b − c0``): a pseudo-random-share dealer as in SPDZ2k/SEMI2K's "trusted third party"
mode, which halves and often removes dealer bandwidth.

Triples per mini-batch ``B`` of rows (Mohassel & Zhang, "SecureML", §4.2): the feature matrix is
masked once, ``E = X − U`` opened at set-up and reused, because ``U`` only ever masks the same
``X``; each batch uses fresh ``V`` (masks the weights, forward ``X_B·w``), ``V'`` (masks the
residual, backward ``X_B^T·d``) and a square pair ``(A, ΣA²)`` (masks ``z − t`` for the loss).
With ``sigmoid: poly3`` each batch also gets elementwise Beaver material for ``z³``: a square
pair ``(A_σ, A_σ²)`` (opens ``z − A_σ``, gives ``z²``) and a triple ``(B_σ, B_σ·A_σ)`` (opens
``z² − B_σ``, gives ``z²·z``).
With ``task: poisson`` (:mod:`.poisson`) each batch gets one square pair ``(A_k, A_k²)`` per
squaring of the secure exponential (:mod:`.exp`), and the loss pair becomes an inner-product
triple ``(A, B, Σ A·B)`` (opens ``y − A`` and ``η − B``, gives ``Σ y·η`` for the deviance).
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
    SIG_A = 11
    SIG_A2 = 12
    SIG_B = 13
    SIG_C = 14
    EXP_A = 15
    EXP_A2 = 16
    DOT_B = 17


def new_seed() -> int:
    """A fresh 128-bit seed from the OS CSPRNG."""
    return secrets.randbits(128)


SALT = b"coalition/ss-lr/correlated/v2"  # HKDF salt: domain of every SS-LR stream
LABEL = b"ss-lr"


class ShareStream:
    """Deterministic uniform ring elements expanded from one secret 128-bit seed.

    The stream of ``(purpose, *index)`` is ``ChaCha20(HKDF-SHA256(seed, SALT,
    purpose_info(LABEL, purpose, *index)))`` read as little-endian ``uint64`` words, or
    ``SM4-CTR(HKDF-SM3(...))`` under the ``sm`` suite (every party of a job uses the job's).
    """

    def __init__(self, seed: int, suite: CryptoSuite | str = CryptoSuite.STANDARD) -> None:
        if not 0 <= seed < 1 << 128:
            raise CryptoError("share-stream seed must be a 128-bit integer")
        self._stream = Stream(seed.to_bytes(16, "big"), SALT, suite)

    def ring(self, purpose: Purpose, *index: int, shape: tuple[int, ...] = ()) -> Ring:
        """Uniform elements of Z_2^64 for ``(purpose, *index)``."""
        size = int(np.prod(shape)) if shape else 1
        raw = self._stream.words(purpose_info(LABEL, int(purpose), *index), size)
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
    cubic: tuple[Ring, Ring, Ring, Ring] | None = None  # poly3: (A_σ, A_σ², B_σ, B_σ·A_σ)
    b: Ring | None = None  # poisson: (B,) masks η; then s = Σ a·b (an inner-product triple)
    exp: tuple[tuple[Ring, Ring], ...] = ()  # poisson: (A_k, A_k²) per squaring of exp


def party_triples(stream: ShareStream, epoch: int, batch: int, b: int, d: int, *,
                  correction: dict[str, Ring] | None, cubic: bool = False,
                  squarings: int = 0) -> BatchTriples:
    """Party shares: all from the seed (party 0) or with the dealer's corrections (party 1).

    ``squarings > 0`` (poisson): that many exp square pairs and an inner-product triple.
    """

    def part(p: Purpose, shape: tuple[int, ...]) -> Ring:
        return stream.ring(p, epoch, batch, shape=shape)

    def corrected(name: str, p: Purpose, shape: tuple[int, ...]) -> Ring:
        if correction is None:
            return part(p, shape)
        value = correction.get(name) if isinstance(correction, dict) else None
        if not isinstance(value, np.ndarray) or value.dtype != np.uint64 or value.shape != shape:
            raise ProtocolError("malformed dealer correction", field=name)
        return value

    extra = None
    if cubic:
        extra = (part(Purpose.SIG_A, (b,)), corrected("sa2", Purpose.SIG_A2, (b,)),
                 part(Purpose.SIG_B, (b,)), corrected("sc", Purpose.SIG_C, (b,)))
    dot_b: Ring | None = None
    pairs: tuple[tuple[Ring, Ring], ...] = ()
    if squarings:
        dot_b = part(Purpose.DOT_B, (b,))
        a2 = corrected("ea2", Purpose.EXP_A2, (squarings, b))
        pairs = tuple((stream.ring(Purpose.EXP_A, epoch, batch, k, shape=(b,)), a2[k])
                      for k in range(squarings))
    return BatchTriples(v=part(Purpose.V, (d,)), z=corrected("z", Purpose.Z, (b,)),
                        vt=part(Purpose.VT, (b,)), zt=corrected("zt", Purpose.ZT, (d,)),
                        a=part(Purpose.A, (b,)), s=corrected("s", Purpose.S, ()), cubic=extra,
                        b=dot_b, exp=pairs)


def dealer_corrections(s0: ShareStream, s1: ShareStream, u: Ring, rows: np.ndarray, *,
                       epoch: int, batch: int, cubic: bool = False,
                       squarings: int = 0) -> dict[str, Ring]:
    """Party 1's non-random shares for one batch, ``u`` the full mask matrix ``U0 + U1``."""
    b, d = len(rows), u.shape[1]
    t0 = party_triples(s0, epoch, batch, b, d, correction=None, cubic=cubic,
                       squarings=squarings)
    v = t0.v + s1.ring(Purpose.V, epoch, batch, shape=(d,))
    vt = t0.vt + s1.ring(Purpose.VT, epoch, batch, shape=(b,))
    a = t0.a + s1.ring(Purpose.A, epoch, batch, shape=(b,))
    ub = u[rows]
    with np.errstate(over="ignore"):
        other = a if t0.b is None else t0.b + s1.ring(Purpose.DOT_B, epoch, batch, shape=(b,))
        out = {"z": ub @ v - t0.z, "zt": ub.T @ vt - t0.zt,
               "s": np.asarray(a @ other - t0.s, dtype=np.uint64)}
        if t0.exp:
            ea = np.stack([a0 + s1.ring(Purpose.EXP_A, epoch, batch, k, shape=(b,))
                           for k, (a0, _) in enumerate(t0.exp)])
            out["ea2"] = ea * ea - np.stack([a2 for _, a2 in t0.exp])
        if t0.cubic is not None:
            sa0, sa2_0, sb0, sc0 = t0.cubic
            sa = sa0 + s1.ring(Purpose.SIG_A, epoch, batch, shape=(b,))
            sb = sb0 + s1.ring(Purpose.SIG_B, epoch, batch, shape=(b,))
            out["sa2"] = sa * sa - sa2_0
            out["sc"] = sb * sa - sc0
        return out


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
