"""``coalition demo``: three organisations, three node processes, one job over the network.

A bank (guest: labels + its own features), a telco (host: its own features) and a car maker
(arbiter: deals Beaver triples for the secret-shared LR; sees no data) each run a node on
loopback with their own SQLite database, certificates and data folder. The demo generates the
bank's and the telco's customer tables in code, registers them on their owners' nodes, has the
telco grant the bank's job the components it needs, submits the credit-risk DAG at the bank
(PSI → split → SecureBoost and SS-LR → predict → evaluate) and follows it to the end. Every
party runs in a worker process of its own node; parties talk over gRPC with mutual TLS.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coalition.client import NodeClient
from coalition.core.errors import PeerError
from coalition.demo.cluster import Cluster, start_cluster
from coalition.engine.synthetic import make_credit_scenario

__all__ = ["GRANTED", "ORGS", "NetworkDemo", "credit_dag", "demo_nodes", "network_demo"]

ORGS = ("bank", "telco", "carmaker")
GRANTED = ["psi", "data_split", "hetero_secureboost", "hetero_lr", "predict"]
_FINAL = {"succeeded", "failed", "cancelled"}
Say = Callable[[str, str], None]


def credit_dag(trees: int, key_bits: int) -> dict[str, Any]:
    """The credit-risk job; the same pipeline as ``examples/jobs/credit_risk.yaml``. It names no
    crypto suite: the initiator's node fills the federation's into every task that takes one
    (under ``sm``: PSI on SM2/SM3, the split's draw and SS-LR's shares on HKDF-SM3/SM4-CTR,
    SM3 alignment digests; :func:`coalition.engine.policy.fill_suite`)."""
    model_inputs = {"train_data": "split.train"}
    return {
        "version": 1, "name": "credit_risk_demo",
        "description": "PSI -> split -> SecureBoost + SS-LR -> predict -> evaluate",
        "parties": {"guest": ["bank"], "host": ["telco"], "arbiter": ["carmaker"]},
        "tasks": {
            "read": {"component": "reader", "parameters": {"id_column": "phone"},
                     "role_parameters": {"guest": {"label_column": "default"}},
                     "party_parameters": {"guest:bank": {"path": "bank_customers"},
                                          "host:telco": {"path": "telco_subscribers"}}},
            "align": {"component": "psi", "inputs": {"data": "read.data"}},
            "split": {"component": "data_split", "inputs": {"data": "align.data"},
                      "parameters": {"test_size": 0.3, "stratified": True}},
            "secureboost": {"component": "hetero_secureboost", "inputs": model_inputs,
                            "parameters": {"num_trees": trees, "max_depth": 3,
                                           "learning_rate": 0.3, "key_bits": key_bits}},
            "lr": {"component": "hetero_lr", "inputs": model_inputs,
                   "parameters": {"protocol": "ss", "epochs": 10, "batch_size": 256,
                                  "optimizer": "momentum", "learning_rate": 0.15}},
            "secureboost_predict": {"component": "predict", "inputs": {
                "model": "secureboost.model", "data": "split.test"}},
            "lr_predict": {"component": "predict", "inputs": {"model": "lr.model",
                                                               "data": "split.test"}},
            "secureboost_evaluate": {"component": "evaluate", "parameters": {"task": "binary"},
                                     "inputs": {"data": "secureboost_predict.predictions"}},
            "lr_evaluate": {"component": "evaluate", "parameters": {"task": "binary"},
                            "inputs": {"data": "lr_predict.predictions"}},
        },
    }


@dataclass
class NetworkDemo:
    """What the demo did: node URLs, the job's final state, metrics by task."""

    cluster: Cluster
    job_id: str = ""
    state: str = ""
    error: str = ""
    seconds: float = 0.0
    tasks: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    ledger: dict[str, Any] = field(default_factory=dict)
    contributions: dict[str, float] = field(default_factory=dict)

    @property
    def urls(self) -> dict[str, str]:
        """Each organisation's API base URL."""
        return {name: self.cluster[name].url for name in ORGS}


