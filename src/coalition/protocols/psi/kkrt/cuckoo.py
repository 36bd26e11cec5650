"""Cuckoo hashing of the receiver's items into bins, 3 hash functions, no stash, vectorised.

Table size and failure bound: Pinkas, Schneider and Zohner (ACM TOPS 2018, §6) fitted the
failure probability of 3-way cuckoo insertion without a stash as
``2^-lambda`` with ``lambda = 123.5 * e - 130 - log2(n)`` for ``e * n`` bins (the same fit
libOTe uses). :func:`bin_count` solves it for ``lambda = stat_bits``: at ``n = 2^20`` and 40
bits that is ``e = 1.54`` (the 1.27 of some prototypes gives only ``2^-7``). For small sets,
where the fit was not measured, at least ``n + 64`` bins are used (``tests`` insert thousands of
small random instances). A failure raises :class:`~coalition.core.errors.ProtocolError` before
anything about the items is sent; the run can simply be repeated with fresh keys.

Insertion runs all pending items at once: each writes itself into its current candidate bin
(one wins per bin), displaced occupants and losers move on to their next hash function, until
nobody is pending. This is the random-walk insertion of the fit with the walk made
deterministic by the (pseudorandom) hash order; each round is a few numpy operations on the
still-pending items only.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from coalition.core.errors import InputError, ProtocolError

__all__ = ["EMPTY", "NUM_HASHES", "bin_count", "cuckoo_insert"]

NUM_HASHES = 3
EMPTY = -1

I64 = npt.NDArray[np.int64]
I8 = npt.NDArray[np.int8]

_SLOPE, _OFFSET = 123.5, 130.0  # PSZ18 fit for 3 hash functions, no stash
_MAX_ROUNDS = 2000


def bin_count(n: int, stat_bits: int, *, multiple: int = 64) -> int:
    """Bins for ``n`` items so that insertion fails with probability ``<= 2^-stat_bits``,
    rounded up to ``multiple`` (the bit-matrix block size)."""
    if n < 0 or stat_bits <= 0:
        raise InputError("bin_count needs n >= 0 and stat_bits > 0", n=n, stat_bits=stat_bits)
    expansion = (stat_bits + _OFFSET + math.log2(max(n, 2))) / _SLOPE
    bins = max(math.ceil(expansion * n), n + 64)
    return -(-bins // multiple) * multiple


def cuckoo_insert(candidates: I64, bins: int) -> tuple[I64, I8]:
    """Place every item in one of its candidate bins.

    ``candidates`` is ``(n, 3)``: the bins of each item under the 3 hash functions. Returns
    ``(table, which)``: ``table[b]`` is the item in bin ``b`` or :data:`EMPTY`; ``which[i]`` is
    the hash function that placed item ``i``.
    """
    if candidates.ndim != 2 or candidates.shape[1] != NUM_HASHES:
        raise InputError("candidates must be (n, 3)", shape=list(candidates.shape))
    n = candidates.shape[0]
    if n and (candidates.min() < 0 or candidates.max() >= bins):
        raise InputError("candidate bin out of range", bins=bins)
    table = np.full(bins, EMPTY, dtype=np.int64)
    which = np.zeros(n, dtype=np.int8)
    pending = np.arange(n, dtype=np.int64)
    for _ in range(_MAX_ROUNDS):
        if pending.size == 0:
            return table, which
        target = candidates[pending, which[pending]]
        before = table[target]
        table[target] = pending  # with repeated targets, one writer wins
        won = table[target] == pending
        # Each bin that got a new item gives back its old one; losers try again elsewhere.
        evicted = before[won]
        evicted = evicted[evicted != EMPTY]
        losers = pending[~won]
        moving = np.concatenate([evicted, losers])
        which[moving] = (which[moving] + 1) % NUM_HASHES
        pending = moving
    raise ProtocolError("cuckoo hashing failed (probability <= 2^-stat_bits); rerun",
                        items=n, bins=bins, pending=int(pending.size))
