"""The training loop both computing parties of the SS variant run, on their own shares.

Per mini-batch ``B`` there are two exchanges between party 0 (guest) and party 1 (first host),
each a simultaneous send of one message each way:

1. open ``F = w − V``; locally ``z = E_B·F + E_B·V_i + U_B,i·F + Z_i`` (Beaver, with the
   feature mask ``E = X − U`` opened once at set-up), truncate;
2. the residual ``d = k·z − o`` (``k = 1/4, o = y − 1/2`` for logistic regression, the degree-1
   Taylor sigmoid; ``k = 1, o = y`` for linear regression; only party 0's share of ``o`` is
   non-zero) and the loss residual ``s = z − t``; open ``G = d − V'`` and ``e = s − A``;
   locally ``g = X_B^T d`` by Beaver, truncate, and the optimiser step on the weight shares.

With ``sigmoid: poly3`` (``σ(z) ≈ 1/2 + c1·z + c3·z³``, :mod:`..sigmoid`) two more exchanges
between 1 and 2 compute ``z³`` by elementwise Beaver multiplication (Beaver, CRYPTO 1991): open
``e = z − A_σ``, then ``z² = e² + 2e·A_σ + A_σ²`` (truncated); open ``F = z² − B_σ``, then
``z³ = e·z² + F·A_σ + B_σA_σ`` (truncated), and ``d = c1·z + c3·z³ − o``. Both openings are
masked by fresh uniform ring elements; the truncated values stay below ``2^(3·log2|z| + 2f)``
(``|z| ≤ 8``, ``f = 14``: 2^37), so each local truncation fails with probability below 2^-26.

With ``task: poisson`` (:mod:`.poisson`) the score gets the guest's log-exposures added to its
share, ``μ = exp(η)`` comes from the secure exponential (:mod:`.exp`, ``n`` more exchanges per
batch), ``d = μ − y``, and the second exchange also opens ``y − A`` and ``η − B`` for the
deviance; per epoch party 1 sends its deviance share to the guest only, and the guest returns
its verdict.

With ``averaging: epoch`` the weights returned are the mean of the last epoch's iterates
(Polyak–Ruppert averaging, Polyak & Juditsky 1992): a running sum of shares, no exchange.

Per epoch one more exchange opens ``Σ s²`` (the Taylor loss, ``log 2 − 1/2 + (z − 2y')²/8``
with ``y' = 2y − 1``, equals the usual Taylor expansion ``log 2 − y'z/2 + z²/8``), and, for
``early_stop: weight_diff``, ``|Δw|²``.

Leakage to the two computing parties: nothing beyond the per-epoch training loss (and weight
change norm), which both learn. Every other opened value is masked by a fresh uniform ring
element from the dealer.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from coalition.core import Context, Party
from coalition.core.errors import ProtocolError
from coalition.protocols.linear.batching import batches
from coalition.protocols.linear.fixedpoint import Ring, decode, mul_public, truncate
from coalition.protocols.linear.guard import TrainingDivergedError, check_loss, divergence
from coalition.protocols.linear.optim import SharedOptimizer
from coalition.protocols.linear.sigmoid import sigmoid_poly
from coalition.protocols.linear.spec import LinearParams
from coalition.protocols.linear.ss.correlated import (
    BatchTriples,
    Purpose,
    ShareStream,
    dw_pair,
    party_triples,
)
from coalition.protocols.linear.ss.exp import secure_exp
from coalition.protocols.linear.ss.poisson import (
    VERDICT_REASONS,
    DevianceReference,
    exp_squarings,
)
from coalition.protocols.linear.ss.spec import (
    CORRECTIONS,
    OPEN_D,
    OPEN_DW,
    OPEN_EXP,
    OPEN_STATS,
    OPEN_W,
    OPEN_X,
    OPEN_Z,
    OPEN_Z2,
    VERDICT,
)

__all__ = ["EpochEnd", "EpochStart", "SSTrainer", "TrainHistory", "ring_value"]

#: Called at the end of each epoch with (epoch context, epoch, keep_training).
EpochEnd = Callable[[Context, int, bool], None]
#: Called at the start of each epoch with (epoch context, epoch).
EpochStart = Callable[[Context, int], None]


@dataclass
class TrainHistory:
    """What a computing party learns while training: per-epoch loss, epochs run."""

    loss: list[float] = field(default_factory=list)
    weight_diff: list[float] = field(default_factory=list)
    epochs: int = 0
    converged: bool = False


def ring_value(value: object, shape: tuple[int, ...]) -> Ring:
    """``value`` if it is a ``uint64`` array of ``shape``, else :class:`ProtocolError`."""
    if not isinstance(value, np.ndarray) or value.dtype != np.uint64 or value.shape != shape:
        raise ProtocolError("malformed share", expected=str(shape))
    return value


class SSTrainer:
    """One computing party's half of the secret-shared training (``index`` 0 or 1).

    ``x`` is this party's share of the full feature matrix (n x D), ``offset`` / ``target`` its
    shares of ``o`` and ``t`` (zeros for party 1), ``reg_mask`` 0 for the intercept column.
    Poisson: ``offset`` and ``target`` are the guest's counts, ``shift`` its log-exposures
    (added to the score; ``None``: zero) and ``reference`` its deviance constants (the guest's
    only; party 1 passes ``None`` and takes the guest's verdict).
    """

    def __init__(self, params: LinearParams, *, index: int, peer: Party, dealer: Party,
                 stream: ShareStream, x: Ring, offset: Ring, target: Ring,
                 reg_mask: NDArray[np.float64], shift: Ring | None = None,
                 reference: DevianceReference | None = None) -> None:
        self.p, self.i, self.peer, self.dealer = params, index, peer, dealer
        self.stream, self.x, self.offset, self.target = stream, x, offset, target
        self.opt = SharedOptimizer(params, reg_mask, index)
        _, c1, self.c3 = sigmoid_poly(params.sigmoid)
        self.k = c1 if params.task == "logistic" else 1.0
        self.cubic = params.task == "logistic" and params.sigmoid == "poly3"
        self.squarings = exp_squarings(params)
        self.shift = np.zeros(x.shape[0], dtype=np.uint64) if shift is None else shift
        self.reference = reference
        self.w: Ring = np.zeros(x.shape[1], dtype=np.uint64)
        self.history = TrainHistory()
        self.diverged: str | None = None

    def _exchange(self, ctx: Context, key: object, mine: object) -> object:
        ctx.send(self.peer, key, mine)  # type: ignore[arg-type]
        return ctx.recv(self.peer, key)  # type: ignore[arg-type]

    def fit(self, ctx: Context, on_epoch_end: EpochEnd, on_epoch_start: EpochStart) -> Ring:
        """Train; return this party's share of the weights (D,)."""
        n, d = self.x.shape
        f, i = self.p.frac_bits, self.i
        u = self.stream.ring(Purpose.U, shape=(n, d))
        with np.errstate(over="ignore"):
            e_mine = self.x - u
            e = e_mine + ring_value(self._exchange(ctx, OPEN_X, e_mine), (n, d))
        prev_loss = math.inf
        averaged = self.w
        for epoch, ectx in ctx.sub("epoch").iter(self.p.epochs):
            plan = batches(n, self.p, epoch)
            on_epoch_start(ectx, epoch)
            corr = None if i == 0 else ectx.recv(self.dealer, CORRECTIONS)
            if corr is not None and (not isinstance(corr, dict) or len(corr["batches"]) != len(plan)):
                raise ProtocolError("dealer sent corrections for the wrong schedule")
            w_start = self.w.copy()
            w_sum = np.zeros_like(self.w)
            loss_acc = np.zeros((), dtype=np.uint64)
            lr = self.p.lr_at(epoch)
            for j, bctx in ectx.sub("batch").iter(len(plan)):
                rows = plan[j]
                b = len(rows)
                t = party_triples(self.stream, epoch, j, b, d,
                                  correction=None if corr is None else corr["batches"][j],
                                  cubic=self.cubic, squarings=self.squarings)
                eb, ub = e[rows], u[rows]
                with np.errstate(over="ignore"):
                    f_mine = self.w - t.v
                    fo = f_mine + ring_value(self._exchange(bctx, OPEN_W, f_mine), (d,))
                    z = eb @ t.v + ub @ fo + t.z
                    if i == 0:
                        z = z + eb @ fo
                    z = truncate(z, f, i)
                    if self.squarings:
                        go, loss_part = self._poisson(bctx, z, rows, t)
                    else:
                        go, loss_part = self._residual(bctx, z, rows, t)
                    loss_acc = loss_acc + loss_part
                    grad = eb.T @ t.vt + ub.T @ go + t.zt
                    if i == 0:
                        grad = grad + eb.T @ go
                    grad = truncate(grad, f, i)
                self.w = self.opt.step(self.w, grad, b, lr)
                with np.errstate(over="ignore"):
                    w_sum = w_sum + self.w
            keep = self._end_epoch(ectx, epoch, n=n, loss_acc=loss_acc, w_start=w_start,
                                   dw_corr=None if corr is None else corr["dw"],
                                   prev_loss=prev_loss)
            prev_loss = self.history.loss[-1] if self.history.loss else math.inf
            on_epoch_end(ectx, epoch, keep)
            # Raised after the keep bit went out, so the dealer stops instead of waiting.
            if self.diverged is not None:
                if self.squarings:
                    raise TrainingDivergedError(
                        f"training diverged at epoch {epoch}: {self.diverged}",
                        epoch=epoch, reason=self.diverged)
                check_loss(self.history.loss[-1], self.history.loss[:-1], epoch)
            if self.p.averaging == "epoch":
                averaged = mul_public(w_sum, 1.0 / len(plan), i)
            if not keep:
                break
        if self.p.averaging == "epoch":
            return averaged
        return self.w

    def _residual(self, ctx: Context, z: Ring, rows: NDArray[np.int64], t: BatchTriples
                  ) -> tuple[Ring, Ring]:
        """LR: the opened masked residual ``d − V'`` and this party's share of ``Σ(z − t)²``
        (scale ``2f``)."""
        i, b = self.i, len(rows)
        with np.errstate(over="ignore"):
            resid = mul_public(z, self.k, i) - self.offset[rows]
            if t.cubic is not None:
                resid = resid + mul_public(self._cube(ctx, z, t.cubic), self.c3, i)
            s = z - self.target[rows]
            g_mine, el_mine = resid - t.vt, s - t.a
            other = self._exchange(ctx, OPEN_D, [g_mine, el_mine])
            if not isinstance(other, list) or len(other) != 2:
                raise ProtocolError("malformed residual opening")
            go = g_mine + ring_value(other[0], (b,))
            el = el_mine + ring_value(other[1], (b,))
            loss = 2 * (el @ t.a) + t.s
            if i == 0:
                loss = loss + el @ el
            return go, np.asarray(loss, dtype=np.uint64)

    def _poisson(self, ctx: Context, z: Ring, rows: NDArray[np.int64], t: BatchTriples
                 ) -> tuple[Ring, Ring]:
        """Poisson: the opened masked residual ``μ − y − V'`` and this party's share of
        ``2·(Σμ − Σy·η)`` (scale ``2f``), ``η = z + log(exposure)``, ``μ = exp(η)``."""
        f, i, b = self.p.frac_bits, self.i, len(rows)
        if t.b is None:
            raise ProtocolError("poisson batch without its inner-product triple")
        steps = dict(ctx.sub("exp").iter(len(t.exp)))

        def open_masked(k: int, mine: Ring) -> Ring:
            with np.errstate(over="ignore"):
                return mine + ring_value(self._exchange(steps[k], OPEN_EXP, mine), mine.shape)

        with np.errstate(over="ignore"):
            eta = z + self.shift[rows]
            mu = secure_exp(eta, t.exp, open_masked, i, f)
            g_mine = mu - self.offset[rows] - t.vt
            ey_mine, eeta_mine = self.target[rows] - t.a, eta - t.b
            other = self._exchange(ctx, OPEN_D, [g_mine, ey_mine, eeta_mine])
            if not isinstance(other, list) or len(other) != 3:
                raise ProtocolError("malformed residual opening")
            go = g_mine + ring_value(other[0], (b,))
            ey = ey_mine + ring_value(other[1], (b,))
            eeta = eeta_mine + ring_value(other[2], (b,))
            y_eta = t.s + ey @ t.b + t.a @ eeta  # Beaver: Σ y·η at scale 2f
            if i == 0:
                y_eta = y_eta + ey @ eeta
            loss = 2 * ((np.sum(mu) << np.uint64(f)) - y_eta)
            return go, np.asarray(loss, dtype=np.uint64)

    def _cube(self, ctx: Context, z: Ring, material: tuple[Ring, Ring, Ring, Ring]) -> Ring:
        """Share of ``z³`` (fixed point) held by this party, by two elementwise Beaver steps."""
        f, i = self.p.frac_bits, self.i
        a, a2, bm, c = material
        with np.errstate(over="ignore"):
            mine = z - a
            e = mine + ring_value(self._exchange(ctx, OPEN_Z, mine), z.shape)
            sq = 2 * e * a + a2
            if i == 0:
                sq = sq + e * e
            sq = truncate(sq, f, i)
            mine = sq - bm
            fo = mine + ring_value(self._exchange(ctx, OPEN_Z2, mine), z.shape)
            return truncate(e * sq + fo * a + c, f, i)

    def _end_epoch(self, ctx: Context, epoch: int, *, n: int, loss_acc: Ring, w_start: Ring,
                   dw_corr: Ring | None, prev_loss: float) -> bool:
        p, f, i = self.p, self.p.frac_bits, self.i
        self.history.epochs = epoch + 1
        stats = np.zeros(2, dtype=np.uint64)
        stats[0] = loss_acc
        if p.early_stop == "weight_diff":
            a, s = dw_pair(self.stream, epoch, self.w.shape[0], dw_corr)
            with np.errstate(over="ignore"):
                dw = self.w - w_start
                mine = dw - a
                el = mine + ring_value(self._exchange(ctx, OPEN_DW, mine), mine.shape)
                stats[1] = 2 * (el @ a) + s + (el @ el if i == 0 else 0)
        if self.squarings:
            return self._poisson_verdict(ctx, epoch, stats=stats, prev_loss=prev_loss)
        if not (p.report_loss or p.early_stop != "none"):
            return epoch + 1 < p.epochs
        with np.errstate(over="ignore"):
            opened = stats + ring_value(self._exchange(ctx, OPEN_STATS, stats), (2,))
        sq = decode(opened, 2 * f)
        scale = 0.125 if p.task == "logistic" else 0.5
        loss = float(sq[0]) * scale / n + (math.log(2) - 0.5 if p.task == "logistic" else 0.0)
        self.diverged = divergence(loss, self.history.loss)
        self.history.loss.append(loss)
        if self.diverged is not None:
            return False
        if p.early_stop == "weight_diff":
            diff = math.sqrt(max(float(sq[1]), 0.0))
            self.history.weight_diff.append(diff)
            converged = diff < p.tol
        else:
            converged = p.early_stop == "loss" and abs(prev_loss - loss) < p.tol
        self.history.converged = converged
        return not converged and epoch + 1 < p.epochs

    def _poisson_verdict(self, ctx: Context, epoch: int, *, stats: Ring, prev_loss: float
                         ) -> bool:
        """Poisson's epoch end: party 1 sends its share of the stats to the guest, which opens
        the deviance, judges it (:class:`.poisson.DevianceReference`) and sends back
        ``[keep, reason]``. Always runs: the guard needs the deviance."""
        p, f = self.p, self.p.frac_bits
        if self.reference is None:  # party 1
            ctx.send(self.peer, OPEN_STATS, stats)
            verdict = ctx.recv(self.peer, VERDICT)
            if (not isinstance(verdict, list) or len(verdict) != 2
                    or not isinstance(verdict[0], bool)
                    or not (verdict[1] is None
                            or (isinstance(verdict[1], str) and verdict[1] in VERDICT_REASONS))
                    or (verdict[0] and verdict[1] is not None)):
                raise ProtocolError("malformed training verdict")
            self.diverged = verdict[1]
            return verdict[0]
        with np.errstate(over="ignore"):
            opened = stats + ring_value(ctx.recv(self.peer, OPEN_STATS), (2,))
        sq = decode(opened, 2 * f)
        loss, self.diverged = self.reference.judge(float(sq[0]), self.history.loss)
        self.history.loss.append(loss)
        keep = self.diverged is None and epoch + 1 < p.epochs
        if keep and p.early_stop != "none":
            if p.early_stop == "weight_diff":
                diff = math.sqrt(max(float(sq[1]), 0.0))
                self.history.weight_diff.append(diff)
                converged = diff < p.tol
            else:
                converged = abs(prev_loss - loss) < p.tol
            self.history.converged = converged
            keep = not converged
        ctx.send(self.peer, VERDICT, [keep, self.diverged])
        return keep
