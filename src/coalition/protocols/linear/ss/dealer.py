"""Dealer of the SS variant: generates the Beaver triples, never receives data.

Who learns what: the dealer receives only the public layout (row count, column widths) and one
"keep training" bit per epoch from the guest; it sends each computing party a 128-bit seed, and
party 1 the per-batch corrections ``U_B·V − Z_0``, ``U_B^T·V' − Z'_0``, ``ΣA² − S_0`` (and for
``task: poisson`` ``ΣA·B − S_0`` and one ``A_k² − (A_k²)_0`` per exp squaring). It learns
nothing about features, labels or weights. Security needs the dealer not to collude with either
computing party: a dealer that also saw the openings ``X − U`` could unmask the features.

Without an arbiter the guest acts as dealer (:class:`TripleDealer` run in-process, as SPU's
SEMI2K "trusted first party" mode does). This is weaker: the guest then knows both parties'
mask shares and could unmask the first host's features from ``X − U`` — the hosts must trust the
guest to run the dealer honestly and not to combine its views. Use an arbiter where that matters.
"""

from __future__ import annotations

import numpy as np

from coalition.core import Context, Party
from coalition.core.errors import ConfigError, ProtocolError
from coalition.protocols.linear.batching import batches
from coalition.protocols.linear.layout import await_layout
from coalition.protocols.linear.spec import LinearParams
from coalition.protocols.linear.ss.correlated import (
    Purpose,
    ShareStream,
    dealer_corrections,
    dw_correction,
    new_seed,
)
from coalition.protocols.linear.ss.poisson import exp_squarings
from coalition.protocols.linear.ss.spec import CORRECTIONS, PROCEED, SEED

__all__ = ["SSDealer", "TripleDealer"]


class TripleDealer:
    """Seed-expanded triples for ``rows`` x ``width`` features (used by the arbiter, or the
    guest when there is no arbiter)."""

    def __init__(self, params: LinearParams, rows: int, width: int) -> None:
        self.params, self.rows, self.width = params, rows, width
        self.seed0, self.seed1 = new_seed(), new_seed()
        self._s0 = ShareStream(self.seed0, params.suite)
        self._s1 = ShareStream(self.seed1, params.suite)
        with np.errstate(over="ignore"):
            self._u = (self._s0.ring(Purpose.U, shape=(rows, width))
                       + self._s1.ring(Purpose.U, shape=(rows, width)))

    def corrections(self, epoch: int) -> dict[str, object]:
        """Party 1's corrections for every batch of ``epoch``."""
        plan = batches(self.rows, self.params, epoch)
        return {
            "batches": [dealer_corrections(self._s0, self._s1, self._u, rows, epoch=epoch,
                                           batch=j, cubic=self.params.sigmoid == "poly3",
                                           squarings=exp_squarings(self.params))
                        for j, rows in enumerate(plan)],
            "dw": dw_correction(self._s0, self._s1, epoch, self.width),
        }


class SSDealer:
    """The arbiter's role in ``protocol: ss``: deal triples one epoch ahead of the parties."""

    def __init__(self, params: LinearParams | dict[str, object] | None = None) -> None:
        self.params = LinearParams.parse(params)

    def fit(self, ctx: Context) -> SSDealer:
        """Serve triples until the guest says training is over; returns ``self``."""
        if not ctx.hosts:
            raise ConfigError("protocol 'ss' needs at least one host")
        party1: Party = ctx.hosts[0]
        layout = await_layout(ctx)
        dealer = TripleDealer(self.params, layout.rows, layout.total_width)
        ctx.send(ctx.guest, SEED, dealer.seed0)
        ctx.send(party1, SEED, dealer.seed1)
        tctx = ctx.sub("train")
        previous: Context | None = None
        # Corrections for epoch e go out before the verdict on epoch e-1: the parties never wait
        # for the dealer, at the cost of at most one epoch of unused triples.
        for epoch, ectx in tctx.sub("epoch").iter(self.params.epochs):
            ectx.send(party1, CORRECTIONS, dealer.corrections(epoch))
            if previous is not None and not self._proceed(previous):
                return self
            previous = ectx
        if previous is not None:
            self._proceed(previous)
        return self

    @staticmethod
    def _proceed(ctx: Context) -> bool:
        verdict = ctx.recv(ctx.guest, PROCEED)
        if not isinstance(verdict, bool):
            raise ProtocolError("malformed proceed flag")
        return verdict
