"""The few Paillier operations SecureBoost needs, over :mod:`coalition.crypto.paillier`.

Hosts work on raw ciphertexts (``mpz`` object arrays, see ``histogram.py``) for speed; this
module is the only place that crosses between those and :class:`EncryptedArray`, and it
re-randomises everything a host computed before it leaves (circuit privacy: the guest holds
the key, so an unmasked product would reveal which rows it aggregates).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from coalition.core import Executor, ProtocolError
from coalition.crypto.paillier import EncryptedArray, PaillierPublicKey

__all__ = ["raw", "wrap_masked"]


def raw(enc: Any) -> np.ndarray[Any, np.dtype[np.object_]]:
    """Ciphertexts of a received array, refusing anything that is not a masked 1-D array."""
    if not isinstance(enc, EncryptedArray) or enc.ndim != 1 or not enc.is_masked:
        raise ProtocolError("expected a masked 1-D encrypted array")
    return enc.ciphertexts


def wrap_masked(pk: PaillierPublicKey, cts: np.ndarray[Any, np.dtype[np.object_]],
                executor: Executor | None) -> EncryptedArray:
    """Raw ciphertexts computed here, re-randomised so they can go to the key holder.

    ``uniform=True`` (a full ``r^n``): the guest holds the factorisation and knows the
    randomness of its own gradient encryptions, so a DJN-style mask would let it test
    hypotheses about which rows a sum covers (residuosity of the quotient); a uniform ``r``
    makes each sent ciphertext a fresh encryption of its plaintext even to the key holder.
    The cost (one ``powmod`` each) is paid on packed candidate sums only.
    """
    return EncryptedArray(pk, cts, 0, masked=False).rerandomize(executor, uniform=True)
