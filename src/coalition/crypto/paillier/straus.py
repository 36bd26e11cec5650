"""``X.T @ [[d]]`` for many columns at once: Straus subset tables shared by every column.

Straus's simultaneous exponentiation ("Addition chains of vectors", Amer. Math. Monthly 71,
1964; Handbook of Applied Cryptography, Alg. 14.88) groups the bases ``k`` at a time and
precomputes the ``2^k`` products of each group's subsets. Here the bases are the ciphertexts
and every column ``j`` of ``X`` is one exponent vector, so one set of tables serves all
``F`` columns: for each column and bit ``t``, the ``k`` bits ``X[g·k + r, j]_t`` index group
``g``'s table. Cost ``≈ (N/k)·2^k + F·(b+1)·N/k + 2F·b`` multiplications, against
``F·ceil(b/w)·(N + 2^(w+1))`` for one bucket multi-exponentiation per column
(:mod:`.multiexp`) — better when ``F·b`` is large next to ``N`` (a mini-batch gradient).

Signs: exponents are shifted by ``O = 2^b`` so that all are non-negative, and the shared
factor ``(Π_i c_i)^O`` is divided out once at the end (one inversion in all, instead of one
per row that has a negative entry).
"""

from __future__ import annotations

import gmpy2
import numpy as np
import numpy.typing as npt
from gmpy2 import mpz

from coalition.core.errors import CryptoError

__all__ = ["best_group", "straus_cost", "straus_xt_dot"]

_MAX_ENTRIES = 1 << 14  # table entries per row block (≤ 8 MB at 2048-bit keys)


def straus_cost(rows: int, cols: int, bits: int, k: int) -> int:
    """Multiplications of :func:`straus_xt_dot` with groups of ``k`` rows."""
    groups = -(-rows // k)
    return groups * ((1 << k) - k - 1) + cols * (bits + 1) * groups + 2 * cols * (bits + 1)


def best_group(rows: int, cols: int, bits: int) -> int:
    """Group size minimising :func:`straus_cost`."""
    return min(range(2, 11), key=lambda k: straus_cost(rows, cols, bits, k))


def straus_xt_dot(cs: list[mpz], K: npt.NDArray[np.int64], n2: mpz, k: int
                  ) -> list[mpz | None]:
    """``[Π_i cs[i]^K[i, j] mod n²  for j]`` (``None`` where a column is all 0).

    ``K`` is int64 with ``|K| < 2^61``; ``cs`` are units mod ``n2``.
    """
    rows, cols = K.shape
    bits = int(np.abs(K).max()).bit_length() if K.size else 0
    if bits == 0:
        return [None] * cols
    offset = 1 << bits
    Kp = K + np.int64(offset)  # in [1, 2^(bits+1))
    width = bits + 1
    block = max(k, (_MAX_ENTRIES >> k) * k)
    D: list[mpz] | None = None
    for start in range(0, rows, block):
        part = _bit_products(cs[start:start + block], Kp[start:start + block], n2, k, width)
        D = part if D is None else [a * b % n2 for a, b in zip(D, part, strict=True)]
    if D is None:
        return [None] * cols
    total = mpz(1)
    for c in cs:
        total = total * c % n2
    try:
        correction = gmpy2.powmod(total, -offset, n2)
    except ZeroDivisionError as exc:
        raise CryptoError("ciphertext is not invertible mod n²") from exc
    nonzero = np.any(K != 0, axis=0).tolist()
    out: list[mpz | None] = []
    for j in range(cols):
        if not nonzero[j]:
            out.append(None)
            continue
        col = D[j * width:(j + 1) * width]
        acc = col[-1]
        for t in range(width - 2, -1, -1):  # Horner over bit planes, top down
            acc = acc * acc % n2 * col[t] % n2
        out.append(acc * correction % n2)
    return out


def _bit_products(cs: list[mpz], Kp: npt.NDArray[np.int64], n2: mpz, k: int, width: int
                  ) -> list[mpz]:
    """``D[j·width + t] = Π_i cs[i]^(bit t of Kp[i, j])`` for one row block."""
    rows, cols = Kp.shape
    groups = -(-rows // k)
    pad = groups * k - rows
    if pad:
        Kp = np.vstack([Kp, np.zeros((pad, cols), dtype=np.int64)])
    # idx[g, j, t] = Σ_r bit_t(Kp[g·k + r, j]) << r
    planes = (Kp.reshape(groups, k, cols)[..., None] >> np.arange(width, dtype=np.int64)) & 1
    idx = (planes << np.arange(k, dtype=np.int64)[None, :, None, None]).sum(axis=1)
    idx = idx.reshape(groups, cols * width)
    D: list[mpz] | None = None
    for g in range(groups):
        bases = cs[g * k:(g + 1) * k]
        table = [mpz(1)] * (1 << len(bases))
        for r, b in enumerate(bases):
            step = 1 << r
            table[step] = b
            for low in range(1, step):
                table[step | low] = table[low] * b % n2
        picks = idx[g].tolist()
        D = ([table[i] for i in picks] if D is None
             else [d * table[i] % n2 for d, i in zip(D, picks, strict=True)])
    return D if D is not None else [mpz(1)] * (cols * width)
