"""Decoy IDs for the OT-with-decoys mode: each real query travels among ``k - 1`` decoys.

Decoys are format-preserving random strings: every ASCII digit, lower-case and upper-case
letter of a template ID is replaced by a random one of its class, other characters are kept,
so ``13800138000`` hides among other 11-digit numbers. Randomness comes from ``secrets``.

What decoys cannot hide (documented in ``docs/pir.md``): the server learns that the query is
one of the ``k`` candidates; decoys that are not real customers can be recognised by a server
that knows the ID space (a phone number that is not allocated, an ID number with a bad check
digit); and the same real ID queried twice among fresh decoys is exposed by intersecting the
candidate sets.
"""

from __future__ import annotations

import secrets
import string

__all__ = ["candidates", "decoy_like"]

_CLASSES = (string.digits, string.ascii_lowercase, string.ascii_uppercase)


def decoy_like(template: str) -> str:
    """A random string of the same shape as ``template``."""
    out = []
    for ch in template:
        cls = next((c for c in _CLASSES if ch in c), None)
        out.append(secrets.choice(cls) if cls is not None else ch)
    return "".join(out)


def candidates(real: str | None, k: int, template: str) -> tuple[list[str], int]:
    """``k`` distinct candidates hiding ``real`` at a random position (returned), or ``k``
    decoys and a random position when ``real`` is None (a padding query)."""
    seen = {real} if real is not None else set()
    decoys: list[str] = []
    attempts = 0
    while len(decoys) < k - (real is not None):
        d = decoy_like(template)
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
