"""Model evaluation metrics (local to the party holding labels and predictions).

Metric arithmetic is delegated to scikit-learn wherever it exists; this package only shapes the
results into plain, JSON-friendly values (floats, lists, dicts) for metrics sinks and reports.
Nothing here communicates: it runs where the labels are (the guest in vertical learning).
"""

from coalition.protocols.evaluate.binary import (
    BinaryReport,
    binary_report,
    ks_curve,
    lift_gain_table,
    roc_curve_points,
)
from coalition.protocols.evaluate.multiclass import MulticlassReport, multiclass_report
from coalition.protocols.evaluate.regression import RegressionReport, regression_report

__all__ = [
    "BinaryReport",
    "MulticlassReport",
    "RegressionReport",
    "binary_report",
    "ks_curve",
    "lift_gain_table",
    "multiclass_report",
    "regression_report",
    "roc_curve_points",
]
