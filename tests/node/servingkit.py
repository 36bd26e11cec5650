"""Helpers for model-library and serving tests: tiny trained models, node wiring, grants."""

from __future__ import annotations

import datetime as dt
import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from nodekit import NodeEnv

from coalition.components import ModelPart
from coalition.core import Party, codec
from coalition.core.ids import Role
from coalition.crypto.paillier import InsecureKeyWarning
from coalition.node.peer import PeerEndpoint
from coalition.protocols.linear import PartyTable, estimator_for, predict_guest, predict_host
from coalition.protocols.linear.artifact import LinearModelPart
from coalition.protocols.linear.multiclass import (
    OvRModelPart,
    fit_ovr,
    predict_ovr_guest,
    predict_ovr_host,
)
from coalition.protocols.linear.spec import LinearParams
from coalition.protocols.secureboost import SecureBoostGuest, SecureBoostHost, SecureBoostParams
from coalition.protocols.splitnn import HeteroNNParams, SplitNNDealer, SplitNNGuest, SplitNNHost
from coalition.testing import run_parties

GUEST = "bank"
LR_PARAMS = {"protocol": "ss", "epochs": 3}
SB_PARAMS = SecureBoostParams(num_trees=2, max_depth=2, key_bits=1024, allow_insecure_key=True)


def split_breast(fate_data: Path, folders: dict[str, Path], rows: int = 200) -> dict[str, Path]:
    """Write the breast data as one CSV per organisation: the guest keeps ``y`` and its 10
    features; the host columns are split evenly between the other organisations."""
    guest = pd.read_csv(fate_data / "breast_hetero_guest.csv").head(rows)
    host = pd.read_csv(fate_data / "breast_hetero_host.csv").set_index("id").loc[guest["id"]]
    hosts = [o for o in folders if o != GUEST]
    cols = np.array_split(np.array(host.columns), len(hosts))
    out = {GUEST: folders[GUEST] / "party.csv"}
    guest.to_csv(out[GUEST], index=False)
    for org, names in zip(hosts, cols, strict=True):
        out[org] = folders[org] / "party.csv"
        host[list(names)].reset_index().to_csv(out[org], index=False)
    return out


def tables(csvs: dict[str, Path]) -> dict[str, PartyTable]:
    """Each organisation's table, sorted by ID as training expects."""
    result = {}
    for org, path in csvs.items():
        frame = pd.read_csv(path)
        label = "y" if org == GUEST else None
        names = [c for c in frame.columns if c not in ("id", "y")]
        result[org] = PartyTable.from_arrays(frame["id"].tolist(), frame[names].to_numpy(float),
                                             None if label is None else frame[label], names)
    return result


def _parties(t: dict[str, PartyTable]) -> dict[str, Party]:
    return {org: Party.guest() if org == GUEST else Party.host(org) for org in t}


def train_lr(t: dict[str, PartyTable]) -> dict[str, ModelPart]:
    """Vertical LR (secret sharing) parts per organisation."""
    parties = _parties(t)

    def fit(org: str) -> Any:
        def run(ctx: Any) -> Any:
            est = estimator_for(LR_PARAMS, parties[org].role)
            est.fit(ctx, t[org])
            return est.model_.to_artifact()
        return run

    out = run_parties({parties[o]: fit(o) for o in t}, timeout=120)
    return {o: ModelPart("hetero_lr", parties[o].role, out[parties[o]]) for o in t}


def train_sb(t: dict[str, PartyTable]) -> dict[str, ModelPart]:
    """SecureBoost parts per organisation (2 trees, depth 2, 1024-bit test key)."""
    parties = _parties(t)

    def fit(org: str) -> Any:
        def run(ctx: Any) -> Any:
            if org == GUEST:
                return SecureBoostGuest(SB_PARAMS).fit(ctx, t[org].features, t[org].labels).to_artifact()
            return SecureBoostHost(SB_PARAMS).fit(ctx, t[org].features).to_artifact()
        return run

    with warnings.catch_warnings():  # the 1024-bit key is the tests' explicit choice
        warnings.simplefilter("ignore", InsecureKeyWarning)
        out = run_parties({parties[o]: fit(o) for o in t}, timeout=300)
    return {o: ModelPart("hetero_secureboost", parties[o].role, out[parties[o]]) for o in t}


