"""Secure exponential on additive shares over Z_2^64: the limit approximation of CrypTen.

``exp(x) ≈ (1 + x/2^n)^(2^n)``: a public shift gives ``1 + x/2^n``, then ``n`` squarings, each
one elementwise Beaver multiplication (Beaver, CRYPTO 1991) with a dealt square pair
``(A, A²)``: open ``e = v − A``, then ``v² = e² + 2e·A + A²``, truncated (SecureML local
truncation, :mod:`..fixedpoint`). This is CrypTen's ``exp`` (Knott et al., "CrypTen: Secure
Multi-Party Computation Meets Machine Learning", NeurIPS 2021; its default is also
``n = 8`` iterations). Each squaring opens one value masked by a fresh uniform ring element, so
the two parties learn nothing; the cost is ``n`` exchanges of one ring element per input.

**Precision schedule.** ``x`` arrives with ``frac_bits = f`` fractional bits; read as
``x/2^n`` it has ``f + n``, so ``1 + x/2^n`` is exact before it is brought to the working
precision ``F_0``. Squaring ``k`` takes ``v_{k−1}`` at ``F_{k−1}`` bits to ``v_k`` at ``F_k``
(``F_n = f``). A share product of magnitude ``2^l`` is truncated wrongly with probability
below ``2^(l + 1 − 64)`` (SecureML, Theorem 1), and a wrong truncation by ``d`` bits is off by
about ``2^(64 − d)`` units of the result: garbage. So every ``F_{k−1}`` is the largest precision (at most
:data:`MAX_WORK_BITS`) that keeps the product ``v_k·2^(2F_{k−1})`` below ``2^PRODUCT_BITS``
for every input up to :data:`EXP_HIGH`: precision is high while ``v`` is near 1 and drops in
the last squarings, where ``v`` is large. With ``n = 8``, ``f = 14``: ``F = 18, 18, 18, 18,
17, 17, 15, 12, 14``; each truncation fails with probability below ``2^-26``.

**Accuracy (measured, documented bound).** For ``x`` in ``[EXP_LOW, EXP_HIGH] = [−64, 8]``::

    |exp~(x) − e^x| ≤ |(1 + x/2^n)^(2^n) − e^x| + EPS_REL·e^x + EPS_ABS

The first term is the limit approximation's own error, relative ``≈ x²/2^(n+1)`` (0.2 % at
``|x| = 1``, 3 % at ``|x| = 4``, 12 % at ``|x| = 8``; always an underestimate); the others
bound the fixed-point error (random, mean ≈ 0): measured at most 1.6e-3 relative for
``x ≥ 0`` and 1.4e-3 absolute below, against ``EPS_REL = 2^-7``, ``EPS_ABS = 2^-8``
(``tests/protocols/linear/test_ss_exp.py`` checks the bound on 20,000 points).

**Outside the range** nothing is clipped (a clip needs a secure comparison). Above
``EXP_HIGH`` the result stays an underestimate by the limit error (24 % at ``x = 12``) while the
products pass the budget, so a truncation fails with growing probability (2^-22 per element at
``x = 12``, 2^-10 at ``x = 20``); from ``x ≈ 27`` the last product passes ``2^63`` and the ring
wraps every time. Below ``−2^n`` the base ``1 + x/2^n`` is negative: down to ``−2^(n+1)`` the
result lies in ``[0, 1]``, further down the powers wrap. A wrap or a failed truncation leaves
garbage of magnitude about ``2^36`` or more, never a plausible value: callers must detect it
from what they open. SS Poisson does (:mod:`.poisson`: the guest's deviance ceiling turns it
into :class:`~coalition.protocols.linear.guard.TrainingDivergedError`, ``model.diverged``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from coalition.protocols.linear.fixedpoint import Ring, truncate

__all__ = ["EPS_ABS", "EPS_REL", "EXP_HIGH", "EXP_LOW", "EXP_SQUARINGS", "MAX_WORK_BITS",
           "PRODUCT_BITS", "Opener", "exp_error_bound", "precisions", "secure_exp"]

#: Squarings ``n`` (the approximation is ``(1 + x/2^n)^(2^n)``), CrypTen's default.
EXP_SQUARINGS = 8
#: The documented input range.
EXP_LOW, EXP_HIGH = -64.0, 8.0
#: Largest working precision (fractional bits) inside the exponential.
MAX_WORK_BITS = 18
#: Share products stay below ``2^PRODUCT_BITS`` (truncation failure below 2^-26 each).
PRODUCT_BITS = 37
#: Fixed-point error allowance of the documented bound (relative and absolute).
EPS_REL, EPS_ABS = 2.0**-7, 2.0**-8

#: ``open(step, my_masked_share)`` -> the opened value (both parties' shares summed).
Opener = Callable[[int, Ring], Ring]


def precisions(frac_bits: int, squarings: int = EXP_SQUARINGS) -> tuple[int, ...]:
    """Working precisions ``F_0 … F_n`` (``F_n = frac_bits``), see the module docstring."""
    m = 2**squarings
    out = []
    for k in range(squarings):
        # v_{k+1} = exp(x·2^(k+1)/m) at its largest; the product of squaring k+1 must fit
        peak = math.log2(math.e) * EXP_HIGH * 2 ** (k + 1) / m
        out.append(min(MAX_WORK_BITS, math.floor((PRODUCT_BITS - peak) / 2)))
    out.append(frac_bits)
    return tuple(out)


def exp_error_bound(x: ArrayLike, squarings: int = EXP_SQUARINGS) -> NDArray[np.float64]:
    """The documented bound on ``|secure_exp(x) − e^x|`` for ``x`` in the input range."""
    arr = np.asarray(x, dtype=np.float64)
    m = 2.0**squarings
    limit = np.abs((1.0 + arr / m) ** m - np.exp(arr))
    bound: NDArray[np.float64] = limit + EPS_REL * np.exp(arr) + EPS_ABS
    return bound


def secure_exp(share: Ring, pairs: Sequence[tuple[Ring, Ring]], open_masked: Opener,
               party: int, frac_bits: int) -> Ring:
    """Share of ``exp(x)`` held by this party (``frac_bits`` fractional bits), from its share of
    ``x`` (same scale), using one dealt square pair ``(A_k, A_k²)`` per squaring.

    ``party`` is 0 or 1; party 0 adds the public constants. ``open_masked(k, mine)`` sends
    ``mine`` (this party's share of ``v − A_k``) and returns the opened ``v − A_k``.
    """
    n = len(pairs)
    work = precisions(frac_bits, n)
    with np.errstate(over="ignore"):
        v = np.asarray(share, dtype=np.uint64)
        shift = frac_bits + n - work[0]  # x at f bits is x/2^n at f + n bits
        if shift > 0:
            v = truncate(v, shift, party)
        elif shift < 0:
            v = v << np.uint64(-shift)
        if party == 0:
            v = v + np.uint64(1 << work[0])
        for k, (a, a2) in enumerate(pairs):
            e = open_masked(k, v - a)
            sq = 2 * e * a + a2
            if party == 0:
                sq = sq + e * e
            v = truncate(sq, 2 * work[k] - work[k + 1], party)
    return v
