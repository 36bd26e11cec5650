"""The plaintext layers of split learning as PyTorch modules (the ``torch`` backend).

Same contract as :class:`~coalition.protocols.splitnn.network.Stack` and
:class:`~coalition.protocols.splitnn.network.Head`: numpy float64 in and out, gradients summed
over rows, SGD with momentum ``v ← μ·v + (lr/B)·∇``, ``w ← w − v``, and the same state dict.
The modules are ``nn.Sequential(Linear, act, …)`` (bottom) and ``nn.ModuleDict`` with
``interactive`` (``W_g`` and the bias), ``top`` and ``output`` (head), float64 on the CPU, so a
model trained here is the numpy model to rounding: its part stores ``module.state_dict()`` as
numpy arrays, and scoring loads it into the numpy layers (no torch needed to serve). Only the
guest's and the host's own plaintext work runs here; the secret-shared interactive product
and every message stay in the ring (:mod:`.guest`, :mod:`.host`).

PyTorch is the optional ``torch`` extra, imported when one of these classes is built.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from coalition.core.errors import ConfigError

__all__ = ["BackendUnavailable", "TorchHead", "TorchStack", "load_torch"]

F64 = NDArray[np.float64]


class BackendUnavailable(ConfigError):
    """``backend: torch`` was asked for where PyTorch is not installed."""

    code = "config.backend_unavailable"


def load_torch() -> Any:
    """The ``torch`` module, or :class:`BackendUnavailable`."""
    try:
        return importlib.import_module("torch")
    except ImportError as exc:
        raise BackendUnavailable("backend 'torch' needs PyTorch: pip install 'coalition[torch]'",
                                 backend="torch") from exc


def _sequential(torch: Any, state: Mapping[str, F64], activation: str) -> Any:
    nn = torch.nn
    layers: list[Any] = []
    i = 0
    while f"{i}.weight" in state:
        out_f, in_f = state[f"{i}.weight"].shape
        layers += [nn.Linear(in_f, out_f, dtype=torch.float64),
                   nn.ReLU() if activation == "relu" else nn.Tanh()]
        i += 2
    return nn.Sequential(*layers)


def _load(torch: Any, module: Any, state: Mapping[str, F64]) -> None:
    module.load_state_dict({k: torch.as_tensor(np.asarray(v, dtype=np.float64))
                            for k, v in state.items()})


class _Trainable:
    """Momentum SGD over a module's parameters, and its state as numpy arrays."""

    def __init__(self, torch: Any, module: Any) -> None:
        self._torch, self.module = torch, module
        self._params = list(module.parameters())
        self._velocity = [torch.zeros_like(p) for p in self._params]

    def _step(self, grads: list[Any], scale: float, momentum: float) -> None:
        with self._torch.no_grad():
            for p, v, g in zip(self._params, self._velocity, grads, strict=True):
                v.mul_(momentum).add_(g, alpha=scale)
                p.sub_(v)

    def state(self) -> dict[str, F64]:
        """``module.state_dict()`` as float64 numpy arrays (what the model part stores)."""
        return {k: v.detach().cpu().numpy().astype(np.float64).copy()
                for k, v in self.module.state_dict().items()}

    def _tensor(self, x: F64, *, grad: bool = False) -> Any:
        return self._torch.tensor(np.asarray(x, dtype=np.float64), requires_grad=grad)


class TorchStack(_Trainable):
    """A bottom model: dense layers, each followed by the activation."""

    def __init__(self, state: Mapping[str, F64], activation: str) -> None:
        torch = load_torch()
        module = _sequential(torch, state, activation)
        _load(torch, module, state)
        super().__init__(torch, module)
        self.activation = activation

    def forward(self, x: F64) -> tuple[F64, Any]:
        """Output, and the graph :meth:`backward` needs."""
        out = self.module(self._tensor(x))
        return out.detach().numpy(), out

    def backward(self, cache: Any, grad_out: F64) -> tuple[list[Any], None]:
        """Gradients of the parameters (sums over rows) from ∂ℓ/∂output; no input gradient
        (a bottom model's input is data)."""
        grads = self._torch.autograd.grad(cache, self._params,
                                          grad_outputs=self._tensor(grad_out))
        return list(grads), None

    def step(self, grads: list[Any], scale: float, momentum: float) -> None:
        """One SGD-with-momentum step with gradient sums ``grads`` times ``scale``."""
        self._step(grads, scale, momentum)


@dataclass
class _HeadGraph:
    alpha_g: Any
    z_host: Any
    out: Any


class TorchHead(_Trainable):
    """The guest's interactive half (``W_g``, bias), top model and output unit."""

    def __init__(self, state: Mapping[str, F64], activation: str) -> None:
        torch = load_torch()
        nn = torch.nn
        d_in, k = state["interactive.weight"].shape[1], state["interactive.weight"].shape[0]
        top_state = {key[4:]: v for key, v in state.items() if key.startswith("top.")}
        last = state["output.weight"].shape[1]
        module = nn.ModuleDict({
            "interactive": nn.Linear(d_in, k, dtype=torch.float64),
            "top": _sequential(torch, top_state, activation),
            "output": nn.Linear(last, 1, dtype=torch.float64)})
        _load(torch, module, state)
        super().__init__(torch, module)
        self.activation = activation
        self._act = torch.relu if activation == "relu" else torch.tanh

    def forward(self, alpha_g: F64, z_host: F64) -> tuple[F64, _HeadGraph]:
        """Output (one column) from the guest's α_g and the hosts' contribution."""
        ag, zh = self._tensor(alpha_g, grad=True), self._tensor(z_host, grad=True)
        m = self.module
        out = m["output"](m["top"](self._act(m["interactive"](ag) + zh)))[:, 0]
        return out.detach().numpy(), _HeadGraph(ag, zh, out)

    def backward(self, cache: _HeadGraph, d_out: F64) -> tuple[F64, F64, list[Any], list[Any]]:
        """``(δ = ∂ℓ/∂z, ∂ℓ/∂α_g, parameter gradients, [])``: δ is the gradient at the
        hosts' input, which enters the interactive pre-activation ``z`` unchanged."""
        delta, d_alpha, *grads = self._torch.autograd.grad(
            cache.out, [cache.z_host, cache.alpha_g, *self._params],
            grad_outputs=self._tensor(d_out))
        return delta.numpy(), d_alpha.numpy(), list(grads), []

    def step(self, head_grads: list[Any], top_grads: list[Any], scale: float,
             momentum: float) -> None:
        """One SGD-with-momentum step of every head parameter."""
        self._step([*head_grads, *top_grads], scale, momentum)
