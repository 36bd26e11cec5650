"""Guest (party 0) of the SS variant: labels, its features, the intercept.

Who learns what: the guest sees only uniformly random shares and masked openings (``X − U``,
``w − V``, ``d − V'``, ``s − A``), plus the per-epoch training loss; at the end it learns its own
weights and the intercept, never a host's weights. Without an arbiter it is also the dealer
(see ``dealer`` for the weaker trust this implies). With ``task: poisson`` its exposures stay
local (their logs join its share of the score) and it alone learns the deviance
(:mod:`.poisson`).
"""

from __future__ import annotations

import numpy as np

from coalition.core import Context
from coalition.core.errors import ConfigError, InputError
from coalition.protocols.linear.artifact import LinearModelPart, suite_meta
from coalition.protocols.linear.data import PartyTable, design, guest_labels
from coalition.protocols.linear.fixedpoint import decode, encode
from coalition.protocols.linear.layout import collect_layout
from coalition.protocols.linear.spec import LinearParams
from coalition.protocols.linear.ss.correlated import ShareStream
from coalition.protocols.linear.ss.dealer import TripleDealer
from coalition.protocols.linear.ss.engine import (
    EpochEnd,
    EpochStart,
    SSTrainer,
    TrainHistory,
    ring_value,
)
from coalition.protocols.linear.ss.poisson import DevianceReference
from coalition.protocols.linear.ss.spec import (
    CORRECTIONS,
    INPUT_MASKED,
    PROCEED,
    SEED,
    WEIGHT_SHARE,
)

__all__ = ["SSGuest"]


class SSGuest:
    """Estimator for the guest: ``SSGuest(params).fit(ctx, table).model_``."""

    model_: LinearModelPart
    history_: TrainHistory

    def __init__(self, params: LinearParams | dict[str, object] | None = None) -> None:
        self.params = LinearParams.parse(params)

    def fit(self, ctx: Context, table: PartyTable) -> SSGuest:
        """Train jointly with the hosts (and the arbiter, if any); returns ``self``."""
        p, f = self.params, self.params.frac_bits
        if not ctx.hosts:
            raise ConfigError("protocol 'ss' needs at least one host")
        y = guest_labels(table, p.task)
        scaler, xg = design(table, p.fit_intercept, p.feature_clip)
        layout = collect_layout(ctx, table, xg.shape[1], p.suite)
        order = [ctx.party, *ctx.hosts]
        cols = layout.columns(order)
        party1 = ctx.hosts[0]
        tctx = ctx.sub("train")

        if ctx.arbiter is not None:
            arbiter = ctx.arbiter
            seed = ctx.recv(arbiter, SEED)
            start: EpochStart = _noop_start

            def report(ectx: Context, epoch: int, keep: bool) -> None:
                ectx.send(arbiter, PROCEED, keep)

            end: EpochEnd = report
        else:
            dealer = TripleDealer(p, layout.rows, layout.total_width)
            ctx.send(party1, SEED, dealer.seed1)
            seed = dealer.seed0
            end = _noop_end

            def deal(ectx: Context, epoch: int) -> None:
                ectx.send(party1, CORRECTIONS, dealer.corrections(epoch))

            start = deal
        if not isinstance(seed, int):
            raise InputError("malformed dealer seed")

        x = np.zeros((layout.rows, layout.total_width), dtype=np.uint64)
        x[:, cols[ctx.party]] = encode(xg, f)
        for host in ctx.hosts[1:]:
            width = cols[host].stop - cols[host].start
            x[:, cols[host]] = ring_value(ctx.recv(host, INPUT_MASKED), (layout.rows, width))
        logistic = p.task == "logistic"
        offset = encode(y - 0.5 if logistic else y, f)
        target = encode(2.0 * (2.0 * y - 1.0) if logistic else y, f)
        reg = np.ones(layout.total_width)
        if p.fit_intercept:
            reg[cols[ctx.party].stop - 1] = 0.0
        poisson = p.task == "poisson"
        # Poisson: log(exposure) joins the guest's share of the score, locally
        shift = (encode(np.log(table.exposure), f)
                 if poisson and table.exposure is not None else None)
        trainer = SSTrainer(p, index=0, peer=party1, dealer=ctx.arbiter or ctx.party,
                            stream=ShareStream(seed, p.suite), x=x, offset=offset,
                            target=target, reg_mask=reg, shift=shift,
                            reference=DevianceReference.of(y) if poisson else None)
        w = trainer.fit(tctx, end, start)

        for host in ctx.hosts:
            ctx.send(host, WEIGHT_SHARE, w[cols[host]])
        theirs = ring_value(ctx.recv(party1, WEIGHT_SHARE), (layout.width(ctx.party),))
        mine = decode(w[cols[ctx.party]] + theirs, f)
        for epoch, loss in enumerate(trainer.history.loss):
            ctx.log_metric("loss", loss, step=epoch)
        self.history_ = trainer.history
        self.model_ = LinearModelPart(
            "guest", p.task, p.protocol, table.feature_names,
            mine[:-1] if p.fit_intercept else mine, scaler,
            float(mine[-1]) if p.fit_intercept else 0.0,
            {"epochs": trainer.history.epochs, "loss": trainer.history.loss,
             **suite_meta(p.suite)})
        return self


def _noop_start(ctx: Context, epoch: int) -> None:
    """Nothing to do at an epoch's start when the arbiter deals."""


def _noop_end(ctx: Context, epoch: int, keep: bool) -> None:
    """Nothing to report when the guest is its own dealer."""
