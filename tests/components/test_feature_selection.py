"""feature_selection: each filter, the guest's IV decision for host features, and the wire."""

import numpy as np
import pandas as pd
import pytest

from coalition.components import Dataset, Report, TaskContext
from coalition.components.feature_binning import FeatureBinning
from coalition.components.feature_selection import FeatureSelection
from coalition.core import Party, ProtocolError
from coalition.protocols.feature.selection import IV_DROPS, select_columns
from coalition.testing import PartyFailure, Recorder, run_parties

G, H = Party.guest("bank"), Party.host("telco")
N = 240


def _tables() -> tuple[Dataset, Dataset]:
    rng = np.random.default_rng(5)
    ids = [f"u{i}" for i in range(N)]
    signal = rng.normal(0, 1, N)
    y = (signal + rng.normal(0, 0.7, N) > 0).astype(int)
    holes = rng.normal(0, 1, N)
    holes[: N // 2] = np.nan
    guest = pd.DataFrame({"id": ids, "y": y, "g_noise": rng.normal(0, 1, N),
                          "g_const": np.zeros(N), "g_holes": holes,
                          "g_twin": signal * 2 + rng.normal(0, 0.01, N), "g_signal": signal})
    host = pd.DataFrame({"id": ids, "h_signal": signal + rng.normal(0, 0.3, N),
                         "h_noise": rng.normal(0, 1, N), "h_kind": rng.choice(["a", "b"], N)})
    return Dataset(guest, "id", "y"), Dataset(host, "id")


def _run(params, wrap=None, test=False):
    data = dict(zip((G, H), _tables(), strict=True))

    def role(party):
        def main(ctx):
            p = FeatureBinning.parse_params({"bins": 5, "key_bits": 1024,
                                             "allow_insecure_key": True})
            binned = FeatureBinning().run(TaskContext(ctx, "b", p, {"data": data[party]}))
            inputs = {"data": data[party]}
            if party == G:
                inputs["iv"] = binned["report"]
            if test:
                inputs["test_data"] = data[party].take(np.arange(10, dtype=np.int64))
            sp = FeatureSelection.parse_params(params)
            return dict(FeatureSelection().run(TaskContext(ctx, "s", sp, inputs)))
        return main

    return run_parties({G: role(G), H: role(H)}, wrap=wrap, timeout=120)


def _reasons(report: Report) -> dict[str, str]:
    [t] = report.content["tables"]
    return {r[0]: r[2] for r in t["rows"]}


def test_every_filter_and_the_iv_decision_for_host_features():
    out = _run({"iv_min": 0.1, "missing_rate_max": 0.4, "variance_min": 1e-9,
                "pearson_max": 0.9, "manual_drop": ["h_kind"]}, test=True)
    # The twins bin alike (equal IV), so table order breaks the tie: g_twin stays.
    assert _reasons(out[G]["report"]) == {
        "g_noise": "iv", "g_const": "variance", "g_holes": "missing_rate",
        "g_twin": "kept", "g_signal": "pearson"}
    assert _reasons(out[H]["report"]) == {"h_signal": "kept", "h_noise": "iv",
                                          "h_kind": "manual"}
    assert out[H]["model"].data == {"keep": ["h_signal"]}
    assert out[H]["data"].features == ["h_signal"] and out[H]["test_output"].features == [
        "h_signal"]
    assert out[G]["data"].label_column == "y" and len(out[G]["test_output"].frame) == 10


def test_manual_keep_overrides_and_the_model_applies_to_new_rows():
    out = _run({"iv_min": 0.1, "manual_keep": ["h_noise"]})
    keep = out[H]["model"].data
    assert set(keep["keep"]) == {"h_signal", "h_noise"}
    new = pd.DataFrame({"id": ["x"], "h_noise": [1.0], "h_signal": [0.0], "h_kind": ["a"]})
    assert list(select_columns(keep, new, ["id"]).columns) == ["id", *keep["keep"]]


def test_the_host_learns_one_decision_per_own_feature_only():
    rec = Recorder()
    _run({"iv_min": 0.1}, wrap=rec.wrap)
    [msg] = [m for m in rec.received_by(H) if m.key.endswith(IV_DROPS.name)]
    assert msg.value() == {"drop": ["h_kind", "h_noise"]}


def test_host_refuses_drops_naming_columns_it_does_not_have():
    _, host = _tables()

    def hostile_guest(ctx):
        ctx.send(ctx.hosts, IV_DROPS, {"drop": ["salary"]})
        return {}

    def main(ctx):
        p = FeatureSelection.parse_params({})
        return FeatureSelection().run(TaskContext(ctx, "s", p, {"data": host}))

    with pytest.raises(PartyFailure) as exc:
        run_parties({G: hostile_guest, H: main}, timeout=30)
    assert exc.value.party == H and isinstance(exc.value.error, ProtocolError)


def test_cross_party_pearson_drops_the_lower_iv_feature_of_a_correlated_pair():
    from coalition.components.feature_correlation import FeatureCorrelation

    data = dict(zip((G, H), _tables(), strict=True))
    arbiter = Party.arbiter("c")
    cols = {G: ["g_noise", "g_twin", "g_signal"], H: ["h_signal", "h_noise"]}
    rec = Recorder()

    def role(party):
        def main(ctx):
            if party == arbiter:
                FeatureCorrelation().run(TaskContext(ctx.sub("c"), "c", FeatureCorrelation.
                                                     parse_params({}), {}))
                return {}
            bp = FeatureBinning.parse_params({"bins": 5, "key_bits": 1024,
                                              "allow_insecure_key": True})
            binned = FeatureBinning().run(TaskContext(ctx.sub("b"), "b", bp,
                                                      {"data": data[party]}))
            corr = FeatureCorrelation().run(TaskContext(
                ctx.sub("c"), "c", FeatureCorrelation.parse_params({"columns": cols[party]}),
                {"data": data[party]}))
            inputs = {"data": data[party]}
            if party == G:
                inputs.update(iv=binned["report"], correlation=corr["report"])
            sp = FeatureSelection.parse_params({"cross_pearson_max": 0.8})
            return dict(FeatureSelection().run(TaskContext(ctx.sub("s"), "s", sp, inputs)))
        return main

    out = run_parties({G: role(G), H: role(H), arbiter: role(arbiter)}, wrap=rec.wrap,
                      timeout=120)
    [iv] = [t for t in out[G]["report"].content["tables"]]
    guest_iv = {r[0]: r[3] for r in iv["rows"]}
    g, h = _reasons(out[G]["report"]), _reasons(out[H]["report"])
    # h_signal correlates with both guest twins above 0.8 and bins worse than them
    assert h["h_signal"] == "cross_pearson" and h["h_noise"] == "kept"
    assert g["g_twin"] == "kept" and g["g_signal"] == "kept" and guest_iv["g_twin"] > 0
    [msg] = [m for m in rec.received_by(H) if m.key.endswith(IV_DROPS.name)]
    assert msg.value() == {"drop": [], "correlated": ["h_signal"]}
