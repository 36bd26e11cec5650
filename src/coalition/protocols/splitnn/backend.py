"""Which library runs a party's plaintext layers: numpy (always there) or PyTorch (an extra).

Both backends build the same layers from the same parameters: the weights are drawn by
numpy from the party's secret generator (:mod:`.network`) and, for torch, copied into the
modules (:mod:`.torch_layers`); the loss and its gradient stay numpy's; the update rule is the
same. Only the party's own plaintext work changes hands: what crosses the wire is the
secret-shared interactive layer's, identical in kind and size under either backend, so the
guest and a host may even choose differently. A fitted part stores its layers as a PyTorch-
named state dict of numpy arrays whatever the backend; scoring loads them into the numpy
layers (:func:`load_bottom`, :func:`load_head`), so a serving node needs no torch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from coalition.protocols.splitnn.network import Head, Stack
from coalition.protocols.splitnn.spec import HeteroNNParams
from coalition.protocols.splitnn.torch_layers import (
    BackendUnavailable,
    TorchHead,
    TorchStack,
    load_torch,
)

__all__ = ["BackendUnavailable", "BottomModel", "HeadModel", "load_bottom", "load_head",
           "new_bottom", "new_head", "resolve_backend", "stored"]

F64 = NDArray[np.float64]


class BottomModel(Protocol):
    """A party's bottom model under either backend (:class:`Stack`, :class:`TorchStack`)."""

    def forward(self, x: F64) -> tuple[F64, Any]:
        """Output α and what :meth:`backward` needs."""
        ...

    def backward(self, cache: Any, grad_out: F64) -> tuple[list[Any], Any]:
        """Parameter gradients (sums over rows) from ∂ℓ/∂α."""
        ...

    def step(self, grads: list[Any], scale: float, momentum: float) -> None:
        """One SGD-with-momentum step."""
        ...

    def state(self) -> dict[str, F64]:
        """The layers as a PyTorch-named state dict of numpy arrays."""
        ...


class HeadModel(Protocol):
    """The guest's interactive half and top model under either backend."""

    def forward(self, alpha_g: F64, z_host: F64) -> tuple[F64, Any]:
        """Output from α_g and the hosts' contribution Σ α_h·W_h."""
        ...

    def backward(self, cache: Any, d_out: F64) -> tuple[F64, F64, list[Any], list[Any]]:
        """``(δ, ∂ℓ/∂α_g, head gradients, top gradients)``."""
        ...

    def step(self, head_grads: list[Any], top_grads: list[Any], scale: float,
             momentum: float) -> None:
        """One SGD-with-momentum step."""
        ...

    def state(self) -> dict[str, F64]:
        """The layers as a PyTorch-named state dict of numpy arrays."""
        ...


def resolve_backend(name: str) -> str:
    """``numpy`` or ``torch`` for the parameter ``backend``; ``auto`` is torch when it is
    installed. :class:`BackendUnavailable` for ``torch`` without PyTorch, before any work."""
    if name == "numpy":
        return "numpy"
    try:
        load_torch()
    except BackendUnavailable:
        if name == "auto":
            return "numpy"
        raise
    return "torch"


def new_bottom(params: HeteroNNParams, features: int, rng: np.random.Generator
               ) -> BottomModel:
    """A fresh bottom model ``features → bottom_units``."""
    sizes: Sequence[int] = [features, *params.bottom_units]
    stack = Stack.create(sizes, params.activation, rng)
    if resolve_backend(params.backend) == "numpy":
        return stack
    return TorchStack(stack.state(), params.activation)


def new_head(params: HeteroNNParams, rng: np.random.Generator, parties: int = 2) -> HeadModel:
    """A fresh head (interactive half ``W_g``, bias, top model, output) for an interactive
    layer fed by ``parties`` bottom models (the guest's and every host's)."""
    head = Head.create(params, rng, parties)
    if resolve_backend(params.backend) == "numpy":
        return head
    return TorchHead(head.state(), params.activation)


def load_bottom(d: dict[str, Any]) -> Stack:
    """A stored bottom model, as numpy layers (whatever backend trained it)."""
    return Stack.from_dict(d)


def load_head(d: dict[str, Any]) -> Head:
    """A stored head, as numpy layers (whatever backend trained it)."""
    return Head.from_dict(d)


def stored(model: BottomModel | HeadModel, activation: str) -> dict[str, Any]:
    """A fitted model's stored form: activation and state dict (numpy arrays)."""
    return {"activation": activation, "state": model.state()}
