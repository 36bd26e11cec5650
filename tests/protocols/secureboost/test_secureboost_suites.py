"""SecureBoost under both crypto suites: the guest's sampling stream and the hosts' candidate
shuffles come from the suite's PRG (HKDF-SHA256/ChaCha20 or HKDF-SM3/SM4-CTR); the trees are
the same, and sampling keeps its sizes and quality."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from coalition.core import Party
from coalition.crypto.paillier import InsecureKeyWarning
from coalition.crypto.prg import Stream, purpose_info
from coalition.protocols.secureboost.sampling import SAMPLING_SALT, RowSampler
from coalition.testing import Recorder

pytestmark = pytest.mark.filterwarnings(
    f"ignore::{InsecureKeyWarning.__module__}.InsecureKeyWarning")

G = Party.guest()
KEY = bytes(range(32))


def test_row_sampler_known_answers():
    std = RowSampler("standard", key=KEY)
    first = std.next_words(3)
    # bit-identical to the stream the guest drew from before suites: Stream(key, salt), draw 1, 2...
    old = Stream(KEY, SAMPLING_SALT)
    np.testing.assert_array_equal(first, old.words(purpose_info(b"rows", 1), 3))
    np.testing.assert_array_equal(std.next_words(2), old.words(purpose_info(b"rows", 2), 2))
    assert first.tolist() == [8184761920866754011, 15826646370580505205, 11055847330140742878]
    sm = RowSampler("sm", key=KEY)
    assert sm.next_words(3).tolist() == [12438625182537031283, 12294849265528975164,
                                         15733458282564641547]
    assert sm.next_words(2).tolist() == [15092568343417129170, 8527841140800674052]


def test_same_trees_under_both_suites(load_hetero, federation):
    fed = federation(1)
    data = load_hetero("breast_hetero")
    models = {s: fed.fit(fed.params(num_trees=2, suite=s), data) for s in ("standard", "sm")}
    assert models["standard"]["hosts"][0].splits_ == models["sm"]["hosts"][0].splits_
    np.testing.assert_allclose(fed.predict(models["standard"], data),
                               fed.predict(models["sm"], data), atol=1e-12)


@pytest.mark.parametrize("sampling", ["random", "goss"])
def test_row_sampling_under_sm(load_hetero, fed, sampling):
    train, test = load_hetero("breast_hetero").split(0.3)
    p = fed.params(num_trees=2, sampling=sampling, subsample=0.6, goss_top_rate=0.3,
                   goss_other_rate=0.3, min_samples_leaf=5, suite="sm")
    rec = Recorder()
    fitted = fed.fit(p, train, wrap=rec.wrap)
    grads = [m.value() for m in rec.sent_by(G)
             if m.receiver == Party.host("h1") and m.key.endswith("/gradients")
             and not m.value()["stop"]]
    n = train.y.size
    expected = round(0.6 * n) if sampling == "random" else round(0.3 * n) * 2
    assert [np.asarray(g["rows"]).size for g in grads] == [expected, expected]
    assert roc_auc_score(test.y, fed.predict(fitted, test)) > 0.95
