"""The guest of split learning: labels, its bottom model, the interactive layer and the top.

Per batch (messages in :mod:`.spec`, products in :mod:`.triples`): the guest opens its share of
``W_h`` masked (``U_g − B1``); from the host's masked openings it obtains ``α_h·W_h`` — the
host's contribution to the interactive layer, never ``α_h`` itself, since nobody knows
``W_h = U_g + U_h`` — adds ``α_g·W_g + b``, runs the top model and the loss, and sends back the
error δ masked (``δ − A3``, ``δ' − B2``) with a masked share of the host's gradient ``δ·W_hᵀ``.
The step of ``W_h`` (``α_hᵀ·δ'``) stays secret-shared: each party subtracts its truncated
share from its half, so ``W_h`` never exists in plaintext (FATE's hetero NN keeps the host's
interactive weights out of every single party's hands the same way, with Paillier; secret
sharing is used here because it costs a few ring matrix products per batch instead of
``B·d·k`` Paillier operations, see ``docs/hetero_nn.md``).

Who learns what: the guest learns the training loss and ``α_h·W_h`` per row (as in FATE's
hetero NN), never the host's features, ``α_h`` or ``W_h``. After the last epoch the host gets
``W_h·R`` for the guest's secret random invertible ``R`` (one more product, revealed to the host
only), so prediction and online serving need no dealer: the host sends ``α_h·W_h·R``, the
guest multiplies by ``R⁻¹``. Label-leakage mitigations
(``grad_noise``, ``label_dp_epsilon``) are applied here, before anything leaves.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from coalition.core import Context, Party
from coalition.core.errors import ConfigError, InputError, ProtocolError
from coalition.protocols.linear.fixedpoint import Ring, decode, encode, mul_public, truncate
from coalition.protocols.linear.guard import TrainingDivergedError
from coalition.protocols.splitnn.backend import (
    BottomModel,
    HeadModel,
    load_bottom,
    load_head,
    new_bottom,
    new_head,
    resolve_backend,
    stored,
)
from coalition.protocols.splitnn.dealer import dealer_of, only_host, parse_seed
from coalition.protocols.splitnn.network import (
    Standardizer,
    batches,
    interactive_init,
    loss_grad,
    secret_rng,
)
from coalition.protocols.splitnn.ring import field, matmul
from coalition.protocols.splitnn.spec import (
    BACKWARD,
    CORRECTIONS,
    FINISH_OPEN,
    FINISH_SHARE,
    FORWARD,
    FRAC_DELTA,
    FRAC_STEP,
    FRAC_VALUE,
    FRAC_WEIGHT,
    MASKED_WEIGHTS,
    PREDICT,
    PROCEED,
    SEED,
    SETUP,
    HeteroNNParams,
)
from coalition.protocols.splitnn.triples import (
    FINISH_EPOCH,
    Product,
    Shares,
    batch_shapes,
    triple,
)

__all__ = ["SplitNNGuest", "randomized_response"]

F64 = NDArray[np.float64]
_GUEST = 0  # party index in SecureML truncation
#: α (FRAC_VALUE) times δ' (FRAC_STEP), brought back to the weights' FRAC_WEIGHT.
STEP_SHIFT = FRAC_VALUE + FRAC_STEP - FRAC_WEIGHT


def randomized_response(y: F64, epsilon: float, rng: np.random.Generator) -> F64:
    """ε-label-DP binary labels: each kept with probability e^ε / (1 + e^ε) (Warner 1965;
    the RR baseline of Ghazi et al., "Deep learning with label differential privacy", 2021)."""
    flip = rng.random(y.shape) < 1.0 / (1.0 + math.exp(epsilon))
    return np.where(flip, 1.0 - y, y)


class SplitNNGuest:
    """Guest role; after :meth:`fit`: ``scaler_``, ``bottom_``, ``head_``, its last share ``u_``
    of W_h, ``r_inv_`` (``R⁻¹`` of the finishing product), ``loss_`` (mean training loss per
    epoch) and the label scaling for regression."""

    def __init__(self, params: HeteroNNParams | dict[str, object] | None = None) -> None:
        self.params = HeteroNNParams.parse(params)
        self.scaler_: Standardizer | None = None
        self.bottom_: BottomModel | None = None
        self.head_: HeadModel | None = None
        self.u_: Ring | None = None
        self.r_inv_: F64 | None = None
        self.loss_: list[float] = []
        self.y_shift_, self.y_scale_ = 0.0, 1.0

    def _labels(self, y: F64, rng: np.random.Generator) -> F64:
        p = self.params
        if not np.all(np.isfinite(y)):
            raise InputError("labels must be finite numbers")
        if p.task == "binary":
            if not np.all((y == 0) | (y == 1)):
                raise InputError("binary labels must be 0 or 1")
            return y if p.label_dp_epsilon is None else randomized_response(
                y, p.label_dp_epsilon, rng)
        self.y_shift_ = float(y.mean())
        self.y_scale_ = float(y.std()) or 1.0
        return (y - self.y_shift_) / self.y_scale_

    def fit(self, ctx: Context, x: F64, y: F64) -> SplitNNGuest:
        """Train on the guest's aligned rows ``x`` and labels ``y``."""
        p = self.params
        resolve_backend(p.backend)  # refuse a missing torch before anything is sent
        host, dealer = only_host(ctx), dealer_of(ctx)
        tctx = ctx.sub("train")
        x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
        rows = len(y)
        if rows < 1 or len(x) != rows:
            raise InputError("features and labels need the same, non-zero row count")
        rng = secret_rng()
        labels = self._labels(y, rng)
        tctx.send([host, dealer], SETUP, {"rows": rows, "params": p.wire_subset()})
        shares = Shares(parse_seed(tctx.recv(dealer, SEED)))
        self.scaler_ = Standardizer.fit(x)
        xs = self.scaler_(x)
        d, k = p.bottom_width, p.interactive_units
        self.bottom_ = new_bottom(p, x.shape[1], rng)
        self.head_ = new_head(p, rng)
        u = encode(interactive_init(rng, d, k, share=0.5), FRAC_WEIGHT)
        velocity = np.zeros((d, k), dtype=np.uint64)
        for epoch, ectx in tctx.iter(p.epochs):
            ectx.send(dealer, PROCEED, epoch)
            corrections = ectx.recv(dealer, CORRECTIONS)
            plan = batches(rows, p, epoch)
            if not isinstance(corrections, list) or len(corrections) != len(plan):
                raise ProtocolError("dealer sent corrections for the wrong schedule")
            total = 0.0
            for j, idx in enumerate(plan):
                bctx = ectx.sub(str(j))
                b, corr = len(idx), corrections[j]
                t1 = triple(shares, Product.FORWARD, epoch, j, left=False,
                            shapes=batch_shapes(Product.FORWARD, b, d, k),
                            correction=corr.get("forward") if isinstance(corr, dict) else None)
                t2 = triple(shares, Product.WEIGHT_STEP, epoch, j, left=False,
                            shapes=batch_shapes(Product.WEIGHT_STEP, b, d, k),
                            correction=corr.get("weight_step") if isinstance(corr, dict)
                            else None)
                t3 = triple(shares, Product.HOST_GRADIENT, epoch, j, left=True,
                            shapes=batch_shapes(Product.HOST_GRADIENT, b, d, k))
                bctx.send(host, MASKED_WEIGHTS, np.asarray(u - t1.mask, dtype=np.uint64))
                alpha_g, acts = self.bottom_.forward(xs[idx])
                fwd = bctx.recv(host, FORWARD)
                z_host = decode(field(fwd, "share", (b, k)) + matmul(field(fwd, "e1", (b, d)), u)
                                + t1.c, FRAC_VALUE + FRAC_WEIGHT)
                out, cache = self.head_.forward(alpha_g, z_host)
                loss, d_out = loss_grad(p.task, out, labels[idx])
                total += loss * b
                delta, d_alpha, head_grads, top_grads = self.head_.backward(cache, d_out)
                scale = p.learning_rate / b
                x3 = encode(self._perturb(delta, rng), FRAC_DELTA)
                y2 = encode(delta * scale, FRAC_STEP)
                bctx.send(host, BACKWARD, {
                    "e3": np.asarray(x3 - t3.mask, dtype=np.uint64),
                    "f2": np.asarray(y2 - t2.mask, dtype=np.uint64),
                    "share": matmul(t3.mask, field(fwd, "f3", (k, d))) + t3.c
                    + matmul(x3, u.T)})
                step = truncate(matmul(field(fwd, "e2", (d, b)), y2) + t2.c, STEP_SHIFT, _GUEST)
                grads, _ = self.bottom_.backward(acts, d_alpha)
                self.bottom_.step(grads, scale, p.momentum)
                self.head_.step(head_grads, top_grads, scale, p.momentum)
                velocity = mul_public(velocity, p.momentum, _GUEST) + step
                u = np.asarray(u - velocity, dtype=np.uint64)
            self.loss_.append(total / rows)
            if not math.isfinite(self.loss_[-1]):
                raise TrainingDivergedError("hetero NN training diverged (non-finite loss)")
        self.u_ = u
        self.r_inv_ = self._finish(tctx.sub("finish"), shares, u, peers=(host, dealer),
                                   rng=rng)
        return self

    def _finish(self, fctx: Context, shares: Shares, u: Ring, *, peers: tuple[Party, Party],
                rng: np.random.Generator) -> F64:
        """Give the host ``W_h·R`` for a secret random invertible ``R`` (orthogonal times a
        diagonal in [0.5, 2], well conditioned); keep ``R⁻¹``. Prediction then needs no
        dealer: the host sends ``α_h·W_h·R``, the guest multiplies by ``R⁻¹``."""
        (host, dealer), (d, k) = peers, u.shape
        q, _ = np.linalg.qr(rng.normal(size=(k, k)))
        r = encode(q * rng.uniform(0.5, 2.0, k), FRAC_VALUE)
        t = triple(shares, Product.FINISH, FINISH_EPOCH, 0, left=False,
                   shapes=batch_shapes(Product.FINISH, 0, d, k),
                   correction=fctx.recv(dealer, CORRECTIONS))
        opened = field({"e": fctx.recv(host, FINISH_OPEN)}, "e", (d, k))
        fctx.send(host, FINISH_SHARE, {"f": np.asarray(r - t.mask, dtype=np.uint64),
                                       "share": matmul(opened, r) + t.c + matmul(u, r)})
        return np.asarray(np.linalg.inv(decode(r, FRAC_VALUE)), dtype=np.float64)

    def _perturb(self, delta: F64, rng: np.random.Generator) -> F64:
        """δ for the host's gradient, with the isotropic noise of ``grad_noise``."""
        sigma = self.params.grad_noise
        if sigma == 0.0:
            return delta
        peak = float(np.max(np.linalg.norm(delta, axis=1)))
        return delta + rng.normal(0.0, sigma * peak, delta.shape)

    def predict(self, ctx: Context, x: F64) -> F64:
        """Probabilities (binary) or predictions (regression) for the guest's rows ``x``; the
        host sends its part (:meth:`SplitNNHost.predict`), no dealer takes part."""
        rows = len(x)
        received = ctx.sub("predict").recv(only_host(ctx), PREDICT)
        if not isinstance(received, np.ndarray) or received.dtype != np.float64 \
                or received.shape != (rows, self.params.interactive_units) \
                or not np.all(np.isfinite(received)):
            raise ProtocolError("malformed split-NN prediction part", field="predict")
        return self.combine(np.asarray(x, dtype=np.float64), received)

    def combine(self, x: F64, host_part: F64) -> F64:
        """The prediction from the guest's rows and the host's ``α_h·W_h·R``."""
        if self.scaler_ is None or self.bottom_ is None or self.r_inv_ is None:
            raise ConfigError("guest model is not fitted")
        alpha_g, _ = self.bottom_.forward(self.scaler_(x))
        return self.output(alpha_g, host_part @ self.r_inv_)

    def output(self, alpha_g: F64, z_host: F64) -> F64:
        """The model's prediction from the guest's bottom output and the host's ``α_h·W_h``."""
        if self.head_ is None:
            raise ConfigError("guest model is not fitted")
        out, _ = self.head_.forward(alpha_g, z_host)
        if self.params.task == "binary":
            result: F64 = 1.0 / (1.0 + np.exp(-np.clip(out, -35, 35)))
            return result
        return out * self.y_scale_ + self.y_shift_

    def to_artifact(self) -> dict[str, Any]:
        """The guest's model part: scaler, bottom, head, its share of W_h, label scaling."""
        if self.scaler_ is None or self.bottom_ is None or self.head_ is None \
                or self.r_inv_ is None:
            raise ConfigError("guest model is not fitted")
        return {"meta": {"kind": "hetero_nn", "role": "guest",
                         "params": self.params.model_dump(mode="json")},
                "mean": self.scaler_.mean.tolist(), "scale": self.scaler_.scale.tolist(),
                "bottom": stored(self.bottom_, self.params.activation),
                "head": stored(self.head_, self.params.activation),
                "r_inv": self.r_inv_.tolist(),
                "y_shift": self.y_shift_, "y_scale": self.y_scale_}

    @classmethod
    def from_artifact(cls, art: dict[str, Any]) -> SplitNNGuest:
        """Inverse of :meth:`to_artifact`."""
        try:
            est = cls(art["meta"]["params"])
            est.scaler_ = Standardizer(np.asarray(art["mean"], dtype=np.float64),
                                       np.asarray(art["scale"], dtype=np.float64))
            est.bottom_ = load_bottom(art["bottom"])
            est.head_ = load_head(art["head"])
            est.r_inv_ = np.asarray(art["r_inv"], dtype=np.float64)
            est.y_shift_, est.y_scale_ = float(art["y_shift"]), float(art["y_scale"])
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError("malformed hetero NN guest model") from exc
        return est
