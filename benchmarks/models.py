"""Vertical models against a centralised scikit-learn baseline on the same rows (issue 24).

    .venv/bin/python benchmarks/models.py --quick

One JSON line per model and dataset: ``ours`` is the federated model's quality metric (AUC on
the training rows, where the baseline is measured too), ``anchor_value`` scikit-learn's on the
joined table in the same run, ``seconds`` the federated training's wall time (all parties as
threads on the in-memory hub, so it is an upper bound on a loaded machine's compute, not a
network figure). Lines so far: ``models.hetero_lr_ss.default_credit``,
``models.hetero_lr_he.default_credit``, ``models.hetero_lr_multiclass.vehicle`` (accuracy,
one-vs-rest SS-LR against scikit-learn's multinomial LogisticRegression) and
``models.hetero_poisson.claims`` (mean Poisson deviance of Poisson regression on generated
claims with exposure against scikit-learn's PoissonRegressor; two lines, ``params.protocol``
``he-arbiter`` and ``ss``) and
``models.homo_gbdt.default_credit_homo`` (horizontal GBDT, three clients with FATE's
default_credit homo files, AUC on the held-out test file against scikit-learn's
HistGradientBoostingClassifier trained on the union with the same settings);
``models.hetero_nn.default_credit`` (test AUC of split learning on all 30,000 rows, 70/30
stratified, against the same network trained centrally on the joined table in the same run,
:class:`coalition.protocols.splitnn.CentralSplitNN`). ``--only NAME`` runs the lines whose name
contains NAME.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "fate"
#: The documented accurate settings (docs/linear.md): cubic sigmoid, features clipped at 4
#: standard deviations, the last epoch's iterates averaged; the example DAG's optimiser.
ACCURATE = {"sigmoid": "poly3", "feature_clip": 4.0, "averaging": "epoch",
            "optimizer": "momentum", "learning_rate": 0.15, "alpha": 0.01}
SS = {"protocol": "ss", "batch_size": 1024, **ACCURATE}
HE = {"protocol": "he-arbiter", "batch_size": 256, "key_bits": 1024, "allow_insecure_key": True,
      **ACCURATE}


def _tables(rows: int | None) -> tuple[Any, Any]:
    from coalition.protocols.linear import PartyTable, load_party_csv

    guest = load_party_csv(DATA / "default_credit_hetero_guest.csv", label_column="y")
    host = load_party_csv(DATA / "default_credit_hetero_host.csv")
    if rows is not None:  # the first rows by canonical ID: the same rows on both sides
        guest = PartyTable(guest.ids[:rows], guest.features[:rows], guest.feature_names,
                           None if guest.labels is None else guest.labels[:rows])
        host = PartyTable(host.ids[:rows], host.features[:rows], host.feature_names)
    return guest, host


def _baseline_auc(guest: Any, host: Any) -> float:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    x = np.hstack([guest.features, host.features])
    model = LogisticRegression(max_iter=2000).fit(x, guest.labels)
    return float(roc_auc_score(guest.labels, model.decision_function(x)))


def _federated(params: dict[str, Any], guest: Any, host: Any) -> tuple[float, float]:
    from sklearn.metrics import roc_auc_score

    from coalition.core import Party
    from coalition.protocols.linear import LinearModelPart, coordinator, data_role
    from coalition.testing import run_parties

    g, h, a = Party.guest(), Party.host("h0"), Party.arbiter()
    start = time.perf_counter()
    out = run_parties({
        g: lambda c: data_role(params, c.party.role).fit(c, guest).model_.to_artifact(),
        h: lambda c: data_role(params, c.party.role).fit(c, host).model_.to_artifact(),
        a: lambda c: coordinator(params).fit(c),
    }, timeout=1800)
    seconds = time.perf_counter() - start
    gm, hm = LinearModelPart.from_artifact(out[g]), LinearModelPart.from_artifact(out[h])
    score = gm.partial_score(guest.features) + gm.intercept + hm.partial_score(host.features)
    return float(roc_auc_score(guest.labels, score)), seconds


#: One-vs-rest on vehicle_scale (846 rows, 4 classes): the Taylor sigmoid, since the classes
#: separate well enough to push the cubic's scores out of range (docs/hetero_lr_multiclass.md).
MULTICLASS = {"protocol": "ss", "optimizer": "momentum", "batch_size": 64,
              "learning_rate": 0.15, "alpha": 0.001, "sigmoid": "taylor1", "feature_clip": 4.0,
              "averaging": "epoch"}


def _multiclass(epochs: int) -> None:
    from sklearn.linear_model import LogisticRegression

    from coalition.core import Party
    from coalition.protocols.linear import LinearParams, load_party_csv
    from coalition.protocols.linear.multiclass import (
        OvRModelPart,
        fit_ovr,
        predict_ovr_guest,
        predict_ovr_host,
    )
    from coalition.testing import run_parties

    guest = load_party_csv(DATA / "vehicle_scale_hetero_guest.csv", label_column="y")
    host = load_party_csv(DATA / "vehicle_scale_hetero_host.csv")
    params = LinearParams.parse({**MULTICLASS, "epochs": epochs})
    g, h, a = Party.guest(), Party.host("h0"), Party.arbiter()
    start = time.perf_counter()
    out = run_parties({g: lambda c: fit_ovr(c, params, guest),
                       h: lambda c: fit_ovr(c, params, host),
                       a: lambda c: fit_ovr(c, params, None)}, timeout=1800)
    seconds = time.perf_counter() - start
    gm, hm = out[g], out[h]
    assert isinstance(gm, OvRModelPart) and isinstance(hm, OvRModelPart) and gm.classes
    probs = run_parties({g: lambda c: predict_ovr_guest(c, gm, guest),
                         h: lambda c: predict_ovr_host(c, hm, host)}, timeout=600)[g]
    ours = float(np.mean(np.asarray(gm.classes)[np.argmax(probs, axis=1)] == guest.labels))
    x = np.hstack([guest.features, host.features])
    ref = LogisticRegression(max_iter=5000).fit(x, guest.labels)
    baseline = float(np.mean(ref.predict(x) == guest.labels))
    emit("models.hetero_lr_multiclass.vehicle", unit="accuracy", ours=round(ours, 4),
         anchor="baseline", anchor_value=round(baseline, 4), higher_is_better=True,
         seconds=round(seconds, 2), params={**MULTICLASS, "epochs": epochs,
                                            "rows": guest.n_rows, "classes": len(gm.classes)})


POISSON = {"task": "poisson", "optimizer": "momentum", "batch_size": 100,
           "learning_rate": 0.05, "penalty": "none", "averaging": "epoch"}
POISSON_VARIANTS = [{"protocol": "he-arbiter", "key_bits": 1024, "allow_insecure_key": True},
                    {"protocol": "ss"}]


def _claims(n: int, seed: int = 11) -> tuple[Any, Any]:
    """Generated motor claims with exposure (the data of tests/protocols/linear/test_poisson.py):
    the insurer (guest) has two features, the policy years and the claim counts; a telco (host)
    two more."""
    from coalition.protocols.linear import PartyTable

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4))
    exposure = rng.uniform(0.1, 1.0, n)
    y = rng.poisson(exposure * np.exp(-1.2 + x @ np.array([0.3, -0.2, 0.4, 0.25]))).astype(float)
    ids = [f"p{i}" for i in range(n)]
    return (PartyTable.from_arrays(ids, x[:, :2], y, ["age", "value"], exposure),
            PartyTable.from_arrays(ids, x[:, 2:], None, ["night", "phone"]))


def _poisson(rows: int, epochs: int, variant: dict[str, Any]) -> None:
    from sklearn.linear_model import PoissonRegressor
    from sklearn.metrics import mean_poisson_deviance

    from coalition.core import Party
    from coalition.protocols.linear import LinearModelPart, Standardizer, coordinator, data_role
    from coalition.testing import run_parties

    guest, host = _claims(rows)
    params = {**POISSON, **variant, "epochs": epochs}
    g, h, a = Party.guest(), Party.host("h0"), Party.arbiter()
    start = time.perf_counter()
    out = run_parties({
        g: lambda c: data_role(params, c.party.role).fit(c, guest).model_.to_artifact(),
        h: lambda c: data_role(params, c.party.role).fit(c, host).model_.to_artifact(),
        a: lambda c: coordinator(params).fit(c)}, timeout=1800)
    seconds = time.perf_counter() - start
    gm, hm = LinearModelPart.from_artifact(out[g]), LinearModelPart.from_artifact(out[h])
    rate = np.exp(gm.partial_score(guest.features) + (gm.intercept or 0.0)
                  + hm.partial_score(host.features))
    ours = mean_poisson_deviance(guest.labels, rate * guest.exposure)
    x = np.hstack([Standardizer().fit(t.features).transform(t.features) for t in (guest, host)])
    ref = PoissonRegressor(alpha=0.0, max_iter=1000).fit(x, guest.labels / guest.exposure,
                                                         sample_weight=guest.exposure)
    baseline = mean_poisson_deviance(guest.labels, ref.predict(x) * guest.exposure)
    emit("models.hetero_poisson.claims", unit="mean poisson deviance", ours=round(ours, 5),
         anchor="baseline", anchor_value=round(baseline, 5), higher_is_better=False,
         seconds=round(seconds, 2), params={**params, "rows": rows})


HOMO_GBDT = {"n_trees": 30, "max_depth": 4, "learning_rate": 0.3, "max_bins": 32, "l2": 1.0}
HOMO_FILES = ["default_credit_homo_guest.csv", "default_credit_homo_host_1.csv",
              "default_credit_homo_host_2.csv"]


def _homo_gbdt(rows: int | None) -> None:
    import pandas as pd
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score

    from coalition.core import Party
    from coalition.protocols.horizontal.gbdt import GBDTParams, run_gbdt_client, run_gbdt_server
    from coalition.testing import run_parties

    def load(name: str, head: int | None) -> tuple[Any, Any]:
        frame = pd.read_csv(DATA / name).head(head)
        return frame.drop(columns=["id", "y"]).to_numpy(np.float64), frame["y"].to_numpy()

    clients = [load(name, rows) for name in HOMO_FILES]
    x_test, y_test = load("default_credit_homo_test.csv", None)
    params = GBDTParams(**HOMO_GBDT)
    roles: dict[Party, Any] = {
        Party.arbiter(): lambda c: run_gbdt_server(c, clients[0][0].shape[1], params)}
    for i, (x, y) in enumerate(clients):
        roles[Party.host(f"c{i}")] = lambda c, x=x, y=y: run_gbdt_client(c, x, y, params)
    start = time.perf_counter()
    model = run_parties(roles, timeout=600)[Party.arbiter()]
    seconds = time.perf_counter() - start
    ours = roc_auc_score(y_test, model.predict_proba(x_test))
    central = HistGradientBoostingClassifier(
        max_iter=params.n_trees, max_depth=params.max_depth, learning_rate=params.learning_rate,
        max_bins=params.max_bins, l2_regularization=params.l2, max_leaf_nodes=None,
        min_samples_leaf=params.min_samples_leaf, early_stopping=False)
    central.fit(np.vstack([c[0] for c in clients]), np.concatenate([c[1] for c in clients]))
    baseline = roc_auc_score(y_test, central.predict_proba(x_test)[:, 1])
    emit("models.homo_gbdt.default_credit_homo", unit="auc", ours=round(float(ours), 4),
         anchor="baseline", anchor_value=round(float(baseline), 4), higher_is_better=True,
         seconds=round(seconds, 2),
         params={**HOMO_GBDT, "clients": 3, "rows": sum(len(c[1]) for c in clients),
                 "test_rows": len(y_test)})


def _hetero_nn(epochs: int) -> None:
    import pandas as pd
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split

    from coalition.core import Party
    from coalition.protocols.splitnn import (
        CentralSplitNN,
        HeteroNNParams,
        SplitNNDealer,
        SplitNNGuest,
        SplitNNHost,
    )
    from coalition.testing import run_parties

    g = pd.read_csv(DATA / "default_credit_hetero_guest.csv")
    h = pd.read_csv(DATA / "default_credit_hetero_host.csv").set_index("id").loc[g["id"]]
    y = g["y"].to_numpy(np.float64)
    xg, xh = g.drop(columns=["id", "y"]).to_numpy(np.float64), h.to_numpy(np.float64)
    tr, te = train_test_split(np.arange(y.size), test_size=0.3, random_state=0, stratify=y)
    params = HeteroNNParams(epochs=epochs)
    gp, hp, ap = Party.guest(), Party.host("h0"), Party.arbiter()
    start = time.perf_counter()
    fitted = run_parties({gp: lambda c: SplitNNGuest(params).fit(c, xg[tr], y[tr]),
                          hp: lambda c: SplitNNHost(params).fit(c, xh[tr]),
                          ap: lambda c: SplitNNDealer(params).fit(c)}, timeout=1800)
    seconds = time.perf_counter() - start
    scores = run_parties({gp: lambda c: fitted[gp].predict(c, xg[te]),
                          hp: lambda c: fitted[hp].predict(c, xh[te])}, timeout=600)[gp]
    start = time.perf_counter()
    central = CentralSplitNN(params).fit(xg[tr], xh[tr], y[tr])
    central_seconds = time.perf_counter() - start
    baseline = roc_auc_score(y[te], central.predict(xg[te], xh[te]))
    emit("models.hetero_nn.default_credit", unit="auc", ours=round(roc_auc_score(y[te], scores), 4),
         anchor="baseline", anchor_value=round(float(baseline), 4), higher_is_better=True,
         seconds=round(seconds, 2), central_seconds=round(central_seconds, 2),
         params={**params.model_dump(mode="json"), "rows": int(y.size), "test_rows": len(te)})


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true",
                    help="5 epochs; HE on the first 3000 rows (1024-bit key); hetero NN 8 epochs")
    ap.add_argument("--only", default="", help="run only the lines whose name contains this")
    args = ap.parse_args()
    epochs = 5 if args.quick else 20
    for name, params, rows in (("hetero_lr_ss", SS, None),
                               ("hetero_lr_he", HE, 3000 if args.quick else None)):
        if args.only not in f"models.{name}.default_credit":
            continue
        guest, host = _tables(rows)
        auc, seconds = _federated({**params, "epochs": epochs}, guest, host)
        emit(f"models.{name}.default_credit", unit="auc", ours=round(auc, 4),
             anchor="baseline", anchor_value=round(_baseline_auc(guest, host), 4),
             higher_is_better=True, seconds=round(seconds, 2),
             params={**params, "epochs": epochs, "rows": guest.n_rows})
    if args.only in "models.hetero_lr_multiclass.vehicle":
        _multiclass(30)
    if args.only in "models.hetero_poisson.claims":
        for variant in POISSON_VARIANTS:
            _poisson(1000 if args.quick else 5000, 8, variant)
    if args.only in "models.homo_gbdt.default_credit_homo":
        _homo_gbdt(None)
    if args.only in "models.hetero_nn.default_credit":
        _hetero_nn(8 if args.quick else 20)


if __name__ == "__main__":
    main()
