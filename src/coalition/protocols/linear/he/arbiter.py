"""Arbiter of ``protocol: he-arbiter``: holds the Paillier key, decrypts masked values, deals
the hosts' encryptions of zero a batch ahead (:mod:`.zeros`), and coordinates (loss,
convergence).

Who learns what: the arbiter decrypts only gradients masked by their owners (``g + M``,
statistically independent of ``g``), the epoch's training loss (one host) and, for
``early_stop: weight_diff``, each party's squared update norm. It never sees a true gradient,
weight, feature or label; what it decrypts arrives uniformly re-randomised, so the zeros it
dealt tell it nothing. Unlike FATE 2.x's arbiter it does not update the model: owners do,
which is what keeps their gradients from it.
"""

from __future__ import annotations

import warnings
from functools import partial

from coalition.core import Context
from coalition.core.errors import ConfigError, ProtocolError
from coalition.crypto import he
from coalition.crypto.paillier import InsecureKeyWarning
from coalition.protocols.linear.batching import batches
from coalition.protocols.linear.he.common import (
    HEHistory,
    check_batch_floor,
    decide,
    powers_per_row,
    serve_decrypt,
    serve_decrypt_as_they_come,
    with_loss,
)
from coalition.protocols.linear.he.spec import EPOCH_LOSS, PUBKEY
from coalition.protocols.linear.he.zeros import ZeroDealer
from coalition.protocols.linear.layout import await_layout
from coalition.protocols.linear.spec import LinearParams

__all__ = ["HEArbiter", "keypair"]


def keypair(params: LinearParams) -> tuple[he.PublicKey, he.PrivateKey]:
    """A fresh ``params.he_scheme`` key pair of ``params.key_bits`` (test-size keys only when
    explicitly allowed)."""
    with warnings.catch_warnings():
        if params.allow_insecure_key:
            warnings.simplefilter("ignore", InsecureKeyWarning)
        return he.generate_keypair(params.he_scheme, params.key_bits,
                                   allow_insecure=params.allow_insecure_key)


class HEArbiter:
    """``HEArbiter(params).fit(ctx)``; ``history_`` holds the loss per epoch."""

    history_: HEHistory

    def __init__(self, params: LinearParams | dict[str, object] | None = None) -> None:
        self.params = LinearParams.parse(params)

    def fit(self, ctx: Context) -> HEArbiter:
        """Serve the key-holder and coordinator duties until training ends."""
        p = self.params
        if not ctx.hosts:
            raise ConfigError("vertical LR needs at least one host")
        layout = await_layout(ctx)
        check_batch_floor(p, layout, ctx.guest, ctx.hosts)
        pk, sk = keypair(p)
        owners = [ctx.guest, *ctx.hosts]
        ctx.send(owners, PUBKEY, pk)
        loss_on = with_loss(p, len(ctx.hosts))
        self.history_ = HEHistory()
        epochs = ctx.sub("train").sub("epoch")
        extra = int(loss_on and p.task != "poisson")  # poisson's deviance needs no [[Σu²]]
        dealer = ZeroDealer(epochs, sk, ctx.hosts, layout.rows, p, extra=extra,
                            per_row=powers_per_row(p, len(ctx.hosts)))
        dealer.deal(0, 0)
        for epoch, ectx in epochs.iter(p.epochs):
            n_batches = len(batches(layout.rows, p, epoch))
            for j, bctx in ectx.sub("batch").iter(n_batches):
                # the next zeros are made while the owners run their multi-exponentiations
                deal_next = partial(dealer.deal_after, epoch, j, n_batches)
                if p.he_pipeline > 1:
                    serve_decrypt_as_they_come(bctx, sk, owners, deal_next)
                else:
                    deal_next()
                    serve_decrypt(bctx, sk, owners)
            loss = None
            if loss_on:
                enc = ectx.recv(ctx.guest, EPOCH_LOSS)
                if not isinstance(enc, he.EncryptedArray):
                    raise ProtocolError("malformed loss")
                loss = float(he.decrypt(sk, enc, executor=ctx.executor).ravel()[0]) / layout.rows
            if not decide(ectx, p, epoch, self.history_, loss=loss, own_dw2=None,
                          others=owners, guest=ctx.guest):
                break
        return self
