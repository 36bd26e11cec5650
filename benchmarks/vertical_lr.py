"""Vertical (hetero) logistic regression: SS and Paillier variants over the gRPC transport.

Every party runs in its own process (``run_parties(transport="grpc")``, mTLS on loopback).
``ours`` is the guest's training wall time (set-up handshake to final weights; process start-up
excluded). HE lines also give each party's CPU seconds for the same fit (``cpu_s``, process time
including its gRPC threads): on a shared, loaded machine wall time mostly measures the load,
CPU time the work. Anchors cannot run here, so their recorded figures are printed with "recorded" in
the anchor string, ratio computed against them. scikit-learn's AUC on the joined table is
measured in the same run, as is a plaintext float run of the same mini-batch schedule with the
exact sigmoid (the cost of the degree-1 Taylor sigmoid).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from _common import emit
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from coalition.core import Context, Party
from coalition.protocols.linear import LinearModelPart, PartyTable, estimator_for, load_party_csv
from coalition.protocols.linear.batching import batches
from coalition.protocols.linear.spec import LinearParams
from coalition.testing import run_parties

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "fate"
G, H, A = Party.guest(), Party.host("host"), Party.arbiter()
BREAST = {"optimizer": "momentum", "epochs": 20, "batch_size": 240, "learning_rate": 0.15,
          "alpha": 0.01}


class CountingChannel:
    """Counts payload bytes this party sends."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.sent = inner, 0

    @property
    def party(self) -> Party:
        return self.inner.party

    @property
    def parties(self) -> Sequence[Party]:
        return self.inner.parties

    def send(self, to: Party, key: str, payload: bytes) -> None:
        self.sent += len(payload)
        self.inner.send(to, key, payload)

    def recv(self, frm: Party, key: str, timeout: float) -> bytes:
        return self.inner.recv(frm, key, timeout)


def role(ctx: Context, params: dict[str, Any], table: PartyTable | None, reps: int
         ) -> dict[str, Any]:
    """Train ``reps`` times (the first is a warm-up when reps > 1); report times and bytes."""
    chan = CountingChannel(ctx.channel)
    cctx = Context(chan, namespace=ctx.namespace, executor=ctx.executor, timeout=ctx.timeout)
    times, cpus, model = [], [], None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(reps):
            est = estimator_for(params, ctx.role)
            sent0, t0, c0 = chan.sent, time.perf_counter(), time.process_time()
            rctx = cctx.sub(f"rep{i}")
            est.fit(rctx) if table is None else est.fit(rctx, table)
            times.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
            sent = chan.sent - sent0
            model = getattr(est, "model_", None)
    return {"times": times, "cpus": cpus, "sent": sent,
            "model": None if model is None else model.to_artifact()}


def run(name: str, params: dict[str, Any], reps: int) -> dict[str, Any]:
    guest = load_party_csv(DATA / f"{name}_hetero_guest.csv", label_column="y")
    host = load_party_csv(DATA / f"{name}_hetero_host.csv")
    roles = {G: partial(role, params=params, table=guest, reps=reps),
             H: partial(role, params=params, table=host, reps=reps)}
    if params.get("protocol", "ss") != "he-guest":
        roles[A] = partial(role, params=params, table=None, reps=reps)
    out = run_parties(roles, transport="grpc", timeout=900)
    gm = LinearModelPart.from_artifact(out[G]["model"])
    hm = LinearModelPart.from_artifact(out[H]["model"])
    score = gm.partial_score(guest.features) + gm.intercept + hm.partial_score(host.features)
    timed = out[G]["times"][1:] if reps > 1 else out[G]["times"]
    x = np.hstack([guest.features, host.features])
    sk = LogisticRegression(max_iter=2000).fit(x, guest.labels).decision_function(x)
    epochs = gm.meta.get("epochs", params.get("epochs", 20))
    return {"seconds": statistics.median(timed), "epochs": epochs,
            "auc": round(float(roc_auc_score(guest.labels, score)), 5),
            "baseline_auc": round(float(roc_auc_score(guest.labels, sk)), 5),
            "bytes": sum(o["sent"] for o in out.values()),
            "cpu": {str(p.role): round(o["cpus"][-1], 2)
                    for p, o in out.items()},
            "plain": plain_aucs(guest, host, LinearParams.parse(params))}


