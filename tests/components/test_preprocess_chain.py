"""A model's preprocessing chain (issue 19): the DAG walk that finds it, and serving's scorers
applying it to raw rows exactly as the job's own transformed tables were made."""

import base64

import numpy as np
import pandas as pd
import pytest

from coalition.components import ModelPart
from coalition.components.lineage import ChainStep, training_chain
from coalition.core import InputError, Role
from coalition.node.serving.features import coded_matrix, request_matrix
from coalition.node.serving.scoring import guest_scorer, host_scorer
from coalition.protocols.feature.chain import PreprocessChain, UnservableStep
from coalition.protocols.feature.selection import select_columns
from coalition.protocols.feature.transform import apply_transform, fit_transform
from coalition.protocols.linear import LinearModelPart
from coalition.protocols.linear.data import Standardizer
from coalition.protocols.secureboost import SecureBoostParams
from coalition.protocols.secureboost.artifact import host_artifact
from coalition.protocols.secureboost.predict import HostSplit, host_go_left


def _tasks(**extra: tuple[str, dict[str, str]]) -> dict[str, tuple[str, dict[str, str]]]:
    return {"read": ("reader", {}), "align": ("psi", {"data": "read.data"}),
            "split": ("data_split", {"data": "align.data"}),
            "transform": ("feature_transform:1", {"data": "split.train",
                                                  "test_data": "split.test"}),
            "select": ("feature_selection", {"data": "transform.data"}),
            "lr": ("hetero_lr", {"train_data": "select.data"}), **extra}


def test_the_walk_finds_the_column_steps_in_training_order():
    assert training_chain(_tasks(), "lr") == [
        ChainStep("transform", "feature_transform", "data", True),
        ChainStep("select", "feature_selection", "data", True)]
    # A model on the test branch follows test_output back to test_data.
    tasks = _tasks(lr2=("hetero_secureboost", {"train_data": "transform.test_output"}))
    assert training_chain(tasks, "lr2") == [
        ChainStep("transform", "feature_transform", "test_output", True)]
    # A scorecard bundles its WOE itself: the walk starts at the WOE task's data.
    tasks = _tasks(woe=("feature_woe", {"bins": "b.model", "data": "select.data"}),
                   card=("scorecard", {"woe": "woe.model", "lr": "lr.model"}))
    assert [s.task for s in training_chain(tasks, "card")] == ["transform", "select"]
    # Anything else on the path is recorded, not applicable, and ends the walk.
    tasks = _tasks(odd=("mystery", {"data": "select.data"}),
                   lr3=("hetero_lr", {"train_data": "odd.data"}))
    assert training_chain(tasks, "lr3")[-1] == ChainStep("odd", "mystery", "data", False)
    assert training_chain(_tasks(), "select") == []  # not a model task


def _raw() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    x = rng.normal(50, 10, 40)
    x[::6] = np.nan
    return pd.DataFrame({"id": [str(i) for i in range(40)], "x": x,
                         "job": rng.choice(["a", "b", "c", None], 40),
                         "noise": rng.normal(0, 1, 40), "z": rng.uniform(0, 1, 40)})


def _fitted_part(role: Role) -> tuple[ModelPart, pd.DataFrame, LinearModelPart]:
    """A linear part trained (weights made up) on transform -> selection output."""
    raw = _raw()
    fitted = fit_transform(raw, ["x", "job", "noise", "z"], impute="mean", fill_value=0.0,
                           encode="onehot", scale="standard", cap_quantiles=(0.05, 0.95))
    keep = {"keep": ["x", "job=a", "job=c", "job=b", "z"]}  # noise dropped
    trained = select_columns(keep, apply_transform(fitted, raw), ["id"])
    names = keep["keep"]
    k = len(names)
    linear = LinearModelPart(role.value, "logistic", "ss", names, np.linspace(-1, 1, k),
                             Standardizer(mean_=np.zeros(k), scale_=np.ones(k)),
                             0.25 if role is Role.GUEST else None)
    chain = {"steps": [{"task": "t", "component": "feature_transform",
                        "data": {"columns": fitted}},
                       {"task": "s", "component": "feature_selection", "data": keep}],
             "columns": names}
    return ModelPart("hetero_lr", role, linear.to_artifact(), chain), trained, linear


def test_a_chained_guest_scores_raw_rows_as_the_job_scored_transformed_ones():
    part, trained, linear = _fitted_part(Role.GUEST)
    scorer = guest_scorer(part)
    assert scorer.feature_names == ["x", "job", "z"]  # raw columns: noise is never read
    assert scorer.categories == {"job": ["a", "b", "c"]}
    assert scorer.imputed == {"x", "job", "z"}  # impute: mean fills every column
    raw = _raw()
    X = coded_matrix(raw[scorer.feature_names], scorer.categories, "raw")
    online = scorer.combine(X, {})
    batch = 1 / (1 + np.exp(-(trained[linear.feature_names].to_numpy() @ linear.weights + 0.25)))
    np.testing.assert_allclose(online, batch, rtol=0, atol=1e-12)


