"""Secure aggregation across the rounds of one FL job, with key setup one round ahead.

The setup phases of a round's secure sum (Bonawitz et al. CCS 2017, rounds 0 and 1: advertise
keys, distribute encrypted Shamir shares) do not depend on the round's input, so they ride on
the previous round's messages instead of costing round trips of their own::

    job start   client → server  HELLO     keys of round 0
                server → client  REQUEST   roster of round 0
                client → server  RESPONSE  shares of round 0
    round r     server → client  ROUND     global weights + inbox of round r (shares, U2)
                client → server  REPLY     metrics + masked input of r + keys of round r+1
                server → client  REQUEST   unmask request of r (U3, dropouts) + roster of r+1
                client → server  RESPONSE  unmask shares of r + shares of round r+1

Two round trips per round instead of five. Every secret stays as fresh as in the original
protocol — a new mask key ``s`` and self-mask seed ``b`` per round, each round's state machine
(:class:`~.client.SecAggClient`, :class:`~.server.SecAggServer`) unchanged and used once — so
the guarantees carry over: the server sees exactly the messages of Bonawitz et al. / Bell et
al., only earlier, and the client still refuses to reveal both ``b`` and ``s_sk`` of one client
in a round. The unmasking round trip cannot be merged with the next round's broadcast: that
broadcast is the model the unmasked sum produces. A client that misses a round's messages also
misses the key setup of the next round and sits that secure sum out (it is an advertise- or
share-phase dropout of that round, which the protocol tolerates); it is back the round after.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from coalition.core import Context, Party, ProtocolError
from coalition.protocols.horizontal.collect import gather_until, send_each
from coalition.protocols.horizontal.secagg.client import SecAggClient, ShareKeyCache
from coalition.protocols.horizontal.secagg.server import SecAggServer
from coalition.protocols.horizontal.secagg.spec import (
    ABORT,
    HELLO,
    REQUEST,
    RESPONSE,
    RoundAborted,
    is_abort,
)
from coalition.protocols.horizontal.spec import SecAggConfig

__all__ = ["ClientSession", "SecureSum", "ServerSession", "round_tag"]


def round_tag(job: str, round_no: int) -> str:
    """Domain-separation tag of one round's secure sum (HKDF contexts, share AAD)."""
    return f"{job}/secagg/{round_no}"


def _real(payload: Any) -> bool:
    return isinstance(payload, dict) and not is_abort(payload)


@dataclass(frozen=True)
class SecureSum:
    """The sum of the participants' vectors (residues mod 2^k) and who contributed."""

    total: NDArray[np.uint64]
    participants: list[Party]


class ClientSession:
    """One client's secure-aggregation state over a job of ``rounds`` rounds."""

    def __init__(self, name: str, job: str, modulus_bits: int, rounds: int) -> None:
        self._name, self._job, self._bits, self._rounds = name, job, modulus_bits, rounds
        self._share_keys = ShareKeyCache()  # one share-encryption key per job
        self._advertised: SecAggClient | None = None  # keys sent, waiting for a roster
        self._ready: SecAggClient | None = None  # shares sent: may mask in the coming round
        self._masked: SecAggClient | None = None  # masked this round, may be asked to unmask

    def _fresh(self, round_no: int) -> dict[str, bytes]:
        self._advertised = SecAggClient(self._name, round_tag(self._job, round_no), self._bits,
                                        self._share_keys)
        return self._advertised.advertise()

    def join(self, ctx: Context, server: Party) -> None:
        """Job start: HELLO with round 0's keys, then answer the REQUEST with its roster."""
        ctx.send(server, HELLO, {"advertise": self._fresh(0)})
        self.answer(ctx, server)

    def answer(self, ctx: Context, server: Party) -> None:
        """Receive this round's REQUEST and send the RESPONSE, if there is anything to say."""
        response = self.respond(ctx.recv(server, REQUEST))
        if response is not None:
            ctx.send(server, RESPONSE, response)

    def reply(self, round_no: int, incoming: Any, vector: NDArray[np.uint64] | None) -> dict[str, Any]:
        """The ``secagg`` part of round ``round_no``'s REPLY: the masked input when fitting
        (``vector`` given), and keys of the next round."""
        out: dict[str, Any] = {}
        state, self._ready = self._ready, None
        if vector is not None:
            inbox = incoming.get("inbox") if isinstance(incoming, dict) else None
            if state is None or not isinstance(inbox, dict) or is_abort(inbox):
                raise ProtocolError("asked to fit under secagg without this round's key setup",
                                    round=round_no)
            out["masked"] = state.mask(inbox, vector)
            self._masked = state
        if round_no + 1 < self._rounds:
            out["advertise"] = self._fresh(round_no + 1)
        return out

    def respond(self, request: Any) -> dict[str, Any] | None:
        """The RESPONSE to a REQUEST (``None``: nothing to send): unmasking shares of this
        round and encrypted shares of the next."""
        if not isinstance(request, dict):
            raise ProtocolError("malformed secagg request")
        out: dict[str, Any] = {}
        masked, self._masked = self._masked, None
        if masked is not None and _real(request.get("unmask")):
            out["unmask"] = masked.unmask(request["unmask"])
        advertised, self._advertised = self._advertised, None
        if advertised is not None and _real(request.get("roster")):
            out["shares"] = advertised.share_keys(request["roster"])
            self._ready = advertised
        return out or None


