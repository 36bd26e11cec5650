"""The feature-engineering example DAG validates: components, wiring (the guest-only iv input)."""

from pathlib import Path

from coalition.engine.dag import load_dag
from coalition.engine.validate import validate_dag

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "jobs"


def test_credit_feature_engineering_example_validates():
    graph = validate_dag(load_dag(EXAMPLE / "credit_feature_engineering.yaml"))
    names = {t.component.name for t in graph.tasks.values()}
    assert {"feature_statistics", "feature_binning", "feature_selection", "hetero_lr"} <= names
