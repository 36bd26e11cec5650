"""The single-party model: parameters, fitting through scikit-learn, JSON artifact, scoring.

Families (all generalised linear models, so the fitted state is a coefficient vector):

* ``logistic`` — :class:`sklearn.linear_model.LogisticRegression` (L2, ``C``), binary labels;
* ``linear`` — :class:`sklearn.linear_model.Ridge` (``alpha``);
* ``poisson`` — :class:`sklearn.linear_model.PoissonRegressor` (``alpha``, log link); with an
  exposure column the target is the rate ``y / exposure`` weighted by exposure, the standard
  equivalent of a ``log(exposure)`` offset, and predictions are rates (multiply by exposure
  for expected counts).

Features are standardised (optionally clipped) by the party's own
:class:`~coalition.protocols.linear.data.Standardizer`, as vertical LR does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import Field, model_validator

from coalition.core.errors import InputError
from coalition.core.params import ParamConflict, Params
from coalition.protocols.linear.data import Standardizer

__all__ = ["ARTIFACT_KIND", "LocalModel", "LocalModelParams"]

ARTIFACT_KIND = "coalition.local.model/1"
Family = Literal["logistic", "linear", "poisson"]
FloatArray = NDArray[np.float64]


class LocalModelParams(Params):
    """Which scikit-learn model one party fits on its own aligned columns."""

    params_of = "local model"

    model: Family = Field("logistic", description=(
        "logistic (LogisticRegression), linear (Ridge) or poisson (PoissonRegressor)"))
    columns: list[str] | None = Field(None, description=(
        "feature columns to use (default: every feature column of the party's data)"))
    C: float = Field(1.0, gt=0.0, description="logistic: inverse L2 strength (scikit-learn's C)")
    alpha: float = Field(1.0, ge=0.0, description="linear/poisson: L2 strength")
    max_iter: int = Field(1000, ge=1, le=100_000, description="solver iterations")
    feature_clip: float | None = Field(None, gt=0.0, description=(
        "clip standardised features to [-clip, clip] (None: no clipping)"))
    exposure_column: str | None = Field(None, description=(
        "poisson only: a column of exposures (> 0); the model predicts rates per exposure"))

    @model_validator(mode="after")
    def _exposure_is_poisson(self) -> LocalModelParams:
        if self.exposure_column is not None and self.model != "poisson":
            raise ParamConflict("an exposure column applies to model 'poisson' only",
                                "exposure_column", "model")
        return self


@dataclass
class LocalModel:
    """A fitted single-party GLM: ``link⁻¹(standardise(x)·coef + intercept)``."""

    family: str
    feature_names: list[str]
    coef: FloatArray
    intercept: float
    scaler: Standardizer

    @classmethod
    def fit(cls, params: LocalModelParams, x: FloatArray, y: FloatArray,
            feature_names: list[str], exposure: FloatArray | None = None) -> LocalModel:
        """Fit on this party's rows (``exposure`` only for ``poisson``)."""
        # heavy (scipy): imported when a local model is fitted, not by every worker
        from sklearn.linear_model import (  # noqa: PLC0415
            LogisticRegression,
            PoissonRegressor,
            Ridge,
        )

        scaler = Standardizer(clip=params.feature_clip).fit(x)
        xs = scaler.transform(x)
        if params.model == "logistic":
            if not np.all((y == 0) | (y == 1)):
                raise InputError("model 'logistic' needs 0/1 labels")
            lr = LogisticRegression(C=params.C, max_iter=params.max_iter).fit(xs, y)
            return cls("logistic", feature_names, lr.coef_.ravel().astype(np.float64),
                       float(lr.intercept_[0]), scaler)
        if params.model == "linear":
            ridge = Ridge(alpha=params.alpha).fit(xs, y)
            return cls("linear", feature_names, np.asarray(ridge.coef_, dtype=np.float64),
                       float(ridge.intercept_), scaler)
        if np.any(y < 0):
            raise InputError("model 'poisson' needs non-negative counts")
        target, weight = y, None
        if exposure is not None:
            if np.any(exposure <= 0) or not np.all(np.isfinite(exposure)):
                raise InputError("exposures must be positive and finite")
            target, weight = y / exposure, exposure
        pois = PoissonRegressor(alpha=params.alpha, max_iter=params.max_iter)
        pois.fit(xs, target, sample_weight=weight)
        return cls("poisson", feature_names, np.asarray(pois.coef_, dtype=np.float64),
                   float(pois.intercept_), scaler)

    def predict(self, x: FloatArray) -> FloatArray:
        """Probability of class 1 (logistic), the value (linear) or the rate (poisson)."""
        if x.ndim != 2 or x.shape[1] != len(self.coef):
            raise InputError("feature columns differ from the model's",
                             expected=len(self.coef), got=x.shape[-1])
        eta = self.scaler.transform(x) @ self.coef + self.intercept
        if self.family == "logistic":
            out: FloatArray = 1.0 / (1.0 + np.exp(-eta))
            return out
        if self.family == "poisson":
            rate: FloatArray = np.exp(eta)
            return rate
        return np.asarray(eta, dtype=np.float64)

    def to_artifact(self) -> dict[str, Any]:
        """Plain-value form, safe to store, sign and publish."""
        return {"kind": ARTIFACT_KIND, "family": self.family,
                "feature_names": list(self.feature_names), "coef": self.coef.tolist(),
                "intercept": self.intercept, "scaler": self.scaler.to_dict()}

    @classmethod
    def from_artifact(cls, raw: dict[str, Any]) -> LocalModel:
        """Rebuild from :meth:`to_artifact` output; validates the shape."""
        if raw.get("kind") != ARTIFACT_KIND:
            raise InputError("not a local model", kind=raw.get("kind"))
        try:
            model = cls(str(raw["family"]), [str(n) for n in raw["feature_names"]],
                        np.asarray(raw["coef"], dtype=np.float64), float(raw["intercept"]),
                        Standardizer.from_dict(raw["scaler"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError("corrupt local model artifact", reason=str(exc)) from exc
        if model.family not in ("logistic", "linear", "poisson") or model.coef.ndim != 1 \
                or len(model.coef) != len(model.feature_names):
            raise InputError("corrupt local model artifact")
        return model
