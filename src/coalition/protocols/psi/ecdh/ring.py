"""The ring of multi-party ECDH-PSI: every set visits every other party once, each applying its
X25519 key (and, where stated, a secret shuffle), until it reaches its final receiver. Every
hop validates what it receives as prime-order group elements before applying its key
(the suite's ``CommutativeCipher.encrypt``), and so does the final receiver.

Routes, with hosts sorted and the first host as the *combiner*:

* the guest's set: guest → h1 → … → hk → guest (shuffled at the last hop only for
  ``cardinality``, so otherwise the guest keeps its own order);
* host ``h``'s set: h → guest → other hosts except the combiner → combiner, each hop shuffling,
  so the combiner receives every host's fully encrypted set in an order nobody else knows.

Deadlock freedom: all owners send first (sends never block), then every party handles its hops
in one global order (route, position); the globally first pending hop always has its input.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from coalition.core.ids import Party
from coalition.crypto.suite import CommutativeCipher, primitives
from coalition.protocols.psi.ecdh.guest import send_self_encrypted
from coalition.protocols.psi.session import Session, secret_permutation
from coalition.protocols.psi.spec import MULTI_HOP, SELF_ENCRYPTED
from coalition.protocols.psi.wire import recv_batches, send_batches

__all__ = ["Route", "routes", "run_ring"]

U8 = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class Route:
    """One set's path: ``owner`` sends to ``hops[0]``; the last hop forwards to ``receiver``
    (or keeps the result if it is the receiver)."""

    owner: Party
    hops: tuple[Party, ...]
    receiver: Party
    shuffle_at: frozenset[int]


def routes(guest: Party, hosts: list[Party], *, shuffle_guest: bool) -> list[Route]:
    """All routes, in the global processing order (see module docstring)."""
    combiner = hosts[0]
    out = [Route(guest, tuple(hosts), guest,
                 frozenset({len(hosts) - 1}) if shuffle_guest else frozenset())]
    for h in hosts:
        hops = (guest, *[x for x in hosts if x not in (h, combiner)],
                *([combiner] if h != combiner else []))
        out.append(Route(h, hops, combiner, frozenset(range(len(hops)))))
    return out


def _stream(r: int, i: int) -> str:
    return f"ring{r}-hop{i}"


def run_ring(s: Session, key: CommutativeCipher, sizes: dict[Party, int],
             plan: list[Route]) -> dict[Party, U8]:
    """Play this party's part in every route; return the fully encrypted sets it receives,
    by owner (the guest receives its own; the combiner the hosts')."""
    me, rows, ex = s.ctx.party, s.params.batch_rows, s.ctx.executor
    suite = primitives(s.params.suite)
    for r, route in enumerate(plan):
        if route.owner == me:
            send_self_encrypted(s, [route.hops[0]], key, s.ids.encoded(), _stream(r, 0))
    received: dict[Party, U8] = {}
    for r, route in enumerate(plan):
        n = sizes[route.owner]
        for i, hop in enumerate(route.hops):
            if hop != me:
                continue
            prev = route.owner if i == 0 else route.hops[i - 1]
            sub = s.ctx.sub(_stream(r, i))
            key_in = SELF_ENCRYPTED if i == 0 else MULTI_HOP
            values = key.encrypt(recv_batches(sub, prev, key_in, n, width=suite.value_bytes,
                                              batch_rows=rows), executor=ex)
            if i in route.shuffle_at:
                values = values[secret_permutation(n)]
            if i == len(route.hops) - 1 and route.receiver == me:
                received[route.owner] = values
            else:
                send_batches(s.ctx.sub(_stream(r, i + 1)), route.receiver
                             if i == len(route.hops) - 1 else route.hops[i + 1],
                             MULTI_HOP, values, batch_rows=rows)
            s.tick(f"ring: set of {route.owner}", i + 1, len(route.hops))
        last = len(route.hops) - 1
        if route.receiver == me and route.hops[last] != me:
            sub = s.ctx.sub(_stream(r, last + 1))
            received[route.owner] = suite.validate_values(
                recv_batches(sub, route.hops[last], MULTI_HOP, n, width=suite.value_bytes,
                             batch_rows=rows), executor=ex)
    return received
