"""``predict``: score aligned rows jointly with a trained vertical model.

Works with the model parts of ``hetero_lr``, ``hetero_linr``, ``hetero_poisson``,
``hetero_lr_multiclass`` (each class scored as its binary model is), ``hetero_secureboost`` and
``hetero_nn``, ``scorecard`` (each party first encodes its raw rows with the part's WOE transform, then scores
as ``hetero_lr``); each party loads its own part. Who learns what is each protocol's prediction
step: linear models
send the guest each host's partial scores ``w_h·x_h`` — with several hosts only masked values
whose sum the guest can decode (pairwise masks agreed between hosts), with one host in the
clear, and a host refuses parts with fewer features than its
``policy_min_serving_features`` (see :mod:`coalition.protocols.linear.predict`); SecureBoost
sends the guest each host's go-left bits for its own splits, after the same alignment check as
training (:mod:`coalition.protocols.alignment`: misaligned rows fail every party with an
``InputError`` instead of scoring mismatched rows); ``hetero_nn`` has each host send
``α_h·W_h·R`` per row after the same check, masked between hosts when there are several
(:mod:`coalition.protocols.splitnn`: the guest learns ``Σ_h α_h·W_h``, as in training, never
``α_h``). Hosts learn nothing. Only the guest gets the
predictions.
Output columns: the ID, the label (when the guest's data has one) and ``score`` (probability of
class 1, or the regression value); multiclass adds ``score_<k>`` per class and
``predicted_label``; a scorecard adds ``points``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pydantic import Field

from coalition.components.artifacts import Artifact, ArtifactKind, Dataset, ModelPart
from coalition.components.base import Component, Input, Output, TaskContext, slots
from coalition.components.hetero_lr import party_table
from coalition.components.registry import register
from coalition.components.scorecard import scorecard_part
from coalition.core.errors import InputError
from coalition.core.ids import Role
from coalition.core.params import Params
from coalition.crypto.suite import CryptoSuite
from coalition.protocols.alignment import check_alignment_guest, check_alignment_host
from coalition.protocols.feature.woe_transform import apply_woe_transform
from coalition.protocols.linear import LinearModelPart, PartyTable, predict_guest, predict_host
from coalition.protocols.linear.data import CANONICAL_IDS
from coalition.protocols.linear.multiclass import (
    OvRModelPart,
    predict_ovr_guest,
    predict_ovr_host,
)
from coalition.protocols.linear.predict import TooFewFeatures
from coalition.protocols.secureboost import SecureBoostGuest, SecureBoostHost
from coalition.protocols.splitnn import SplitNNGuest, SplitNNHost, refuse_too_few_features

__all__ = ["POINTS", "SCORE", "Predict", "PredictParams", "predictions_frame"]

SCORE = "score"
POINTS = "points"
EXPECTED = "expected"
_PARTIES = frozenset({Role.GUEST, Role.HOST})

# A predictor returns (ids, scores) at the guest and None at a host.
Predictor = Callable[[TaskContext, ModelPart, Dataset],
                     tuple[list[str], NDArray[np.float64]] | None]


class PredictParams(Params):
    """The model part says how to score; the job says which crypto suite checks alignment."""

    params_of = "predict"

    suite: CryptoSuite = Field(CryptoSuite.STANDARD, description=(
        "crypto suite of the row-alignment digests (SHA-256 or SM3): standard or sm; the "
        "federation's, filled in at submit when omitted"))


def _suite(ctx: TaskContext) -> CryptoSuite:
    return ctx.params_as(PredictParams).suite


def _linear_guest(ctx: TaskContext, model: ModelPart, data: Dataset
                  ) -> tuple[list[str], NDArray[np.float64]]:
    table = party_table(data)  # sorted by ID, as the hosts' tables are
    part = LinearModelPart.from_artifact(model.data)
    return table.ids, predict_guest(ctx.comm, part, table)


def _linear_host(ctx: TaskContext, model: ModelPart, data: Dataset) -> None:
    predict_host(ctx.comm, LinearModelPart.from_artifact(model.data), party_table(data),
                 min_features=ctx.env.policy_min_serving_features, suite=ctx.env.crypto_suite)


def _named_table(data: Dataset, part: LinearModelPart) -> PartyTable:
    """The model's own columns, by name (a Poisson guest's data also holds its exposures)."""
    missing = [c for c in part.feature_names if c not in data.frame.columns]
    if missing:
        raise InputError("a model column is not in the data", column=missing[0])
    x = data.frame[part.feature_names].to_numpy(dtype=np.float64)
    labels = data.labels() if data.label_column is not None else None
    return PartyTable.from_arrays(data.ids(), x, labels, list(part.feature_names))


def _poisson_guest(ctx: TaskContext, model: ModelPart, data: Dataset
                   ) -> tuple[list[str], NDArray[np.float64]]:
    part = LinearModelPart.from_artifact(model.data)
    table = _named_table(data, part)
    return table.ids, predict_guest(ctx.comm, part, table)


def _poisson_host(ctx: TaskContext, model: ModelPart, data: Dataset) -> None:
    part = LinearModelPart.from_artifact(model.data)
    predict_host(ctx.comm, part, _named_table(data, part),
                 min_features=ctx.env.policy_min_serving_features, suite=ctx.env.crypto_suite)


def _ovr_guest(ctx: TaskContext, model: ModelPart, data: Dataset
               ) -> tuple[list[str], NDArray[np.float64]]:
    table = party_table(data)
    return table.ids, predict_ovr_guest(ctx.comm, OvRModelPart.from_artifact(model.data), table)


def _ovr_host(ctx: TaskContext, model: ModelPart, data: Dataset) -> None:
    predict_ovr_host(ctx.comm, OvRModelPart.from_artifact(model.data), party_table(data),
                     min_features=ctx.env.policy_min_serving_features,
                     suite=ctx.env.crypto_suite)


def _sb_guest(ctx: TaskContext, model: ModelPart, data: Dataset
              ) -> tuple[list[str], NDArray[np.float64]]:
    est = SecureBoostGuest.from_artifact(model.data)
    # trees score rows in the order given: check it like training does, before any bit moves
    check_alignment_guest(ctx.comm.sub("align"), data.ids(), _suite(ctx))
    return data.ids(), est.predict(ctx.comm, data.feature_matrix())


def _sb_host(ctx: TaskContext, model: ModelPart, data: Dataset) -> None:
    check_alignment_host(ctx.comm.sub("align"), data.ids(), _suite(ctx))
    SecureBoostHost.from_artifact(model.data).predict(ctx.comm, data.feature_matrix())


def _nn_guest(ctx: TaskContext, model: ModelPart, data: Dataset
              ) -> tuple[list[str], NDArray[np.float64]]:
    est = SplitNNGuest.from_artifact(model.data)
    check_alignment_guest(ctx.comm.sub("align"), data.ids(), _suite(ctx))
    return data.ids(), est.predict(ctx.comm, data.feature_matrix())


def _nn_host(ctx: TaskContext, model: ModelPart, data: Dataset) -> None:
    est = SplitNNHost.from_artifact(model.data)
    refuse_too_few_features(est.feature_count(), ctx.env.policy_min_serving_features)
    est.check_suite(ctx.env.crypto_suite)  # before anything is sent
    check_alignment_host(ctx.comm.sub("align"), data.ids(), _suite(ctx))
    est.predict(ctx.comm, data.feature_matrix(), suite=ctx.env.crypto_suite)


def _encoded(model: ModelPart, data: Dataset) -> tuple[LinearModelPart, PartyTable]:
    columns, linear, _ = scorecard_part(model.data)
    frame = apply_woe_transform(columns, data.frame)
    names = list(linear.feature_names)
    try:
        x = frame[names].to_numpy(dtype=np.float64)
    except KeyError as exc:
        raise InputError("the data lacks columns the scorecard uses") from exc
    return linear, PartyTable.from_arrays(data.ids(), x, None, names)


def _scorecard_guest(ctx: TaskContext, model: ModelPart, data: Dataset
                     ) -> tuple[list[str], NDArray[np.float64]]:
    linear, table = _encoded(model, data)
    return table.ids, predict_guest(ctx.comm, linear, table)


def _scorecard_host(ctx: TaskContext, model: ModelPart, data: Dataset) -> None:
    # The policy counts raw features: the indicator columns of one feature would pass a
    # count of encoded columns while the partial score still names the row's bin.
    raw = len(scorecard_part(model.data)[0])
    if raw < ctx.env.policy_min_serving_features:
        raise TooFewFeatures("this node's policy refuses to serve a model part with fewer "
                             "features than its minimum", features=raw,
                             minimum=ctx.env.policy_min_serving_features)
    linear, table = _encoded(model, data)
    predict_host(ctx.comm, linear, table, min_features=ctx.env.policy_min_serving_features,
                 suite=ctx.env.crypto_suite)


_PREDICTORS: dict[tuple[str, Role], Predictor] = {
    ("hetero_lr", Role.GUEST): _linear_guest,
    ("hetero_lr", Role.HOST): _linear_host,
    ("hetero_linr", Role.GUEST): _linear_guest,
    ("hetero_linr", Role.HOST): _linear_host,
    ("hetero_poisson", Role.GUEST): _poisson_guest,
    ("hetero_poisson", Role.HOST): _poisson_host,
    ("hetero_lr_multiclass", Role.GUEST): _ovr_guest,
    ("hetero_lr_multiclass", Role.HOST): _ovr_host,
    ("hetero_secureboost", Role.GUEST): _sb_guest,
    ("hetero_secureboost", Role.HOST): _sb_host,
    ("hetero_nn", Role.GUEST): _nn_guest,
    ("hetero_nn", Role.HOST): _nn_host,
    ("scorecard", Role.GUEST): _scorecard_guest,
    ("scorecard", Role.HOST): _scorecard_host,
}


def predictions_frame(data: Dataset, ids: list[str], scores: NDArray[np.float64],
                      classes: list[float] | None = None) -> Dataset:
    """Predictions as a dataset: ID, the label looked up by canonical ID (if any), score
    column(s). Linear models return canonical IDs (``PartyTable`` sorts by them), trees the
    IDs as given: both find their label."""
    out = pd.DataFrame({data.id_column: ids})
    if data.label_column is not None:
        labels = pd.Series(data.frame[data.label_column].to_numpy(),
                           index=CANONICAL_IDS.many(data.ids()))
        out[data.label_column] = labels.loc[CANONICAL_IDS.many(ids)].to_numpy()
    if scores.ndim == 1:
        out[SCORE] = scores
    else:
        for k in range(scores.shape[1]):
            out[f"{SCORE}_{k}"] = scores[:, k]
        best = np.argmax(scores, axis=1)
        out["predicted_label"] = best if classes is None else np.asarray(classes)[best]
    return Dataset(out, data.id_column, data.label_column)


@register
class Predict(Component):
    """Joint scoring with a vertical model."""

    name = "predict"
    version = "1.0.0"
    description = ("Score aligned rows with a hetero_lr / hetero_linr / hetero_secureboost / "
                   "hetero_nn / scorecard model.")
    Params = PredictParams
    roles = _PARTIES
    required_roles = _PARTIES
    inputs = slots(
        model=Input(ArtifactKind.MODEL, _PARTIES, doc="this party's model part"),
        data=Input(ArtifactKind.DATASET, _PARTIES, doc="aligned rows to score"),
    )
    outputs = slots(predictions=Output(ArtifactKind.DATASET, frozenset({Role.GUEST}),
                                     doc="ID, label (if any), score"))

    def run(self, ctx: TaskContext) -> Mapping[str, Artifact]:
        """Load this party's model part and take part in joint scoring."""
        model, data = ctx.model("model"), ctx.dataset("data")
        predictor = _PREDICTORS.get((model.component, ctx.role))
        if predictor is None:
            raise InputError("predict cannot score this model part",
                             component=model.component, role=ctx.role.value,
                             supported=sorted({c for c, _ in _PREDICTORS}))
        scored = predictor(ctx, model, data)
        if scored is None:
            return {}
        ids, scores = scored
        classes = model.data.get("classes") if isinstance(model.data, dict) else None
        frame = predictions_frame(data, ids, np.asarray(scores, dtype=np.float64), classes)
        if model.component == "scorecard":
            p = np.clip(np.asarray(scores, dtype=np.float64), 1e-300, 1.0 - 1e-16)
            points = scorecard_part(model.data)[2].score(np.log(p) - np.log1p(-p))
            frame = frame.with_frame(frame.frame.assign(**{POINTS: points}))
        meta = model.data.get("meta", {}) if isinstance(model.data, dict) else {}
        exposure = meta.get("exposure_column") if isinstance(meta, dict) else None
        if isinstance(exposure, str) and exposure in data.frame.columns:
            # Poisson: expected counts = rate x exposure, looked up by canonical ID
            column = pd.Series(data.frame[exposure].to_numpy(dtype=np.float64),
                               index=CANONICAL_IDS.many(data.ids()))
            frame.frame[EXPECTED] = (frame.frame[SCORE].to_numpy()
                                     * column.loc[CANONICAL_IDS.many(ids)].to_numpy())
        return {"predictions": frame}
