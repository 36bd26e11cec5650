"""feature_sample: sizes per class, up-sampling with repeats, the wire, a hostile guest."""

import numpy as np
import pandas as pd
import pytest

from coalition.components import Dataset, TaskContext
from coalition.components.feature_sample import SAMPLE_ROWS, FeatureSample, sample_positions
from coalition.core import ConfigError, InputError, Party, ProtocolError
from coalition.testing import PartyFailure, Recorder, find_leaks, run_parties

G, H = Party.guest("bank"), Party.host("telco")
N = 200


def _data() -> tuple[Dataset, Dataset]:
    rng = np.random.default_rng(9)
    ids = [f"u{i}" for i in range(N)]
    y = (rng.uniform(size=N) < 0.3).astype(int)
    return (Dataset(pd.DataFrame({"id": ids, "y": y, "a": rng.normal(size=N)}), "id", "y"),
            Dataset(pd.DataFrame({"id": ids, "b": rng.normal(size=N)}), "id"))


@pytest.mark.parametrize("suite", ["standard", "sm"])
def test_stratified_down_and_up_sampling_keep_class_shares(run_component, suite):
    guest, host = _data()
    y = guest.labels()
    for fraction in (0.4, 2.5):
        rec = Recorder()
        params = {"fraction": fraction, "suite": suite}
        out = run_component(FeatureSample, {G: params, H: params},
                            {G: {"data": guest}, H: {"data": host}}, wrap=rec.wrap)
        g, h = out[G]["data"], out[H]["data"]
        assert g.ids() == h.ids()  # both parties hold the same rows, in the same order
        counts = pd.Series(g.labels()).value_counts()
        for c in (0.0, 1.0):
            assert counts[c] == round((y == c).sum() * fraction)
        assert (len(set(g.ids())) < len(g.ids())) == (fraction > 1)
        [msg] = rec.sent_by(G)
        assert msg.key.endswith(SAMPLE_ROWS.name) and set(msg.value()) == {"n_rows", "rows"}
        assert find_leaks([msg], guest.frame["a"].tolist()) == []
        assert rec.sent_by(H) == []


def test_draws_are_secret_and_reproducible_only_with_the_key():
    y = np.array([0.0, 1.0] * 50)
    key = bytes(range(32))
    assert np.array_equal(sample_positions(100, y, 0.5, key), sample_positions(100, y, 0.5, key))
    assert not np.array_equal(sample_positions(100, y, 0.5), sample_positions(100, y, 0.5))


def test_host_refuses_positions_out_of_range():
    _, host = _data()

    def hostile(ctx):
        ctx.send(ctx.hosts, SAMPLE_ROWS, {"n_rows": N, "rows": np.array([5, N + 3])})
        return {}

    def main(ctx):
        p = FeatureSample.parse_params({})
        return FeatureSample().run(TaskContext(ctx, "s", p, {"data": host}))

    with pytest.raises(PartyFailure) as exc:
        run_parties({G: hostile, H: main}, timeout=30)
    assert exc.value.party == H and isinstance(exc.value.error, ProtocolError)


def test_class_dependent_fractions_rebalance_and_send_positions_only(run_component):
    """Down-sample the majority, up-sample the minority: each class at its own rate, from the
    guest's secret draw; the host receives the sorted positions and nothing else."""
    guest, host = _data()
    y = guest.labels()
    params = {"fraction": 1.0, "class_fractions": {"0": 0.5, "1": 2.0}}
    rec = Recorder()
    out = run_component(FeatureSample, {G: params, H: params},
                        {G: {"data": guest}, H: {"data": host}}, wrap=rec.wrap)
    g, h = out[G]["data"], out[H]["data"]
    assert g.ids() == h.ids()
    counts = pd.Series(g.labels()).value_counts()
    assert counts[0.0] == round((y == 0).sum() * 0.5)
    assert counts[1.0] == round((y == 1).sum() * 2.0)
    negatives = [i for i, c in zip(g.ids(), g.labels(), strict=True) if c == 0]
    assert len(set(negatives)) == len(negatives)  # down-sampled without replacement
    [msg] = rec.sent_by(G)
    sent = msg.value()
    assert msg.key.endswith(SAMPLE_ROWS.name) and set(sent) == {"n_rows", "rows"}
    assert sent["rows"].dtype.kind == "i" and np.all(np.diff(sent["rows"]) >= 0)
    assert find_leaks([msg], guest.frame["a"].tolist()) == []
    assert rec.sent_by(H) == []
    # The draw is the guest's secret: the same public job draws another sample next time.
    again = run_component(FeatureSample, {G: params, H: params},
                          {G: {"data": guest}, H: {"data": host}})[G]["data"]
    assert again.ids() != g.ids()


def test_class_fractions_are_checked():
    y = np.array([0.0, 1.0] * 50)
    with pytest.raises(InputError, match="classes the labels do not hold"):
        sample_positions(100, y, 1.0, class_fractions={"2": 0.5})
    with pytest.raises(ConfigError):
        FeatureSample.parse_params({"stratified": False, "class_fractions": {"1": 2.0}})
    with pytest.raises(ConfigError):
        FeatureSample.parse_params({"class_fractions": {"1": 0.0}})
    key = bytes(range(32))  # one fraction for all classes: the draw is the stratified one
    assert np.array_equal(sample_positions(100, y, 0.4, key, class_fractions={"0": 0.4, "1": 0.4}),
                          sample_positions(100, y, 0.4, key))
