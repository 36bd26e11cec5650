"""Server side of one round's secure sum: a state machine (:class:`SecAggServer`, no I/O; the
driver is :class:`~.session.ServerSession`).

What the server learns: public keys, ciphertexts it cannot open, masked vectors, and finally
the **sum** of the survivors' inputs — to unmask it, it reconstructs each survivor's self-mask
seed ``b_u`` and each dropout's key-agreement key ``s_sk``, never both for one client, so no
individual input is ever unmasked (Bonawitz et al. CCS 2017, Thm. 6.3, semi-honest setting).
A round is abandoned (:class:`RoundAborted`) when a phase leaves fewer than ``threshold``
clients in some neighbourhood.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from coalition.core import CryptoError
from coalition.crypto.suite import CryptoSuite
from coalition.protocols.horizontal.secagg import shamir
from coalition.protocols.horizontal.secagg.client import mask_context
from coalition.protocols.horizontal.secagg.graph import neighbourhoods, threshold_for
from coalition.protocols.horizontal.secagg.keys import KeyPair, public_key_bytes
from coalition.protocols.horizontal.secagg.prg import expand_for
from coalition.protocols.horizontal.secagg.quantize import reduce
from coalition.protocols.horizontal.secagg.spec import RoundAborted
from coalition.protocols.horizontal.spec import SecAggConfig

__all__ = ["SecAggServer"]


def _is_key(v: Any, suite: CryptoSuite) -> bool:
    return isinstance(v, bytes) and len(v) == public_key_bytes(suite)


class SecAggServer:
    """The server's view of one round's secure sum of vectors of ``length`` residues."""

    def __init__(self, tag: str, length: int, config: SecAggConfig) -> None:
        self.tag, self.length, self.cfg = tag, length, config
        self.keys: dict[str, dict[str, bytes]] = {}
        self.nbrs: dict[str, list[str]] = {}
        self.index: dict[str, int] = {}
        self.threshold = 0
        self.u2: set[str] = set()
        self.u3: dict[str, NDArray[np.uint64]] = {}
        self._groups: dict[str, set[str]] = {}

    def _group(self, u: str) -> set[str]:
        return self._groups[u]

    def roster(self, adverts: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """After ADVERTISE: each client's neighbours' keys, the share indices and threshold."""
        self.keys = {u: {"c_pk": a["c_pk"], "s_pk": a["s_pk"]} for u, a in adverts.items()
                     if isinstance(a, dict) and _is_key(a.get("c_pk"), self.cfg.suite)
                     and _is_key(a.get("s_pk"), self.cfg.suite)}
        if len(self.keys) < 2:
            raise RoundAborted("secure aggregation needs at least two clients",
                               clients=len(self.keys))
        self.nbrs = neighbourhoods(list(self.keys), self.cfg.neighbours)
        self._groups = {u: {u, *vs} for u, vs in self.nbrs.items()}
        self.index = {u: i + 1 for i, u in enumerate(sorted(self.keys))}
        size = len(next(iter(self.nbrs.values()))) + 1
        self.threshold = threshold_for(size, self.cfg.threshold_fraction)
        return {u: {"index": self.index, "threshold": self.threshold,
                    "keys": {v: self.keys[v] for v in self.nbrs[u]}} for u in self.keys}

    def route(self, shares: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """After SHARES: forward each ciphertext to its recipient; fix U2."""
        self.u2 = {u for u, s in shares.items() if u in self.keys and isinstance(s, dict)
                   and set(s) == set(self.nbrs[u]) and all(isinstance(c, bytes) for c in s.values())}
        self._require(self.u2, "shares")
        return {v: {"u2": sorted(self.u2),
                    "ciphertexts": {u: shares[u][v] for u in self.u2 if v in self.nbrs[u]}}
                for v in self.u2}

    def survivors(self, masked: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """After MASKED: fix U3 (whose inputs will be summed) and the dropouts."""
        self.u3 = {}
        for u, m in masked.items():
            y = m.get("y") if isinstance(m, dict) else None
            if u in self.u2 and isinstance(y, np.ndarray) and y.dtype == np.uint64 \
                    and y.shape == (self.length,):
                self.u3[u] = y
        self._require(set(self.u3), "masked inputs")
        dropped = sorted(self.u2 - set(self.u3))
        return {u: {"u3": sorted(self.u3), "dropped": dropped} for u in self.u3}

    def unmask(self, responses: dict[str, Any]) -> NDArray[np.uint64]:
        """After UNMASK: the sum of U3's inputs modulo 2^k."""
        bits = self.cfg.modulus_bits
        total = np.zeros(self.length, dtype=np.uint64)
        for y in self.u3.values():
            total += y
        for u in self.u3:
            b = self._reconstruct(responses, "b", u)
            total -= expand_for(self.cfg.suite)(b.to_bytes(32, "big"), self.length, bits)
        for v in sorted(self.u2 - set(self.u3)):
            sk = KeyPair.from_int(self._reconstruct(responses, "sk", v), self.cfg.suite)
            for u in sorted(set(self.nbrs[v]) & set(self.u3)):
                p = expand_for(self.cfg.suite)(
                    sk.agree(self.keys[u]["s_pk"], mask_context(self.tag)), self.length, bits)
                if u < v:  # u added +p_uv
                    total -= p
                else:
                    total += p
        return reduce(total, bits)

    def _reconstruct(self, responses: dict[str, Any], kind: str, owner: str) -> int:
        shares: dict[int, int] = {}
        for w, resp in responses.items():
            if w in self.u3 and owner in self._group(w) and isinstance(resp, dict):
                value = resp.get(kind, {}).get(owner) if isinstance(resp.get(kind), dict) else None
                if isinstance(value, int) and 0 <= value < shamir.PRIME:
                    shares[self.index[w]] = value
        if len(shares) < self.threshold:
            raise RoundAborted("too few unmasking shares", owner=owner, have=len(shares),
                               need=self.threshold)
        secret = shamir.combine(shares, self.threshold)
        if secret >= 2**256:
            raise CryptoError("reconstructed secret out of range", owner=owner)
        return secret

    def _require(self, alive: set[str], phase: str) -> None:
        """Every neighbourhood must keep ``threshold`` live members, or nothing can be unmasked."""
        for u in alive:
            if len(self._group(u) & alive) < self.threshold:
                raise RoundAborted("too few clients left", phase=phase, alive=len(alive),
                                   threshold=self.threshold)