@contextmanager
def demo_nodes(root: Path, *, customers: int = 4000, say: Say | None = None,
               suite: str = "standard") -> Iterator[Cluster]:
    """The demo's federation, ready for a job (from the CLI, the console or a test): generated
    tables, the three nodes started and partnered under ``root``, each table registered on its
    owner's node and the telco's grant of :data:`GRANTED` to the bank's jobs approved. The
    nodes stop when the ``with`` block ends."""
    tell: Say = say or (lambda _stage, _msg: None)
    data = root / "data"
    data.mkdir(parents=True, exist_ok=True)
    scenario = make_credit_scenario(customers, customers * 5 // 4, customers * 3 // 4)
    scenario.bank.to_csv(data / "bank.csv", index=False)
    scenario.telco.to_csv(data / "telco.csv", index=False)
    tell("data", f"bank: {len(scenario.bank):,} customers with labels; "
                 f"telco: {len(scenario.telco):,} subscribers (generated)")
    tell("nodes", f"starting {', '.join(ORGS)} as separate node processes on loopback")
    with start_cluster(root / "nodes", ORGS, data_dirs=[data], fast_password_hashing=True,
                       settings={"crypto_suite": suite}) as cluster:
        for name in ORGS:
            tell("nodes", f"{name:>9}: {cluster[name].url}")
        cluster.register_dataset("bank", "bank_customers", data / "bank.csv",
                                 id_column="phone", label_column="default")
        cluster.register_dataset("telco", "telco_subscribers", data / "telco.csv",
                                 id_column="phone")
        cluster.grant("telco", "telco_subscribers", to="bank", kinds=GRANTED)
        tell("grants", "telco granted the bank's jobs: " + ", ".join(GRANTED))
        yield cluster


@contextmanager
def network_demo(root: Path, *, customers: int = 4000, trees: int = 5, key_bits: int = 2048,
                 say: Say | None = None, timeout_s: float = 1800.0,
                 suite: str = "standard") -> Iterator[NetworkDemo]:
    """Start the three nodes under ``root`` (:func:`demo_nodes`), run the job, yield the
    result; the nodes stop when the ``with`` block ends. ``suite`` is the federation's crypto
    suite: every node is configured for it and the job's PSI runs under it."""
    tell: Say = say or (lambda _stage, _msg: None)
    with demo_nodes(root, customers=customers, say=say, suite=suite) as cluster:
        demo = NetworkDemo(cluster)
        _run_job(demo, credit_dag(trees, key_bits), tell, timeout_s)
        if demo.state == "succeeded":
            _ledger(demo, tell)
        yield demo


def _run_job(demo: NetworkDemo, dag: dict[str, Any], tell: Say, timeout_s: float) -> None:
    with demo.cluster["bank"].client() as bank:
        _follow(demo, bank, dag, tell, timeout_s)


def _follow(demo: NetworkDemo, bank: NodeClient, dag: dict[str, Any], tell: Say,
            timeout_s: float) -> None:
    started = time.monotonic()
    job = bank.submit_job(dag, timeout_s=timeout_s, sites={"arbiter:carmaker": "carmaker"})
    demo.job_id = job["id"]
    tell("job", f"submitted {job['id']} at the bank; partners accept it under their grants")
    seen: dict[str, str] = {}
    while job["state"] not in _FINAL:
        if time.monotonic() - started > timeout_s + 120:
            raise PeerError("the demo job did not finish in time", job=demo.job_id)
        time.sleep(0.5)
        job = bank.get_job(demo.job_id)
        for task in job["tasks"]:
            if seen.get(task["name"]) != task["state"]:
                seen[task["name"]] = task["state"]
                if task["state"] in ("running", "succeeded", "failed", "reused"):
                    took = f" ({task['seconds']:.1f} s)" if task.get("seconds") else ""
                    tell("task", f"{task['name']:<21} {task['state']}{took}")
    demo.state, demo.error = job["state"], job.get("error", "")
    demo.seconds = time.monotonic() - started
    demo.tasks = {t["name"]: t["state"] for t in job["tasks"]}
    for m in bank.job_metrics(demo.job_id):
        demo.metrics.setdefault(m["task"], {})[m["name"]] = m["value"]



def _ledger(demo: NetworkDemo, tell: Say) -> None:
    """Contribution scores at the label holder (the bank), a co-signed head of the bank's
    federation log, and each node's own verification of the copy it holds."""
    with demo.cluster["bank"].client() as bank:
        scores = bank.job_contributions(demo.job_id)
        demo.contributions = {org: round(float(v), 6) for org, v in scores["scores"].items()}
        tell("contrib", "party-level Shapley (AUC): " + ", ".join(
            f"{org} {v:+.4f}" for org, v in demo.contributions.items()))
        head = bank.ledger_sync()
        kinds: dict[str, int] = {}
        for entry in bank.ledger_entries(limit=5000)["entries"]:
            kinds[f"{entry['kind']}:{entry['producer']}"] = \
                kinds.get(f"{entry['kind']}:{entry['producer']}", 0) + 1
    origin = head["origin"]
    verified: dict[str, bool] = {}
    held: dict[str, int] = {}
    for name in ORGS:
        with demo.cluster[name].client() as client:
            report = client.ledger_verify()
            logs = {x["origin"]: x for x in report["logs"]}
            verified[name] = bool(report["verified"]) and origin in logs
            held[name] = int(logs.get(origin, {}).get("size", 0))
    demo.ledger = {"origin": origin, "size": head["size"], "final": head["final"],
                   "cosigners": head["cosigners"], "verified": verified, "entries_held": held,
                   "kinds": dict(sorted(kinds.items()))}
    tell("ledger", f"{origin}: {head['size']} entries, co-signed by "
                   f"{', '.join(head['cosigners'])}; verified on "
                   f"{', '.join(n for n, ok in verified.items() if ok) or 'no node'}")
