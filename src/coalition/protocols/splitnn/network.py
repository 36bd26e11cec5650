"""The plaintext parts of the split network, in numpy: bottom models, the guest's head.

Each party owns a :class:`Stack` (its bottom model, activation after every layer, its output
α); the guest also owns the :class:`Head`: its own half ``W_g`` of the interactive layer, the
bias, the interactive activation and the top model down to one output unit. The host's half
``W_h`` of the interactive layer never exists in plaintext anywhere (see ``guest``/``host``);
:mod:`.central` trains the same network on a joined table as the quality reference.

Every layer is trained by SGD with momentum (``v ← μ·v + lr·∇``, ``w ← w − v``), the one
update rule the secret-shared ``W_h`` can follow exactly (it is linear in the gradient).
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from coalition.core.errors import InputError
from coalition.protocols.splitnn.spec import HeteroNNParams

__all__ = ["Head", "Stack", "Standardizer", "activate", "activate_grad", "batches", "glorot",
           "interactive_init", "loss_grad", "secret_rng", "step_sgd"]

F64 = NDArray[np.float64]


def secret_rng() -> np.random.Generator:
    """A generator keyed by 128 bits from the OS CSPRNG (weight initialisation, noise)."""
    return np.random.default_rng(secrets.randbits(128))


def batches(n_rows: int, params: HeteroNNParams, epoch: int) -> list[NDArray[np.int64]]:
    """Row indices of the mini-batches of ``epoch`` (public: a function of the seed only)."""
    order = np.arange(n_rows, dtype=np.int64)
    if params.shuffle:
        order = np.random.default_rng([params.seed, epoch]).permutation(n_rows)
    return [order[i:i + params.batch_size] for i in range(0, n_rows, params.batch_size)]


def _activation(name: str) -> str:
    if name not in ("relu", "tanh"):
        raise InputError("unknown activation", activation=name)
    return name


def activate(name: str, z: F64) -> F64:
    """Relu or tanh."""
    return np.maximum(z, 0.0) if name == "relu" else np.tanh(z)


def activate_grad(name: str, out: F64) -> F64:
    """Derivative of the activation, from its output."""
    return (out > 0).astype(np.float64) if name == "relu" else 1.0 - out * out


def glorot(rng: np.random.Generator, fan_in: int, fan_out: int) -> F64:
    """Glorot-uniform weights of a ``fan_in × fan_out`` layer."""
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, (fan_in, fan_out))


def interactive_init(rng: np.random.Generator, d: int, k: int, share: float = 1.0,
                     parties: int = 2) -> F64:
    """One party's ``d × k`` block of the interactive layer, Glorot-scaled for its whole
    fan-in ``parties·d`` (the guest and every host); ``share`` < 1 scales the variance
    (each ``W_h`` is the sum of two halves)."""
    limit = np.sqrt(6.0 * share / (parties * d + k))
    return rng.uniform(-limit, limit, (d, k))


@dataclass
class Standardizer:
    """Column means and deviations of the party's own training features."""

    mean: F64
    scale: F64

    @classmethod
    def fit(cls, x: F64) -> Standardizer:
        """Fit on training rows (a constant column gets scale 1)."""
        std = x.std(axis=0)
        return cls(x.mean(axis=0), np.where(std > 0, std, 1.0))

    def __call__(self, x: F64) -> F64:
        """Standardised ``x`` (same columns as in training)."""
        if x.shape[1] != self.mean.size:
            raise InputError("feature count differs from training", expected=int(self.mean.size))
        return (x - self.mean) / self.scale


