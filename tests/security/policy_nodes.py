"""Two in-process nodes with real peer endpoints (gRPC + mutual TLS) for the policy attacks.

``bank`` is the hostile initiator: it calls ``telco``'s peer methods with its own node identity
only, as any registered partner may. ``telco`` owns the data and decides. Datasets, shares and
grants are made through each node's own API (grant requests travel over the peer endpoint).
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "node"))

from nodekit import NodeEnv, make_env

from coalition.node.auth.permissions import UserRole
from coalition.node.jobs import local
from coalition.node.peer import PeerEndpoint

__all__ = ["NodeEnv", "Pair", "dag", "make_env", "open_pair"]


@dataclass
class Node:
    env: NodeEnv
    endpoint: PeerEndpoint

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.endpoint.port}"

    def bundle(self) -> str:
        return json.dumps(self.env.client.get("/api/v1/node/identity",
                                              headers=self.env.auth()).json())

    def close(self) -> None:
        self.endpoint.stop(0)
        self.env.close()


@dataclass
class Pair:
    """``bank`` (attacker, initiator) and ``telco`` (victim, data owner)."""

    bank: Node
    telco: Node
    launched: list[tuple[str, str]] = field(default_factory=list)

    def dataset(self, name: str, header: list[str], rows: int = 60, *, label: str | None = None,
                share: bool = True) -> None:
        """Register a CSV at telco (``id`` plus ``header`` columns), optionally shared."""
        path = self.telco.env.home / "data" / f"{name}.csv"
        path.parent.mkdir(exist_ok=True)
        lines = [",".join(["id", *header])]
        lines += [",".join([f"u{i}", *[str((i * (j + 3)) % 7 if h != label else i % 2)
                                      for j, h in enumerate(header)]]) for i in range(rows)]
        path.write_text("\n".join(lines) + "\n")
        auth = self.telco.env.auth(UserRole.DATA_SCIENTIST)
        r = self.telco.env.client.post("/api/v1/datasets", headers=auth, json={
            "name": name, "kind": "csv", "id_column": "id", "location": str(path),
            **({"label_column": label} if label else {})})
        assert r.status_code == 201, r.text
        if share:
            r = self.telco.env.client.put(f"/api/v1/datasets/{name}/partners/bank", headers=auth)
            assert r.status_code == 200, r.text

    def grant(self, dataset: str, kinds: list[str], terms: dict[str, Any] | None = None) -> dict[str, Any]:
        """bank asks telco (over the peer endpoint) and telco's operator approves."""
        until = (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).isoformat()
        r = self.bank.env.client.post(
            "/api/v1/partners/telco/grant-requests",
            headers=self.bank.env.auth(UserRole.DATA_SCIENTIST),
            json={"dataset": dataset, "purpose": "model", "component_kinds": kinds,
                  "valid_until": until, **({"terms": terms} if terms else {})})
        assert r.status_code == 201, r.text
        r = self.telco.env.client.post(f"/api/v1/grants/{r.json()['id']}/approve",
                                       headers=self.telco.env.auth(UserRole.OPERATOR), json={})
        assert r.json()["status"] == "approved", r.text
        return dict(r.json())

    def call(self, method: str, payload: dict[str, Any]) -> dict[str, Any]:
        """bank calls a peer method of telco (gRPC, mutual TLS, bank's node certificate)."""
        return self.bank.env.rt.peers.call_raw("telco", method, payload)

    def propose(self, document: dict[str, Any], sites: dict[str, str]) -> tuple[str, dict[str, Any]]:
        """A hostile JobPropose; returns the job id and telco's answer."""
        job_id = secrets.token_hex(8)
        reply = self.call("JobPropose", {"job": {
            "id": job_id, "name": document["name"], "initiator": "bank", "dag": document,
            "sites": sites, "selection": {}, "timeout_s": 60}})
        return job_id, reply

    def job_state(self, job_id: str) -> str:
        r = self.telco.env.client.get(f"/api/v1/jobs/{job_id}", headers=self.telco.env.auth())
        return str(r.json()["state"])


def _node(home: Path, name: str, **settings: Any) -> Node:
    env = make_env(home, name, **settings)
    return Node(env, PeerEndpoint(env.rt).start())


def _import(a: Node, b: Node) -> None:
    r = a.env.client.post("/api/v1/partners/import", headers=a.env.auth(UserRole.OPERATOR),
                          json={"bundle": b.bundle(), "address": b.address})
    assert r.status_code == 201, r.text


def open_pair(root: Path, monkeypatch: Any, **telco_settings: Any) -> Pair:
    """Two nodes that registered each other; every worker launch on any node is recorded."""
    bank, telco = _node(root / "bank", "bank"), _node(root / "telco", "telco", **telco_settings)
    _import(bank, telco)
    _import(telco, bank)
    pair = Pair(bank, telco)

    def spy(rt: Any, manager: Any, job: Any, graph: Any, task: str) -> list[str]:
        pair.launched.append((rt.name, task))
        return []

    monkeypatch.setattr(local, "launch", spy)
    return pair


def dag(parties: dict[str, list[str]], reads: dict[str, str], task: dict[str, Any] | None = None,
        *, labels: dict[str, str] | None = None) -> dict[str, Any]:
    """``read`` (a reader over ``reads``: party -> dataset) and, if given, ``train`` on it."""
    tasks: dict[str, Any] = {"read": {
        "component": "reader", "roles": sorted({p.split(":")[0] for p in reads}),
        "party_parameters": {p: {"path": d, **({"label_column": labels[p]} if labels and p in labels else {})}
                             for p, d in reads.items()}}}
    if task is not None:
        tasks["train"] = {"inputs": {"train_data": "read.data"}, **task}
    return {"version": 1, "name": "probe", "parties": parties, "tasks": tasks}
