"""Obfuscators computed ahead of time, while the guest waits for the hosts.

A Paillier ciphertext is ``(1 + m·n) · r mod n²`` (an OU one ``g^m · h^r mod n``) and the
costly part, the random mask (``hs^a``, see :mod:`coalition.crypto.paillier.kernels`; ``h^r``
for OU), does not depend on ``m``. The guest
therefore encrypts a batch of zeros for the *next* tree in a background thread while hosts
build histograms (the guest is idle then), and turns them into the gradient ciphertexts with
one plaintext addition per row when the tree starts (Paillier, EUROCRYPT 1999; the same
offline/online split as HEU's and FATE's pre-computed obfuscators). Each batch is used once.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from coalition.core import Executor
from coalition.crypto import he

__all__ = ["ZeroPrefetcher"]


class ZeroPrefetcher:
    """Hands out fresh encryptions of zero, one batch ahead, for one training run."""

    def __init__(self, key: he.PrivateKey, executor: Executor | None) -> None:
        self._key = key
        self._executor = executor
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="paillier-prefetch")
        self._next: tuple[int, Future[he.EncryptedArray]] | None = None

    def _zeros(self, size: int) -> he.EncryptedArray:
        zeros = np.zeros(size, dtype=np.int64)
        # seen by hosts only (they re-randomise what they send back): short randomisers,
        # ou.kernels and paillier.kernels
        return self._key.encrypt_int(zeros, executor=self._executor, short_randomness=True)

    def encrypt(self, plaintexts: list[int], *, prefetch: int = 0) -> he.EncryptedArray:
        """Encrypt signed ``plaintexts``; start ``prefetch`` zeros for the next call (0: none)."""
        size = len(plaintexts)
        if self._next is not None and self._next[0] == size:
            zeros = self._next[1].result()
        else:
            if self._next is not None:
                self._next[1].cancel()
            zeros = self._zeros(size)
        self._next = (prefetch, self._thread.submit(self._zeros, prefetch)) if prefetch else None
        plain = np.empty(size, dtype=object)
        plain[:] = plaintexts
        # g^m by the key holder's own path (CRT for OU) over the executor: the online part
        return zeros + self._key.encrypt(plain, precision=0, rerandomize=False,
                                         executor=self._executor)

    def close(self) -> None:
        """Stop the background thread (a batch in flight is finished and dropped)."""
        self._next = None
        self._thread.shutdown(wait=True, cancel_futures=True)
