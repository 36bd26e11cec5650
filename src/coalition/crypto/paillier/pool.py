"""Offline/online split of encryption: a pool of DJN randomisers made ahead of time.

A fresh Paillier–DJN encryption is ``(1 + m n) · hs^a mod n²``; nearly all of its cost is
``hs^a``, which does not depend on ``m``. :meth:`PaillierPublicKey.precompute` (or the key
holder's faster :meth:`PaillierPrivateKey.precompute`) makes randomisers in an idle moment;
later ``encrypt``, ``encrypt_int`` and (DJN) ``rerandomize`` calls take them first, each
exactly once, and pay one multiplication per value online. Randomisers never leave the process:
the pool is not pickled with its key and has no codec form.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import TYPE_CHECKING, Any

from gmpy2 import mpz

from coalition.core import Executor
from coalition.crypto.paillier.dispatch import chunked_map
from coalition.crypto.paillier.kernels import (
    MaskTask,
    UniformMaskTask,
    mask_chunk,
    uniform_mask_chunk,
)

if TYPE_CHECKING:
    from coalition.crypto.paillier.keys import PaillierPublicKey

__all__ = ["RandomizerPool", "remask"]


class RandomizerPool:
    """Thread-safe FIFO of single-use ``hs^a mod n²`` values for one key object."""

    __slots__ = ("_items", "_lock")

    def __init__(self) -> None:
        self._items: deque[mpz] = deque()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def add(self, values: list[mpz]) -> None:
        """Append freshly made randomisers."""
        with self._lock:
            self._items.extend(values)

    def take(self, count: int) -> list[mpz]:
        """Remove and return up to ``count`` randomisers (fewer if the pool runs dry)."""
        with self._lock:
            k = min(count, len(self._items))
            return [self._items.popleft() for _ in range(k)]


def remask(pk: PaillierPublicKey, cs: list[Any], *, uniform: bool,
           executor: Executor | None) -> list[mpz]:
    """Each ciphertext times a fresh mask: uniform ``r^n``, or DJN ``hs^a`` (pool first)."""
    n = int(pk.n)
    if uniform:
        return chunked_map(uniform_mask_chunk, lambda part: UniformMaskTask(n, part), cs,
                           executor)
    hs, n2 = int(pk.hs), pk.nsquare
    pooled = pk.pool.take(len(cs))
    out = [mpz(c) * r % n2 for c, r in zip(cs, pooled, strict=False)]
    if len(pooled) < len(cs):
        out += chunked_map(mask_chunk, lambda part: MaskTask(n, hs, part), cs[len(pooled):],
                           executor)
    return out
