"""Secure aggregation across the rounds of one FL job: a one-round fast path, and the full
protocol (:mod:`.full`) only when a masked input goes missing.

**Fast path.** Each client holds one X25519 *mask key* ``m_u`` for the job, published once. In
round ``r`` the aggregator names each sampled client's neighbours (complete graph, or the
random Harary graph of SecAgg+, Bell et al. CCS 2020) and their public keys inside the round
message; the client answers with ``y_u = x_u + Σ_v ±PRG(HKDF(X25519(m_u, m_v), r))`` inside its
reply. When every named client answered, the pairwise masks cancel and ``Σ y_u = Σ x_u``: no
extra message and no extra round trip. This is the one-time-pad scheme of Bonawitz et al.
(CCS 2017, §3, "masking with one-time pads"), secure when nobody drops: each ``y_u`` is
uniformly distributed to anyone lacking a mask key of u's edges, and any strict subset of
inputs keeps the masks across its cut, so the server learns the sum and nothing else.

**Dropouts.** Bonawitz et al. recover a dropout's masks by Shamir-sharing its key, which is why
their protocol adds self masks, shares and an unmasking round. Here the fast-path attempt is
*discarded* instead: its mask keys are never shared or revealed, so the masked inputs already
received stay uniformly random (the masks across the cut to the dropout never cancel). The
survivors then re-submit the same inputs through the full protocol (Bonawitz et al. §4 with
fresh keys, self masks and Shamir shares, tolerating further dropouts down to the threshold).
The two attempts use independent keys, so together they reveal at most the survivors' sum.
Dropout-robustness is therefore that of the full protocol; a round with a dropout costs the
fast-path attempt plus four round trips. Because the fast-path keys are never revealed, one
key per job is safe; each round's masks are separated by the round tag in HKDF.

**Crypto suite** (``SecAggConfig.suite``): X25519, HKDF-SHA256, ChaCha20 under ``standard``;
SM2 Diffie-Hellman, HKDF-SM3, SM4-CTR masks and SM4-GCM shares under ``sm``
(:mod:`.keys`, :mod:`.prg`). A key of the other suite has another length and is ignored.

Semi-honest server, as in the full protocol: it is trusted to choose a random graph and to
name honest neighbour keys (no signatures or consistency round). What a hostile server cannot
do: the fast path shares nothing, so there is no threshold to lower; the full protocol's
clients refuse a threshold that is not a strict majority of their group (finding 18), and the
server refuses a configuration that would announce one (``threshold_fraction < 0.5``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from coalition.core import ConfigError, Context, MessageKey, Party, ProtocolError
from coalition.crypto.suite import CryptoSuite
from coalition.protocols.horizontal.collect import gather_until
from coalition.protocols.horizontal.secagg.client import ShareKeyCache, mask_context
from coalition.protocols.horizontal.secagg.full import (
    SecureSum,
    run_secagg_client,
    run_secagg_server,
)
from coalition.protocols.horizontal.secagg.graph import neighbourhoods
from coalition.protocols.horizontal.secagg.keys import KeyPair, derive, public_key_bytes
from coalition.protocols.horizontal.secagg.prg import expand_for
from coalition.protocols.horizontal.secagg.quantize import reduce
from coalition.protocols.horizontal.secagg.spec import HELLO, RoundAborted
from coalition.protocols.horizontal.spec import SecAggConfig

__all__ = ["ClientSession", "ServerSession", "fallback_signal", "round_tag"]

_PAIR_CONTEXT = b"coalition/secagg/fast-path pair key"


def round_tag(job: str, round_no: int) -> str:
    """Domain-separation tag of one round's fast-path masks."""
    return f"{job}/secagg/{round_no}"


def fallback_signal(included: bool) -> dict[str, bool]:
    """The payload sent in place of the next instruction when a fast-path sum failed."""
    return {"fallback": included}


