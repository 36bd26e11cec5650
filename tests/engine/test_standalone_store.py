"""The per-party artifact store: every kind round-trips with its digest; no pickle."""

import numpy as np
import pandas as pd
import pytest

from coalition.components import Dataset, Metrics, ModelPart, Report, digest
from coalition.core import InputError, Role
from coalition.engine.store import ArtifactStore


def test_every_kind_round_trips_with_a_stable_digest(tmp_path):
    store = ArtifactStore(tmp_path)
    outputs = {
        "data": Dataset(pd.DataFrame({"id": ["007", "010"], "y": [1, 0], "x": [0.5, 1.5]}),
                        "id", "y"),
        "model": ModelPart("homo_lr", Role.ARBITER, {"weights": {"w": np.arange(3.0)},
                                                      "n": 2}),
        "metrics": Metrics({"auc": 0.75}),
        "report": Report({"roc": {"fpr": [0.0, 1.0]}, "note": "x"}),
    }
    assert not store.has("t", "k")
    manifest = store.save("t", "k", outputs, {"component": "x:1"})
    assert store.has("t", "k") and set(manifest) == set(outputs)
    for name, artifact in outputs.items():
        loaded = store.load("t", "k", name)
        assert type(loaded) is type(artifact)
        assert digest(loaded) == digest(artifact) == manifest[name].digest
    assert store.load("t", "k", "data").ids() == ["007", "010"]
    assert (tmp_path / "t" / "k" / "model.msgpack").read_bytes()[:1] != b"\x80"  # not pickle


def test_digest_changes_with_content():
    a = Dataset(pd.DataFrame({"id": ["1"], "x": [1.0]}), "id")
    b = Dataset(pd.DataFrame({"id": ["1"], "x": [1.5]}), "id")
    assert digest(a) != digest(b)
    assert digest(Metrics({"a": 1.0})) == digest(Metrics({"a": 1.0}))


def test_missing_entries_are_input_errors(tmp_path):
    store = ArtifactStore(tmp_path)
    with pytest.raises(InputError):
        store.manifest("t", "nope")
    store.save("t", "k", {"m": Metrics({})})
    with pytest.raises(InputError):
        store.load("t", "k", "other")
    assert [p.name for p in (tmp_path / "t").iterdir()] == ["k"]  # no temp folders left
