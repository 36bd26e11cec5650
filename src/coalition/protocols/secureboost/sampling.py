"""Row sampling per tree: none, uniform subsampling, or GOSS.

GOSS (Ke et al., "LightGBM", NeurIPS 2017 §3): keep the ``a·N`` rows with the largest
``|g|``, draw ``b·N`` of the others uniformly and weight them by ``(1-a)/b`` so gradient sums
stay unbiased. Only the guest samples; hosts learn which rows were drawn (the encrypted
gradients arrive for those rows only).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from coalition.protocols.secureboost.spec import SecureBoostParams

__all__ = ["sample_rows", "sample_size"]

FloatArray = np.ndarray[Any, np.dtype[np.float64]]


def sample_size(params: SecureBoostParams, n: int) -> int:
    """How many rows :func:`sample_rows` draws from ``n`` (fixed: lets the guest pre-encrypt)."""
    if params.sampling == "random":
        return max(1, round(params.subsample * n))
    if params.sampling == "goss":
        top_k = max(1, round(params.goss_top_rate * n))
        return min(n, top_k + max(1, round(params.goss_other_rate * n)))
    return n


def sample_rows(params: SecureBoostParams, g: FloatArray,
                rng: np.random.Generator) -> tuple[np.ndarray[Any, np.dtype[np.int64]], FloatArray]:
    """Sorted sampled row indices and each one's gradient/hessian multiplier."""
    n = g.size
    if params.sampling == "random":
        k = max(1, round(params.subsample * n))
        rows = np.sort(rng.choice(n, k, replace=False)).astype(np.int64)
        return rows, np.ones(rows.size)
    if params.sampling == "goss":
        top_k = max(1, round(params.goss_top_rate * n))
        other_k = max(1, round(params.goss_other_rate * n))
        order = np.argsort(-np.abs(g), kind="stable")
        top, rest = order[:top_k], order[top_k:]
        other = rng.choice(rest, min(other_k, rest.size), replace=False)
        rows = np.concatenate([top, other]).astype(np.int64)
        mult = np.concatenate([np.ones(top.size),
                               np.full(other.size, (1 - params.goss_top_rate)
                                       / params.goss_other_rate)])
        order2 = np.argsort(rows)
        return rows[order2], mult[order2]
    return np.arange(n, dtype=np.int64), np.ones(n)