def _is_fallback(msg: Any) -> bool:
    return isinstance(msg, dict) and set(msg) == {"fallback"} and isinstance(msg["fallback"], bool)


def _is_key(v: Any, suite: CryptoSuite) -> bool:
    return isinstance(v, bytes) and len(v) == public_key_bytes(suite)


class ClientSession:
    """One client's secure aggregation over a job: masks each round, re-submits when asked."""

    def __init__(self, name: str, job: str, modulus_bits: int,
                 suite: CryptoSuite | str = CryptoSuite.STANDARD) -> None:
        self._name, self._job, self._bits = name, job, modulus_bits
        self._suite = CryptoSuite(suite)
        self._mask_key = KeyPair(suite=self._suite)  # never shared or revealed: one per job
        self._pair_keys: dict[bytes, bytes] = {}  # one key agreement per neighbour and job
        self._share_keys = ShareKeyCache(self._suite)  # for full-protocol fallbacks
        self._pending: NDArray[np.uint64] | None = None  # this round's input, until resolved

    def join(self, ctx: Context, server: Party) -> None:
        """Job start: publish the mask key."""
        ctx.send(server, HELLO, {"m_pk": self._mask_key.public})

    def reply(self, round_no: int, incoming: Any, vector: NDArray[np.uint64] | None, *,
              min_peers: int = 1) -> dict[str, Any]:
        """The ``secagg`` part of a REPLY: the mask key, and the masked input when fitting.

        ``min_peers``: the fewest neighbours this client accepts (its contribution group's
        size less one, when the job measures contributions): a round message naming fewer
        would let the aggregator learn the sum of a smaller group than the job announced."""
        out: dict[str, Any] = {"m_pk": self._mask_key.public}
        if vector is None:
            return out
        peers = incoming.get("peers") if isinstance(incoming, dict) else None
        if not isinstance(peers, dict) or not peers or self._name in peers \
                or not all(isinstance(v, str) and _is_key(k, self._suite)
                           for v, k in peers.items()):
            # never send an input without at least one mask on it
            raise ProtocolError("secagg round message names no valid neighbours", round=round_no)
        if len(peers) < min_peers:
            raise ProtocolError("secagg round message names fewer neighbours than the job's "
                                "contribution group needs", round=round_no)
        context = mask_context(round_tag(self._job, round_no))
        y = vector.astype(np.uint64, copy=True)
        for v in sorted(peers):
            pair = self._pair_keys.get(peers[v])
            if pair is None:
                pair = self._pair_keys[peers[v]] = self._mask_key.agree(peers[v], _PAIR_CONTEXT)
            mask = expand_for(self._suite)(derive(pair, context, self._suite), y.size, self._bits)
            if self._name < v:
                y += mask
            else:
                y -= mask
        self._pending = vector
        out["masked"] = reduce(y, self._bits)
        return out

    def instruction(self, ctx: Context, key: MessageKey, server: Party,
                    previous: Context | None) -> Any:
        """Receive the next instruction (``key`` in ``ctx``); first re-submit the previous
        round's input (round context ``previous``) through the full protocol if told to."""
        msg = ctx.recv(server, key)
        pending, self._pending = self._pending, None
        if not _is_fallback(msg):
            return msg
        if msg["fallback"] and pending is not None and previous is not None:
            run_secagg_client(previous.sub("fallback"), server, pending, self._bits,
                              self._share_keys, suite=self._suite)
        return ctx.sub("resumed").recv(server, key)


