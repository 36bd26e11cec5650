"""Feature engineering (issue 19): WOE/IV of host features over gRPC against the centralised IV.

``fe.woe_iv.default_credit``: guest and host run ``feature_binning`` (quantile bins, the
encrypted hetero WOE/IV exchange) each in its own process over gRPC with mutual TLS
(``run_parties(transport="grpc")``); ``ours`` is the wall time of the run (process start-up
included), the anchor the same binning and IV computed in plaintext on the joined table in this
process in the same run, and ``params.max_abs_iv_error`` the largest difference between the
federated and the centralised IV over every host feature.

``fe.pipeline.default_credit``: guest and host, each in its own process over gRPC, run
``feature_statistics`` → ``feature_binning`` → ``feature_selection`` (IV) →
``feature_woe`` → ``hetero_lr`` (SS-LR, the guest as dealer) → ``scorecard`` → ``predict`` on
a held-out 30 % (rows whose numeric ID ends in 0, 1 or 2: a public split, fine for a
benchmark). ``auc`` is the
AUC of the scorecard's predictions, ``baseline_auc`` that of scikit-learn's
``LogisticRegression`` on the standardised raw joined features (same split, same run); ``ours``
is the pipeline's wall time, the anchor the baseline's.
"""

from __future__ import annotations

import argparse
import sys
import time
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from _common import emit

from coalition.components import Dataset, TaskContext
from coalition.components.feature_binning import FeatureBinning
from coalition.components.feature_selection import FeatureSelection
from coalition.components.feature_statistics import FeatureStatistics
from coalition.components.feature_woe import FeatureWoe
from coalition.components.hetero_lr import HeteroLR
from coalition.components.predict import Predict
from coalition.components.scorecard import Scorecard
from coalition.core import Context, Party
from coalition.protocols.feature.binning import apply_bins, fit_bins, n_bins
from coalition.protocols.feature.woe import woe_iv
from coalition.testing import run_parties

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "fate"
G, H = Party.guest("guest"), Party.host("host")


def _role(path: str, label: str | None, params: dict[str, Any], ctx: Context) -> Any:
    frame = pd.read_csv(path, dtype={"id": str})
    p = FeatureBinning.parse_params(params)
    out = FeatureBinning().run(TaskContext(ctx, "bin", p, {"data": Dataset(frame, "id", label)}))
    return {"report": out["report"].content, "bins": out["model"].data["bins"]}


def _central(guest: pd.DataFrame, host: pd.DataFrame, bins: int) -> dict[str, float]:
    joined = guest[["id", "y"]].merge(host, on="id")
    feats = [c for c in host.columns if c != "id"]
    fitted = fit_bins(joined, feats, method="quantile", bins=bins, categorical=frozenset(),
                      min_category_count=10)
    codes = apply_bins(fitted, joined)
    y = joined["y"].to_numpy(dtype=np.float64)
    out = {}
    for f in feats:
        k = n_bins(fitted[f])
        ev = np.bincount(codes[f], weights=y, minlength=k).astype(np.int64)
        out[f] = woe_iv(ev, np.bincount(codes[f], minlength=k).astype(np.int64))[1]
    return out


def woe_iv_line(name: str, bins: int, key_bits: int) -> None:
    gpath, hpath = DATA / f"{name}_hetero_guest.csv", DATA / f"{name}_hetero_host.csv"
    params = {"bins": bins, "key_bits": key_bits, "allow_insecure_key": key_bits < 2048}
    t0 = time.perf_counter()
    out = run_parties({G: partial(_role, str(gpath), "y", params),
                       H: partial(_role, str(hpath), None, params)}, transport="grpc",
                      timeout=600)
    ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    central = _central(pd.read_csv(gpath, dtype={"id": str}), pd.read_csv(hpath, dtype={"id": str}),
                       bins)
    anchor = time.perf_counter() - t0
    [iv] = [t for t in out[G]["report"]["tables"] if t["name"] == "iv"]
    fed = {r[1]: r[3] for r in iv["rows"] if r[0] == str(H)}
    err = max(abs(fed[f] - central[f]) for f in central)
    emit(f"fe.woe_iv.{name}", unit="seconds", ours=round(ours, 3),
         anchor="plaintext binning + IV on the joined table, same run (no privacy)",
         anchor_value=round(anchor, 4), higher_is_better=False,
         params={"rows": len(pd.read_csv(gpath)), "host_features": len(central),
                 "bins": bins, "key_bits": key_bits, "transport": "grpc",
                 "max_abs_iv_error": err})


