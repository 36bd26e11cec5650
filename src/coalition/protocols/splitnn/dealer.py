"""The dealer (the job's arbiter): deals the interactive layer's triples, never sees data.

Who learns what: the dealer receives the row count and the agreed parameters (public sizes),
and one "deal the next epoch" message per epoch (it takes no part in prediction); it sends each
party a 128-bit seed per guest-host pair (the guest one per host, every pair independent) and
the right-hand party of each product its ``C_R`` shares. It learns nothing about features,
labels, bottom outputs, errors or weights. Security needs the dealer not to collude with either
party: with the masks it generated, the openings ``α_h − A`` and ``δ − A`` would unmask the
host's bottom outputs and the guest's errors. Without an arbiter there is no dealer and the job
is refused: the guest must not deal (it would then unmask the host's bottom outputs).
"""

from __future__ import annotations

from typing import Any

from coalition.core import Context, Party
from coalition.core.errors import ConfigError, ProtocolError
from coalition.crypto.suite import CryptoSuite
from coalition.protocols.splitnn.network import batches
from coalition.protocols.splitnn.spec import CORRECTIONS, PROCEED, SEED, SETUP, HeteroNNParams
from coalition.protocols.splitnn.triples import (
    FINISH_EPOCH,
    Product,
    Shares,
    batch_shapes,
    correction,
    new_seed,
)

__all__ = ["SplitNNDealer", "dealer_of", "hosts_of", "parse_seed", "read_setup", "with_host"]


def hosts_of(ctx: Context) -> list[Party]:
    """The job's hosts (one or more), in the canonical (sorted) order."""
    hosts = ctx.hosts
    if not hosts:
        raise ConfigError("hetero NN needs at least one host")
    return hosts


def with_host(ctx: Context, host: Party) -> Context:
    """The namespace of what the dealer sends the guest about its pair with ``host`` (the
    guest receives one seed and one set of corrections per host)."""
    return ctx.sub(f"with-{host.name}")


def dealer_of(ctx: Context) -> Party:
    """The arbiter, who deals; a job without one is refused (see the module docstring)."""
    if ctx.arbiter is None:
        raise ConfigError("hetero NN needs an arbiter (it deals the interactive layer's triples)")
    return ctx.arbiter


def parse_seed(value: Any) -> int:
    """A 128-bit seed from the dealer, or a typed protocol error."""
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 1 << 128:
        raise ProtocolError("malformed dealer seed")
    return value


def read_setup(value: Any, params: HeteroNNParams, *, training: bool) -> int:
    """Row count from the guest's SETUP, after checking the parameters match this party's."""
    if not isinstance(value, dict) or not isinstance(value.get("rows"), int) \
            or value["rows"] < 1:
        raise ProtocolError("malformed setup", field="rows")
    if training and value.get("params") != params.wire_subset():
        raise ConfigError("hetero NN parameters differ between the parties")
    return int(value["rows"])


def _pair(ctx: Context, host: Party, suite: CryptoSuite) -> tuple[Shares, Shares]:
    """Fresh, independent seeds for the guest's and ``host``'s sides of their triples,
    expanded with the PRG of ``suite``."""
    g_seed, h_seed = new_seed(), new_seed()
    with_host(ctx, host).send(ctx.guest, SEED, g_seed)
    ctx.send(host, SEED, h_seed)
    return Shares(g_seed, suite), Shares(h_seed, suite)


class SplitNNDealer:
    """The arbiter's role: seeds, each epoch's corrections when the guest asks, then the
    finishing product's."""

    def __init__(self, params: HeteroNNParams | dict[str, object] | None = None) -> None:
        self.params = HeteroNNParams.parse(params)

    def fit(self, ctx: Context) -> SplitNNDealer:
        """Deal the training triples of every guest-host pair."""
        p, hosts = self.params, hosts_of(ctx)
        tctx = ctx.sub("train")
        rows = read_setup(tctx.recv(ctx.guest, SETUP), p, training=True)
        pairs = {host: _pair(tctx, host, p.suite) for host in hosts}
        d, k = p.bottom_width, p.interactive_units
        for epoch, ectx in tctx.iter(p.epochs):
            if ectx.recv(ctx.guest, PROCEED) != epoch:
                raise ProtocolError("guest asked for the wrong epoch")
            plan = batches(rows, p, epoch)
            for host, (gs, hs) in pairs.items():
                to_guest, to_host = [], []
                for j, idx in enumerate(plan):
                    shapes = {q: batch_shapes(q, len(idx), d, k) for q in Product}
                    to_guest.append({
                        "forward": correction(hs, gs, Product.FORWARD, epoch, j,
                                              shapes=shapes[Product.FORWARD]),
                        "weight_step": correction(hs, gs, Product.WEIGHT_STEP, epoch, j,
                                                  shapes=shapes[Product.WEIGHT_STEP])})
                    to_host.append(correction(gs, hs, Product.HOST_GRADIENT, epoch, j,
                                              shapes=shapes[Product.HOST_GRADIENT]))
                with_host(ectx, host).send(ctx.guest, CORRECTIONS, to_guest)
                ectx.send(host, CORRECTIONS, to_host)
        fctx = tctx.sub("finish")
        for host, (gs, hs) in pairs.items():
            with_host(fctx, host).send(ctx.guest, CORRECTIONS, correction(
                hs, gs, Product.FINISH, FINISH_EPOCH, 0,
                shapes=batch_shapes(Product.FINISH, rows, d, k)))
        return self
