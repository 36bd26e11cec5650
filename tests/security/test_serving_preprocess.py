"""A hostile guest and the host's preprocessing chain (issue 19).

A published host part records the host's fitted column steps (``feature_transform``,
``feature_selection``, ...), which the host applies to its raw rows before it computes a partial
score. The chain decides which raw columns the partial score is a function of, so a guest that
could name it could shrink a host's partial to one raw column (``w · x``: the value itself) or
make the host apply a transform it never fitted. The host therefore builds the chain at publish
from its own records only — the job document it accepted and its own artifact store — and reads
nothing of it from the guest's request. Its ``policy_min_serving_features`` counts the raw
columns the chain reads, not the encoded ones (one text column one-hot encoded into many columns
still names one raw value per row).

``bank`` (the guest) attacks ``telco`` (the host) through the real peer endpoint (gRPC, mutual
TLS).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "node"))
from nodekit import make_env
from servingkit import Peer, connect

from coalition.components import Dataset, ModelPart
from coalition.core.ids import Party, Role
from coalition.node.jobs import repository as repo
from coalition.node.jobs.local import store_for
from coalition.node.library import registry
from coalition.node.peer import PeerEndpoint
from coalition.node.serving.scoring import host_scorer
from coalition.protocols.feature.chain import UnservableStep
from coalition.protocols.feature.transform import apply_transform, fit_transform
from coalition.protocols.linear import LinearModelPart, Standardizer

JOB = "00c0ffee00c0ffe1"
SITES = {"guest:bank": "bank", "host:telco": "telco", "arbiter:coordinator": "bank"}
DAG = {"version": 1, "name": "prep", "parties": {"guest": ["bank"], "host": ["telco"],
                                                 "arbiter": ["coordinator"]},
       "tasks": {"read": {"component": "reader", "parameters": {"id_column": "id", "path": "t"}},
                 "align": {"component": "psi", "inputs": {"data": "read.data"}},
                 "transform": {"component": "feature_transform",
                               "parameters": {"encode": "onehot", "scale": "standard"},
                               "inputs": {"data": "align.data"}},
                 "lr": {"component": "hetero_lr", "inputs": {"train_data": "transform.data"}}}}


def _raw() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame({"id": [f"u{i}" for i in range(30)], "tenure": rng.uniform(1, 60, 30),
                         "plan": rng.choice(["basic", "plus", "max"], 30)})


def _record(rt: Any, *, with_transform: bool) -> dict[str, Any]:
    """A finished job on telco (bank ran the guest): its transform and LR outputs."""
    raw = _raw()
    fitted = fit_transform(raw, ["tenure", "plan"], impute="none", fill_value=0.0,
                           encode="onehot", scale="standard", cap_quantiles=None)
    data = Dataset(apply_transform(fitted, raw), "id")
    k = len(data.features)
    lr = LinearModelPart("host", "logistic", "ss", data.features, np.arange(1.0, k + 1),
                         Standardizer(np.zeros(k), np.ones(k)))
    with rt.db.session() as db:
        repo.create_job(db, job_id=JOB, name="prep", initiator="bank", dag=DAG, sites=SITES,
                        selection={}, timeout_s=600, created_by="partner:bank", rerun_of=None,
                        task_names=list(DAG["tasks"]),
                        orgs={"bank": ["guest:bank", "arbiter:coordinator"],
                              "telco": ["host:telco"]})
        for name in ("transform", "lr"):
            task = repo.get_task(db, JOB, name)
            task.state = "succeeded"
            task.keys = {p: f"{name}-{p.replace(':', '-')}" for p in SITES}
    store = store_for(rt, Party.parse("host:telco"))
    if with_transform:
        store.save("transform", "transform-host-telco",
                   {"data": data, "model": ModelPart("feature_transform", Role.HOST,
                                                     {"columns": fitted})})
    store.save("lr", "lr-host-telco",
               {"model": ModelPart("hetero_lr", Role.HOST, lr.to_artifact())})
    return {"columns": fitted}


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[Peer, Peer]]:
    peers = []
    for org in ("bank", "telco"):
        (tmp_path / org / "data").mkdir(parents=True)
        env = make_env(tmp_path / org, org, data_dirs=[tmp_path / org / "data"])
        peers.append(Peer(env, PeerEndpoint(env.rt).start()))
    connect(*peers)
    yield peers[0], peers[1]
    for p in peers:
        p.endpoint.stop(0)
        p.env.close()


def _publish(bank: Peer, name: str, source: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return bank.env.rt.peers.call_raw("telco", "ModelPartPublish", {
        "name": name, "version": 1, "source": source,
        "meta": {"job_id": JOB, "task": "lr", **extra},
        "guest_part": {"org": "bank", "role": "guest", "sha256": "00" * 32}})


def _stored(telco: Peer, name: str) -> ModelPart:
    return registry.load_verified(telco.env.rt, "test", f"bank:{name}", 1, "test")[1]


FORGED = {"steps": [{"task": "transform", "component": "feature_selection",
                     "data": {"keep": ["tenure"]}}], "columns": ["tenure"]}


def test_the_host_builds_its_chain_from_its_own_records_only(pair: tuple[Peer, Peer]) -> None:
    bank, telco = pair
    fitted = _record(telco.env.rt, with_transform=True)
    # The guest slips a chain of its own into the source and the metadata it sends.
    reply = _publish(bank, "prep", {"job_id": JOB, "task": "lr", "preprocess": FORGED},
                     preprocess=FORGED)
    assert reply["role"] == "host"
    part = _stored(telco, "prep")
    assert part.preprocess is not None
    assert part.preprocess["steps"] == [{"task": "transform", "component": "feature_transform",
                                         "data": fitted}]
    scorer = host_scorer(part)
    # The partial score reads both raw columns the host fitted, whatever the guest sent.
    assert scorer.feature_names == ["tenure", "plan"]
    assert scorer.categories == {"plan": ["basic", "max", "plus"]}


def test_a_host_step_it_does_not_hold_is_refused_when_serving_binds(
        pair: tuple[Peer, Peer]) -> None:
    bank, telco = pair
    _record(telco.env.rt, with_transform=False)  # telco holds no fitted transform
    _publish(bank, "prep", {"job_id": JOB, "task": "lr"})
    part = _stored(telco, "prep")
    assert part.preprocess is not None and part.preprocess["steps"][0]["data"] is None
    with pytest.raises(UnservableStep) as err:  # at bind (deploy), before any row is read
        host_scorer(part)
    assert err.value.details == {"task": "transform", "component": "feature_transform"}


def test_the_serving_policy_counts_raw_columns_not_encoded_ones(
        pair: tuple[Peer, Peer]) -> None:
    bank, telco = pair
    _record(telco.env.rt, with_transform=True)
    _publish(bank, "prep", {"job_id": JOB, "task": "lr"})
    part = _stored(telco, "prep")
    encoded = LinearModelPart.from_artifact(part.data).feature_names
    assert len(encoded) == 4  # tenure + three plan indicators
    # _bind compares len(feature_names) of the scorer with policy_min_serving_features.
    assert len(host_scorer(part).feature_names or []) == 2
