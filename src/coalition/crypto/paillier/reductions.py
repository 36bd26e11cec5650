"""Products of ciphertexts (encrypted sums): along an axis, per group, and ``X.T @ [[d]]``.

All return ``None`` where a product is empty; :class:`EncryptedArray` turns those into fresh
encryptions of 0 so a masked input never yields the trivial ciphertext ``1``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from gmpy2 import mpz

from coalition.compute import chunk_slices
from coalition.core import Executor
from coalition.crypto.paillier.multiexp import XtDotTask, xt_dot_chunk

__all__ = ["XT_MIN_ROWS", "group_products", "xt_dot_products"]

XT_MIN_ROWS = 256  # a row chunk smaller than this is not worth a process hop


def group_products(rows: npt.NDArray[np.object_], ids: list[int], n_groups: int,
                   nsquare: mpz) -> list[mpz | None]:
    """``out[g * W + j] = Π_{i: ids[i] = g} rows[i, j] mod n²`` for ``rows`` of shape (N, W)."""
    width = rows.shape[1]
    acc: list[mpz | None] = [None] * (n_groups * width)
    for g, row in zip(ids, rows.tolist(), strict=True):
        base = g * width
        for j, c in enumerate(row):
            cur = acc[base + j]
            acc[base + j] = c if cur is None else cur * c % nsquare
    return acc


def xt_dot_products(cs: list[Any], K: npt.NDArray[Any], nsquare: mpz,
                    executor: Executor | None) -> list[mpz | None]:
    """``[Π_i cs[i]^K[i, j] mod n²  for j]`` with rows chunked over ``executor``.

    Chunks are by rows, not columns: each ciphertext crosses a process boundary once and is
    inverted (for negative exponents) only in the worker that owns it.
    """
    n2 = int(nsquare)
    workers = executor.workers if executor is not None else 1
    slices = chunk_slices(len(cs), workers, min_size=XT_MIN_ROWS) or [slice(0, 0)]
    tasks = [XtDotTask(n2, cs[s], K[s]) for s in slices]
    parts = (executor.map(xt_dot_chunk, tasks) if executor is not None and len(tasks) > 1
             else [xt_dot_chunk(t) for t in tasks])
    cols: list[mpz | None] = []
    for j in range(K.shape[1]):
        acc: mpz | None = None
        for part in parts:
            c = part[j]
            if c is not None:
                acc = c if acc is None else acc * c % nsquare
        cols.append(acc)
    return cols
