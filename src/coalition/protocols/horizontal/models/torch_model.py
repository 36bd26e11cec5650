"""Adapter that lets a PyTorch ``nn.Module`` take part in horizontal FL.

``torch`` is an optional extra (``pip install coalition[torch]``) and is imported only when a
:class:`TorchModel` is built. Training runs on the GPU when one is available. The state dict
travels as named float64 arrays, exactly like the numpy models.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from coalition.core import ConfigError
from coalition.protocols.horizontal.models.base import TrainConfig
from coalition.protocols.horizontal.models.metrics import accuracy, roc_auc
from coalition.protocols.horizontal.weights import ParamLayout, Weights

__all__ = ["TorchModel"]


def _torch() -> Any:
    try:
        return importlib.import_module("torch")
    except ImportError as exc:
        raise ConfigError("TorchModel needs PyTorch: pip install 'coalition[torch]'") from exc


class TorchModel:
    """Wraps ``module``; ``task`` picks cross-entropy (classification) or MSE (regression)."""

    kind = "torch"

    def __init__(self, module: Any, task: Literal["classification", "regression"] = "classification",
                 device: str | None = None) -> None:
        torch = _torch()
        if task not in ("classification", "regression"):
            raise ConfigError("task must be 'classification' or 'regression'", task=task)
        self._torch = torch
        self.task = task
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.module = module.to(self.device)
        self._layout = ParamLayout.of(self.get_weights())

    def get_weights(self) -> Weights:
        """The state dict as float64 arrays."""
        return {k: v.detach().cpu().numpy().astype(np.float64)
                for k, v in self.module.state_dict().items()}

    def set_weights(self, weights: Mapping[str, NDArray[Any]]) -> None:
        """Load named arrays into the module (shapes checked; dtypes kept)."""
        checked = self._layout.unflatten(self._layout.flatten(weights))
        state = self.module.state_dict()
        new = {k: self._torch.as_tensor(checked[k], dtype=v.dtype, device=self.device)
               for k, v in state.items()}
        self.module.load_state_dict(new)

    def _loss(self, out: Any, target: Any) -> Any:
        fn = self._torch.nn.functional
        if self.task == "classification":
            return fn.cross_entropy(out, target)
        return fn.mse_loss(out.reshape(-1), target)

    def _tensors(self, x: NDArray[Any], y: NDArray[Any]) -> tuple[Any, Any]:
        t = self._torch
        ydtype = t.long if self.task == "classification" else t.float32
        return (t.as_tensor(np.asarray(x, dtype=np.float32), device=self.device),
                t.as_tensor(np.asarray(y), dtype=ydtype, device=self.device))

    def fit(self, x: NDArray[Any], y: NDArray[Any], config: TrainConfig,
            rng: np.random.Generator) -> float:
        """SGD over minibatches, with FedProx's proximal term when ``proximal_mu > 0``."""
        t = self._torch
        xt, yt = self._tensors(x, y)
        params = [p for p in self.module.parameters() if p.requires_grad]
        anchor = [p.detach().clone() for p in params]
        opt = t.optim.SGD(params, lr=config.learning_rate)
        self.module.train()
        n = xt.shape[0]
        last = 0.0
        for _ in range(config.epochs):
            order = t.as_tensor(rng.permutation(n), device=self.device)
            total = 0.0
            for start in range(0, n, config.batch_size):
                idx = order[start:start + config.batch_size]
                opt.zero_grad()
                loss = self._loss(self.module(xt[idx]), yt[idx])
                total += float(loss.item()) * len(idx)
                if config.proximal_mu > 0:
                    prox = sum(((p - a) ** 2).sum() for p, a in zip(params, anchor, strict=True))
                    loss = loss + 0.5 * config.proximal_mu * prox
                loss.backward()
                opt.step()
            last = total / n
        return last

    def _outputs(self, x: NDArray[Any]) -> Any:
        self.module.eval()
        with self._torch.no_grad():
            xt = self._torch.as_tensor(np.asarray(x, dtype=np.float32), device=self.device)
            return self.module(xt)

    def evaluate(self, x: NDArray[Any], y: NDArray[Any]) -> dict[str, float]:
        """Loss, plus accuracy/AUC (classification) or MSE (regression)."""
        out = self._outputs(x)
        _, yt = self._tensors(x, y)
        loss = float(self._loss(out, yt).item())
        if self.task == "regression":
            return {"loss": loss, "mse": loss}
        probs = self._torch.softmax(out, dim=1).cpu().numpy()
        metrics = {"loss": loss, "accuracy": accuracy(y, probs.argmax(axis=1))}
        if probs.shape[1] == 2:
            auc = roc_auc(y, probs[:, 1])
            if auc is not None:
                metrics["auc"] = auc
        return metrics

    def predict(self, x: NDArray[Any]) -> NDArray[Any]:
        """Class indices or values."""
        out = self._outputs(x).cpu().numpy()
        result: NDArray[Any] = out.argmax(axis=1) if self.task == "classification" else out.reshape(-1)
        return result

    def describe(self) -> dict[str, Any]:
        """Kind, task and module class (the architecture itself is code the loader supplies)."""
        return {"kind": self.kind, "config": {"task": self.task,
                                              "module": type(self.module).__qualname__}}
