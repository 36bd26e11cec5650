"""Client side of one round's secure sum: a state machine (:class:`SecAggClient`, no I/O; the
driver is :class:`~.session.ClientSession`).

What the client reveals: two fresh public keys, Shamir shares encrypted to its neighbours, one
masked vector (uniform in Z_{2^k}^d to anyone lacking the masks), and — after the server names
survivors and dropouts — shares of survivors' self-mask seeds and of dropouts' key-agreement
keys, never both for the same client (checked here, Bonawitz et al. §4 round 4).

The client does not trust the threshold the server announces: it must be a strict majority of
the client's group (itself and the neighbours the server named), ``size/2 < t <= size``, or the
client refuses before sharing anything. With ``t <= size/2`` a server that tells one half of the
group "u survived" and the other half "u dropped" collects ``t`` shares of both ``b_u`` and
``s_u`` and unmasks u's input (security finding 18).
"""

from __future__ import annotations

import secrets
from typing import Any

import numpy as np
from numpy.typing import NDArray

from coalition.core import CryptoError, ProtocolError
from coalition.crypto.suite import CryptoSuite
from coalition.protocols.horizontal.secagg import shamir
from coalition.protocols.horizontal.secagg.keys import KeyPair, derive, open_share, seal_share
from coalition.protocols.horizontal.secagg.prg import expand_for
from coalition.protocols.horizontal.secagg.quantize import reduce

__all__ = ["SecAggClient", "ShareKeyCache", "mask_context", "share_context"]


def mask_context(tag: str) -> bytes:
    """HKDF context of pairwise mask seeds in the round ``tag``."""
    return f"coalition/secagg/mask/{tag}".encode()


def share_context(tag: str) -> bytes:
    """HKDF context of share-encryption keys in the round ``tag``."""
    return f"coalition/secagg/share/{tag}".encode()


def _aad(tag: str, src: str, dst: str) -> bytes:
    return f"{tag}|{src}|{dst}".encode()


_SHARE_BYTES = (shamir.PRIME.bit_length() + 7) // 8


def _pack_shares(sk: int, b: int) -> bytes:
    return sk.to_bytes(_SHARE_BYTES, "big") + b.to_bytes(_SHARE_BYTES, "big")


def _unpack_shares(plain: bytes) -> tuple[int, int]:
    if len(plain) != 2 * _SHARE_BYTES:
        raise CryptoError("share plaintext has the wrong length")
    return (int.from_bytes(plain[:_SHARE_BYTES], "big"),
            int.from_bytes(plain[_SHARE_BYTES:], "big"))


class ShareKeyCache:
    """A client's share-encryption key pair for a whole job, and the X25519 secrets it agreed.

    Unlike the masking key ``s`` (fresh every round, because its private half is rebuilt by the
    server when the client drops out), ``c`` is never revealed, so it can serve all rounds: each
    round derives its own AEAD key from the cached secret with HKDF, bound to the round's tag.
    This halves the scalar multiplications per round.
    """

    def __init__(self, suite: CryptoSuite | str = CryptoSuite.STANDARD) -> None:
        self.suite = CryptoSuite(suite)
        self.pair = KeyPair(suite=self.suite)
        self._secrets: dict[bytes, bytes] = {}

    def key(self, peer_public: bytes, tag: str) -> bytes:
        """The AEAD key shared with ``peer_public`` for round ``tag``."""
        secret = self._secrets.get(peer_public)
        if secret is None:
            secret = self.pair.agree(peer_public, b"coalition/secagg/share")
            self._secrets[peer_public] = secret
        return derive(secret, share_context(tag), self.suite)


class SecAggClient:
    """One client's secrets and protocol state for one round (use each instance once)."""

    def __init__(self, name: str, tag: str, modulus_bits: int,
                 share_keys: ShareKeyCache | None = None,
                 suite: CryptoSuite | str = CryptoSuite.STANDARD) -> None:
        self.name, self.tag, self.bits = name, tag, modulus_bits
        self.suite = CryptoSuite(suite)
        self._cache = share_keys or ShareKeyCache(self.suite)
        if self._cache.suite != self.suite:
            raise ProtocolError("secagg share keys belong to another crypto suite")
        self._c = self._cache.pair  # encrypts shares in transit
        self._s = KeyPair(suite=self.suite)  # pairwise mask agreement, fresh every round
        self._b = secrets.token_bytes(32)  # self-mask seed
        self._neighbours: dict[str, dict[str, bytes]] = {}
        self._index: dict[str, int] = {}
        self._threshold = 0
        self._held: dict[str, tuple[int, int]] = {}  # src → (sk share, b share) for my x
        self._u2: set[str] = set()
        self._share_keys: dict[str, bytes] = {}  # one X25519 agreement per neighbour, reused

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
        if not len(group) < 2 * self._threshold <= 2 * len(group):
            # before any share is made: a minority threshold lets the server unmask this input
            raise ProtocolError("secagg threshold must be a strict majority of the group",
                                threshold=self._threshold, group=len(group))
        xs = {v: self._index[v] for v in group}
        sk_shares = shamir.split(self._s.to_int(), xs.values(), self._threshold)
        b_shares = shamir.split(int.from_bytes(self._b, "big"), xs.values(), self._threshold)
        self._held[self.name] = (sk_shares[xs[self.name]], b_shares[xs[self.name]])
        out = {}
        for v, keys in self._neighbours.items():
            key = self._cache.key(keys["c_pk"], self.tag)
            self._share_keys[v] = key
            plain = _pack_shares(sk_shares[xs[v]], b_shares[xs[v]])
            out[v] = seal_share(key, plain, _aad(self.tag, self.name, v), self.suite)
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
            # sender and recipient are authenticated as associated data
            plain = open_share(self._share_keys[src], sealed, _aad(self.tag, src, self.name),
                               self.suite)
            self._held[src] = _unpack_shares(plain)
        y = vector.astype(np.uint64, copy=True)
        y += expand_for(self.suite)(self._b, y.size, self.bits)
        for v in sorted(self._u2 & set(self._neighbours)):
            seed = self._s.agree(self._neighbours[v]["s_pk"], mask_context(self.tag))
            p = expand_for(self.suite)(seed, y.size, self.bits)
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

