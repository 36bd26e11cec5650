"""The few homomorphic operations SecureBoost needs, over :mod:`coalition.crypto.he`.

Hosts work on raw ciphertexts (``mpz`` object arrays, see ``histogram.py``) for speed; this
module is the only place that crosses between those and :class:`EncryptedArray`, and it
re-randomises everything a host computed before it leaves (circuit privacy: the guest holds
the key, so an unmasked product would reveal which rows it aggregates).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from coalition.core import Executor, ProtocolError
from coalition.crypto import he

__all__ = ["raw", "wrap_masked"]


def raw(enc: Any, pk: he.PublicKey) -> np.ndarray[Any, np.dtype[np.object_]]:
    """Ciphertexts of a received array under ``pk``, refusing anything that is not a masked
    1-D array of ``pk``'s scheme under ``pk`` itself."""
    if (not isinstance(enc, he.array_type(pk)) or enc.public_key != pk or enc.ndim != 1
            or not enc.is_masked):
        raise ProtocolError("expected a masked 1-D encrypted array under the agreed key")
    return enc.ciphertexts


def wrap_masked(pk: he.PublicKey, cts: np.ndarray[Any, np.dtype[np.object_]],
                executor: Executor | None) -> he.EncryptedArray:
    """Raw ciphertexts computed here, re-randomised so they can go to the key holder.

    ``uniform=True`` (Paillier: a full ``r^n``; OU masks are always uniform): the guest holds
    the factorisation and knows the
    randomness of its own gradient encryptions, so a DJN-style mask would let it test
    hypotheses about which rows a sum covers (residuosity of the quotient); a uniform ``r``
    makes each sent ciphertext a fresh encryption of its plaintext even to the key holder.
    The cost (one ``powmod`` each) is paid on packed candidate sums only.
    """
    return he.from_ciphertexts(pk, cts, masked=False).rerandomize(executor, uniform=True)
