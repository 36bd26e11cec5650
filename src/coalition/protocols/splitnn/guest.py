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

With several hosts the guest runs this with each host, on a share of that host's own ``W_h``
with that pair's own triples (:mod:`.guest_link`), adds the hosts' contributions
``Σ_h α_h·W_h`` and sends every host the same masked δ.

Who learns what: the guest learns the training loss and, per row, ``α_h·W_h`` of its one host
(as in FATE's hetero NN) or the sum over several, never a host's features, ``α_h`` or ``W_h``. With several hosts the hosts' pair
masks (:mod:`.hostmask`) leave the guest only ``Σ_h α_h·W_h``. After the last epoch each host
gets ``W_h·R`` for the guest's secret random invertible ``R`` (one more product, revealed to
that host only; one ``R`` for all hosts), so prediction and online serving need no dealer: the
hosts send ``α_h·W_h·R`` (masked between them when several), the guest adds them and
multiplies by ``R⁻¹``. Label-leakage mitigations
(``grad_noise``, ``label_dp_epsilon``) are applied here, before anything leaves.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from coalition.core import Context
from coalition.core.errors import ConfigError, InputError, ProtocolError
from coalition.protocols.linear.fixedpoint import Ring, decode, encode
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
from coalition.protocols.splitnn.dealer import dealer_of, hosts_of
from coalition.protocols.splitnn.guest_link import HostLink
from coalition.protocols.splitnn.network import (
    Standardizer,
    batches,
    interactive_init,
    loss_grad,
    secret_rng,
)
from coalition.protocols.splitnn.spec import (
    FRAC_DELTA,
    FRAC_PREDICT,
    FRAC_STEP,
    FRAC_VALUE,
    FRAC_WEIGHT,
    PREDICT,
    PROCEED,
    SETUP,
    HeteroNNParams,
)

__all__ = ["SplitNNGuest", "randomized_response"]

F64 = NDArray[np.float64]


def randomized_response(y: F64, epsilon: float, rng: np.random.Generator) -> F64:
    """ε-label-DP binary labels: each kept with probability e^ε / (1 + e^ε) (Warner 1965;
    the RR baseline of Ghazi et al., "Deep learning with label differential privacy", 2021)."""
    flip = rng.random(y.shape) < 1.0 / (1.0 + math.exp(epsilon))
    return np.where(flip, 1.0 - y, y)


