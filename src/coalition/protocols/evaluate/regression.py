"""Regression metrics: RMSE, MAE, R²."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from numpy.typing import ArrayLike

from coalition.protocols.evaluate._checks import as_pair

__all__ = ["RegressionReport", "regression_report"]


@dataclass(frozen=True)
class RegressionReport:
    """Regression scalar metrics."""

    rmse: float
    mae: float
    r2: float

    def to_dict(self) -> dict[str, Any]:
        """The report as a dict."""
        return asdict(self)


def regression_report(y_true: ArrayLike, y_pred: ArrayLike) -> RegressionReport:
    """RMSE, MAE and R² of predictions."""
    from sklearn import metrics as skm  # noqa: PLC0415 - heavy (scipy): imported on use
    t, p = as_pair(y_true, y_pred)
    return RegressionReport(
        rmse=math.sqrt(float(skm.mean_squared_error(t, p))),
        mae=float(skm.mean_absolute_error(t, p)),
        r2=float(skm.r2_score(t, p)),
    )
