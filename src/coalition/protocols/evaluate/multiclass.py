"""Multi-class metrics: accuracy, macro and micro F1, confusion matrix."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from coalition.core.errors import InputError

__all__ = ["MulticlassReport", "multiclass_report"]


@dataclass(frozen=True)
class MulticlassReport:
    """Multi-class scalar metrics and the confusion matrix over ``labels``."""

    accuracy: float
    macro_f1: float
    micro_f1: float
    labels: list[Any]
    confusion_matrix: list[list[int]]

    def to_dict(self) -> dict[str, Any]:
        """The report as a dict."""
        return asdict(self)


def multiclass_report(y_true: ArrayLike, y_pred: ArrayLike) -> MulticlassReport:
    """Metrics of predicted class labels against true ones."""
    from sklearn import metrics as skm  # noqa: PLC0415 - heavy (scipy): imported on use
    t, p = np.asarray(y_true), np.asarray(y_pred)
    if t.ndim != 1 or t.shape != p.shape or t.size == 0:
        raise InputError("labels and predictions must be equally long non-empty 1-D arrays",
                         labels=t.shape, predictions=p.shape)
    labels = np.unique(np.concatenate([t, p]))
    return MulticlassReport(
        accuracy=float(skm.accuracy_score(t, p)),
        macro_f1=float(skm.f1_score(t, p, average="macro", zero_division=0)),
        micro_f1=float(skm.f1_score(t, p, average="micro", zero_division=0)),
        labels=labels.tolist(),
        confusion_matrix=skm.confusion_matrix(t, p, labels=labels).tolist(),
    )
