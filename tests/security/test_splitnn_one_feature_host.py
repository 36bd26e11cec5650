"""A hostile guest uses split learning to learn a host's single feature.

The guest learns ``α_h·W_h`` per row in training and ``α_h·W_h·R`` in scoring: a real-valued
function of the host row's features. Over one feature that is (a function of) the feature
itself, so the host refuses to train or score a part with fewer features than its node's
``policy_min_serving_features`` — on its own side, before it sends anything — in the
``hetero_nn`` and ``predict`` components and at the serving bind (``HostScorer.per_row_value``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from coalition.components import Dataset, Environment, ModelPart, TaskContext
from coalition.components.hetero_nn import HeteroNN
from coalition.components.predict import Predict
from coalition.core import Party
from coalition.core.ids import Role
from coalition.node.serving.scoring import host_scorer
from coalition.protocols.linear.predict import TooFewFeatures
from coalition.protocols.splitnn import HeteroNNParams, SplitNNDealer, SplitNNGuest, SplitNNHost
from coalition.testing import PartyFailure, Recorder, run_parties

G, H, A = Party.guest("bank"), Party.host("telco"), Party.arbiter("c")
PARAMS = {"epochs": 1, "batch_size": 16}


def _rows(n: int = 48) -> tuple[Dataset, Dataset]:
    rng = np.random.default_rng(5)
    ids = [f"u{i}" for i in range(n)]
    guest = Dataset(pd.DataFrame({"id": ids, "y": rng.integers(0, 2, n).astype(float),
                                  "age": rng.normal(size=n), "debt": rng.normal(size=n)}),
                    "id", "y")
    host = Dataset(pd.DataFrame({"id": ids, "income": rng.normal(size=n)}), "id")
    return guest, host


def _task(cls, party, params, inputs):  # type: ignore[no-untyped-def]
    def main(ctx):  # type: ignore[no-untyped-def]
        return dict(cls().run(TaskContext(ctx, "t", cls.parse_params(params), inputs,
                                          Environment())))
    return main


def test_host_with_one_feature_refuses_to_train() -> None:
    guest, host = _rows()
    rec = Recorder()
    with pytest.raises(PartyFailure) as info:
        run_parties({G: _task(HeteroNN, G, PARAMS, {"train_data": guest}),
                     H: _task(HeteroNN, H, PARAMS, {"train_data": host}),
                     A: _task(HeteroNN, A, PARAMS, {})}, wrap=rec.wrap, timeout=3)
    assert info.value.party == H and isinstance(info.value.error, TooFewFeatures)
    assert rec.sent_by(H) == []


def test_host_with_one_feature_refuses_to_score_a_crafted_part() -> None:
    """The guest brings a part it trained elsewhere (here: on the memory hub) for one host
    feature; the host's node refuses it in predict and at the serving bind."""
    guest, host = _rows()
    p = HeteroNNParams(**PARAMS)
    xg, xh = guest.feature_matrix(), host.feature_matrix()
    out = run_parties({G: lambda c: SplitNNGuest(p).fit(c, xg, guest.labels()),
                       H: lambda c: SplitNNHost(p).fit(c, xh),
                       A: lambda c: SplitNNDealer(p).fit(c)}, timeout=30)
    guest_part = ModelPart("hetero_nn", Role.GUEST, out[G].to_artifact())
    host_part = ModelPart("hetero_nn", Role.HOST, out[H].to_artifact())
    rec = Recorder()
    with pytest.raises(PartyFailure) as info:
        run_parties({G: _task(Predict, G, {}, {"model": guest_part, "data": guest}),
                     H: _task(Predict, H, {}, {"model": host_part, "data": host})},
                    wrap=rec.wrap, timeout=3)
    assert info.value.party == H and isinstance(info.value.error, TooFewFeatures)
    assert rec.sent_by(H) == []
    scorer = host_scorer(host_part)
    assert scorer.per_row_value and scorer.feature_count() == 1
