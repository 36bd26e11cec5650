"""The host of split learning: its bottom model and its half of the interactive layer's input.

Who learns what (Vepakomma et al. 2018's split learning, with the interactive layer of FATE's
hetero NN kept secret-shared instead of Paillier-encrypted): the host sends only openings
masked by the dealer's uniform ring elements (``α_h − A``, ``U_h − B``) and a share of
``α_h·W_h`` masked by a uniform ``C``; it never sends its features or bottom outputs in the
clear. It receives the guest's masked openings and learns exactly one thing per batch: the
gradient ``∂ℓ/∂α_h = δ·W_hᵀ`` its bottom model needs. That gradient carries information about
the labels (Li et al., "Label leakage and protection in two-party split learning", ICLR 2022);
``grad_noise`` and ``label_dp_epsilon`` at the guest bound it (``docs/hetero_nn.md``). The host
never learns ``W_h`` (it holds the share ``U_h``, and after training ``W_h·R`` for the guest's
secret random invertible ``R``) nor δ: from ``W_h·R`` and its gradients it can compute ``δ·R⁻ᵀ``,
a linear function of what it already received. In prediction it sends ``α_h·W_h·R`` per row,
from which the guest learns ``α_h·W_h``, as in training. With several hosts each host runs
exactly this with the guest, on its own pair's seed, and adds to its share of ``α_h·W_h`` (and
to its prediction part) masks it shares with the other hosts, which cancel in the guest's sum
(:mod:`.hostmask`): the guest then learns only ``Σ_h α_h·W_h``. Hosts send each other one
public key of the job's crypto suite per run (X25519, or SM2 under ``sm``) and learn nothing
about each other.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from coalition.core import Context
from coalition.core.errors import ConfigError, InputError, ProtocolError
from coalition.crypto.suite import CryptoSuite
from coalition.protocols.linear.fixedpoint import Ring, decode, encode, mul_public, truncate
from coalition.protocols.linear.predict import PartSuiteRefused, TooFewFeatures
from coalition.protocols.splitnn.backend import (
    BottomModel,
    load_bottom,
    new_bottom,
    resolve_backend,
    stored,
)
from coalition.protocols.splitnn.dealer import dealer_of, parse_seed, read_setup
from coalition.protocols.splitnn.hostmask import HostMasks
from coalition.protocols.splitnn.network import (
    Standardizer,
    batches,
    interactive_init,
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
    FRAC_PREDICT,
    FRAC_STEP,
    FRAC_VALUE,
    FRAC_WEIGHT,
    MASKED_WEIGHTS,
    PREDICT,
    SEED,
    SETUP,
    HeteroNNParams,
)
from coalition.protocols.splitnn.triples import (
    FINISH_EPOCH,
    Product,
    Shares,
    Triple,
    batch_shapes,
    triple,
)

__all__ = ["SplitNNHost", "refuse_too_few_features"]

F64 = NDArray[np.float64]
_HOST = 1  # party index in SecureML truncation (the guest is 0)


def refuse_too_few_features(features: int, minimum: int) -> None:
    """The host's own check before training or scoring: the guest learns ``α_h·W_h`` per row,
    a real-valued function of the row's features, so with too few features it would learn
    (a function of) the feature itself. ``minimum`` is the node's
    ``policy_min_serving_features``, as for a linear part."""
    if features < minimum:
        raise TooFewFeatures("this node's policy refuses a split-learning part with fewer "
                             "features than its minimum", features=features, minimum=minimum)


class SplitNNHost:
    """Host role; after :meth:`fit`: ``scaler_``, ``bottom_``, its last share ``u_`` of W_h and
    ``m_ = W_h·R`` (the guest's secret ``R``), which prediction uses."""

    def __init__(self, params: HeteroNNParams | dict[str, object] | None = None) -> None:
        self.params = HeteroNNParams.parse(params)
        self.scaler_: Standardizer | None = None
        self.bottom_: BottomModel | None = None
        self.u_: Ring | None = None
        self.m_: F64 | None = None

    def fit(self, ctx: Context, x: F64) -> SplitNNHost:
        """Train on this host's aligned rows ``x`` (same order as the guest's)."""
        p = self.params
        resolve_backend(p.backend)  # refuse a missing torch before anything is sent
        tctx = ctx.sub("train")
        rows = read_setup(tctx.recv(ctx.guest, SETUP), p, training=True)
        if rows != len(x):
            raise InputError("the parties' aligned row counts differ")
        dealer = dealer_of(ctx)
        shares = Shares(parse_seed(tctx.recv(dealer, SEED)), p.suite)
        masks = HostMasks.agree(tctx, "train", p.suite)
        self.scaler_ = Standardizer.fit(x)
        xs = self.scaler_(x)
        rng = secret_rng()
        d, k = p.bottom_width, p.interactive_units
        self.bottom_ = new_bottom(p, x.shape[1], rng)
        u = encode(interactive_init(rng, d, k, share=0.5), FRAC_WEIGHT)
        velocity = np.zeros((d, k), dtype=np.uint64)
        for epoch, ectx in tctx.iter(p.epochs):
            corrections = ectx.recv(dealer, CORRECTIONS)
            plan = batches(rows, p, epoch)
            if not isinstance(corrections, list) or len(corrections) != len(plan):
                raise ProtocolError("dealer sent corrections for the wrong schedule")
            for j, idx in enumerate(plan):
                bctx = ectx.sub(str(j))
                b = len(idx)
                t1 = triple(shares, Product.FORWARD, epoch, j, left=True,
                            shapes=batch_shapes(Product.FORWARD, b, d, k))
                t2 = triple(shares, Product.WEIGHT_STEP, epoch, j, left=True,
                            shapes=batch_shapes(Product.WEIGHT_STEP, b, d, k))
                t3 = triple(shares, Product.HOST_GRADIENT, epoch, j, left=False,
                            shapes=batch_shapes(Product.HOST_GRADIENT, b, d, k),
                            correction=corrections[j])
                alpha, acts = self.bottom_.forward(xs[idx])
                x1 = encode(alpha, FRAC_VALUE)
                self._send_forward(bctx, x1, u, t1, masks=masks, index=(epoch, j), extra={
                    "e2": np.asarray(x1.T - t2.mask, dtype=np.uint64),
                    "f3": np.asarray(u.T - t3.mask, dtype=np.uint64)})
                back = bctx.recv(ctx.guest, BACKWARD)
                share = field(back, "share", (b, d))
                grad = decode(share + matmul(field(back, "e3", (b, k)), u.T) + t3.c,
                              FRAC_DELTA + FRAC_WEIGHT)
                self._observe(epoch, idx, grad)
                step = truncate(matmul(t2.mask, field(back, "f2", (b, k))) + t2.c,
                                FRAC_VALUE + FRAC_STEP - FRAC_WEIGHT, _HOST)
                grads, _ = self.bottom_.backward(acts, grad)
                self.bottom_.step(grads, p.learning_rate / b, p.momentum)
                velocity = mul_public(velocity, p.momentum, _HOST) + step
                u = np.asarray(u - velocity, dtype=np.uint64)
        self.u_ = u
        self.m_ = self._finish(tctx.sub("finish"), shares, u)
        return self

    def _finish(self, fctx: Context, shares: Shares, u: Ring) -> F64:
        """``W_h·R`` from the last product (the guest's secret ``R``): what prediction uses."""
        d, k = u.shape
        t = triple(shares, Product.FINISH, FINISH_EPOCH, 0, left=True,
                   shapes=batch_shapes(Product.FINISH, 0, d, k))
        fctx.send(fctx.guest, FINISH_OPEN, np.asarray(u - t.mask, dtype=np.uint64))
        back = fctx.recv(fctx.guest, FINISH_SHARE)
        total = matmul(t.mask, field(back, "f", (k, k))) + t.c + field(back, "share", (d, k))
        return decode(total, FRAC_WEIGHT + FRAC_VALUE)

    def _send_forward(self, bctx: Context, x1: Ring, u: Ring, t1: Triple, *, masks: HostMasks,
                      index: tuple[int, int], extra: dict[str, Any]) -> None:
        """Wait for the guest's masked share of W_h, answer with the masked forward product
        (its share of ``α_h·W_h`` also under the pair masks of the other hosts, if any)."""
        d, k = u.shape
        f1 = field({"f1": bctx.recv(bctx.guest, MASKED_WEIGHTS)}, "f1", (d, k))
        bctx.send(bctx.guest, FORWARD, {
            "e1": np.asarray(x1 - t1.mask, dtype=np.uint64),
            "share": masks.apply(matmul(x1, u) + matmul(t1.mask, f1) + t1.c, *index),
            **extra})

    def _observe(self, epoch: int, rows: NDArray[np.int64], grad: F64) -> None:
        """Hook: the gradient this host received for ``rows`` (attack tests override it)."""

    def predict(self, ctx: Context, x: F64, *, suite: CryptoSuite | str | None = None) -> None:
        """Send the guest ``α_h·(W_h·R)`` for this host's rows ``x`` (the guest's order): in
        the clear when it is the only host, else in fixed point under the pair masks of the
        other hosts (fresh keys per run, in the crypto suite the part was trained under), so
        that only the hosts' sum decodes. ``suite`` is the node's: a part of another suite is
        refused (:class:`PartSuiteRefused`) before anything is sent, as for a linear part."""
        self.check_suite(suite)
        pctx = ctx.sub("predict")
        part = self.partial(x)
        masks = HostMasks.agree(pctx, "predict", self.params.suite)
        pctx.send(ctx.guest, PREDICT, masks.apply(encode(part, FRAC_PREDICT)) if masks else part)

    def check_suite(self, suite: CryptoSuite | str | None) -> None:
        """Refuse (:class:`PartSuiteRefused`, ``policy.crypto_suite``) to score with a part
        trained under another crypto suite than ``suite`` (the node's; None: no node)."""
        if suite is not None and self.params.suite != CryptoSuite(suite):
            raise PartSuiteRefused("this node's federation runs another crypto suite than the "
                                   "one the model part was trained under",
                                   part_suite=self.params.suite.value,
                                   node_suite=CryptoSuite(suite).value)

    def feature_count(self) -> int:
        """How many raw features the host's bottom model reads."""
        if self.scaler_ is None:
            raise ConfigError("host model is not fitted")
        return int(self.scaler_.mean.size)

    def partial(self, x: F64) -> F64:
        """``α_h·(W_h·R)`` per row: the host's whole contribution to a prediction."""
        if self.scaler_ is None or self.bottom_ is None or self.m_ is None:
            raise ConfigError("host model is not fitted")
        alpha, _ = self.bottom_.forward(self.scaler_(np.asarray(x, dtype=np.float64)))
        out: F64 = alpha @ self.m_
        return out

    def to_artifact(self) -> dict[str, Any]:
        """The host's model part: its scaler, bottom model and its share of W_h."""
        if self.scaler_ is None or self.bottom_ is None or self.m_ is None:
            raise ConfigError("host model is not fitted")
        return {"meta": {"kind": "hetero_nn", "role": "host",
                         "params": self.params.model_dump(mode="json")},
                "mean": self.scaler_.mean.tolist(), "scale": self.scaler_.scale.tolist(),
                "bottom": stored(self.bottom_, self.params.activation), "m": self.m_.tolist()}

    @classmethod
    def from_artifact(cls, art: dict[str, Any]) -> SplitNNHost:
        """Inverse of :meth:`to_artifact`."""
        try:
            est = cls(art["meta"]["params"])
            est.scaler_ = Standardizer(np.asarray(art["mean"], dtype=np.float64),
                                       np.asarray(art["scale"], dtype=np.float64))
            est.bottom_ = load_bottom(art["bottom"])
            est.m_ = np.asarray(art["m"], dtype=np.float64)
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError("malformed hetero NN host model") from exc
        return est

