"""Nodes for the jobs attack tests: in-process runtimes with real gRPC + mTLS peer endpoints.

The attacker is a registered partner that drives this node's peer methods with its own node
identity (``rt.peers.call_raw`` over the real endpoint), exactly what any partner's
node can send; it never touches the victim's database or folders.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "node"))

from nodekit import NodeEnv, make_env

from coalition.node.auth.permissions import UserRole
from coalition.node.peer import PeerEndpoint, PeerRegistry
from coalition.node.runtime import NodeRuntime

__all__ = ["Node", "call", "connect", "dag", "proposal", "register_dataset", "start_node"]


@dataclass
class Node:
    """One organisation: its API client, runtime and live peer endpoint."""

    name: str
    env: NodeEnv
    endpoint: PeerEndpoint

    @property
    def rt(self) -> NodeRuntime:
        return self.env.rt

    @property
    def home(self) -> Path:
        return self.env.home

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.endpoint.port}"

    def close(self) -> None:
        self.endpoint.stop(0)
        self.env.close()


def start_node(home: Path, name: str, registry: PeerRegistry | None = None,
               **settings: Any) -> Node:
    """A node home with its peer endpoint listening on a free port (answering ``registry``,
    by default the node's own)."""
    env = make_env(home, name, **settings)
    return Node(name, env, PeerEndpoint(env.rt, registry).start())


def connect(a: Node, b: Node) -> None:
    """``a`` registers ``b`` as a partner (pinning its certificate), as operators do."""
    identity = b.env.client.get("/api/v1/node/identity", headers=b.env.auth()).json()
    r = a.env.client.post("/api/v1/partners/import", headers=a.env.auth(UserRole.OPERATOR),
                          json={"bundle": json.dumps(identity), "address": b.address})
    assert r.status_code == 201, r.text


def register_dataset(node: Node, name: str, text: str, *, share_with: str | None = None) -> Path:
    """A CSV dataset in the node's data folder, optionally shared with a partner."""
    path = node.home / "data" / f"{name}.csv"
    path.write_text(text, encoding="utf-8")
    ds = node.env.auth(UserRole.DATA_SCIENTIST)
    r = node.env.client.post("/api/v1/datasets", headers=ds, json={
        "name": name, "kind": "csv", "id_column": "id", "location": str(path)})
    assert r.status_code == 201, r.text
    if share_with is not None:
        r = node.env.client.put(f"/api/v1/datasets/{name}/partners/{share_with}", headers=ds)
        assert r.status_code == 200, r.text
    return path


def dag(initiator: str, victim: str, *, victim_path: str = "usage",
        extra_tasks: int = 0) -> dict[str, Any]:
    """Read at both organisations, then ECDH-PSI; ``extra_tasks`` more PSI runs."""
    tasks: dict[str, Any] = {
        "read": {"component": "reader", "parameters": {"id_column": "id"},
                 "party_parameters": {f"guest:{initiator}": {"path": "mine"},
                                      f"host:{victim}": {"path": victim_path}}},
        "align": {"component": "psi", "parameters": {"protocol": "ecdh"},
                  "inputs": {"data": "read.data"}},
    }
    for i in range(extra_tasks):
        tasks[f"align{i}"] = {"component": "psi", "parameters": {"protocol": "ecdh"},
                              "inputs": {"data": "read.data"}}
    return {"version": 1, "name": "probe",
            "parties": {"guest": [initiator], "host": [victim]}, "tasks": tasks}


def proposal(job_id: str, initiator: str, victim: str, **fields: Any) -> dict[str, Any]:
    """The ``JobPropose`` payload an initiator's scheduler sends."""
    job = {"id": job_id, "name": "probe", "initiator": initiator,
           "dag": dag(initiator, victim),
           "sites": {f"guest:{initiator}": initiator, f"host:{victim}": victim},
           "selection": {}, "timeout_s": 60.0, "rerun_of": None}
    job.update(fields)
    return {"job": job}


def call(src: Node, dst: Node, method: str, payload: dict[str, Any]) -> dict[str, Any]:
    """``src`` calls ``method`` on ``dst``'s peer endpoint (gRPC, mutual TLS)."""
    return src.rt.peers.call_raw(dst.name, method, payload)
