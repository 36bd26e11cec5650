"""Mask expansion for SecAgg: the ChaCha20 PRG of :mod:`coalition.crypto.prg` (moved there so
the secret-shared linear model and ``data_split`` share one audited construction), or its SM4-CTR
form (:func:`coalition.crypto.prg.expand_sm4`) under the ``sm`` crypto suite."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from coalition.crypto.prg import expand, expand_sm4
from coalition.crypto.suite import CryptoSuite

__all__ = ["expand", "expand_for"]


def expand_for(suite: CryptoSuite | str) -> Callable[[bytes, int, int], NDArray[np.uint64]]:
    """The suite's mask PRG: ``expand_for(suite)(seed, length, modulus_bits)``."""
    return expand_sm4 if CryptoSuite(suite) == CryptoSuite.SM else expand