def plain_aucs(guest: PartyTable, host: PartyTable, p: LinearParams) -> dict[str, float]:
    """Float training with the same schedule: degree-1 Taylor vs exact sigmoid."""
    x = np.hstack([guest.features, host.features])
    x = (x - x.mean(0)) / np.where(x.std(0) > 0, x.std(0), 1.0)
    x = np.hstack([x, np.ones((len(x), 1))])
    y = guest.labels
    out = {}
    for name, link in (("taylor1", lambda z: 0.25 * z + 0.5),
                       ("exact", lambda z: 1.0 / (1.0 + np.exp(-z)))):
        w, m = np.zeros(x.shape[1]), np.zeros(x.shape[1])
        reg = np.r_[np.ones(x.shape[1] - 1), 0.0] * p.alpha
        for epoch in range(p.epochs):
            for rows in batches(len(y), p, epoch):
                g = x[rows].T @ (link(x[rows] @ w) - y[rows]) / len(rows) + reg * w
                m = p.momentum * m + g if p.optimizer != "sgd" else g
                w = w - p.lr_at(epoch) * m
        out[f"plain_auc_{name}"] = round(float(roc_auc_score(y, x @ w)), 5)
    return out


def ss_line(name: str, params: dict[str, Any], reps: int, anchor: tuple[str, float | None]
            ) -> None:
    r = run(name, {**params, "protocol": "ss"}, reps)
    emit(f"vertical_lr.ss.{name}", unit="s", ours=round(r["seconds"], 3), anchor=anchor[0],
         anchor_value=anchor[1], higher_is_better=False,
         params={"dataset": name, "protocol": "ss", "parties": "guest+host+arbiter(dealer)",
                 "transport": "grpc", "epochs": r["epochs"],
                 "batch_size": params.get("batch_size"), "reps": max(1, reps - 1)},
         auc=r["auc"], baseline_auc=r["baseline_auc"],
         seconds_per_epoch=round(r["seconds"] / r["epochs"], 4), bytes_on_wire=r["bytes"],
         **r["plain"])


def he_line(name: str, params: dict[str, Any], bits: int, anchor: tuple[str, float | None]
            ) -> None:
    p = {**params, "protocol": "he-arbiter", "key_bits": bits,
         "allow_insecure_key": bits < 2048}
    r = run(name, p, 1)
    emit(f"vertical_lr.he.{name}", unit="s", ours=round(r["seconds"], 3), anchor=anchor[0],
         anchor_value=anchor[1], higher_is_better=False,
         params={"dataset": name, "bits": bits, "protocol": "he-arbiter",
                 "parties": "guest+host+arbiter", "transport": "grpc", "epochs": r["epochs"],
                 "batch_size": params.get("batch_size")},
         auc=r["auc"], baseline_auc=r["baseline_auc"],
         seconds_per_epoch=round(r["seconds"] / r["epochs"], 3), bytes_on_wire=r["bytes"],
         cpu_s=r["cpu"])


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="breast SS + 1024-bit HE only")
    args = ap.parse_args(argv)
    ss_anchor = ("SecretFlow SS-LR (SPU SEMI2K, 2 processes), recorded", 2.6)
    fate = ("FATE 2.2 standalone hetero LR, 1024-bit, quiet machine, recorded", 70.0)
    ss_line("breast", BREAST, 4, ss_anchor)
    he_line("breast", BREAST, 1024, fate)
    if args.quick:
        return
    ss_line("default_credit", {"epochs": 1, "batch_size": 240}, 2,
            ("no recorded anchor", None))
    he_line("breast", BREAST, 2048, (fate[0] + " (1024-bit figure)", 70.0))
    he_line("default_credit", {"epochs": 1, "batch_size": 240}, 1024,
            ("no recorded anchor", None))


if __name__ == "__main__":
    main(sys.argv[1:])