class ServerSession:
    """The aggregator's side: runs each round's :class:`SecAggServer`, set up one round ahead."""

    def __init__(self, job: str, length: int, config: SecAggConfig, rounds: int,
                 timeout: float) -> None:
        self.job, self.length, self.cfg = job, length, config
        self.rounds, self.timeout = rounds, timeout
        self._state: SecAggServer | None = None  # the coming round's sum, U2 fixed
        self._inboxes: dict[str, Any] = {}

    def ready(self, party: Party) -> bool:
        """Whether ``party`` finished the coming round's key setup (may contribute)."""
        return str(party) in self._inboxes

    def inbox(self, party: Party) -> dict[str, Any] | None:
        """The ``secagg`` part of ``party``'s ROUND message."""
        box = self._inboxes.get(str(party))
        return None if box is None else {"inbox": box}

    def setup(self, ctx: Context, clients: Sequence[Party], first: Iterable[Party]) -> None:
        """Job start: keys of round 0 from its sampled clients, roster, shares."""
        hellos = gather_until(ctx, list(first), HELLO, self.timeout)
        self._exchange(ctx, clients, {}, _adverts(hellos), 0)

    def finish(self, ctx: Context, clients: Sequence[Party], replies: dict[Party, Any],
               round_no: int, upcoming: Iterable[Party]) -> SecureSum | None:
        """After round ``round_no``'s REPLYs: unmask its sum (``None`` if abandoned) and set
        up the next round's sum among its sampled clients ``upcoming``."""
        state = self._state
        parts = {str(p): r.get("secagg") for p, r in replies.items() if isinstance(r, dict)}
        requests: dict[str, Any] = {}
        if state is not None:
            masked = {u: {"y": sa.get("masked")} for u, sa in parts.items() if isinstance(sa, dict)}
            try:
                requests = state.survivors(masked)
            except RoundAborted:
                requests, state = dict.fromkeys(state.u2, ABORT), None
        nxt = set(map(str, upcoming))
        adverts = {p: r for p, r in replies.items() if str(p) in nxt}
        responses = self._exchange(ctx, clients, requests, _adverts(adverts, "secagg"),
                                   round_no + 1)
        if state is None:
            return None
        try:
            total = state.unmask({u: r.get("unmask") for u, r in responses.items()})
        except RoundAborted:
            return None
        by_name = {str(p): p for p in clients}
        return SecureSum(total, [by_name[u] for u in sorted(state.u3)])

    def _exchange(self, ctx: Context, clients: Sequence[Party], requests: dict[str, Any],
                  adverts: dict[str, Any], next_round: int) -> dict[str, dict[str, Any]]:
        """One REQUEST/RESPONSE round trip: unmask requests plus the next round's roster."""
        nxt: SecAggServer | None = None
        rosters: dict[str, Any] = {}
        if next_round < self.rounds and adverts:
            nxt = SecAggServer(round_tag(self.job, next_round), self.length, self.cfg)
            try:
                rosters = nxt.roster(adverts)
            except RoundAborted:
                nxt, rosters = None, dict.fromkeys(adverts, ABORT)
        send_each(ctx, {c: {"unmask": requests.get(str(c)), "roster": rosters.get(str(c))}
                        for c in clients}, REQUEST)
        expect = [c for c in clients if _real(requests.get(str(c))) or _real(rosters.get(str(c)))]
        got = {str(p): r for p, r in gather_until(ctx, expect, RESPONSE, self.timeout).items()
               if isinstance(r, dict)}
        self._state, self._inboxes = None, {}
        if nxt is not None:
            try:
                self._inboxes = nxt.route({u: r.get("shares") for u, r in got.items()})
                self._state = nxt
            except RoundAborted:
                pass
        return got


def _adverts(messages: dict[Party, Any], field: str | None = None) -> dict[str, Any]:
    """``{name: public keys}`` from HELLOs (or from REPLYs' ``field``)."""
    out = {}
    for party, msg in messages.items():
        body = msg.get(field) if field is not None and isinstance(msg, dict) else msg
        if isinstance(body, dict) and "advertise" in body:
            out[str(party)] = body["advertise"]
    return out
