"""feature_woe and scorecard: the WOE transform, points per bin, and scoring that agrees in
batch prediction and in the online scorers; what crosses the wire."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from coalition.components import Dataset, ModelPart, TaskContext
from coalition.components.feature_binning import FeatureBinning
from coalition.components.feature_woe import FeatureWoe
from coalition.components.hetero_lr import HeteroLR
from coalition.components.predict import Predict
from coalition.components.scorecard import Scorecard
from coalition.core import Context, InputError, Party
from coalition.node.serving.features import coded_matrix
from coalition.node.serving.scoring import guest_scorer, host_scorer
from coalition.protocols.feature.binning import apply_bins
from coalition.protocols.feature.woe_transform import apply_woe_transform, onehot_name
from coalition.protocols.linear import LinearModelPart, Standardizer
from coalition.testing import PartyFailure, Recorder, find_leaks, run_parties

G, H = Party.guest("bank"), Party.host("telco")
N = 400
KEY = {"key_bits": 1024, "allow_insecure_key": True}
LR = {"protocol": "ss", "epochs": 8, "batch_size": 100, "learning_rate": 0.3}


def _tables(seed: int = 5) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    ids = [f"u{i}" for i in range(N)]
    inc = rng.normal(5.0, 2.0, N)
    job = rng.choice(["clerk", "nurse", "chef", "pilot"], N, p=[.5, .3, .18, .02])
    age = rng.uniform(20, 70, N)
    z = 0.8 * (inc - 5) + (job == "chef") * 1.5 - 0.04 * (age - 45) + rng.normal(0, 1, N)
    y = (z > 0.5).astype(int)
    inc[::11] = np.nan
    guest = pd.DataFrame({"id": ids, "y": y, "age": age, "debt": rng.uniform(0, 1, N)})
    host = pd.DataFrame({"id": ids, "income": inc, "job": job, "tenure": rng.integers(0, 40, N)})
    return guest, host


def _run(cls: Any, ctx: Context, name: str, params: dict[str, Any],
         inputs: dict[str, Any]) -> dict[str, Any]:
    tctx = TaskContext(ctx.sub(name), name, cls.parse_params(params), inputs)
    return dict(cls().run(tctx))


def _pipeline(data: Dataset, test: Dataset) -> Any:
    def main(ctx: Context) -> dict[str, Any]:
        b = _run(FeatureBinning, ctx, "bin", {"bins": 5, **KEY}, {"data": data})
        w = _run(FeatureWoe, ctx, "woe", {}, {"bins": b["model"], "data": data,
                                              "test_data": test})
        lr = _run(HeteroLR, ctx, "lr", LR, {"train_data": w["data"]})
        sc = _run(Scorecard, ctx, "sc", {}, {"woe": w["model"], "lr": lr["model"]})
        pr = _run(Predict, ctx, "pr", {}, {"model": sc["model"], "data": test})
        return {"bin": b, "woe": w, "lr": lr, "sc": sc, "pr": pr}
    return main


@pytest.fixture(scope="module")
def runs() -> tuple[pd.DataFrame, pd.DataFrame, dict[Party, Any], Recorder]:
    guest, host = _tables()
    test_g, test_h = guest.iloc[::3].copy(), host.iloc[::3].copy()
    test_h.loc[test_h.index[:3], "job"] = ["astronaut", None, "pilot"]
    rec = Recorder()
    out = run_parties({G: _pipeline(Dataset(guest, "id", "y"), Dataset(test_g, "id", "y")),
                       H: _pipeline(Dataset(host, "id"), Dataset(test_h, "id"))},
                      wrap=rec.wrap, timeout=120)
    return guest, host, out, rec


def _table(out: dict[str, Any], name: str) -> list[dict[str, Any]]:
    [t] = [t for t in out["report"].content["tables"] if t["name"] == name]
    return [dict(zip(t["columns"], r, strict=True)) for r in t["rows"]]


def test_guest_features_become_the_woe_of_their_bin(runs):
    guest, _, out, _ = runs
    g = out[G]
    bins, woe = g["bin"]["model"].data["bins"], g["bin"]["model"].data["woe"]
    codes = apply_bins(bins, guest)
    y = guest["y"].to_numpy()
    encoded = g["woe"]["data"].frame
    for f in ("age", "debt"):
        k = int(codes[f].max()) + 1
        e = np.bincount(codes[f], weights=y, minlength=k)
        r = np.bincount(codes[f], minlength=k)
        central = [math.log((ei / y.sum()) / ((ri - ei) / (N - y.sum()))) for ei, ri in
                   zip(e, r, strict=True)]  # every bin holds both classes here
        assert encoded[f].to_numpy() == pytest.approx(np.array(central)[codes[f]], abs=1e-12)
        assert woe[f][:k] == pytest.approx(central, abs=1e-12)
    assert list(encoded.columns) == ["id", "y", "age", "debt"]


def test_host_features_become_bin_indicators_and_apply_unchanged(runs):
    _, host, out, _ = runs
    h = out[H]
    fitted = h["woe"]["model"].data["columns"]
    assert {s["encoding"] for s in fitted.values()} == {"onehot"}
    enc = h["woe"]["data"].frame
    codes = apply_bins({f: s["bins"] for f, s in fitted.items()}, host)
    for k in fitted["job"]["keep"]:
        assert (enc[onehot_name("job", k)].to_numpy() == (codes["job"] == k)).all()
    assert enc[[c for c in enc.columns if c.startswith("income=")]].sum(axis=1).eq(1).all()
    test = h["woe"]["test_output"].frame
    test_in = host.iloc[::3].copy()
    test_in.loc[test_in.index[:3], "job"] = ["astronaut", None, "pilot"]
    pd.testing.assert_frame_equal(test, apply_woe_transform(fitted, test_in).reset_index(
        drop=True))
    # categories chef, clerk, nurse, pilot; the rare bin (4) held no training row, so an
    # unseen category has no indicator set
    job = [c for c in test.columns if c.startswith("job=")]
    assert fitted["job"]["keep"] == [0, 1, 2, 3]
    assert test.loc[0, job].sum() == 0.0 and test.loc[2, onehot_name("job", 3)] == 1.0


def test_points_add_up_to_the_score_of_the_joint_prediction(runs):
    guest, host, out, _ = runs
    pred = out[G]["pr"]["predictions"].frame
    g_pts, h_pts = _table(out[G]["sc"], "scorecard"), _table(out[H]["sc"], "scorecard")
    base = [r["points"] for r in g_pts if r["feature"] == "(base)"]
    assert len(base) == 1 and all(r["feature"] != "(base)" for r in h_pts)
    test_g, test_h = guest.iloc[::3], host.iloc[::3].copy()
    test_h.loc[test_h.index[:3], "job"] = ["astronaut", None, "pilot"]
    total = np.full(len(test_g), base[0])
    for frame, pts, model in ((test_g, g_pts, out[G]["sc"]["model"]),
                              (test_h, h_pts, out[H]["sc"]["model"])):
        columns = model.data["columns"]
        codes = apply_bins({f: s["bins"] for f, s in columns.items()}, frame)
        table = {(r["feature"], r["bin"]): r["points"] for r in pts}
        for f, c in codes.items():
            total += np.array([table[(f, int(k))] for k in c])
    by_id = dict(zip(pred["id"], pred["points"], strict=True))
    assert [by_id[i] for i in test_g["id"]] == pytest.approx(total, abs=1e-6)
    # scaling: 600 points at odds 50:1, 20 points to double the odds
    p = pred["score"].to_numpy()
    odds = (1 - p) / p
    assert pred["points"].to_numpy() == pytest.approx(
        600 - 20 / math.log(2) * math.log(50) + 20 / math.log(2) * np.log(odds), abs=1e-6)


def test_online_scorers_give_the_batch_points(runs):
    guest, host, out, _ = runs
    pred = out[G]["pr"]["predictions"].frame.set_index("id")
    hs, gs = host_scorer(out[H]["sc"]["model"]), guest_scorer(out[G]["sc"]["model"])
    assert hs.categories == {"job": ["chef", "clerk", "nurse", "pilot"]}
    test_g, test_h = guest.iloc[::3], host.iloc[::3].copy()
    test_h.loc[test_h.index[:3], "job"] = ["astronaut", None, "pilot"]  # unseen, missing
    ids = list(test_g["id"][:20])
    # what an online source hands the scorers: text coded by its training categories
    hrows = coded_matrix(test_h.set_index("id").loc[ids, hs.feature_names or []],
                         hs.categories, "features")
    assert np.isnan(hrows[1, 1]) and hrows[0, 1] == -1.0
    partial = hs.partial(hrows, ids, "telco", {})
    grows = coded_matrix(test_g.set_index("id").loc[ids, gs.feature_names or []],
                         gs.categories, "crm")
    online = gs.combine(grows, {"telco": partial})
    assert online == pytest.approx(pred.loc[ids, "points"].to_numpy(), abs=1e-9)


def test_woe_and_scorecard_send_nothing_and_the_host_gets_no_label_value(runs):
    _guest, _host, out, rec = runs
    for m in rec.messages:
        assert "/woe/" not in m.key and "/sc/" not in m.key
    to_host = rec.received_by(H)
    # binning sends the host encrypted labels, the LR shares (their own privacy tests); no
    # WOE value reaches the host, and predict sends it nothing
    assert to_host and find_leaks(to_host, [
        w for ws in out[G]["bin"]["model"].data["woe"].values() for w in ws if w]) == []
    assert not [m for m in to_host if "/pr/" in m.key]
    points = [r[3] for t in out[H]["sc"]["report"].content["tables"] for r in t["rows"]]
    edges = [e for s in out[H]["bin"]["model"].data["bins"].values() for e in s.get("edges", [])]
    from_host = rec.sent_by(H)
    assert find_leaks(from_host, edges + points + ["clerk", "nurse"]) == []


def test_scorecard_refuses_a_model_it_cannot_express(run_component):
    frame = pd.DataFrame({"id": ["a"], "x": [1.0]})
    woe = ModelPart("feature_woe", G.role, {"columns": {}})
    lr = ModelPart("hetero_lr", G.role, LinearModelPart(
        "guest", "logistic", "ss", ["x"], np.ones(1), Standardizer(), 0.0).to_artifact())
    with pytest.raises(PartyFailure, match="not WOE-encoded"):
        run_component(Scorecard, {G: {}}, {G: {"woe": woe, "lr": lr}})
    with pytest.raises(PartyFailure, match="feature_binning"):
        run_component(FeatureWoe, {G: {}}, {G: {"bins": lr, "data": Dataset(frame, "id")}})
    with pytest.raises(InputError):
        apply_woe_transform({"x": {"bins": {"kind": "numeric", "edges": []},
                                   "encoding": "woe", "woe": [0.0, 0.0]}},
                            pd.DataFrame({"y": [1]}))
