"""Who masks with whom: the complete graph (SecAgg) or a random Harary graph (SecAgg+).

Bell et al. (CCS 2020) replace SecAgg's complete graph with a random k-regular graph: clients
are placed on a ring in a random order and each is joined to its k/2 nearest on either side, so
each client does O(k) key agreements and mask expansions instead of O(n).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

import numpy as np

__all__ = ["neighbourhoods", "threshold_for"]


def neighbourhoods(names: Sequence[str], k: int | None) -> dict[str, list[str]]:
    """Symmetric neighbour lists (without the client itself), sorted by name."""
    ordered = sorted(names)
    n = len(ordered)
    if k is None or k >= n - 1:
        return {u: [v for v in ordered if v != u] for u in ordered}
    # The ring order is not secret; it must only not be chosen by the clients.
    ring = [ordered[i] for i in np.random.default_rng(secrets.randbits(64)).permutation(n)]
    out: dict[str, set[str]] = {u: set() for u in ordered}
    for i, u in enumerate(ring):
        for step in range(1, k // 2 + 1):
            v = ring[(i + step) % n]
            out[u].add(v)
            out[v].add(u)
    return {u: sorted(vs) for u, vs in out.items()}


def threshold_for(size: int, fraction: float) -> int:
    """Shares needed out of a neighbourhood of ``size`` (client included): ``⌊f·size⌋ + 1``."""
    return max(1, min(size, int(fraction * size) + 1))