def three_classes(t: dict[str, PartyTable]) -> dict[str, PartyTable]:
    """The guest's binary label made three classes (label + whether the row's position is a
    multiple of three), for one-vs-rest models: the serving tests compare scores, not fit."""
    g = t[GUEST]
    labels = np.asarray(g.labels, dtype=np.float64) + (np.arange(len(g.ids)) % 3 == 0)
    return {**t, GUEST: PartyTable.from_arrays(list(g.ids), g.features, labels,
                                               list(g.feature_names))}


def train_ovr(t: dict[str, PartyTable]) -> dict[str, ModelPart]:
    """Multiclass one-vs-rest SS-LR parts per organisation, on :func:`three_classes`."""
    t = three_classes(t)
    parties = _parties(t)
    params = LinearParams.parse(LR_PARAMS)

    def fit(org: str) -> Any:
        def run(ctx: Any) -> Any:
            model = fit_ovr(ctx, params, t[org])
            return None if model is None else model.to_artifact()
        return run

    out = run_parties({parties[o]: fit(o) for o in t}, timeout=300)
    return {o: ModelPart("hetero_lr_multiclass", parties[o].role, out[parties[o]]) for o in t}


NN_PARAMS = HeteroNNParams(epochs=5, batch_size=32)


def train_nn(t: dict[str, PartyTable]) -> dict[str, ModelPart]:
    """Split-learning parts per organisation (the dealer is a third, data-less party)."""
    parties = _parties(t)

    def fit(org: str) -> Any:
        def run(ctx: Any) -> Any:
            if org == GUEST:
                return SplitNNGuest(NN_PARAMS).fit(ctx, t[org].features,
                                                   t[org].labels).to_artifact()
            return SplitNNHost(NN_PARAMS).fit(ctx, t[org].features).to_artifact()
        return run

    roles: dict[Party, Any] = {parties[o]: fit(o) for o in t}
    roles[Party.arbiter()] = SplitNNDealer(NN_PARAMS).fit
    out = run_parties(roles, timeout=120)
    return {o: ModelPart("hetero_nn", parties[o].role, out[parties[o]]) for o in t}


def reference_scores(parts: dict[str, ModelPart], t: dict[str, PartyTable]) -> dict[str, float]:
    """Batch prediction with the protocols' own code on the in-memory hub, by ID."""
    parties = _parties(t)
    linear = parts[GUEST].component == "hetero_lr"

    def run(org: str) -> Any:
        def go(ctx: Any) -> Any:
            data = parts[org].data
            if parts[GUEST].component == "hetero_lr_multiclass":
                ovr = OvRModelPart.from_artifact(data)
                return (predict_ovr_guest(ctx, ovr, t[org]) if org == GUEST
                        else predict_ovr_host(ctx, ovr, t[org]))
            if parts[GUEST].component == "hetero_nn":
                return (SplitNNGuest.from_artifact(data).predict(ctx, t[org].features)
                        if org == GUEST else
                        SplitNNHost.from_artifact(data).predict(ctx, t[org].features))
            if linear:
                model = LinearModelPart.from_artifact(data)
                return (predict_guest(ctx, model, t[org]) if org == GUEST
                        else predict_host(ctx, model, t[org]))
            if org == GUEST:
                return SecureBoostGuest.from_artifact(data).predict(ctx, t[org].features)
            return SecureBoostHost.from_artifact(data).predict(ctx, t[org].features)
        return go

    out = run_parties({parties[o]: run(o) for o in t}, timeout=120)
    return dict(zip(t[GUEST].ids, np.asarray(out[parties[GUEST]]).tolist(), strict=True))


def write_part(part: ModelPart, path: Path) -> Path:
    """A part file as an artifact store writes it."""
    path.write_bytes(codec.encode({"component": part.component, "role": part.role.value,
                                   "data": part.data}))
    return path


