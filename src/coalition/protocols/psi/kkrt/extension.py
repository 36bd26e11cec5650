"""Pieces both KKRT roles use: the column PRG of OT extension, and matching of truncated
OPRF values by sort and binary search."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from coalition.core.errors import InputError
from coalition.crypto.symmetric import BLOCK_BYTES, CtrStream
from coalition.protocols.psi.kkrt.spec import CODE_BITS

__all__ = ["ColumnPrg", "gather_values", "match_values", "put_rows", "s_mask", "scatter_values", "take_rows"]

U8 = npt.NDArray[np.uint8]
U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]

_SPARE_WORDS = BLOCK_BYTES // 8


class ColumnPrg:
    """``G(seed_j)`` for the ``k`` columns of the extension matrix, produced chunk by chunk.

    Column ``j`` is the AES-CTR (SM4-CTR under the ``sm`` suite: ``cipher="sm4"``) keystream
    of ``seed_j`` (one base-OT output); chunk ``c`` of the matrix holds the next ``words * 64``
    bits of every column, so the chunks of one run concatenate to the whole-matrix streams.
    """

    def __init__(self, seeds: U8, cipher: str = "aes") -> None:
        self._streams = [CtrStream(row.tobytes(), cipher) for row in seeds]

    def next(self, words: int) -> U64:
        """The next ``(k, words)`` uint64 block of columns (a view; rows are contiguous)."""
        buf = np.empty((len(self._streams), words + _SPARE_WORDS), dtype=np.uint64)
        for row, stream in zip(buf, self._streams, strict=True):
            stream.read_into(row.view(np.uint8))
        return buf[:, :words]


# Rows of a block-major (b, n, 2) array are gathered through a 16-byte void view: numpy's
# fancy indexing copies one 16-byte element per block instead of looping over two words
# (5x faster), and void copies are exact bytes.
def take_rows(blocks: U64, idx: I64) -> U64:
    """``blocks[:, idx, :]`` for a contiguous block-major ``(b, n, 2)`` uint64 array."""
    picked = blocks.view("V16")[:, :, 0][:, idx]
    return np.ascontiguousarray(picked).view(np.uint64).reshape(blocks.shape[0], idx.size, 2)


def put_rows(blocks: U64, idx: I64, rows: U64) -> None:
    """``blocks[:, idx, :] = rows`` (both contiguous, block-major)."""
    blocks.view("V16")[:, :, 0][:, idx] = np.ascontiguousarray(rows).view("V16")[:, :, 0]


def gather_values(values: U8, idx: I64) -> U8:
    """``values[idx]`` for ``(n, t)`` uint8 rows, one t-byte element per row."""
    width = values.shape[1]
    picked = np.ascontiguousarray(values).view(f"V{width}")[:, 0][idx]
    return picked.view(np.uint8).reshape(idx.size, width)


def scatter_values(out: U8, idx: I64, values: U8) -> None:
    """``out[idx] = values`` for ``(n, t)`` uint8 rows, one t-byte element per row."""
    width = out.shape[1]
    out.view(f"V{width}")[:, 0][idx] = np.ascontiguousarray(values).view(f"V{width}")[:, 0]


def _head(values: U8) -> U64:
    """First 8 bytes of each row as one uint64 (the sort key)."""
    return np.ascontiguousarray(values[:, :8]).view(np.uint64).ravel()


def match_values(mine: U8, theirs: U8) -> tuple[I64, I64]:
    """Pairs ``(i, j)`` with ``mine[i] == theirs[j]`` (``(n, t)`` uint8 rows, ``t >= 8``).

    Both sides are sorted on their first 8 bytes and merged with ``searchsorted`` on sorted
    queries (cache-friendly: 4x faster than unsorted queries at 1M), then the remaining bytes
    are compared. O((a + b) log b); never ``np.isin``.
    """
    empty = np.zeros(0, dtype=np.int64)
    if mine.shape[0] == 0 or theirs.shape[0] == 0:
        return empty, empty.copy()
    key_theirs = _head(theirs)
    order_t = np.argsort(key_theirs)
    sorted_t = key_theirs[order_t]
    key_mine = _head(mine)
    order_m = np.argsort(key_mine)
    sorted_m = key_mine[order_m]
    pos = np.minimum(np.searchsorted(sorted_t, sorted_m), sorted_t.size - 1)
    hit = np.flatnonzero(sorted_t[pos] == sorted_m)
    ia, ib = order_m[hit], order_t[pos[hit]]
    same = np.all(mine[ia, 8:] == theirs[ib, 8:], axis=1)
    ia, ib = ia[same], ib[same]
    if np.any(sorted_t[1:] == sorted_t[:-1]):
        ia, ib = _with_repeated_heads(mine, theirs, sorted_t=sorted_t, order_t=order_t,
                                      key_mine=key_mine, ia=ia, ib=ib)
    return ia.astype(np.int64), ib.astype(np.int64)


def _with_repeated_heads(mine: U8, theirs: U8, *, sorted_t: U64, order_t: I64,
                         key_mine: U64, ia: I64, ib: I64) -> tuple[I64, I64]:
    """Exact answer when two of ``theirs`` share their first 8 bytes (probability about
    b^2/2^65): redo the rows of ``mine`` with such a head against every candidate."""
    repeated = np.unique(sorted_t[1:][sorted_t[1:] == sorted_t[:-1]])
    redo = np.flatnonzero(np.isin(key_mine, repeated))  # a handful of rows: isin is fine
    keep = ~np.isin(ia, redo)
    out_a, out_b = [ia[keep]], [ib[keep]]
    for i in redo.tolist():
        lo = int(np.searchsorted(sorted_t, key_mine[i], side="left"))
        hi = int(np.searchsorted(sorted_t, key_mine[i], side="right"))
        for j in order_t[lo:hi].tolist():
            if np.array_equal(mine[i], theirs[j]):
                out_a.append(np.array([i], dtype=np.int64))
                out_b.append(np.array([j], dtype=np.int64))
    return np.concatenate(out_a), np.concatenate(out_b)


def s_mask(bits: npt.NDArray[np.bool_]) -> U64:
    """The sender's secret ``s`` (``k`` bools) as ``k / 64`` uint64 words, row layout."""
    if bits.shape != (CODE_BITS,):
        raise InputError("s must have CODE_BITS bits", shape=list(bits.shape))
    return np.packbits(bits, bitorder="little").view("<u8").astype(np.uint64)
