"""Multiclass vertical LR, one-vs-rest (issue 24): vehicle_scale against scikit-learn."""

from functools import partial

import numpy as np
import pytest
from linear_roles import joint_table, load
from sklearn.linear_model import LogisticRegression

from coalition.core import Party
from coalition.protocols.linear import LinearParams
from coalition.protocols.linear.multiclass import (
    OvRModelPart,
    fit_ovr,
    predict_ovr_guest,
    predict_ovr_host,
)
from coalition.testing import Recorder, find_leaks, run_parties

G, H, A = Party.guest(), Party.host("h0"), Party.arbiter()
PARAMS = {"protocol": "ss", "optimizer": "momentum", "epochs": 30, "batch_size": 64,
          "learning_rate": 0.15, "alpha": 0.001, "sigmoid": "taylor1", "feature_clip": 4.0,
          "averaging": "epoch"}


def _fit(ctx, table):
    part = fit_ovr(ctx, LinearParams.parse(PARAMS), table)
    return None if part is None else part.to_artifact()


def _predict_guest(ctx, model, table):
    return predict_ovr_guest(ctx, OvRModelPart.from_artifact(model), table)


def _predict_host(ctx, model, table):
    predict_ovr_host(ctx, OvRModelPart.from_artifact(model), table)


@pytest.fixture(scope="module")
def trained(fate_data):
    guest, hosts = load(fate_data, "vehicle_scale")
    rec = Recorder()
    out = run_parties({G: partial(_fit, table=guest), H: partial(_fit, table=hosts[0]),
                       A: partial(_fit, table=None)}, wrap=rec.wrap, timeout=300)
    return guest, hosts[0], out, rec


def test_vehicle_within_002_accuracy_of_sklearn(trained):
    guest, host, out, _ = trained
    scored = run_parties({G: partial(_predict_guest, model=out[G], table=guest),
                          H: partial(_predict_host, model=out[H], table=host)}, timeout=60)
    probs = scored[G]
    classes = np.asarray(out[G]["classes"])
    assert probs.shape == (guest.n_rows, len(classes)) and np.allclose(probs.sum(axis=1), 1.0)
    ours = np.mean(classes[np.argmax(probs, axis=1)] == guest.labels)
    x = joint_table(guest, [host])
    ref = LogisticRegression(max_iter=5000).fit(x, guest.labels)
    baseline = np.mean(ref.predict(x) == guest.labels)
    assert ours >= baseline - 0.02, (ours, baseline)


def test_class_values_stay_with_the_guest_and_no_raw_values_leak(trained):
    guest, host, out, rec = trained
    assert out[H]["classes"] is None and out[A] is None
    assert len(out[H]["parts"]) == len(out[G]["classes"]) == 4
    sent = rec.sent_by(G)
    assert find_leaks(sent, guest.features.ravel().tolist(), ignore=lambda v: v in (0, 1)) == []
    assert find_leaks(rec.sent_by(H), host.features.ravel().tolist(),
                      ignore=lambda v: v in (0, 1)) == []
    counts = [m.value() for m in sent if m.key.endswith("ovr_class_count")]
    assert counts == [4, 4]  # K, to the host and the arbiter: the only new fact
