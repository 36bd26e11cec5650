"""Host of the Paillier variants.

``he-arbiter``: send ``[[k·u_h]]`` (and, with one host, ``[[Σu_h²·c_q]]`` for the loss) to the
guest — each made by adding the plaintext to an encryption of zero the arbiter dealt a batch
ahead (:mod:`.zeros`) — receive ``[[d]]``, compute ``[[X_h^T d]]`` with the multi-exponentiation
(``EncryptedArray.xt_dot``), mask it and let the arbiter decrypt ``g + M``.

``he-guest``: receive ``[[v]] = [[k·u_g + c − y]]`` from the guest and the other hosts'
``[[k·u_h']]``; form ``[[d]]``; return ``[[X_g^T k·u_h]]`` (via the first host, summed over
hosts and re-randomised) so the guest can finish its gradient; have the guest decrypt the
masked ``[[X_h^T d]]``. Everything sent to the key holder is uniformly re-randomised.

Who learns what: a host only ever holds ciphertexts under another party's key and its own
plaintext weights and gradient; it learns its own weights, nothing about labels, the guest's
features or weights, or other hosts' data.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from coalition.core import Context, Party
from coalition.core.errors import ConfigError, ProtocolError
from coalition.crypto import he
from coalition.protocols.linear.artifact import LinearModelPart, suite_meta
from coalition.protocols.linear.batching import batches
from coalition.protocols.linear.data import PartyTable, design
from coalition.protocols.linear.he.common import (
    HEHistory,
    LocalModel,
    check_batch_floor,
    expect_encrypted,
    he_params,
    powers_per_row,
    report_epoch,
    segments,
    with_loss,
)
from coalition.protocols.linear.he.spec import (
    CROSS,
    ENC_D,
    ENC_KU,
    ENC_LOSS_AUX,
    ENC_Q,
    ENC_V,
    ENC_XG,
    PUBKEY,
)
from coalition.protocols.linear.he.zeros import receive_zeros
from coalition.protocols.linear.layout import announce
from coalition.protocols.linear.spec import LinearParams

__all__ = ["HEHost"]


class HEHost:
    """``HEHost(params).fit(ctx, table).model_`` holds this host's weights only."""

    model_: LinearModelPart
    history_: HEHistory

    def __init__(self, params: LinearParams | dict[str, object] | None = None) -> None:
        self.params = he_params(params, "HEHost")

    def fit(self, ctx: Context, table: PartyTable) -> HEHost:
        """Train jointly; returns ``self``."""
        p = self.params
        scaler, x = design(table, fit_intercept=False, clip=p.feature_clip)
        layout = announce(ctx, table, p.suite)
        check_batch_floor(p, layout, ctx.guest, ctx.hosts)
        self.model = LocalModel(p, x, np.ones(x.shape[1]))
        self.k = 0.25 if p.task == "logistic" else 1.0
        self.cq = 0.125 if p.task == "logistic" else 0.5
        self.loss_on = with_loss(p, len(ctx.hosts))
        self.powers = powers_per_row(p, len(ctx.hosts))
        self.history_ = HEHistory()
        key_holder = ctx.arbiter if p.protocol == "he-arbiter" else ctx.guest
        if key_holder is None:
            raise ConfigError("protocol 'he-arbiter' needs an arbiter")
        pk = ctx.recv(key_holder, PUBKEY)
        if not he.is_public_key(pk, p.he_scheme):
            raise ProtocolError("malformed public key")
        run: dict[str, Callable[[Context, he.PublicKey, Party, int], None]] = {
            "he-arbiter": self._batches_with_arbiter, "he-guest": self._batches_key_at_guest}
        self._rows = layout.rows
        self._enc_xg = (expect_encrypted(ctx.recv(ctx.guest, ENC_XG), "xg") if p.protocol == "he-guest"
                        else None)
        for epoch, ectx in ctx.sub("train").sub("epoch").iter(p.epochs):
            self.model.begin_epoch()
            w0 = self.model.w.copy()
            run[p.protocol](ectx, pk, key_holder, epoch)
            # the key holder is also the coordinator in both topologies
            verdict = report_epoch(ectx, key_holder, p, self.model.w - w0)
            self.history_.epochs = epoch + 1
            if not verdict["keep"]:
                break
        self.model_ = LinearModelPart("host", p.task, p.protocol, table.feature_names,
                                      self.model.final_weights, scaler, None,
                                      {"epochs": self.history_.epochs, **suite_meta(p.suite)})
        return self

    def _batches_with_arbiter(self, ectx: Context, pk: he.PublicKey, arbiter: Party,
                              epoch: int) -> None:
        p, guest = self.params, ectx.guest
        plan = batches(self._rows, p, epoch)
        lr = p.lr_at(epoch)
        for j, bctx in ectx.sub("batch").iter(len(plan)):
            idx = plan[j]
            m = len(idx)
            width = self.powers * m
            poisson = p.task == "poisson"
            zeros = receive_zeros(ectx, arbiter, pk, j,
                                  width + int(self.loss_on and not poisson))
            u = self.model.score(idx)
            segs = segments(bctx, m, p)
            used = 0
            for sl, sctx in segs:
                plain = self._powers(u[sl])
                sctx.send(guest, ENC_KU, zeros[used:used + len(plain)] + plain)
                used += len(plain)
            if self.loss_on and not poisson:
                bctx.send(guest, ENC_Q, zeros[width:] + np.array([self.cq * float(u @ u)]))
            # each segment's products start as its [[d]] arrives (common.segments)
            stream = self.model.gradient_stream(idx, bctx)
            for sl, sctx in segs:
                stream.add(sl.start, expect_encrypted(sctx.recv(guest, ENC_D), "d"))
            self.model.step(self.model.masked_gradient(bctx, arbiter, stream.result()),
                            len(idx), lr)

    def _powers(self, u: np.ndarray[Any, np.dtype[np.float64]]
                ) -> np.ndarray[Any, np.dtype[np.float64]]:
        """What the guest receives encrypted for scores ``u``: poly3 ``[[u]], [[u²]], [[u³]]``
        (for its expansion of ``(u_g + u_h)³``); poisson ``[[exp(u)]]`` (it multiplies in
        ``exp(u_g)·exposure``) and ``[[u]]``; else ``[[k·u]]``."""
        if self.params.task == "poisson":
            return np.concatenate([np.exp(u), u])
        if self.powers == 3:
            return np.concatenate([u, u * u, u**3])
        out: np.ndarray[Any, np.dtype[np.float64]] = self.k * u
        return out

    def _batches_key_at_guest(self, ectx: Context, pk: he.PublicKey, guest: Party,
                              epoch: int) -> None:
        p, first = self.params, ectx.hosts[0]
        others = [h for h in ectx.hosts if h != ectx.party]
        plan = batches(self._rows, p, epoch)
        lr = p.lr_at(epoch)
        enc_xg = self._enc_xg
        if enc_xg is None:
            raise ProtocolError("missing encrypted guest features")
        for j, bctx in ectx.sub("batch").iter(len(plan)):
            idx = plan[j]
            ku = self.k * self.model.score(idx)
            if others:
                bctx.send(others, ENC_KU, pk.encrypt(ku, executor=ectx.executor))
            enc_d = expect_encrypted(bctx.recv(guest, ENC_V), "v") + ku
            for h in others:
                enc_d = enc_d + expect_encrypted(bctx.recv(h, ENC_KU), "ku")
            xg = enc_xg[idx]
            # X_g^T (k u_h) column by column: one bucket multi-exponentiation each
            parts = [xg[:, c].xt_dot(ku[:, None], executor=ectx.executor)
                     for c in range(xg.shape[1])]
            if self.loss_on:
                enc_a = expect_encrypted(bctx.recv(guest, ENC_LOSS_AUX), "a")
                u = ku / self.k
                parts.append(enc_a.xt_dot(ku[:, None], executor=ectx.executor)
                             + pk.encrypt(np.array([self.cq * float(u @ u)])))
            cross = he.concatenate(parts)
            if ectx.party == first:
                for h in others:
                    cross = cross + expect_encrypted(bctx.recv(h, CROSS), "cross")
                bctx.send(guest, CROSS, cross.rerandomize(ectx.executor, uniform=True))
            else:
                bctx.send(first, CROSS, cross)
            grad = self.model.gradient(enc_d, idx, bctx)
            self.model.step(self.model.masked_gradient(bctx, guest, grad), len(idx), lr)
