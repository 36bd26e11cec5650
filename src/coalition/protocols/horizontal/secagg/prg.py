"""Mask expansion for SecAgg: the ChaCha20 PRG of :mod:`coalition.crypto.prg` (moved there so
the secret-shared linear model and ``data_split`` share one audited construction), or its SM4-CTR
form under the ``sm`` crypto suite."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from coalition.crypto import prg
from coalition.crypto.suite import CryptoSuite

__all__ = ["expand"]


def expand(seed: bytes, length: int, modulus_bits: int = 64,
           suite: CryptoSuite | str = CryptoSuite.STANDARD) -> NDArray[np.uint64]:
    """``length`` mask words of ``seed`` in ``[0, 2**modulus_bits)`` (the suite's PRG)."""
    if CryptoSuite(suite) == CryptoSuite.SM:
        return prg.expand_sm4(seed, length, modulus_bits)
    return prg.expand(seed, length, modulus_bits)
