"""Guest of the Paillier variants (labels, its features, the intercept).

``he-arbiter`` (Hardy et al., "Private federated learning on vertically partitioned data via
entity resolution and additively homomorphic encryption", 2017): hosts send ``[[k·u_h]]``
(``u_h = X_h w_h``), the guest forms ``[[d]] = Σ[[k·u_h]] + k·u_g + c − y`` and sends it to the
hosts; everyone computes ``[[X_p^T d]]``, masks it, and has the arbiter decrypt ``g + M``.

``he-guest`` (no third party, in the spirit of Yang et al., "Parallel distributed logistic
regression for vertical federated learning without third-party coordinator", 2019): the guest
holds the key, sends ``[[k·u_g + c − y]]`` to the hosts and ``[[X_g]]`` once; the hosts return
``[[X_g^T k·u_H]]`` (summed over hosts, re-randomised) so the guest computes its own gradient,
and the guest decrypts the hosts' masked gradients.

Who learns what: the guest learns its own gradient and weights, the intercept, the loss
(``he-guest``: also ``X_g^T u_H`` per batch, which its own gradient reveals anyway). It never
receives a host's features, weights, partial scores or unmasked gradient in plaintext.
Taylor loss/sigmoid: ``σ(z) ≈ 1/2 + z/4`` (``k = 1/4, c = 1/2``); linear regression ``k = 1, c = 0``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from coalition.core import Context
from coalition.core.errors import ConfigError, ProtocolError
from coalition.crypto import he
from coalition.crypto.he import EncryptedArray
from coalition.protocols.linear.artifact import LinearModelPart, suite_meta
from coalition.protocols.linear.batching import batches
from coalition.protocols.linear.data import PartyTable, design, guest_labels
from coalition.protocols.linear.he.arbiter import keypair
from coalition.protocols.linear.he.common import (
    HEHistory,
    LocalModel,
    check_batch_floor,
    decide,
    expect_encrypted,
    he_params,
    loss_terms,
    powers_per_row,
    report_epoch,
    segments,
    serve_decrypt,
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
    EPOCH_LOSS,
    PUBKEY,
)
from coalition.protocols.linear.layout import collect_layout
from coalition.protocols.linear.sigmoid import sigmoid_poly
from coalition.protocols.linear.spec import LinearParams

__all__ = ["HEGuest"]

FloatArray = NDArray[np.float64]


class HEGuest:
    """``HEGuest(params).fit(ctx, table).model_`` for ``he-arbiter`` and ``he-guest``."""

    model_: LinearModelPart
    history_: HEHistory

    def __init__(self, params: LinearParams | dict[str, object] | None = None) -> None:
        self.params = he_params(params, "HEGuest")

    def fit(self, ctx: Context, table: PartyTable) -> HEGuest:
        """Train jointly; returns ``self`` with the guest's weights and intercept."""
        p = self.params
        if not ctx.hosts:
            raise ConfigError("vertical LR needs at least one host")
        self.y = guest_labels(table, p.task)
        scaler, x = design(table, p.fit_intercept, p.feature_clip)
        layout = collect_layout(ctx, table, x.shape[1], p.suite)
        check_batch_floor(p, layout, ctx.guest, ctx.hosts)
        reg = np.ones(x.shape[1])
        if p.fit_intercept:
            reg[-1] = 0.0
        self.model = LocalModel(p, x, reg)
        self.k, self.c = (0.25, 0.5) if p.task == "logistic" else (1.0, 0.0)
        self.loss_on = with_loss(p, len(ctx.hosts))
        self.powers = powers_per_row(p, len(ctx.hosts))
        self.log_exposure = None if table.exposure is None else np.log(table.exposure)
        self.history_ = HEHistory()
        run: dict[str, Callable[[Context, int], None]] = {
            "he-arbiter": self._train_with_arbiter, "he-guest": self._train_holding_key}
        run[p.protocol](ctx, layout.rows)
        w = self.model.final_weights
        self.model_ = LinearModelPart(
            "guest", p.task, p.protocol, table.feature_names, w[:-1] if p.fit_intercept else w,
            scaler, float(w[-1]) if p.fit_intercept else 0.0,
            {"epochs": self.history_.epochs, "loss": self.history_.loss, **suite_meta(p.suite)})
        return self

    # -- (a) the arbiter holds the key ------------------------------------------------------
    def _train_with_arbiter(self, ctx: Context, rows: int) -> None:
        p, arbiter = self.params, ctx.arbiter
        if arbiter is None:
            raise ConfigError("protocol 'he-arbiter' needs an arbiter")
        pk = ctx.recv(arbiter, PUBKEY)
        if not he.is_public_key(pk, p.he_scheme):
            raise ProtocolError("malformed public key")
        for epoch, ectx in ctx.sub("train").sub("epoch").iter(p.epochs):
            plan = batches(rows, p, epoch)
            self.model.begin_epoch()
            w0, lr = self.model.w.copy(), p.lr_at(epoch)
            enc_loss: EncryptedArray | None = None
            const = 0.0
            for j, bctx in ectx.sub("batch").iter(len(plan)):
                idx = plan[j]
                u = self.model.score(idx)
                stream = self.model.gradient_stream(idx, ctx)
                scores: list[tuple[EncryptedArray, slice]] = []
                for sl, sctx in segments(bctx, len(idx), p):
                    # a segment's [[d]] goes back, and its products start, before the next
                    # segment is read: host, guest and pools overlap (common.segments)
                    kus = [expect_encrypted(v, "ku") for v in sctx.gather(ctx.hosts, ENC_KU)]
                    enc_d, first, dev = self._residual(kus, u[sl], idx[sl], ctx)
                    sctx.send(ctx.hosts, ENC_D, enc_d)
                    stream.add(sl.start, enc_d)
                    scores.append((first, sl))
                    if dev is not None:
                        enc_loss = dev if enc_loss is None else enc_loss + dev
                self.model.step(self.model.masked_gradient(bctx, arbiter, stream.result()),
                                len(idx), lr)
                if self.loss_on and p.task != "poisson":
                    # off the hosts' path: the next batch's [[k u_h]] cannot come before they
                    # have stepped too
                    a, extra = loss_terms(p, u, self.y[idx])
                    if self.powers == 3:  # the first block is [[b]], not [[k·b]]
                        a = self.k * a
                    const += extra
                    enc_loss = self._loss_part(enc_loss, scores, a, ctx)
                    enc_loss = enc_loss + expect_encrypted(bctx.recv(ctx.hosts[0], ENC_Q), "q")
            if enc_loss is not None:
                ectx.send(arbiter, EPOCH_LOSS,
                          (enc_loss + const).rerandomize(ctx.executor, uniform=True))
            verdict = report_epoch(ectx, arbiter, p, self.model.w - w0)
            self._record(ctx, epoch, verdict.get("loss"), verdict["keep"])
            if not verdict["keep"]:
                return

    def _residual(self, kus: list[EncryptedArray], u: FloatArray, idx: NDArray[np.int64],
                  ctx: Context) -> tuple[EncryptedArray, EncryptedArray, EncryptedArray | None]:
        """``[[d]]`` of the rows ``idx`` from the hosts' encrypted scores and the guest's own
        ``u``; the first host's ``[[k·u_h]]`` (poly3: ``[[u_h]]``) for the loss; poisson's
        encrypted deviance of these rows (else ``None``)."""
        if self.params.task == "poisson":
            enc_d, dev = self._poisson(kus[0], u, idx, ctx)
            return enc_d, kus[0], dev if self.loss_on else None
        if self.powers == 3:
            kus, enc_d = self._cubic_residual(kus[0], u, self.y[idx])
        else:
            enc_d = kus[0]
            for other in kus[1:]:
                enc_d = enc_d + other
            enc_d = enc_d + (self.k * u + self.c - self.y[idx])
        return enc_d, kus[0], None

    @staticmethod
    def _loss_part(acc: EncryptedArray | None, scores: list[tuple[EncryptedArray, slice]],
                   a: FloatArray, ctx: Context) -> EncryptedArray:
        """``acc + Σ a_i·[[k·u_h,i]]`` over the batch's segments."""
        parts = [enc.xt_dot(a[sl][:, None], executor=ctx.executor) for enc, sl in scores]
        total = parts[0]
        for part in parts[1:]:
            total = total + part
        return total if acc is None else acc + total

    def _cubic_residual(self, powers: EncryptedArray, a: FloatArray, y: FloatArray
                        ) -> tuple[list[EncryptedArray], EncryptedArray]:
        """``[[d]] = [[σ₃(a + b) − y]]`` from the host's ``[[b]], [[b²]], [[b³]]`` and the
        guest's own score ``a`` (plaintext): with ``σ₃(z) = c0 + c1·z + c3·z³``,
        ``d = (c0 + c1·a + c3·a³ − y) + (c1 + 3c3·a²)·b + 3c3·a·b² + c3·b³``. Only
        plaintext-by-ciphertext products: the guest never sees ``b``. Also returns ``[[b]]``
        for the loss terms."""
        m = len(a)
        if powers.shape != (3 * m,):
            raise ProtocolError("malformed encrypted score powers", expected=3 * m)
        b1, b2, b3 = powers[:m], powers[m:2 * m], powers[2 * m:]
        c0, c1, c3 = sigmoid_poly("poly3")
        enc_d = (b1.mul(c1 + 3.0 * c3 * a * a) + b2.mul(3.0 * c3 * a) + b3.mul(np.full(m, c3))
                 + (c0 + c1 * a + c3 * a**3 - y))
        return [b1], enc_d

    def _poisson(self, enc: EncryptedArray, a: FloatArray, idx: NDArray[np.int64],
                 ctx: Context) -> tuple[EncryptedArray, EncryptedArray]:
        """``[[d]] = [[μ − y]]`` with ``μ = exposure·exp(a)·exp(b)``: the host's
        ``[[exp(b)]]`` times the guest's plaintext ``exposure·exp(a)`` (FATE's hetero Poisson
        decomposition); and ``[[2·Σ(μ − y·log μ + y·log y − y)]]``, the batch's Poisson
        deviance, from ``[[μ]]`` and the host's ``[[b]]``. The guest never sees ``b``."""
        m = len(a)
        if enc.shape != (2 * m,):
            raise ProtocolError("malformed encrypted exp(score)", expected=2 * m)
        y = self.y[idx]
        log_e = np.zeros(m) if self.log_exposure is None else self.log_exposure[idx]
        enc_mu = enc[:m].mul(np.exp(a + log_e))
        enc_d = enc_mu + (-y)
        ylogy = np.where(y > 0, y * np.log(np.where(y > 0, y, 1.0)), 0.0)
        const = 2.0 * float(np.sum(ylogy - y - y * (a + log_e)))
        dev = (enc_mu.xt_dot(np.full((m, 1), 2.0), executor=ctx.executor)
               + enc[m:].xt_dot((-2.0 * y)[:, None], executor=ctx.executor) + const)
        return enc_d, dev

    def _record(self, ctx: Context, epoch: int, loss: object, keep: bool) -> None:
        self.history_.epochs = epoch + 1
        self.history_.converged = not keep and epoch + 1 < self.params.epochs
        if isinstance(loss, float):
            self.history_.loss.append(loss)
            ctx.log_metric("loss", loss, step=epoch)

    # -- (b) the guest holds the key --------------------------------------------------------
    def _train_holding_key(self, ctx: Context, rows: int) -> None:
        p = self.params
        pk, sk = keypair(p)
        ctx.send(ctx.hosts, PUBKEY, pk)
        x = self.model.x
        ctx.send(ctx.hosts, ENC_XG, sk.encrypt(x, precision=24, executor=ctx.executor,
                                            short_randomness=True))
        for epoch, ectx in ctx.sub("train").sub("epoch").iter(p.epochs):
            plan = batches(rows, p, epoch)
            self.model.begin_epoch()
            w0, lr = self.model.w.copy(), p.lr_at(epoch)
            total = 0.0
            for j, bctx in ectx.sub("batch").iter(len(plan)):
                idx = plan[j]
                u = self.model.score(idx)
                v = self.k * u + self.c - self.y[idx]
                bctx.send(ctx.hosts, ENC_V, sk.encrypt(v, executor=ctx.executor,
                                                        short_randomness=True))
                if self.loss_on:
                    a, extra = loss_terms(p, u, self.y[idx])
                    total += extra
                    bctx.send(ctx.hosts[0], ENC_LOSS_AUX, sk.encrypt(
                        a, executor=ctx.executor, short_randomness=True))
                cross = self._decrypt(sk, bctx.recv(ctx.hosts[0], CROSS), ctx)
                width = x.shape[1]
                self.model.step(x[idx].T @ v + cross[:width], len(idx), lr)
                if self.loss_on:
                    total += float(cross[width])
                serve_decrypt(bctx, sk, ctx.hosts)
            dw = self.model.w - w0
            loss = total / rows if self.loss_on else None
            keep = decide(ectx, p, epoch, self.history_, loss=loss, own_dw2=float(dw @ dw),
                          others=ctx.hosts, guest=None)
            if not keep:
                return

    @staticmethod
    def _decrypt(sk: he.PrivateKey, value: object, ctx: Context) -> FloatArray:
        return he.decrypt(sk, expect_encrypted(value, "cross"), executor=ctx.executor)
