"""Decoy IDs for the OT-with-decoys mode: each real query travels among ``k - 1`` decoys.

Every decoy is sent to the server **in clear**, so decoys must never be data the client holds
(its customer list, its other queries). The default decoys are format-preserving random
strings: every ASCII digit of a template ID is replaced by a random digit (IDs with no digit:
every letter by a random letter of its case), other characters are kept, so ``13800138000``
hides among other 11-digit numbers and ``acct-0042`` among ``acct-NNNN``. Randomness comes from
``secrets``. A caller may supply a :class:`PublicDecoyPool` instead (public or synthetic IDs of
the same kind, say a published directory): it must say so explicitly, because every pool entry
drawn is revealed to the server. No decoy is ever one of the batch's other queries.

What decoys cannot hide (documented in ``docs/pir.md``): the server learns that the query is
one of the ``k`` candidates; decoys that are not real customers can be recognised by a server
that knows the ID space (a phone number that is not allocated, an ID number with a bad check
digit); and the same real ID queried twice among fresh decoys is exposed by intersecting the
candidate sets.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from coalition.core.errors import ConfigError

__all__ = ["PublicDecoyPool", "candidates", "check_pool", "decoy_like"]


@dataclass(frozen=True)
class PublicDecoyPool:
    """IDs the caller declares public (or synthetic): entries drawn as decoys go to the server
    in clear. Never wrap your own customer list; ``source`` says where the IDs come from (for
    the caller's records, never sent)."""

    ids: tuple[str, ...]
    source: str

    def __init__(self, ids: Iterable[str], source: str) -> None:
        if not source.strip():
            raise ConfigError("a public decoy pool must name its public source")
        object.__setattr__(self, "ids", tuple(str(i) for i in ids))
        object.__setattr__(self, "source", source)


def check_pool(pool: object) -> PublicDecoyPool | None:
    """``pool`` if it is a :class:`PublicDecoyPool` or absent; a bare list is refused, since the
    old advice was to pass the client's own customer list, which decoys reveal in clear."""
    if pool is None or isinstance(pool, PublicDecoyPool):
        return pool
    if isinstance(pool, Sequence) and not isinstance(pool, str) and len(pool) == 0:
        return None
    raise ConfigError("decoy_pool must be a PublicDecoyPool: its entries are sent to the server "
                      "in clear, so only public or synthetic IDs may be used")

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


def candidates(real: str | None, k: int, template: str, pool: Sequence[str] = (),
               exclude: Collection[str] = ()) -> tuple[list[str], int]:
    """``k`` distinct candidates hiding ``real`` at a random position (returned), or ``k``
    decoys and a random position when ``real`` is None (a padding query). No decoy is in
    ``exclude`` (the batch's other queries)."""
    seen = set(exclude) | ({real} if real is not None else set())
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
