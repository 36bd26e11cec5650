"""Models a horizontal client can train: numpy models (no extra install) and PyTorch modules."""

from coalition.protocols.horizontal.models.base import Classifier, Model, NumpyModel, TrainConfig
from coalition.protocols.horizontal.models.linear import LinearRegression, LogisticRegression
from coalition.protocols.horizontal.models.metrics import accuracy, roc_auc
from coalition.protocols.horizontal.models.mlp import MLP
from coalition.protocols.horizontal.models.registry import build_model
from coalition.protocols.horizontal.models.torch_model import TorchModel

__all__ = [
    "MLP",
    "Classifier",
    "LinearRegression",
    "LogisticRegression",
    "Model",
    "NumpyModel",
    "TorchModel",
    "TrainConfig",
    "accuracy",
    "build_model",
    "roc_auc",
]
