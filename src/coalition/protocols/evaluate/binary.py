"""Binary classification metrics: AUC, KS, threshold metrics, ROC/KS curves, lift and gain.

KS is the maximum of TPR − FPR over thresholds (the usual credit-scoring definition). Lift and
gain tables split the rows, sorted by descending score, into ``bins`` equal-count buckets.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from coalition.core.errors import InputError
from coalition.protocols.evaluate._checks import as_pair

__all__ = ["BinaryReport", "binary_report", "ks_curve", "lift_gain_table", "roc_curve_points"]


@dataclass(frozen=True)
class BinaryReport:
    """Scalar binary metrics plus curve points and tables (plain values, JSON-friendly)."""

    auc: float
    ks: float
    accuracy: float
    precision: float
    recall: float
    f1: float
    threshold: float
    confusion_matrix: list[list[int]]
    roc: dict[str, list[float]]
    ks_curve: dict[str, list[float]]
    lift_gain: list[dict[str, float]]

    def to_dict(self) -> dict[str, Any]:
        """The report as a dict."""
        return asdict(self)


def _binary_labels(y_true: ArrayLike) -> np.ndarray[Any, Any]:
    t = np.asarray(y_true)
    values = set(np.unique(t).tolist())
    if not values <= {0, 1}:
        raise InputError("binary labels must be 0/1", found=sorted(values)[:5])
    if len(values) < 2:
        raise InputError("AUC needs both classes present")
    return t.astype(np.int64)


def roc_curve_points(y_true: ArrayLike, y_score: ArrayLike) -> dict[str, list[float]]:
    """ROC curve as ``{"fpr": [...], "tpr": [...], "thresholds": [...]}``."""
    from sklearn import metrics as skm  # noqa: PLC0415 - heavy (scipy): imported on use
    t, s = as_pair(y_true, y_score)
    fpr, tpr, thr = skm.roc_curve(_binary_labels(t), s)
    # sklearn's first threshold is +inf (no positives predicted); keep it finite for JSON.
    thr = np.where(np.isfinite(thr), thr, np.max(s) + 1.0)
    return {"fpr": fpr.tolist(), "tpr": tpr.tolist(), "thresholds": thr.tolist()}


def ks_curve(y_true: ArrayLike, y_score: ArrayLike) -> dict[str, list[float]]:
    """KS curve: TPR and FPR against threshold, and their difference."""
    roc = roc_curve_points(y_true, y_score)
    diff = (np.asarray(roc["tpr"]) - np.asarray(roc["fpr"])).tolist()
    return {"thresholds": roc["thresholds"], "tpr": roc["tpr"], "fpr": roc["fpr"], "ks": diff}


def lift_gain_table(y_true: ArrayLike, y_score: ArrayLike, *, bins: int = 10
                    ) -> list[dict[str, float]]:
    """Per equal-count bucket (highest scores first): rows, positives, cumulative gain, lift."""
    t, s = as_pair(y_true, y_score)
    t = _binary_labels(t)
    if bins < 1:
        raise InputError("bins must be positive", bins=bins)
    order = np.argsort(-s, kind="stable")
    sorted_t = t[order]
    total_pos = int(sorted_t.sum())
    base_rate = total_pos / len(sorted_t)
    rows: list[dict[str, float]] = []
    cum_pos = cum_n = 0
    for i, chunk in enumerate(np.array_split(sorted_t, min(bins, len(sorted_t)))):
        pos = int(chunk.sum())
        cum_pos += pos
        cum_n += len(chunk)
        rate = pos / len(chunk)
        rows.append({
            "bucket": float(i + 1),
            "rows": float(len(chunk)),
            "positives": float(pos),
            "response_rate": rate,
            "lift": rate / base_rate,
            "cumulative_lift": (cum_pos / cum_n) / base_rate,
            "gain": cum_pos / total_pos,
            "cumulative_fraction": cum_n / len(sorted_t),
        })
    return rows


def binary_report(y_true: ArrayLike, y_score: ArrayLike, *, threshold: float = 0.5,
                  bins: int = 10) -> BinaryReport:
    """All binary metrics; ``y_score`` is the probability of class 1."""
    from sklearn import metrics as skm  # noqa: PLC0415 - heavy (scipy): imported on use
    t, s = as_pair(y_true, y_score)
    t = _binary_labels(t)
    pred = (s >= threshold).astype(np.int64)
    ks = ks_curve(t, s)
    return BinaryReport(
        auc=float(skm.roc_auc_score(t, s)),
        ks=float(max(ks["ks"])),
        accuracy=float(skm.accuracy_score(t, pred)),
        precision=float(skm.precision_score(t, pred, zero_division=0)),
        recall=float(skm.recall_score(t, pred, zero_division=0)),
        f1=float(skm.f1_score(t, pred, zero_division=0)),
        threshold=float(threshold),
        confusion_matrix=skm.confusion_matrix(t, pred, labels=[0, 1]).tolist(),
        roc={k: ks[k] for k in ("fpr", "tpr", "thresholds")},
        ks_curve=ks,
        lift_gain=lift_gain_table(t, s, bins=bins),
    )
