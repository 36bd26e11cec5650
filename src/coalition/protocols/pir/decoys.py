"""Decoy IDs for the OT-with-decoys mode: each real query travels among ``k - 1`` decoys.

Best decoys are real IDs of the same kind (a ``pool``, say the client's own customer list):
then they are drawn from the pool. Otherwise they are format-preserving random strings: every
ASCII digit of a template ID is replaced by a random digit (IDs with no digit: every letter by a
random letter of its case), other characters are kept, so ``13800138000`` hides among other
11-digit numbers and ``acct-0042`` among ``acct-NNNN``. Randomness comes from ``secrets``.

What decoys cannot hide (documented in ``docs/pir.md``): the server learns that the query is
one of the ``k`` candidates; decoys that are not real customers can be recognised by a server
that knows the ID space (a phone number that is not allocated, an ID number with a bad check
digit); and the same real ID queried twice among fresh decoys is exposed by intersecting the
candidate sets.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Sequence

__all__ = ["candidates", "decoy_like"]

_CLASSES = (string.digits, string.ascii_lowercase, string.ascii_uppercase)


def decoy_like(template: str) -> str:
    """A random string of the same shape as ``template`` (see module docstring)."""
    classes = (string.digits,) if any(ch in string.digits for ch in template) else _CLASSES
    # one draw of random bytes per decoy; bytes >= 130 (= 10 * 13 = 26 * 5) are skipped to stay unbiased
    pool = [b for b in secrets.token_bytes(2 * len(template) + 16) if b < 130]
    out = []
    for ch in template:
        cls = next((c for c in classes if ch in c), None)
        if cls is None:
            out.append(ch)
            continue
        if not pool:
            pool = [b for b in secrets.token_bytes(16) if b < 130]
        out.append(cls[pool.pop() % len(cls)] if pool else secrets.choice(cls))
    return "".join(out)


def candidates(real: str | None, k: int, template: str,
               pool: Sequence[str] = ()) -> tuple[list[str], int]:
    """``k`` distinct candidates hiding ``real`` at a random position (returned), or ``k``
    decoys and a random position when ``real`` is None (a padding query)."""
    seen = {real} if real is not None else set()
    decoys: list[str] = []
    attempts = 0
    while len(decoys) < k - (real is not None):
        d = secrets.choice(pool) if len(pool) > 2 * k else decoy_like(template)
        attempts += 1
        if d not in seen:
            seen.add(d)
            decoys.append(d)
        elif attempts > 50 * k:  # a template with too few variable characters
            decoys.append(f"{template}~{secrets.token_hex(6)}")
    position = secrets.randbelow(k)
    if real is not None:
        decoys.insert(position, real)
    return decoys, position
