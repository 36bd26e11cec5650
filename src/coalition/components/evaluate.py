"""``evaluate``: metrics of predictions against labels, where both already are.

Purely local (wraps :mod:`coalition.protocols.evaluate`): in vertical jobs only the guest has
labels and predictions, so the task runs at the guest by default; in horizontal jobs every
client can evaluate its own predictions (``roles: [guest, host]`` in the DAG). Nothing is
sent. ``metrics`` holds the scalars (AUC, KS, ... / RMSE, MAE, R²); ``report`` the curves and
tables as well.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import Field

from coalition.components.artifacts import Artifact, ArtifactKind, Dataset, Metrics, Report
from coalition.components.base import Component, Input, Output, TaskContext, slots
from coalition.components.registry import register
from coalition.core.errors import InputError
from coalition.core.ids import Role
from coalition.core.params import Params
from coalition.protocols.evaluate import binary_report, multiclass_report, regression_report

__all__ = ["Evaluate", "EvaluateParams"]

_PARTIES = frozenset({Role.GUEST, Role.HOST})


class EvaluateParams(Params):
    """Which metrics, and which columns hold the truth and the score."""

    params_of = "evaluate"

    task: Literal["binary", "regression", "multiclass", "poisson"] = Field("binary", description=(
        "binary, regression, multiclass, or poisson (counts: mean Poisson deviance plus the "
        "regression metrics; score the expected counts, e.g. hetero_poisson's 'expected')"))
    label_column: str | None = Field(None, description="default: the dataset's label column")
    score_column: str = Field("score", description="binary/regression: the prediction")
    predicted_label_column: str = Field("predicted_label", description="multiclass")
    threshold: float = Field(0.5, gt=0.0, lt=1.0, description="binary: positive if score >= it")


def _column(data: Dataset, name: str) -> NDArray[Any]:
    if name not in data.frame.columns:
        raise InputError("column not in the predictions", column=name,
                         columns=[str(c) for c in data.frame.columns])
    out: NDArray[Any] = data.frame[name].to_numpy()
    return out


def _binary(y: NDArray[Any], data: Dataset, p: EvaluateParams) -> dict[str, Any]:
    return binary_report(y, _column(data, p.score_column), threshold=p.threshold).to_dict()


def _regression(y: NDArray[Any], data: Dataset, p: EvaluateParams) -> dict[str, Any]:
    return regression_report(y, _column(data, p.score_column)).to_dict()


def _poisson(y: NDArray[Any], data: Dataset, p: EvaluateParams) -> dict[str, Any]:
    mean = np.asarray(_column(data, p.score_column), dtype=np.float64)
    counts = np.asarray(y, dtype=np.float64)
    if np.any(mean <= 0) or np.any(counts < 0):
        raise InputError("poisson metrics need positive predictions and non-negative counts")
    from sklearn.metrics import mean_poisson_deviance  # noqa: PLC0415 - heavy (scipy)

    return {"poisson_deviance": float(mean_poisson_deviance(counts, mean)),
            **regression_report(counts, mean).to_dict()}


def _multiclass(y: NDArray[Any], data: Dataset, p: EvaluateParams) -> dict[str, Any]:
    return multiclass_report(y, _column(data, p.predicted_label_column)).to_dict()


_REPORTS: dict[str, Callable[[NDArray[Any], Dataset, EvaluateParams], dict[str, Any]]] = {
    "binary": _binary, "regression": _regression, "multiclass": _multiclass,
    "poisson": _poisson}


def _scalars(report: Mapping[str, Any]) -> dict[str, float]:
    return {k: float(v) for k, v in report.items()
            if isinstance(v, int | float | np.number) and not isinstance(v, bool)}


@register
class Evaluate(Component):
    """Local evaluation of predictions."""

    name = "evaluate"
    version = "1.0.0"
    description = ("Binary / regression / multiclass / Poisson metrics at the party holding "
                   "the labels.")
    Params = EvaluateParams
    roles = _PARTIES
    required_roles = frozenset[Role]()
    inputs = slots(data=Input(ArtifactKind.DATASET, _PARTIES, doc="predictions with labels"))
    outputs = slots(
        metrics=Output(ArtifactKind.METRICS, _PARTIES, doc="scalar metrics"),
        report=Output(ArtifactKind.REPORT, _PARTIES, doc="metrics with curves and tables"),
    )

    @classmethod
    def default_roles(cls, raw_params: Mapping[str, Any]) -> frozenset[Role]:
        """The guest, unless the DAG lists ``roles`` (horizontal jobs)."""
        return frozenset({Role.GUEST})

    def run(self, ctx: TaskContext) -> Mapping[str, Artifact]:
        """Compute the report from this party's predictions."""
        p: EvaluateParams = ctx.params
        data = ctx.dataset("data")
        label = p.label_column or data.label_column
        if label is None:
            raise InputError("no label column to evaluate against")
        report = _REPORTS[p.task](_column(data, label), data, p)
        return {"metrics": Metrics(_scalars(report)), "report": Report(report)}