def test_request_rows_are_typed_by_the_fitted_transform():
    part, _, _ = _fitted_part(Role.GUEST)
    scorer = guest_scorer(part)
    names, cats = scorer.feature_names or [], scorer.categories
    X = request_matrix([[1.0, "b", 0.5], [None, None, 0.1], [3, "zebra", 0.2]], names, cats,
                       scorer.imputed)
    assert X[0].tolist() == [1.0, 1.0, 0.5] and np.isnan(X[1, :2]).all()
    assert X[2, 1] == -1.0  # unseen: coded as no training category (all one-hot columns 0)
    scores = scorer.combine(X, {})
    assert np.isfinite(scores).all()
    unseen = apply_transform(part.preprocess["steps"][0]["data"]["columns"],  # type: ignore[index]
                             pd.DataFrame({"x": [3.0], "job": ["zebra"], "noise": [0.0],
                                           "z": [0.2]}))
    assert unseen[["job=a", "job=b", "job=c"]].to_numpy().tolist() == [[0.0, 0.0, 0.0]]
    for row, column in (([1.0, 2.0, 0.5], "job"), (["1", "a", 0.5], "x"),
                        ([1.0, "a", None], "z"), ([True, "a", 0.5], "x")):
        with pytest.raises(InputError) as err:  # (as if z were fitted with impute: none)
            request_matrix([row], names, cats, frozenset({"x", "job"}))
        assert err.value.details["column"] == column
    with pytest.raises(InputError, match="wrong number"):
        request_matrix([[1.0, "a"]], names, cats, scorer.imputed)


def test_a_host_part_binds_raw_columns_and_counts_them_for_the_policy():
    part, trained, linear = _fitted_part(Role.HOST)
    scorer = host_scorer(part)
    assert scorer.maskable and scorer.feature_names == ["x", "job", "z"]
    X = coded_matrix(_raw()[scorer.feature_names], scorer.categories, "raw")
    got = scorer.partial(X, [str(i) for i in range(40)], "telco", {})["scores"]
    np.testing.assert_allclose(got, trained[linear.feature_names].to_numpy() @ linear.weights,
                               rtol=0, atol=1e-12)


def test_a_step_that_cannot_be_applied_fails_when_the_scorer_is_built():
    part, _, _ = _fitted_part(Role.GUEST)
    assert part.preprocess is not None
    bad = {**part.preprocess, "steps": [*part.preprocess["steps"],
                                         {"task": "odd", "component": "mystery", "data": None}]}
    for build, p in ((guest_scorer, ModelPart(part.component, Role.GUEST, part.data, bad)),
                     (host_scorer, ModelPart(part.component, Role.HOST,
                                             _fitted_part(Role.HOST)[0].data, bad))):
        with pytest.raises(UnservableStep) as err:
            build(p)
        assert err.value.code == "model.unservable_step"
        assert err.value.details == {"task": "odd", "component": "mystery"}
    with pytest.raises(InputError, match="corrupt"):
        PreprocessChain.from_record({"steps": [{"component": "feature_selection", "task": "s",
                                                "data": {"nokeep": 1}}], "columns": []})


def test_a_tree_host_reads_the_chain_output_in_training_column_order():
    """SecureBoost parts name no columns: a host's splits index the columns it trained on,
    which the chain records (``columns``)."""
    part, trained, _ = _fitted_part(Role.HOST)
    columns = part.preprocess["columns"]  # type: ignore[index]
    splits = {(0, 0): HostSplit(columns.index("job=c"), 0.5, True),
              (0, 1): HostSplit(columns.index("z"), 0.1, False)}
    params = SecureBoostParams(num_trees=1, max_depth=1, key_bits=1024, allow_insecure_key=True)
    tree = ModelPart("hetero_secureboost", Role.HOST, host_artifact(params, splits, 1),
                     part.preprocess)
    scorer = host_scorer(tree)
    assert scorer.feature_names == ["x", "job", "z"]
    X = coded_matrix(_raw()[scorer.feature_names], scorer.categories, "raw")
    bits = scorer.partial(X, [str(i) for i in range(40)], "telco", {})["bits"]
    expect = host_go_left(splits, trained[columns].to_numpy())
    packed = np.packbits(np.stack([expect[k] for k in sorted(splits)]), axis=1)
    assert base64.b64decode(bits) == packed.tobytes()
