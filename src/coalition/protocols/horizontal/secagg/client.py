"""Client side of the secure sum: a state machine (:class:`SecAggClient`, no I/O) and the
driver that runs it over a :class:`~coalition.core.Context`.

What the client reveals: two fresh public keys, Shamir shares encrypted to its neighbours, one
masked vector (uniform in Z_{2^k}^d to anyone lacking the masks), and — after the server names
survivors and dropouts — shares of survivors' self-mask seeds and of dropouts' key-agreement
keys, never both for the same client (checked here, Bonawitz et al. §4 round 4).
"""

from __future__ import annotations

import secrets
from typing import Any

import numpy as np
from numpy.typing import NDArray

from coalition.core import Context, CryptoError, Party, ProtocolError, codec
from coalition.protocols.horizontal.secagg import shamir
from coalition.protocols.horizontal.secagg.keys import KeyPair, open_share, seal_share
from coalition.protocols.horizontal.secagg.prg import expand
from coalition.protocols.horizontal.secagg.quantize import reduce
from coalition.protocols.horizontal.secagg.spec import (
    ADVERTISE,
    INBOX,
    MASKED,
    ROSTER,
    SHARES,
    SURVIVORS,
    UNMASK,
    is_abort,
)

__all__ = ["SecAggClient", "mask_context", "run_secagg_client", "share_context"]


def mask_context(tag: str) -> bytes:
    """HKDF context of pairwise mask seeds in the round ``tag``."""
    return f"coalition/secagg/mask/{tag}".encode()


def share_context(tag: str) -> bytes:
    """HKDF context of share-encryption keys in the round ``tag``."""
    return f"coalition/secagg/share/{tag}".encode()


def _aad(tag: str, src: str, dst: str) -> bytes:
    return f"{tag}|{src}|{dst}".encode()


class SecAggClient:
    """One client's secrets and protocol state for one round (use each instance once)."""

    def __init__(self, name: str, tag: str, modulus_bits: int) -> None:
        self.name, self.tag, self.bits = name, tag, modulus_bits
        self._c = KeyPair()  # encrypts shares in transit
        self._s = KeyPair()  # pairwise mask agreement
        self._b = secrets.token_bytes(32)  # self-mask seed
        self._neighbours: dict[str, dict[str, bytes]] = {}
        self._index: dict[str, int] = {}
        self._threshold = 0
        self._held: dict[str, tuple[int, int]] = {}  # src → (sk share, b share) for my x
        self._u2: set[str] = set()

    def advertise(self) -> dict[str, bytes]:
        """Phase 0: public keys."""
        return {"c_pk": self._c.public, "s_pk": self._s.public}

    def share_keys(self, roster: dict[str, Any]) -> dict[str, bytes]:
        """Phase 1: Shamir-share ``s_sk`` and ``b`` among myself and my neighbours."""
        try:
            self._index = {str(k): int(v) for k, v in roster["index"].items()}
            self._neighbours = {str(v): {"c_pk": bytes(k["c_pk"]), "s_pk": bytes(k["s_pk"])}
                                for v, k in roster["keys"].items()}
            self._threshold = int(roster["threshold"])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ProtocolError("malformed secagg roster") from exc
        group = [self.name, *self._neighbours]
        if self.name in self._neighbours or any(v not in self._index for v in group):
            raise ProtocolError("secagg roster is inconsistent")
        xs = {v: self._index[v] for v in group}
        sk_shares = shamir.split(self._s.to_int(), xs.values(), self._threshold)
        b_shares = shamir.split(int.from_bytes(self._b, "big"), xs.values(), self._threshold)
        self._held[self.name] = (sk_shares[xs[self.name]], b_shares[xs[self.name]])
        out = {}
        for v, keys in self._neighbours.items():
            plain = codec.encode({"src": self.name, "dst": v, "sk": sk_shares[xs[v]],
                                  "b": b_shares[xs[v]]})
            key = self._c.agree(keys["c_pk"], share_context(self.tag))
            out[v] = seal_share(key, plain, _aad(self.tag, self.name, v))
        return out

    def mask(self, inbox: dict[str, Any], vector: NDArray[np.uint64]) -> NDArray[np.uint64]:
        """Phase 2: store the shares addressed to me, return the masked input."""
        try:
            cts = {str(k): v for k, v in inbox["ciphertexts"].items()}
            self._u2 = {str(v) for v in inbox["u2"]}
        except (KeyError, TypeError, AttributeError) as exc:
            raise ProtocolError("malformed secagg inbox") from exc
        if self.name not in self._u2 or not self._u2 <= set(self._index):
            raise ProtocolError("secagg U2 is inconsistent")
        for src, sealed in cts.items():
            if src not in self._neighbours:
                raise ProtocolError("share from a non-neighbour", src=src)
            key = self._c.agree(self._neighbours[src]["c_pk"], share_context(self.tag))
            body = codec.decode(open_share(key, sealed, _aad(self.tag, src, self.name)))
            if body.get("src") != src or body.get("dst") != self.name:
                raise CryptoError("share is addressed to someone else", src=src)
            self._held[src] = (int(body["sk"]), int(body["b"]))
        y = vector.astype(np.uint64, copy=True)
        y += expand(self._b, y.size, self.bits)
        for v in sorted(self._u2 & set(self._neighbours)):
            seed = self._s.agree(self._neighbours[v]["s_pk"], mask_context(self.tag))
            p = expand(seed, y.size, self.bits)
            if self.name < v:
                y += p
            else:
                y -= p
        return reduce(y, self.bits)

    def unmask(self, survivors: dict[str, Any]) -> dict[str, dict[str, int]]:
        """Phase 3: shares of ``b`` for survivors, of ``s_sk`` for dropouts — never both."""
        try:
            u3 = {str(v) for v in survivors["u3"]}
            dropped = {str(v) for v in survivors["dropped"]}
        except (KeyError, TypeError) as exc:
            raise ProtocolError("malformed secagg survivor list") from exc
        group = {self.name, *self._neighbours}
        if u3 & dropped or not (u3 | dropped) <= self._u2 or self.name not in u3:
            raise ProtocolError("server asked for shares that would unmask a client")
        if len(u3 & group) < self._threshold:
            raise ProtocolError("too few survivors among my neighbours to protect my input")
        return {
            "b": {v: self._held[v][1] for v in sorted(u3 & group) if v in self._held},
            "sk": {v: self._held[v][0] for v in sorted(dropped & group) if v in self._held},
        }


def run_secagg_client(ctx: Context, server: Party, vector: NDArray[np.uint64],
                      modulus_bits: int) -> bool:
    """Contribute ``vector`` (residues mod 2^k) to the round's secure sum; ``False`` if the
    server dropped this client or abandoned the round."""
    state = SecAggClient(str(ctx.party), ctx.namespace, modulus_bits)
    ctx.send(server, ADVERTISE, state.advertise())
    roster = ctx.recv(server, ROSTER)
    if is_abort(roster):
        return False
    ctx.send(server, SHARES, state.share_keys(roster))
    inbox = ctx.recv(server, INBOX)
    if is_abort(inbox):
        return False
    ctx.send(server, MASKED, {"y": state.mask(inbox, vector)})
    survivors = ctx.recv(server, SURVIVORS)
    if is_abort(survivors):
        return False
    ctx.send(server, UNMASK, state.unmask(survivors))
    return True
