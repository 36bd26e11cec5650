"""Hosts of the SS variant.

The first host (``ctx.hosts[0]``) is computing party 1. Any further host is an input/output
party: it secret-shares its standardised features between the guest (``X_k − R``) and party 1
(the seed of ``R``), then waits for the two shares of its own weights.

Who learns what: a host sees only uniform shares and masked openings (party 1 also the
per-epoch loss); it learns its own weights, never labels, the guest's features or weights, or
another host's. Security assumes the guest and party 1 do not collude (and neither colludes with
the dealer).
"""

from __future__ import annotations

import numpy as np

from coalition.core import Context
from coalition.core.errors import ConfigError, InputError
from coalition.protocols.linear.artifact import LinearModelPart, suite_meta
from coalition.protocols.linear.data import PartyTable, Standardizer, design
from coalition.protocols.linear.fixedpoint import Ring, decode, encode
from coalition.protocols.linear.layout import Layout, announce
from coalition.protocols.linear.spec import LinearParams
from coalition.protocols.linear.ss.correlated import Purpose, ShareStream, new_seed
from coalition.protocols.linear.ss.engine import SSTrainer, TrainHistory, ring_value
from coalition.protocols.linear.ss.spec import INPUT_MASKED, INPUT_SEED, SEED, WEIGHT_SHARE

__all__ = ["SSHost"]


class SSHost:
    """Estimator for a host: ``SSHost(params).fit(ctx, table).model_``."""

    model_: LinearModelPart
    history_: TrainHistory

    def __init__(self, params: LinearParams | dict[str, object] | None = None) -> None:
        self.params = LinearParams.parse(params)

    def fit(self, ctx: Context, table: PartyTable) -> SSHost:
        """Train jointly; returns ``self`` with ``model_`` holding this host's weights only."""
        scaler, xh = design(table, fit_intercept=False, clip=self.params.feature_clip)
        layout = announce(ctx, table, self.params.suite)
        if layout.width(ctx.party) != xh.shape[1]:
            raise ConfigError("layout disagrees with this host's columns")
        compute = ctx.party == ctx.hosts[0]
        ring = self._compute(ctx, layout, xh) if compute else self._input_only(ctx, layout, xh)
        self._finish(table, scaler, decode(ring, self.params.frac_bits))
        return self

    def _compute(self, ctx: Context, layout: Layout, xh: np.ndarray) -> Ring:
        p, f = self.params, self.params.frac_bits
        dealer = ctx.arbiter or ctx.guest
        seed = ctx.recv(dealer, SEED)
        if not isinstance(seed, int):
            raise InputError("malformed dealer seed")
        cols = layout.columns([ctx.guest, *ctx.hosts])
        x = np.zeros((layout.rows, layout.total_width), dtype=np.uint64)
        x[:, cols[ctx.party]] = encode(xh, f)
        for host in ctx.hosts[1:]:
            share_seed = ctx.recv(host, INPUT_SEED)
            if not isinstance(share_seed, int):
                raise InputError("malformed input seed", host=str(host))
            width = cols[host].stop - cols[host].start
            x[:, cols[host]] = ShareStream(share_seed, p.suite).ring(
                Purpose.INPUT, shape=(layout.rows, width))
        zeros = np.zeros(layout.rows, dtype=np.uint64)
        reg = np.ones(layout.total_width)
        if p.fit_intercept:
            reg[cols[ctx.guest].stop - 1] = 0.0
        trainer = SSTrainer(p, index=1, peer=ctx.guest, dealer=dealer,
                            stream=ShareStream(seed, p.suite),
                            x=x, offset=zeros, target=zeros, reg_mask=reg)
        w = trainer.fit(ctx.sub("train"), _noop_end, _noop_start)
        self.history_ = trainer.history
        ctx.send(ctx.guest, WEIGHT_SHARE, w[cols[ctx.guest]])
        for host in ctx.hosts[1:]:
            ctx.send(host, WEIGHT_SHARE, w[cols[host]])
        theirs = ring_value(ctx.recv(ctx.guest, WEIGHT_SHARE), (xh.shape[1],))
        out: Ring = w[cols[ctx.party]] + theirs
        return out

    def _input_only(self, ctx: Context, layout: Layout, xh: np.ndarray) -> Ring:
        seed = new_seed()
        r = ShareStream(seed, self.params.suite).ring(Purpose.INPUT, shape=xh.shape)
        ctx.send(ctx.hosts[0], INPUT_SEED, seed)
        ctx.send(ctx.guest, INPUT_MASKED, encode(xh, self.params.frac_bits) - r)
        self.history_ = TrainHistory()
        shape = (layout.width(ctx.party),)
        out: Ring = (ring_value(ctx.recv(ctx.guest, WEIGHT_SHARE), shape)
                     + ring_value(ctx.recv(ctx.hosts[0], WEIGHT_SHARE), shape))
        return out

    def _finish(self, table: PartyTable, scaler: Standardizer, weights: np.ndarray) -> None:
        p = self.params
        self.model_ = LinearModelPart("host", p.task, p.protocol, table.feature_names,
                                      np.asarray(weights, dtype=np.float64), scaler, None,
                                      {"epochs": self.history_.epochs, **suite_meta(p.suite)})


def _noop_start(ctx: Context, epoch: int) -> None:
    """Party 1 has nothing to do at an epoch's start."""


def _noop_end(ctx: Context, epoch: int, keep: bool) -> None:
    """Party 1 has nothing to report at an epoch's end."""