@dataclass
class Stack:
    """Dense layers, each followed by the activation."""

    weights: list[F64]
    biases: list[F64]
    activation: str
    velocity: list[F64] = field(default_factory=list)

    @classmethod
    def create(cls, sizes: Sequence[int], activation: str,
               rng: np.random.Generator) -> Stack:
        """Glorot-initialised layers ``sizes[0] → sizes[1] → …``."""
        ws = [glorot(rng, a, b) for a, b in itertools.pairwise(sizes)]
        return cls(ws, [np.zeros(w.shape[1]) for w in ws], activation)

    def forward(self, x: F64) -> tuple[F64, list[F64]]:
        """Output and the activations of every layer (input first) for :meth:`backward`."""
        acts = [x]
        for w, b in zip(self.weights, self.biases, strict=True):
            acts.append(activate(self.activation, acts[-1] @ w + b))
        return acts[-1], acts

    def backward(self, acts: list[F64], grad_out: F64) -> tuple[list[F64], F64]:
        """Gradients (weight, bias per layer) summed over rows, and ∂ℓ/∂input, from
        ∂ℓ/∂output."""
        grads: list[F64] = []
        d = grad_out
        for i in range(len(self.weights) - 1, -1, -1):
            d = d * activate_grad(self.activation, acts[i + 1])
            grads[:0] = [acts[i].T @ d, d.sum(axis=0)]
            d = d @ self.weights[i].T
        return grads, d

    def params(self) -> list[F64]:
        """Weights and biases interleaved, the order of :meth:`backward`'s gradients."""
        return [p for pair in zip(self.weights, self.biases, strict=True) for p in pair]

    def step(self, grads: list[F64], scale: float, momentum: float) -> None:
        """One SGD-with-momentum step with gradient sums ``grads`` times ``scale`` (lr / B)."""
        step_sgd(self.params(), self.velocity, grads, scale, momentum)

    def state(self) -> dict[str, F64]:
        """The layers named as in PyTorch's ``nn.Sequential(Linear, act, Linear, …)``.

        ``"0.weight"`` (out × in), ``"0.bias"``, ``"2.weight"`` and so on."""
        out: dict[str, F64] = {}
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            out[f"{2 * i}.weight"], out[f"{2 * i}.bias"] = w.T.copy(), b.copy()
        return out

    @classmethod
    def from_state(cls, state: Mapping[str, Any], activation: str) -> Stack:
        """Inverse of :meth:`state`; the layers' shapes must chain."""
        ws: list[F64] = []
        bs: list[F64] = []
        while f"{2 * len(ws)}.weight" in state:
            i = 2 * len(ws)
            ws.append(np.asarray(state[f"{i}.weight"], dtype=np.float64).T)
            bs.append(np.asarray(state[f"{i}.bias"], dtype=np.float64))
        if not ws or len(state) != 2 * len(ws) or any(
                w.ndim != 2 or b.shape != (w.shape[1],) for w, b in zip(ws, bs, strict=True)) \
                or any(a.shape[1] != b.shape[0] for a, b in itertools.pairwise(ws)):
            raise InputError("malformed layer state")
        return cls(ws, bs, _activation(activation))

    def to_dict(self) -> dict[str, Any]:
        """The model part's form: activation and :meth:`state` (numpy arrays)."""
        return {"activation": self.activation, "state": self.state()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Stack:
        """Inverse of :meth:`to_dict` (also reads the older lists of ``weights``/``biases``)."""
        if "state" in d:
            return cls.from_state(d["state"], str(d["activation"]))
        return cls([np.asarray(w, dtype=np.float64) for w in d["weights"]],
                   [np.asarray(b, dtype=np.float64) for b in d["biases"]], str(d["activation"]))


def step_sgd(params: list[F64], velocity: list[F64], grads: list[F64], scale: float,
             momentum: float) -> None:
    """In-place SGD with momentum; ``velocity`` is filled on the first call."""
    if not velocity:
        velocity.extend(np.zeros_like(p) for p in params)
    for param, vel, grad in zip(params, velocity, grads, strict=True):
        # in place: the buffers and weights are the model's own arrays
        np.multiply(vel, momentum, out=vel)
        np.add(vel, scale * grad, out=vel)
        np.subtract(param, vel, out=param)


def loss_grad(task: str, out: F64, y: F64) -> tuple[float, F64]:
    """Mean loss and per-row ∂ℓ/∂output of the single output unit."""
    if task == "binary":
        p = 1.0 / (1.0 + np.exp(-np.clip(out, -35, 35)))
        eps = 1e-12
        loss = -np.mean(y * np.log(p + eps) + (1 - y) * np.log(1 - p + eps))
        return float(loss), p - y
    return float(0.5 * np.mean((out - y) ** 2)), out - y


@dataclass
class HeadCache:
    """What :meth:`Head.backward` needs from the forward pass."""

    alpha_g: F64
    a: F64
    top_acts: list[F64]


@dataclass
class Head:
    """The guest's interactive half (``W_g``, bias) and top model (hidden layers, output)."""

    w_guest: F64
    bias: F64
    activation: str
    top: Stack
    out_w: F64
    out_b: F64
    velocity: list[F64] = field(default_factory=list)

    @classmethod
    def create(cls, params: HeteroNNParams, rng: np.random.Generator,
               parties: int = 2) -> Head:
        """Glorot-initialised for the interactive fan-in of ``parties`` (guest and hosts)."""
        d, k = params.bottom_width, params.interactive_units
        sizes = [k, *params.top_units]
        top = Stack.create(sizes, params.activation, rng)
        return cls(interactive_init(rng, d, k, parties=parties), np.zeros(k), params.activation,
                   top,
                   glorot(rng, sizes[-1], 1), np.zeros(1))

    def forward(self, alpha_g: F64, z_host: F64) -> tuple[F64, HeadCache]:
        """Output (one column) from the guest's α_g and the host's contribution α_h·W_h."""
        a = activate(self.activation, alpha_g @ self.w_guest + z_host + self.bias)
        h, acts = self.top.forward(a)
        return (h @ self.out_w + self.out_b)[:, 0], HeadCache(alpha_g, a, acts)

    def backward(self, cache: HeadCache, d_out: F64
                 ) -> tuple[F64, F64, list[F64], list[F64]]:
        """``(δ = ∂ℓ/∂z, ∂ℓ/∂α_g, head gradients, top gradients)``, sums over rows."""
        d = d_out[:, None]
        h = cache.top_acts[-1]
        g_out = [h.T @ d, d.sum(axis=0)]
        d_h = d @ self.out_w.T
        top_grads, d_a = self.top.backward(cache.top_acts, d_h)
        delta = d_a * activate_grad(self.activation, cache.a)
        head_grads = [cache.alpha_g.T @ delta, delta.sum(axis=0), *g_out]
        return delta, delta @ self.w_guest.T, head_grads, top_grads

    def params(self) -> list[F64]:
        """``W_g``, bias, output weights and bias (the order of the head gradients)."""
        return [self.w_guest, self.bias, self.out_w, self.out_b]

    def step(self, head_grads: list[F64], top_grads: list[F64], scale: float,
             momentum: float) -> None:
        """One SGD step of the guest's head."""
        step_sgd(self.params(), self.velocity, head_grads, scale, momentum)
        self.top.step(top_grads, scale, momentum)

    def state(self) -> dict[str, F64]:
        """PyTorch-named layers: ``interactive.*`` (``W_g``ᵀ, bias), ``top.*`` (a
        :meth:`Stack.state`), ``output.*``."""
        return {"interactive.weight": self.w_guest.T.copy(), "interactive.bias": self.bias.copy(),
                **{f"top.{k}": v for k, v in self.top.state().items()},
                "output.weight": self.out_w.T.copy(), "output.bias": self.out_b.copy()}

    @classmethod
    def from_state(cls, state: Mapping[str, Any], activation: str) -> Head:
        """Inverse of :meth:`state`; shapes must chain."""
        try:
            w_guest = np.asarray(state["interactive.weight"], dtype=np.float64).T
            bias = np.asarray(state["interactive.bias"], dtype=np.float64)
            out_w = np.asarray(state["output.weight"], dtype=np.float64).T
            out_b = np.asarray(state["output.bias"], dtype=np.float64)
        except KeyError as exc:
            raise InputError("malformed head state") from exc
        top_state = {k[4:]: v for k, v in state.items() if k.startswith("top.")}
        top = (Stack.from_state(top_state, activation) if top_state
               else Stack([], [], _activation(activation)))
        k = w_guest.shape[1] if w_guest.ndim == 2 else -1
        last = top.weights[-1].shape[1] if top.weights else k
        if bias.shape != (k,) or out_w.shape != (last, 1) or out_b.shape != (1,) or (
                top.weights and top.weights[0].shape[0] != k):
            raise InputError("malformed head state")
        return cls(w_guest, bias, _activation(activation), top, out_w, out_b)

    def to_dict(self) -> dict[str, Any]:
        """The model part's form: activation and :meth:`state` (numpy arrays)."""
        return {"activation": self.activation, "state": self.state()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Head:
        """Inverse of :meth:`to_dict` (also reads the older JSON lists)."""
        if "state" in d:
            return cls.from_state(d["state"], str(d["activation"]))
        return cls(np.asarray(d["w_guest"], dtype=np.float64),
                   np.asarray(d["bias"], dtype=np.float64), str(d["activation"]),
                   Stack.from_dict(d["top"]), np.asarray(d["out_w"], dtype=np.float64),
                   np.asarray(d["out_b"], dtype=np.float64))

