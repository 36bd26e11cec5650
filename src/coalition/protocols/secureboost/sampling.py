"""Row sampling per tree: none, uniform subsampling, or GOSS.

GOSS (Ke et al., "LightGBM", NeurIPS 2017 §3): keep the ``a·N`` rows with the largest
``|g|``, draw ``b·N`` of the others uniformly and weight them by ``(1-a)/b`` so gradient sums
stay unbiased. Only the guest samples; hosts learn which rows were drawn (the encrypted
gradients arrive for those rows only).

The uniform draws are the rows with the smallest words of a stream the guest keys from
``secrets`` (:class:`RowSampler` over :class:`coalition.crypto.prg.Stream`, one stream per
tree): never from a seed in the job, which its initiator picks and every party reads. The
stream is the job's crypto suite's (``SecureBoostParams.suite``): HKDF-SHA256 and ChaCha20
under ``standard`` (bit-identical to earlier releases for a given key), HKDF-SM3 and SM4-CTR
under ``sm``.
"""

from __future__ import annotations

import secrets
from typing import Any

import numpy as np
from numpy.typing import NDArray

from coalition.crypto.prg import Stream, purpose_info
from coalition.crypto.suite import CryptoSuite
from coalition.protocols.secureboost.spec import SecureBoostParams

__all__ = ["SAMPLING_SALT", "RowSampler", "sample_rows", "sample_size"]

SAMPLING_SALT = b"coalition/secureboost/sampling/v1"

FloatArray = np.ndarray[Any, np.dtype[np.float64]]


class RowSampler:
    """The guest's secret words for row sampling: draw ``d`` (1, 2, ...) is the stream
    ``purpose_info(b"rows", d)`` of one key from ``secrets`` (``key`` only for known-answer
    tests) under the suite's PRG."""

    def __init__(self, suite: CryptoSuite | str = CryptoSuite.STANDARD,
                 key: bytes | None = None) -> None:
        self._stream = Stream(secrets.token_bytes(32) if key is None else key, SAMPLING_SALT,
                              suite)
        self._draws = 0

    def next_words(self, n: int) -> NDArray[np.uint64]:
        """One uniform 64-bit word per row, for the next tree."""
        self._draws += 1
        return self._stream.words(purpose_info(b"rows", self._draws), n)


def sample_size(params: SecureBoostParams, n: int) -> int:
    """How many rows :func:`sample_rows` draws from ``n`` (fixed: lets the guest pre-encrypt)."""
    if params.sampling == "random":
        return max(1, round(params.subsample * n))
    if params.sampling == "goss":
        top_k = max(1, round(params.goss_top_rate * n))
        return min(n, top_k + max(1, round(params.goss_other_rate * n)))
    return n


def _smallest(words: NDArray[np.uint64], k: int) -> NDArray[np.intp]:
    """Positions of the ``k`` smallest words: a uniform ``k``-subset for independent uniform
    words (ties, at 2^-64 per pair, break by position)."""
    return np.argsort(words, kind="stable")[:k]


def sample_rows(params: SecureBoostParams, g: FloatArray,
                words: NDArray[np.uint64]) -> tuple[np.ndarray[Any, np.dtype[np.int64]], FloatArray]:
    """Sorted sampled row indices and each one's gradient/hessian multiplier; ``words`` holds
    one secret uniform 64-bit word per row."""
    n = g.size
    if words.shape != (n,):
        raise ValueError("sample_rows needs one random word per row")
    if params.sampling == "random":
        k = max(1, round(params.subsample * n))
        rows = np.sort(_smallest(words, k)).astype(np.int64)
        return rows, np.ones(rows.size)
    if params.sampling == "goss":
        top_k = max(1, round(params.goss_top_rate * n))
        other_k = max(1, round(params.goss_other_rate * n))
        order = np.argsort(-np.abs(g), kind="stable")
        top, rest = order[:top_k], order[top_k:]
        other = rest[_smallest(words[rest], min(other_k, rest.size))]
        rows = np.concatenate([top, other]).astype(np.int64)
        mult = np.concatenate([np.ones(top.size),
                               np.full(other.size, (1 - params.goss_top_rate)
                                       / params.goss_other_rate)])
        order2 = np.argsort(rows)
        return rows[order2], mult[order2]
    return np.arange(n, dtype=np.int64), np.ones(n)