class ServerSession:
    """The aggregator's side: plans each round's fast path and falls back when needed."""

    def __init__(self, length: int, config: SecAggConfig, timeout: float) -> None:
        if config.threshold_fraction < 0.5:
            # floor(f*size) + 1 is a strict majority only for f >= 1/2; clients would refuse it
            raise ConfigError("secagg threshold_fraction must be at least 0.5",
                              threshold_fraction=config.threshold_fraction)
        self.length, self.cfg, self.timeout = length, config, timeout
        self.keys: dict[str, bytes] = {}

    def setup(self, ctx: Context, clients: Iterable[Party]) -> None:
        """Job start: collect the clients' mask keys."""
        self.learn(gather_until(ctx, clients, HELLO, self.timeout), field=None)

    def learn(self, messages: Mapping[Party, Any], field: str | None = "secagg") -> None:
        """Record mask keys from HELLOs, or from REPLYs (clients that missed the start)."""
        for party, msg in messages.items():
            body = msg.get(field) if field is not None and isinstance(msg, dict) else msg
            if isinstance(body, dict) and _is_key(body.get("m_pk"), self.cfg.suite):
                self.keys.setdefault(str(party), body["m_pk"])

    def plan(self, sample: Iterable[Party]) -> dict[Party, dict[str, Any]]:
        """The ``secagg`` part of each fitting client's round message (clients without a
        published key sit the round out; fewer than two means no secure sum at all)."""
        members = {str(p): p for p in sample if str(p) in self.keys}
        if len(members) < 2:
            return {}
        graph = neighbourhoods(list(members), self.cfg.neighbours)
        return {members[u]: {"peers": {v: self.keys[v] for v in vs}} for u, vs in graph.items()}

    def plan_groups(self, sample: Iterable[Party],
                    groups: Mapping[str, Iterable[str]]) -> dict[Party, dict[str, Any]] | None:
        """Like :meth:`plan`, but each contribution group masked as its own secure sum (the
        masks cancel within each group); ``None`` when a group has fewer than two clients
        with a published key this round (the caller then plans one sum over everyone)."""
        by_name = {str(p): p for p in sample if str(p) in self.keys}
        out: dict[Party, dict[str, Any]] = {}
        for members in groups.values():
            present = [m for m in members if m in by_name]
            if len(present) < 2:
                return None
            graph = neighbourhoods(present, self.cfg.neighbours)
            out |= {by_name[u]: {"peers": {v: self.keys[v] for v in vs}} for u, vs in graph.items()}
        return out

    def group_sums(self, plan: Mapping[Party, Any], replies: Mapping[Party, Any],
                   groups: Mapping[str, Iterable[str]]) -> dict[str, NDArray[np.uint64]] | None:
        """Each group's secure sum from a grouped fast path, or ``None`` unless every
        planned client's masked input arrived."""
        out: dict[str, NDArray[np.uint64]] = {}
        for name, members in groups.items():
            chosen = {p: v for p, v in plan.items() if str(p) in set(members)}
            result, arrived = self.collect(chosen, replies)
            if result is None or len(arrived) != len(chosen):
                return None
            out[name] = result.total
        return out

    def collect(self, plan: Mapping[Party, Any],
                replies: Mapping[Party, Any]) -> tuple[SecureSum | None, list[Party]]:
        """The fast-path sum if every planned client answered; else ``None`` and the clients
        whose masked input did arrive (to re-run through the full protocol)."""
        if not plan:
            return None, []
        total = np.zeros(self.length, dtype=np.uint64)
        arrived = []
        for party in sorted(plan):
            sa = replies[party].get("secagg") if isinstance(replies.get(party), dict) else None
            y = sa.get("masked") if isinstance(sa, dict) else None
            if isinstance(y, np.ndarray) and y.dtype == np.uint64 and y.shape == (self.length,):
                total += y
                arrived.append(party)
        if len(arrived) == len(plan):
            return SecureSum(reduce(total, self.cfg.modulus_bits), arrived), arrived
        return None, arrived

    def fallback(self, ctx: Context, survivors: list[Party]) -> SecureSum | None:
        """The survivors' sum by the full protocol, or ``None`` if it had to be abandoned."""
        try:
            return run_secagg_server(ctx, survivors, self.length, self.cfg, self.timeout)
        except RoundAborted:
            return None