class SplitNNGuest:
    """Guest role; after :meth:`fit`: ``scaler_``, ``bottom_``, ``head_``, its last share
    ``u_[host]`` of each host's W_h, ``r_inv_[host]`` (``R⁻¹`` of the finishing product, the
    same for every host; hosts by party name), ``loss_`` (mean training loss per epoch) and the label
    scaling for regression."""

    def __init__(self, params: HeteroNNParams | dict[str, object] | None = None) -> None:
        self.params = HeteroNNParams.parse(params)
        self.scaler_: Standardizer | None = None
        self.bottom_: BottomModel | None = None
        self.head_: HeadModel | None = None
        self.u_: dict[str, Ring] | None = None
        self.r_inv_: dict[str, F64] | None = None
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
        """Train on the guest's aligned rows ``x`` and labels ``y`` with every host of ``ctx``."""
        p = self.params
        resolve_backend(p.backend)  # refuse a missing torch before anything is sent
        hosts, dealer = hosts_of(ctx), dealer_of(ctx)
        tctx = ctx.sub("train")
        x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
        rows = len(y)
        if rows < 1 or len(x) != rows:
            raise InputError("features and labels need the same, non-zero row count")
        rng = secret_rng()
        labels = self._labels(y, rng)
        tctx.send([*hosts, dealer], SETUP, {"rows": rows, "params": p.wire_subset()})
        d, k, parties = p.bottom_width, p.interactive_units, len(hosts) + 1
        links = [HostLink.open(tctx, host, dealer, encode(
            interactive_init(rng, d, k, share=0.5, parties=parties), FRAC_WEIGHT), p.suite)
            for host in hosts]
        self.scaler_ = Standardizer.fit(x)
        xs = self.scaler_(x)
        self.bottom_ = new_bottom(p, x.shape[1], rng)
        self.head_ = new_head(p, rng, parties)
        for epoch, ectx in tctx.iter(p.epochs):
            ectx.send(dealer, PROCEED, epoch)
            plan = batches(rows, p, epoch)
            for link in links:
                link.receive_corrections(ectx, dealer, len(plan))
            total = 0.0
            for j, idx in enumerate(plan):
                bctx, b = ectx.sub(str(j)), len(idx)
                for link in links:
                    link.send_masked_weights(bctx, epoch, j, b)
                alpha_g, acts = self.bottom_.forward(xs[idx])
                # the hosts' pair masks cancel in this sum (in the ring) only
                z_ring = np.zeros((b, k), dtype=np.uint64)
                for link in links:
                    z_ring = np.asarray(z_ring + link.contribution(bctx, b), dtype=np.uint64)
                z_hosts = decode(z_ring, FRAC_VALUE + FRAC_WEIGHT)
                out, cache = self.head_.forward(alpha_g, z_hosts)
                loss, d_out = loss_grad(p.task, out, labels[idx])
                total += loss * b
                delta, d_alpha, head_grads, top_grads = self.head_.backward(cache, d_out)
                scale = p.learning_rate / b
                # one perturbed δ for every host: independent noise would average out
                # between colluding hosts
                x3 = encode(self._perturb(delta, rng), FRAC_DELTA)
                y2 = encode(delta * scale, FRAC_STEP)
                for link in links:
                    link.backward(bctx, x3, y2, p.momentum)
                grads, _ = self.bottom_.backward(acts, d_alpha)
                self.bottom_.step(grads, scale, p.momentum)
                self.head_.step(head_grads, top_grads, scale, p.momentum)
            self.loss_.append(total / rows)
            if not math.isfinite(self.loss_[-1]):
                raise TrainingDivergedError("hetero NN training diverged (non-finite loss)")
        fctx = tctx.sub("finish")
        # one R for every host: masked prediction parts add up before it is undone; orthogonal
        # times a diagonal in [0.5, 2], well conditioned
        q, _ = np.linalg.qr(rng.normal(size=(k, k)))
        r = encode(q * rng.uniform(0.5, 2.0, k), FRAC_VALUE)
        for link in links:
            link.finish(fctx, dealer, r)
        r_inv = np.asarray(np.linalg.inv(decode(r, FRAC_VALUE)), dtype=np.float64)
        self.u_ = {link.host.name: link.u for link in links}
        self.r_inv_ = {link.host.name: r_inv for link in links}
        return self

    def _perturb(self, delta: F64, rng: np.random.Generator) -> F64:
        """δ for the host's gradient, with the isotropic noise of ``grad_noise``."""
        sigma = self.params.grad_noise
        if sigma == 0.0:
            return delta
        peak = float(np.max(np.linalg.norm(delta, axis=1)))
        return delta + rng.normal(0.0, sigma * peak, delta.shape)

    def predict(self, ctx: Context, x: F64) -> F64:
        """Probabilities (binary) or predictions (regression) for the guest's rows ``x``; every
        host sends its part (:meth:`SplitNNHost.predict`), no dealer takes part. Several hosts
        send fixed-point parts under pair masks: only their sum decodes."""
        rows, pctx, hosts = len(x), ctx.sub("predict"), hosts_of(ctx)
        shape = (rows, self.params.interactive_units)
        dtype = np.float64 if len(hosts) == 1 else np.uint64
        parts = {}
        for host in hosts:
            received = pctx.recv(host, PREDICT)
            if not isinstance(received, np.ndarray) or received.dtype != dtype \
                    or received.shape != shape or not np.all(np.isfinite(received)):
                raise ProtocolError("malformed split-NN prediction part", field="predict",
                                    host=host.name)
            parts[host.name] = received
        x = np.asarray(x, dtype=np.float64)
        if len(hosts) == 1:
            return self.combine(x, parts)
        return self.combine_masked(x, list(parts.values()), sorted(parts))

    def host_names(self) -> list[str]:
        """The training job's host party names, whose parts a prediction needs (``["*"]``
        for a part stored before several hosts: its one host, whatever its name)."""
        if self.r_inv_ is None:
            raise ConfigError("guest model is not fitted")
        return sorted(self.r_inv_)

    def combine(self, x: F64, host_parts: Mapping[str, F64]) -> F64:
        """The prediction from the guest's rows and each host's unmasked ``α_h·W_h·R``, by
        the host's party name in the training job."""
        if self.scaler_ is None or self.bottom_ is None or self.r_inv_ is None:
            raise ConfigError("guest model is not fitted")
        r_inv = self.r_inv_
        if list(r_inv) == ["*"] and len(host_parts) == 1:
            r_inv = {name: r_inv["*"] for name in host_parts}
        if set(host_parts) != set(r_inv):
            raise InputError("a split-learning model needs a part from each of its hosts, "
                             "and only theirs", hosts=sorted(r_inv))
        alpha_g, _ = self.bottom_.forward(self.scaler_(x))
        z_hosts = sum((host_parts[name] @ r_inv[name] for name in sorted(r_inv)),
                      np.zeros((len(x), self.params.interactive_units)))
        return self.output(alpha_g, z_hosts)

    def combine_masked(self, x: F64, masked: list[Ring], hosts: list[str], *,
                       frac: int = FRAC_PREDICT) -> F64:
        """The prediction from the guest's rows and every host's masked fixed-point
        ``α_h·W_h·R`` (``frac`` fractional bits; ``hosts`` their party names, in order): the
        pair masks cancel in the sum, then ``R⁻¹``."""
        if self.scaler_ is None or self.bottom_ is None or self.r_inv_ is None:
            raise ConfigError("guest model is not fitted")
        if sorted(hosts) != sorted(self.r_inv_):
            raise InputError("a split-learning model needs a part from each of its hosts, "
                             "and only theirs", hosts=sorted(self.r_inv_))
        r_inv = [self.r_inv_[h] for h in hosts]
        if any(not np.array_equal(m, r_inv[0]) for m in r_inv):
            raise InputError("this split-learning model has no common rotation to unmask")
        total = np.zeros_like(masked[0], dtype=np.uint64)
        for m in masked:
            total = np.asarray(total + m, dtype=np.uint64)
        alpha_g, _ = self.bottom_.forward(self.scaler_(x))
        return self.output(alpha_g, decode(total, frac) @ r_inv[0])

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
                "r_inv": dict(self.r_inv_),
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
            r_inv = art["r_inv"]
            # a part stored before several hosts holds one matrix: its one host's
            est.r_inv_ = ({str(k): np.asarray(v, dtype=np.float64) for k, v in r_inv.items()}
                          if isinstance(r_inv, dict)
                          else {"*": np.asarray(r_inv, dtype=np.float64)})
            est.y_shift_, est.y_scale_ = float(art["y_shift"]), float(art["y_scale"])
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError("malformed hetero NN guest model") from exc
        return est