@dataclass
class Peer:
    """An in-process node with its peer endpoint."""

    env: NodeEnv
    endpoint: PeerEndpoint

    @property
    def name(self) -> str:
        return self.env.rt.name

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.endpoint.port}"

    def bundle(self) -> str:
        r = self.env.client.get("/api/v1/node/identity", headers=self.env.auth())
        return json.dumps(r.json())

    def api(self, method: str, url: str, **kw: Any) -> Any:
        r = self.env.client.request(method, f"/api/v1{url}", headers=self.env.auth(), **kw)
        return r


def connect(a: Peer, b: Peer) -> None:
    """Register each node with the other."""
    for x, y in ((a, b), (b, a)):
        r = x.api("POST", "/partners/import", json={"bundle": y.bundle(), "address": y.address})
        assert r.status_code == 201, r.text


def register_dataset(node: Any, name: str, path: Path, label: str | None = None) -> None:
    """Register a CSV dataset (``node`` is a Peer or anything with ``api``)."""
    r = node.api("POST", "/datasets", json={"name": name, "kind": "csv", "id_column": "id",
                                            "location": str(path), "label_column": label})
    assert r.status_code == 201, r.text


def grant_predict(guest: Any, host: Any, dataset: str) -> None:
    """The host shares ``dataset`` with the guest, the guest asks for a ``predict`` grant, the
    host approves it."""
    r = host.api("PUT", f"/datasets/{dataset}/partners/{guest.name}")
    assert r.status_code == 200, r.text
    until = (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).isoformat()
    r = guest.api("POST", f"/partners/{host.name}/grant-requests", json={
        "dataset": dataset, "purpose": "credit scoring", "component_kinds": ["predict"],
        "valid_until": until})
    assert r.status_code in (200, 201), r.text
    r = host.api("POST", f"/grants/{r.json()['id']}/approve", json={"reason": "contract 7"})
    assert r.status_code == 200, r.text


__all__ = ["GUEST", "Peer", "connect", "grant_predict", "reference_scores", "register_dataset",
           "split_breast", "tables", "train_lr", "train_nn", "train_sb", "write_part", "Role"]


CREDIT_DAG = Path(__file__).resolve().parents[2] / "examples" / "jobs" / "credit_risk.yaml"


def record_job(rt: Any, job_id: str, *, parts: dict[str, ModelPart], state: str = "succeeded",
               metrics: dict[str, float] | None = None) -> None:
    """Write what a finished multi-node job leaves on one node: the job and task rows (task
    ``lr`` of the credit-risk example, run by bank and telco) and this node's parties' model
    outputs in their artifact stores. ``parts`` maps ``role:name`` to the part."""
    import yaml

    from coalition.engine.store import ArtifactStore
    from coalition.node.db.types import utcnow
    from coalition.node.jobs import repository as repo
    from coalition.node.jobs.local import store_for
    from coalition.node.jobs.tables import JobMetricRow

    sites = {"guest:bank": "bank", "host:telco": "telco", "arbiter:coordinator": "bank"}
    dag = yaml.safe_load(CREDIT_DAG.read_text())
    with rt.db.session() as db:
        repo.create_job(db, job_id=job_id, name="credit_risk", initiator="bank", dag=dag,
                        sites=sites, selection={}, timeout_s=600, created_by="user:admin",
                        rerun_of=None, task_names=list(dag["tasks"]),
                        orgs={"bank": ["guest:bank", "arbiter:coordinator"],
                              "telco": ["host:telco"]})
        task = repo.get_task(db, job_id, "lr")
        task.state = state
        task.keys = {party: f"{job_id}-{party.replace(':', '-')}" for party in sites}
        for name, value in (metrics or {}).items():
            db.add(JobMetricRow(job_id=job_id, task="lr", party="guest:bank", name=name,
                                step=None, value=value, at=utcnow()))
    for party, part in parts.items():
        store: ArtifactStore = store_for(rt, Party.parse(party))
        store.save("lr", f"{job_id}-{party.replace(':', '-')}", {"model": part})
