"""A hostile guest uses a scorecard to learn a host row's bin.

A host's scorecard part encodes each raw feature as bin indicators, so a part over one raw
feature has several LR columns. Its partial score takes one value per bin: in the clear it
names the row's bin, which the guest must never learn. The host's ``policy_min_serving_features``
therefore counts raw features, not encoded columns: ``predict`` refuses such a part on the
host's side, before anything is sent, and the online scorer exposes the raw feature count the
node's bind check reads.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from coalition.components import Dataset, Environment, ModelPart, TaskContext
from coalition.components.predict import Predict
from coalition.core import Party
from coalition.core.ids import Role
from coalition.node.serving.scoring import host_scorer
from coalition.protocols.feature.woe_transform import onehot_name
from coalition.protocols.linear import LinearModelPart, Standardizer
from coalition.protocols.linear.predict import TooFewFeatures
from coalition.testing import PartyFailure, Recorder, run_parties

G, H = Party.guest("bank"), Party.host("telco")
EDGES = [10.0, 20.0, 30.0, 40.0]


def _parts() -> tuple[ModelPart, ModelPart]:
    """The guest's crafted job: the host's only feature split into five bins, one weight
    per bin chosen so each bin's partial score is distinct (the bin index itself)."""
    keep = list(range(5))
    columns = {"income": {"bins": {"kind": "numeric", "edges": EDGES}, "encoding": "onehot",
                          "keep": keep}}
    names = [onehot_name("income", k) for k in keep]
    host = LinearModelPart("host", "logistic", "ss", names, np.arange(5.0),
                           Standardizer(np.zeros(5), np.ones(5)))
    guest = LinearModelPart("guest", "logistic", "ss", ["age"], np.zeros(1),
                            Standardizer(np.zeros(1), np.ones(1)), 0.0)
    scaling = {"base_score": 600.0, "base_odds": 50.0, "pdo": 20.0}
    age = {"age": {"bins": {"kind": "numeric", "edges": []}, "encoding": "woe",
                   "woe": [0.0, 0.0]}}
    return (ModelPart("scorecard", Role.GUEST, {"columns": age, "linear": guest.to_artifact(),
                                                 "scaling": scaling}),
            ModelPart("scorecard", Role.HOST, {"columns": columns, "linear": host.to_artifact(),
                                                "scaling": scaling}))


def test_a_host_refuses_to_score_one_raw_feature_split_into_bin_indicators() -> None:
    guest_part, host_part = _parts()
    ids = [f"u{i}" for i in range(8)]
    host_rows = Dataset(pd.DataFrame({"id": ids, "income": np.linspace(5, 45, 8)}), "id")
    guest_rows = Dataset(pd.DataFrame({"id": ids, "age": np.ones(8)}), "id")

    def run(party: Party, part: ModelPart, data: Dataset):  # type: ignore[no-untyped-def]
        def main(ctx):  # type: ignore[no-untyped-def]
            tctx = TaskContext(ctx, "pr", Predict.parse_params({}),
                               {"model": part, "data": data}, Environment())
            return dict(Predict().run(tctx))
        return main

    rec = Recorder()
    with pytest.raises(PartyFailure) as info:
        run_parties({G: run(G, guest_part, guest_rows), H: run(H, host_part, host_rows)},
                    wrap=rec.wrap, timeout=3)
    assert info.value.party == H and isinstance(info.value.error, TooFewFeatures)
    assert rec.sent_by(H) == []  # nothing about the row left the host
    # Online: the bind check (policy_min_serving_features) reads the raw feature count.
    assert host_scorer(host_part).feature_names == ["income"]
