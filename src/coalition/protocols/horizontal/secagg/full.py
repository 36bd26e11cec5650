"""The full secure-aggregation protocol over a :class:`~coalition.core.Context`: drivers of the
state machines :class:`~.client.SecAggClient` and :class:`~.server.SecAggServer` (Bonawitz et
al. CCS 2017, §4; SecAgg+ graphs of Bell et al. CCS 2020). Four round trips; tolerates clients
dropping at any phase as long as every neighbourhood keeps ``threshold`` members. Horizontal FL
runs it only when the one-round fast path of :mod:`.session` lost a masked input.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from coalition.core import Context, Party
from coalition.crypto.suite import CryptoSuite
from coalition.protocols.horizontal.collect import gather_until, send_each
from coalition.protocols.horizontal.secagg.client import SecAggClient, ShareKeyCache
from coalition.protocols.horizontal.secagg.server import SecAggServer
from coalition.protocols.horizontal.secagg.spec import (
    ABORT,
    ADVERTISE,
    INBOX,
    MASKED,
    ROSTER,
    SHARES,
    SURVIVORS,
    UNMASK,
    RoundAborted,
    is_abort,
)
from coalition.protocols.horizontal.spec import SecAggConfig

__all__ = ["SecureSum", "run_secagg_client", "run_secagg_server"]


@dataclass(frozen=True)
class SecureSum:
    """The sum of the participants' vectors (residues mod 2^k) and who contributed."""

    total: NDArray[np.uint64]
    participants: list[Party]


def run_secagg_client(ctx: Context, server: Party, vector: NDArray[np.uint64],
                      modulus_bits: int, share_keys: ShareKeyCache | None = None, *,
                      suite: CryptoSuite | str = CryptoSuite.STANDARD) -> bool:
    """Contribute ``vector`` (residues mod 2^k) to the secure sum; ``False`` if the server
    dropped this client or abandoned the sum. Pass one ``share_keys`` for all sums of a job to
    reuse the share-encryption key."""
    state = SecAggClient(str(ctx.party), ctx.namespace, modulus_bits, share_keys, suite)
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


def run_secagg_server(ctx: Context, clients: Sequence[Party], length: int, config: SecAggConfig,
                      timeout: float) -> SecureSum:
    """Drive one secure sum over ``clients``; raises :class:`RoundAborted` if it cannot finish."""
    state = SecAggServer(ctx.namespace, length, config)
    by_name = {str(p): p for p in clients}
    pending = list(clients)  # clients still waiting for a server message

    def phase(key_in: Any, step: Any, key_out: Any) -> None:
        got = gather_until(ctx, pending, key_in, timeout)
        try:
            payloads = step({str(p): v for p, v in got.items()})
        except RoundAborted:
            send_each(ctx, dict.fromkeys(pending, ABORT), key_out)
            raise
        send_each(ctx, {p: payloads.get(str(p), ABORT) for p in pending}, key_out)
        pending[:] = [p for p in pending if str(p) in payloads]

    phase(ADVERTISE, state.roster, ROSTER)
    phase(SHARES, state.route, INBOX)
    phase(MASKED, state.survivors, SURVIVORS)
    responses = gather_until(ctx, pending, UNMASK, timeout)
    total = state.unmask({str(p): v for p, v in responses.items()})
    return SecureSum(total, [by_name[u] for u in sorted(state.u3)])