def _split(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    test = frame["id"].astype(int) % 10 < 3
    return frame[~test].reset_index(drop=True), frame[test].reset_index(drop=True)


def _task(cls: Any, ctx: Context, name: str, params: dict[str, Any],
          inputs: dict[str, Any]) -> dict[str, Any]:
    p = cls.parse_params(params)
    return dict(cls().run(TaskContext(ctx.sub(name), name, p, inputs)))


def _pipeline_role(path: str, label: str | None, key_bits: int, lr: dict[str, Any],
                   ctx: Context) -> Any:
    train, test = (Dataset(f, "id", label) for f in _split(pd.read_csv(path, dtype={"id": str})))
    key = {"key_bits": key_bits, "allow_insecure_key": key_bits < 2048}
    _task(FeatureStatistics, ctx, "stats", {}, {"data": train})
    b = _task(FeatureBinning, ctx, "bin", {"bins": 10, **key}, {"data": train})
    sel_in: dict[str, Any] = {"data": train, "test_data": test}
    if label is not None:
        sel_in["iv"] = b["report"]
    s = _task(FeatureSelection, ctx, "select", {"iv_min": 0.02}, sel_in)
    w = _task(FeatureWoe, ctx, "woe", {}, {"bins": b["model"], "data": s["data"],
                                           "test_data": s["test_output"]})
    m = _task(HeteroLR, ctx, "lr", lr, {"train_data": w["data"]})
    sc = _task(Scorecard, ctx, "scorecard", {}, {"woe": w["model"], "lr": m["model"]})
    pr = _task(Predict, ctx, "predict", {}, {"model": sc["model"], "data": s["test_output"]})
    kept = len(s["model"].data["keep"])
    if label is None:
        return {"kept": kept}
    return {"kept": kept, "predictions": pr["predictions"].frame}


def _baseline(guest: pd.DataFrame, host: pd.DataFrame) -> tuple[float, float]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.preprocessing import StandardScaler

    t0 = time.perf_counter()
    train, test = _split(guest.merge(host, on="id", suffixes=("_g", "_h")))
    feats = [c for c in train.columns if c not in ("id", "y")]
    scaler = StandardScaler().fit(train[feats])
    model = LogisticRegression(max_iter=1000).fit(scaler.transform(train[feats]), train["y"])
    auc = roc_auc_score(test["y"], model.predict_proba(scaler.transform(test[feats]))[:, 1])
    return float(auc), time.perf_counter() - t0


def pipeline_line(name: str, key_bits: int) -> None:
    from sklearn.metrics import roc_auc_score

    gpath, hpath = DATA / f"{name}_hetero_guest.csv", DATA / f"{name}_hetero_host.csv"
    lr = {"protocol": "ss", "epochs": 10, "batch_size": 512, "learning_rate": 0.3}
    t0 = time.perf_counter()
    out = run_parties({G: partial(_pipeline_role, str(gpath), "y", key_bits, lr),
                       H: partial(_pipeline_role, str(hpath), None, key_bits, lr)},
                      transport="grpc", timeout=600)
    ours = time.perf_counter() - t0
    pred = out[G]["predictions"]
    auc = float(roc_auc_score(pred["y"], pred["score"]))
    baseline, anchor = _baseline(pd.read_csv(gpath, dtype={"id": str}),
                                 pd.read_csv(hpath, dtype={"id": str}))
    emit(f"fe.pipeline.{name}", unit="seconds", ours=round(ours, 3),
         anchor="scikit-learn LogisticRegression on the standardised raw joined features, "
                "same split, same run (no privacy)",
         anchor_value=round(anchor, 4), higher_is_better=False,
         auc=round(auc, 4), baseline_auc=round(baseline, 4),
         params={"test_rows": len(pred), "key_bits": key_bits, "bins": 10, "iv_min": 0.02,
                 "kept_guest": out[G]["kept"], "kept_host": out[H]["kept"], "lr": lr,
                 "transport": "grpc", "points_range": [round(float(pred["points"].min()), 1),
                                                       round(float(pred["points"].max()), 1)]})


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="default_credit, 1024-bit key")
    args = ap.parse_args(argv)
    woe_iv_line("default_credit", 10, 1024 if args.quick else 2048)
    pipeline_line("default_credit", 1024 if args.quick else 2048)


if __name__ == "__main__":
    main(sys.argv[1:])
