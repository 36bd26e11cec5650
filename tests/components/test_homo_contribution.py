"""Horizontal contribution on a real horizontal job (``homo_lr`` on the in-memory hub, FATE's
breast data from tests/data): the aggregator measures GTG-Shapley and leave-one-out from the
round updates it holds, per client in plain mode and per SecAgg group with secure aggregation;
a free-rider (random features and labels: noise updates) scores near zero, honest clients do
not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from coalition.components import Dataset
from coalition.components.homo import HomoLR
from coalition.core import Party
from coalition.protocols.horizontal.contribution import groups_of
from coalition.testing import Recorder

A = Party.arbiter("a")


def _frame(fate_data: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(fate_data / name, dtype={"id": str})


def _noise(like: pd.DataFrame, rows: int, seed: int) -> Dataset:
    """A free-rider: the shared columns filled with noise, random labels."""
    rng = np.random.default_rng(seed)
    frame = like.head(rows).copy()
    frame["id"] = [f"n{seed}-{i}" for i in range(rows)]
    for column in frame.columns[2:]:
        frame[column] = rng.normal(size=rows)
    frame["y"] = rng.integers(0, 2, rows)
    return Dataset(frame.reset_index(drop=True), "id", "y")


def _run(run_component: Any, clients: dict[Party, Dataset], test: Dataset,
         params: dict[str, Any], wrap: Any = None) -> dict[str, Any]:
    inputs: dict[Party, dict[str, Any]] = {p: {"train_data": d} for p, d in clients.items()}
    inputs[A] = {"validate_data": test}
    out = run_component(HomoLR, dict.fromkeys([*clients, A], params), inputs, wrap=wrap)
    assert set(out[A]) == {"model", "metrics", "contributions"}
    return dict(out[A]["contributions"].content)


def test_plain_contribution_per_client_free_rider_near_zero(fate_data, run_component):
    guest, host = _frame(fate_data, "breast_homo_guest.csv"), _frame(fate_data, "breast_homo_host.csv")
    clients = {Party.guest("g"): Dataset(guest, "id", "y"),
               Party.host("h1"): Dataset(host.iloc[:114].reset_index(drop=True), "id", "y"),
               Party.host("h2"): Dataset(host.iloc[114:].reset_index(drop=True), "id", "y"),
               Party.host("rider"): _noise(guest, 40, 1)}
    test = Dataset(_frame(fate_data, "breast_homo_test.csv"), "id", "y")
    params = {"rounds": 5, "learning_rate": 0.05, "secure_aggregation": False,
              "contribution_group_size": 1}
    report = _run(run_component, clients, test, params)
    assert report["rounds_measured"] == 5 and report["rounds_skipped"] == 0
    gtg = report["gtg"]
    honest = [gtg[p] for p in ("guest:g", "host:h1", "host:h2")]
    assert min(honest) > 0.05
    assert gtg["host:rider"] < 0.25 * min(honest)  # near zero (its noise costs a little)
    assert abs(gtg["host:rider"]) < 0.5 * min(honest)
    assert report["leave_one_out"]["host:rider"] < 0  # its noise only hurts the full model
    rounds = report["inputs"]["rounds"]
    assert len(rounds) == 5 and all(len(r["updates_sha256"]["host:h1"]) == 64 for r in rounds)


def test_secagg_contribution_per_group_reveals_group_sums_only(fate_data, run_component):
    guest, host = _frame(fate_data, "breast_homo_guest.csv"), _frame(fate_data, "breast_homo_host.csv")
    clients = {Party.guest("g"): Dataset(guest, "id", "y"), Party.host("h"): Dataset(host, "id", "y"),
               Party.host("f1"): _noise(guest, 40, 1), Party.host("f2"): _noise(guest, 40, 2)}
    names = [str(p) for p in clients]
    # the grouping is public (seeded by the job); pick a seed that puts the riders together
    seed = next(s for s in range(50)
                if sorted(map(sorted, groups_of(names, 2, s).values())) ==
                [["guest:g", "host:h"], ["host:f1", "host:f2"]])
    test = Dataset(_frame(fate_data, "breast_homo_test.csv"), "id", "y")
    params = {"rounds": 5, "learning_rate": 0.05, "contribution_group_size": 2, "seed": seed}
    rec = Recorder()
    report = _run(run_component, clients, test, params, wrap=rec.wrap)
    riders = next(g for g, m in report["groups"].items() if m == ["host:f1", "host:f2"])
    honest = next(g for g in report["groups"] if g != riders)
    assert report["rounds_measured"] == 5
    assert report["gtg"][honest] > 0.1
    assert abs(report["gtg"][riders]) < 0.2 * report["gtg"][honest]
    # every client masked its input: no plain update, and each named only its group partner
    for party in clients:
        for message in rec.sent_by(party):
            value = message.value()
            assert not (isinstance(value, dict) and "update" in value)
    plans = [m.value()["secagg"]["peers"] for m in rec.sent_by(A)
             if isinstance(m.value(), dict) and isinstance(m.value().get("secagg"), dict)]
    assert plans and all(len(peers) == 1 for peers in plans)


def test_secagg_refuses_groups_of_one(run_component):
    with pytest.raises(Exception, match="invalid"):
        HomoLR.parse_params({"contribution_group_size": 1})
    assert HomoLR.parse_params({"contribution_group_size": 1, "secure_aggregation": False})
