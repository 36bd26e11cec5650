"""The feature-engineering example DAG validates: components, wiring (the guest-only iv input)."""

from pathlib import Path

from coalition.engine.dag import load_dag
from coalition.engine.validate import validate_dag

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "jobs"


def test_credit_feature_engineering_example_validates():
    graph = validate_dag(load_dag(EXAMPLE / "credit_feature_engineering.yaml"))
    names = {t.component.name for t in graph.tasks.values()}
    assert {"feature_statistics", "feature_binning", "feature_selection", "hetero_lr"} <= names


def test_credit_scorecard_example_validates_and_hosts_bin_without_labels():
    import pytest
    import yaml

    from coalition.core.errors import ConfigError
    from coalition.engine.dag import parse_dag

    graph = validate_dag(load_dag(EXAMPLE / "credit_scorecard.yaml"))
    names = {t.component.name for t in graph.tasks.values()}
    assert {"feature_binning", "feature_woe", "hetero_lr", "scorecard", "predict"} <= names
    document = yaml.safe_load((EXAMPLE / "credit_scorecard.yaml").read_text())
    document["tasks"]["binning"]["role_parameters"]["host"]["method"] = "monotonic"
    with pytest.raises(ConfigError, match="invalid") as info:
        validate_dag(parse_dag(document))
    assert "host.method" in str(info.value) and "labels" in str(info.value)


def test_credit_transform_example_validates_and_its_model_carries_transform_and_selection():
    from coalition.components.lineage import training_chain

    spec = load_dag(EXAMPLE / "credit_transform.yaml")
    validate_dag(spec)
    tasks = {name: (t.component, dict(t.inputs)) for name, t in spec.tasks.items()}
    assert [(s.task, s.servable) for s in training_chain(tasks, "lr")] == [
        ("transform", True), ("select", True)]
