"""Exact matching of fixed-width byte values with numpy (sort + binary search, O(n log n);
never ``np.isin`` on big arrays). Values are ``(n, w)`` uint8 rows viewed as ``S{w}`` scalars."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from coalition.core.errors import ProtocolError

__all__ = ["as_keys", "contains", "match", "truncate"]

IntArray = npt.NDArray[np.int64]


def truncate(values: npt.NDArray[np.uint8], width: int) -> npt.NDArray[np.uint8]:
    """The first ``width`` bytes of each row, contiguous."""
    return np.ascontiguousarray(values[:, :width])


def as_keys(values: npt.NDArray[np.uint8]) -> npt.NDArray[Any]:
    """``(n, w)`` uint8 rows as a 1-D array of ``S{w}`` scalars (a view, no copy)."""
    if values.ndim != 2 or values.dtype != np.uint8:
        raise ProtocolError("values must be a 2-D uint8 array", shape=list(values.shape))
    arr = np.ascontiguousarray(values)
    if arr.shape[0] == 0:
        return np.zeros(0, dtype=f"S{max(1, arr.shape[1])}")
    return arr.view(f"S{arr.shape[1]}").ravel()


def match(a: npt.NDArray[np.uint8], b: npt.NDArray[np.uint8]) -> tuple[IntArray, IntArray]:
    """Positions ``(i, j)`` with ``a[i] == b[j]``, ordered by ``i``. Rows within ``b`` are
    expected distinct (they are pseudorandom images of distinct IDs); a repeated row in ``b``
    means a protocol fault and raises :class:`ProtocolError`."""
    if a.shape[1:] != b.shape[1:]:
        raise ProtocolError("compared values differ in width",
                            left=list(a.shape), right=list(b.shape))
    if a.shape[0] == 0 or b.shape[0] == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty.copy()
    ka, kb = as_keys(a), as_keys(b)
    order = np.argsort(kb, kind="stable")
    sorted_b = kb[order]
    if np.any(sorted_b[1:] == sorted_b[:-1]):
        raise ProtocolError("peer sent repeated values (duplicate IDs or a faulty peer)")
    pos = np.searchsorted(sorted_b, ka)
    pos_clipped = np.minimum(pos, sorted_b.shape[0] - 1)
    hit = sorted_b[pos_clipped] == ka
    ia = np.flatnonzero(hit).astype(np.int64)
    return ia, order[pos_clipped[hit]].astype(np.int64)


def contains(haystack: npt.NDArray[np.uint8], needles: npt.NDArray[np.uint8]) -> npt.NDArray[np.bool_]:
    """For each row of ``needles``, whether it occurs in ``haystack`` (sort + binary search)."""
    if needles.shape[0] == 0 or haystack.shape[0] == 0:
        return np.zeros(needles.shape[0], dtype=bool)
    table = np.sort(as_keys(haystack), kind="stable")
    keys = as_keys(needles)
    pos = np.minimum(np.searchsorted(table, keys), table.shape[0] - 1)
    return np.asarray(table[pos] == keys, dtype=bool)
