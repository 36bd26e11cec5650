"""What crosses the wire in SecureBoost (recorded on the memory hub).

* hosts never receive labels, gradients or hessians in plaintext: no float at all reaches a
  host, and no label value either;
* the guest never receives host feature values or thresholds;
* per-candidate (G, H) sums reach the guest only inside ciphertexts (Paillier or OU: the
  recorded run is repeated under each ``he_scheme``).
"""

from __future__ import annotations

import numpy as np
import pytest

from coalition.core import Party
from coalition.crypto import he
from coalition.crypto.paillier import InsecureKeyWarning
from coalition.protocols.secureboost.objectives import gradients, init_score
from coalition.protocols.secureboost.spec import Objective
from coalition.testing import Recorder, find_leaks

pytestmark = pytest.mark.filterwarnings(f"ignore::{InsecureKeyWarning.__module__}.InsecureKeyWarning")

G = Party.guest()


def _leaves(value):
    if isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _leaves(v)
    elif isinstance(value, list):
        for v in value:
            yield from _leaves(v)
    elif isinstance(value, np.ndarray):
        yield from value.ravel().tolist()
    else:
        yield value


@pytest.fixture(scope="module", params=he.HE_SCHEMES)
def recorded(request, load_hetero, federation):
    """A regression run with continuous labels (so label leaks are detectable)."""
    base = load_hetero("breast_hetero")
    rng = np.random.default_rng(7)
    y = base.Xg[:, 0] * 3 + base.Xh[:, 1] + rng.normal(scale=0.1, size=base.y.size)
    data = type(base)(y, base.Xg, base.Xh)
    fed = federation(2)
    rec = Recorder()
    p = fed.params(objective="reg:squarederror", num_trees=3, he_scheme=request.param)
    fitted = fed.fit(p, data, wrap=rec.wrap)
    fed.predict(fitted, data, wrap=rec.wrap)
    return rec, data, fitted


def test_hosts_receive_no_plaintext_label_gradient_or_hessian(recorded):
    rec, data, fitted = recorded
    score = np.tile(init_score(Objective.REGRESSION, data.y, 2), (data.y.size, 1))
    g, _h = gradients(Objective.REGRESSION, data.y, score)
    to_hosts = [m for m in rec.sent_by(G)]
    assert to_hosts and all(m.receiver.role.value == "host" for m in to_hosts)
    assert find_leaks(to_hosts, list(data.y) + list(g[:, 0]), float_tol=1e-9) == []
    for m in to_hosts:
        floats = [v for v in _leaves(m.value()) if isinstance(v, float)]
        assert floats == [], f"plaintext floats sent to a host under {m.key}"
    grads = [m.value() for m in to_hosts
             if m.key.endswith("/gradients") and not m.value()["stop"]]
    scheme = fitted["guest"].params.he_scheme
    assert grads and all(isinstance(v.get("enc"), he.EncryptedArray) for v in grads)
    assert all(he.scheme_of(v["enc"].public_key) == scheme for v in grads)


def test_guest_receives_no_host_feature_or_threshold(recorded):
    rec, data, fitted = recorded
    thresholds = [s.threshold for h in fitted["hosts"] for s in h.splits_.values()]
    edges = [e for h in fitted["hosts"] for col in h._mapper.edges for e in col]
    for host in (Party.host("h1"), Party.host("h2")):
        sent = rec.sent_by(host)
        assert sent and all(m.receiver == G for m in sent)
        assert find_leaks(sent, list(data.Xh.ravel()) + thresholds + edges) == []


def test_candidate_sums_reach_the_guest_only_encrypted(recorded):
    rec, _, _ = recorded
    hist_msgs = [m for m in rec.messages if m.key.endswith("/histograms")]
    assert hist_msgs
    for m in hist_msgs:
        v = m.value()
        assert set(v) == {"nodes", "counts", "packed"}
        assert isinstance(v["packed"], he.EncryptedArray) and v["packed"].is_masked
        assert all(isinstance(x, int) for x in v["nodes"] + v["counts"])
    for host in (Party.host("h1"), Party.host("h2")):
        for m in rec.sent_by(host):
            assert not [x for x in _leaves(m.value()) if isinstance(x, float)], m.key


def _first_sample(fed, data, seed: int) -> np.ndarray:
    rec = Recorder()
    p = fed.params(num_trees=1, max_depth=2, sampling="random", subsample=0.6, seed=seed)
    fed.fit(p, data, wrap=rec.wrap)
    grads = [m.value() for m in rec.sent_by(G)
             if m.receiver == Party.host("h1") and m.key.endswith("/gradients")]
    return np.asarray(grads[0]["rows"])


def test_sampled_rows_are_not_a_function_of_the_public_seed(load_hetero, federation):
    """Hosts see which rows the guest samples. Before, the draw was numpy's PCG64 seeded with the
    job's ``seed`` (chosen by the initiator, read by every party), so anyone could replay it;
    now the guest keys a ChaCha20 stream from ``secrets`` and the seed is ignored."""
    data = load_hetero("breast_hetero")
    fed = federation(2)
    first, second = _first_sample(fed, data, 0), _first_sample(fed, data, 0)
    n, k = data.y.size, round(0.6 * data.y.size)
    replay = np.sort(np.random.default_rng(0).choice(n, k, replace=False))
    assert first.size == second.size == k
    assert not np.array_equal(first, replay)  # 3deb866: equal (the seed fixed the sample)
    assert not np.array_equal(first, second)


def test_goss_keeps_top_gradients_and_draws_the_rest_by_the_smallest_words():
    from coalition.protocols.secureboost.sampling import sample_rows
    from coalition.protocols.secureboost.spec import SecureBoostParams

    p = SecureBoostParams(sampling="goss", goss_top_rate=0.2, goss_other_rate=0.2)
    g = np.array([5.0, -4.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8])
    words = np.array([9, 8, 7, 1, 6, 2, 5, 4, 3, 0], dtype=np.uint64)
    rows, mult = sample_rows(p, g, words)
    assert rows.tolist() == [0, 1, 3, 9]  # the two largest |g|, then the two smallest words
    assert mult.tolist() == [1.0, 1.0, 4.0, 4.0]  # (1 - a) / b
