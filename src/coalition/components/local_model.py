"""``local_model``: single-party modelling (单边建模) inside a federated job.

The guest fits a scikit-learn model (:mod:`coalition.protocols.local`: logistic, ridge or
Poisson regression) on its own aligned columns and labels, in the same DAG as the federated
models, so a job reports "the guest alone" next to "the guest with its partners" on the same
rows (``evaluate`` scores both). Nothing is sent: the rows, labels and the model stay with the
guest. The model part is plain JSON, so it is signed, published and served like any other part
(served by the guest alone, as horizontal models are). Given ``test_data`` it also outputs
``predictions`` (ID, label if any, ``score``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from coalition.components.artifacts import Artifact, ArtifactKind, Dataset, Metrics, ModelPart
from coalition.components.base import Component, Input, Output, TaskContext, slots
from coalition.components.predict import predictions_frame
from coalition.components.registry import register
from coalition.core.errors import InputError
from coalition.core.ids import Role
from coalition.protocols.evaluate import binary_report, regression_report
from coalition.protocols.local import LocalModel, LocalModelParams

__all__ = ["LocalModelComponent", "local_matrix"]

_GUEST = frozenset({Role.GUEST})


def local_matrix(data: Dataset, p: LocalModelParams,
                 names: list[str] | None = None) -> tuple[np.ndarray, list[str]]:
    """The chosen feature columns (``names``, else ``p.columns``, else every feature column
    except the exposure) as floats; a missing column is named in the error."""
    wanted = names or p.columns or [c for c in data.features if c != p.exposure_column]
    missing = [c for c in wanted if c not in data.frame.columns]
    if missing:
        raise InputError("feature column not in the data", column=missing[0])
    try:
        x = data.frame[wanted].to_numpy(dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError("non-numeric feature column") from exc
    if not np.all(np.isfinite(x)):
        raise InputError("features contain NaN or infinity")
    return x, list(wanted)


def _exposure(data: Dataset, p: LocalModelParams) -> np.ndarray | None:
    if p.exposure_column is None:
        return None
    if p.exposure_column not in data.frame.columns:
        raise InputError("exposure column not in the data", column=p.exposure_column)
    out: np.ndarray = data.frame[p.exposure_column].to_numpy(dtype=np.float64)
    return out


def _scalars(report: Mapping[str, Any]) -> dict[str, float]:
    return {k: float(v) for k, v in report.items()
            if isinstance(v, int | float | np.number) and not isinstance(v, bool)}


def _metrics(model: LocalModel, y: np.ndarray, score: np.ndarray,
             exposure: np.ndarray | None) -> dict[str, float]:
    """Training-row metrics: binary report, regression report, or Poisson deviance of the
    expected counts (rate × exposure)."""
    if model.family == "logistic":
        return _scalars(binary_report(y, score).to_dict())
    if model.family == "poisson":
        counts = score if exposure is None else score * exposure
        from sklearn.metrics import mean_poisson_deviance  # noqa: PLC0415 - heavy (scipy)

        return {"poisson_deviance": float(mean_poisson_deviance(y, counts))}
    return _scalars(regression_report(y, score).to_dict())


@register
class LocalModelComponent(Component):
    """One party's scikit-learn model on its own columns (a baseline in a federated DAG)."""

    name = "local_model"
    version = "1.0.0"
    description = ("Single-party model (单边建模): the guest fits logistic, ridge or Poisson "
                   "regression on its own aligned columns; nothing is sent.")
    Params = LocalModelParams
    roles = _GUEST
    required_roles = _GUEST
    inputs = slots(
        train_data=Input(ArtifactKind.DATASET, _GUEST, doc="the guest's aligned rows, labelled"),
        test_data=Input(ArtifactKind.DATASET, _GUEST, optional=True, doc="rows to score"),
    )
    outputs = slots(
        model=Output(ArtifactKind.MODEL, _GUEST, doc="the fitted model (plain JSON)"),
        metrics=Output(ArtifactKind.METRICS, _GUEST, doc="training-row metrics"),
        predictions=Output(ArtifactKind.DATASET, _GUEST, requires="test_data",
                           doc="ID, label (if any), score"),
    )

    def run(self, ctx: TaskContext) -> Mapping[str, Artifact]:
        """Fit on the guest's rows; score ``test_data`` if given."""
        p = ctx.params_as(LocalModelParams)
        train = ctx.dataset("train_data")
        x, names = local_matrix(train, p)
        y, exposure = train.labels(), _exposure(train, p)
        model = LocalModel.fit(p, x, y, names, exposure)
        out: dict[str, Artifact] = {
            "model": ModelPart(self.family(), ctx.role, model.to_artifact()),
            "metrics": Metrics(_metrics(model, y, model.predict(x), exposure))}
        if ctx.has("test_data"):
            test = ctx.dataset("test_data")
            xt, _ = local_matrix(test, p, names)
            out["predictions"] = predictions_frame(test, test.ids(), model.predict(xt))
        return out
