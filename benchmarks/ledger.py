"""Federation ledger and contribution benchmark (issue 22), pure in-process figures.

    .venv/bin/python benchmarks/ledger.py --quick

Lines (names from the issue):

* ``ledger.append`` — entries/s: canonical JSON record, Ed25519 signature by the producing node,
  RFC 9162 leaf hash appended to the incremental tree; anchor: bare Ed25519 signing of the same bytes, same run (ratio < 1 is
  the overhead of the record and hash).
* ``ledger.inclusion_proof`` — µs to build (from the incremental tree) and verify one inclusion
  proof in a log of ``n`` entries; anchor: recomputing the root over all entries (what a verifier without proofs must
  do), same run.
* ``ledger.checkpoint_cosign`` — seconds for ``POST /ledger/checkpoints`` on three node
  processes (the bank operates, telco and carmaker witness over gRPC + mTLS): pull, sign a head
  over 20 new entries, two witnesses check it from their own records and co-sign; anchor: the
  signing and two co-signatures in one process without nodes, same log size, same run.
* ``contribution.hfl.gtg`` — seconds for a demo-sized horizontal job (``homo_lr``, 4 clients
  on FATE's default-credit rows, one a noise free-rider, 5 rounds) whose aggregator measures
  GTG-Shapley from the round updates it holds; anchor: the same job without the measurement,
  same run. The free-rider's score is in params.
* ``contribution.vfl.shapley`` — seconds for exact party-level Shapley of a vertical job (bank,
  telco, a random-feature free-rider): ``hetero_lr_contribution`` retrains ``hetero_lr`` on each
  coalition of hosts over the in-memory hub; no anchor.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emit, median_time

from coalition.crypto import merkle
from coalition.crypto.checkpoint import Checkpoint, Witness, count_cosignatures
from coalition.crypto.signing import SigningKey


def _record(i: int) -> bytes:
    entry = {"kind": "job.model_part", "job": f"job-{i:06d}", "part": "bank",
             "sha256": hashlib.sha256(b"%d" % i).hexdigest(), "round": i % 10}
    return json.dumps(entry, sort_keys=True, separators=(",", ":")).encode()


def bench_append(n: int) -> None:
    key = SigningKey.generate()
    records = [_record(i) for i in range(n)]

    def append() -> None:
        tree = merkle.MerkleTree()
        for r in records:
            sig = key.sign(r)
            tree.append(merkle.leaf_hash(r + sig))

    def sign_only() -> None:
        for r in records:
            key.sign(r)

    ours, anchor = n / median_time(append), n / median_time(sign_only)
    emit("ledger.append", unit="entries/s", ours=round(ours), anchor="Ed25519 sign only (PyNaCl), same run",
         anchor_value=round(anchor), higher_is_better=True, params={"entries": n})


def bench_inclusion(n: int) -> None:
    leaves = [merkle.leaf_hash(_record(i)) for i in range(n)]
    tree = merkle.MerkleTree(leaves)
    root = tree.root()
    index = n // 3

    def prove() -> None:
        proof = tree.inclusion_proof(index)
        merkle.verify_inclusion(leaves[index], index, n, proof, root)

    ours = median_time(prove, reps=5) * 1e6
    anchor = median_time(lambda: merkle.root_hash(leaves), reps=5) * 1e6
    emit("ledger.inclusion_proof", unit="us", ours=round(ours, 1),
         anchor="root recomputed over all entries, same run", anchor_value=round(anchor, 1),
         higher_is_better=False, params={"entries": n, "proof_hashes": len(merkle.inclusion_proof(leaves, index))})


def _cosign_in_process(n: int, witnesses: int) -> float:
    """Sign a head and have ``witnesses`` check consistency and co-sign, in one process."""
    operator = SigningKey.generate()
    keys = {f"w{i}": SigningKey.generate() for i in range(witnesses)}
    leaves = [merkle.leaf_hash(_record(i)) for i in range(n)]
    old = Checkpoint("bench", n // 2, merkle.root_hash(leaves[: n // 2]))

    def cosign() -> None:
        head = Checkpoint("bench", n, merkle.root_hash(leaves))
        sig = head.sign(operator)
        proof = merkle.consistency_proof(leaves, n // 2)
        cosigs = {name: Witness(k, operator.verify_key, "bench", old).cosign(head, sig, proof)
                  for name, k in keys.items()}
        valid = count_cosignatures(head, cosigs, {m: k.verify_key for m, k in keys.items()})
        assert valid == witnesses

    return median_time(cosign)


def bench_cosign(batch: int, reps: int) -> None:
    """Three node processes (bank operates, telco and carmaker witness over gRPC + mTLS):
    ``batch`` new entries, then ``POST /ledger/checkpoints`` — pull, sign, two co-signatures."""
    from coalition.demo.cluster import start_cluster
    from coalition.node.db.engine import Database
    from coalition.node.ledger import service
    from coalition.node.settings import NodeSettings

    n = batch * (reps + 1)
    anchor = _cosign_in_process(n, witnesses=2)
    with tempfile.TemporaryDirectory() as root, \
            start_cluster(Path(root), ("bank", "telco", "carmaker"),
                          fast_password_hashing=True) as cluster:
        # the operator's own record function on its database and key file, from this process
        # (only what record() reads: settings, name, database; no second audit seal)
        settings = NodeSettings.load(cluster["bank"].home)
        rt: Any = SimpleNamespace(settings=settings, name="bank", db=Database(settings.db_url))
        times: list[float] = []
        size = 0
        try:
            with cluster["bank"].client() as bank:
                for rep in range(reps + 1):
                    for i in range(batch):
                        service.record(rt, "bank", "job.metrics",
                                       {"job": f"bench-{rep}-{i}", "metrics": {"auc": 0.5}})
                    t0 = time.perf_counter()
                    head = bank.ledger_sync(["telco", "carmaker"])
                    if rep:  # the first sync pins keys and ships the whole log
                        times.append(time.perf_counter() - t0)
                    assert head["final"] and head["cosigners"] == ["carmaker", "telco"], head
                    size = head["size"]
        finally:
            rt.db.dispose()
    ours = sorted(times)[len(times) // 2]
    emit("ledger.checkpoint_cosign", unit="s", ours=round(ours, 4), anchor="sign + 2 witnesses in one process, same log size",
         anchor_value=round(anchor, 4),
         higher_is_better=False,
         params={"nodes": 3, "witnesses": 2, "new_entries_per_head": batch, "log_size": size,
                 "network": "node processes, REST + gRPC mTLS on loopback"})


_FATE = Path(__file__).resolve().parent.parent / "tests" / "data" / "fate"


def _run_component(cls: Any, params: dict[Any, dict[str, Any]],
                   inputs: dict[Any, dict[str, Any]]) -> dict[Any, dict[str, Any]]:
    """Every party of a real component on the in-memory hub (one thread per party)."""
    from coalition.components.base import Environment, TaskContext
    from coalition.testing import run_parties

    def role(party: Any) -> Any:
        def main(ctx: Any) -> dict[str, Any]:
            tctx = TaskContext(ctx, "t", cls.parse_params(params[party]), inputs.get(party, {}),
                               Environment())
            return dict(cls().run(tctx))
        return main

    return run_parties({p: role(p) for p in params}, timeout=600)


def _noise_rows(like: Any, rows: int, seed: int, label: bool) -> Any:
    """A free-rider's table: the shared IDs or columns filled with noise."""
    frame = like.head(rows).copy()
    rng = np.random.default_rng(seed)
    for column in frame.columns:
        if column not in ("id", "y"):
            frame[column] = rng.normal(size=rows)
    if label:
        frame["id"] = [f"rider-{i}" for i in range(rows)]
        frame["y"] = rng.integers(0, 2, rows)
    return frame


def bench_gtg() -> None:
    """A horizontal job (homo_lr, FATE's default-credit split over three clients plus a
    noise free-rider) with the aggregator measuring GTG-Shapley from its round updates;
    anchor: the same job without the measurement."""
    import pandas as pd

    from coalition.components import Dataset
    from coalition.components.homo import HomoLR
    from coalition.core import Party

    def load(name: str) -> Any:
        return pd.read_csv(_FATE / name, dtype={"id": str})

    guest = load("default_credit_homo_guest.csv")
    clients = {Party.guest("bank"): guest, Party.host("telco"): load("default_credit_homo_host_1.csv"),
               Party.host("shop"): load("default_credit_homo_host_2.csv"),
               Party.host("rider"): _noise_rows(guest, 2000, 1, label=True)}
    test = Dataset(load("default_credit_homo_test.csv"), "id", "y")
    aggregator = Party.arbiter("coordinator")
    base = {"rounds": 5, "learning_rate": 0.05, "batch_size": 64, "secure_aggregation": False}
    inputs: dict[Any, dict[str, Any]] = {p: {"train_data": Dataset(f, "id", "y")}
                                         for p, f in clients.items()}
    inputs[aggregator] = {"validate_data": test}
    report: dict[str, Any] = {}

    def job(measure: bool) -> None:
        params = {**base, **({"contribution_group_size": 1} if measure else {})}
        out = _run_component(HomoLR, dict.fromkeys([*clients, aggregator], params), inputs)
        if measure:
            report.update(out[aggregator]["contributions"].content)

    ours = median_time(lambda: job(True), reps=1, warmup=0)
    anchor = median_time(lambda: job(False), reps=1, warmup=0)
    scores = {k.split(":")[1]: round(v, 4) for k, v in report["gtg"].items()}
    emit("contribution.hfl.gtg", unit="s", ours=round(ours, 3),
         anchor="the same homo_lr job without contribution measurement, same run",
         anchor_value=round(anchor, 3), higher_is_better=False,
         params={"clients": 4, "rounds": 5, "rows_per_client": 8000, "rider_rows": 2000,
                 "utility": report["utility"], "validation_rows": len(test.frame),
                 "rounds_measured": report["rounds_measured"], "scores": scores,
                 "leave_one_out": {k.split(":")[1]: round(v, 4)
                                   for k, v in report["leave_one_out"].items()},
                 "free_rider": scores["rider"],
                 "wiring": "homo_lr aggregator, per-round updates, in-memory hub"})


def bench_vfl() -> None:
    """Exact party-level Shapley of a vertical job with two hosts (hetero_lr_contribution:
    hetero_lr retrained on each coalition of hosts, FATE's default-credit rows, the telco's
    columns real, a random-feature free-rider); no anchor (the retraining is the cost)."""
    import pandas as pd

    from coalition.components import Dataset
    from coalition.components.hetero_lr_contribution import HeteroLRContribution
    from coalition.core import Party

    rows, cut = 6000, 4000
    guest = pd.read_csv(_FATE / "default_credit_hetero_guest.csv", dtype={"id": str}).head(rows)
    host = pd.read_csv(_FATE / "default_credit_hetero_host.csv", dtype={"id": str}).head(rows)
    rider = _noise_rows(host, rows, 2, label=False)
    frames = {Party.guest("bank"): (guest, "y"), Party.host("telco"): (host, None),
              Party.host("rider"): (rider, None)}
    arbiter = Party.arbiter("coordinator")
    inputs: dict[Any, dict[str, Any]] = {
        p: {"train_data": Dataset(f.iloc[:cut].reset_index(drop=True), "id", y),
            "test_data": Dataset(f.iloc[cut:].reset_index(drop=True), "id", y)}
        for p, (f, y) in frames.items()}
    params = {"epochs": 3, "batch_size": 256, "optimizer": "momentum"}
    t0 = time.perf_counter()
    out = _run_component(HeteroLRContribution, dict.fromkeys([*frames, arbiter], params), inputs)
    seconds = time.perf_counter() - t0
    report = out[Party.guest("bank")]["contributions"].content
    scores = {k.split(":")[1]: round(v, 4) for k, v in report["scores"].items()}
    emit("contribution.vfl.shapley", unit="s", ours=round(seconds, 3), anchor="none",
         anchor_value=None, higher_is_better=False,
         params={"parties": 3, "coalitions": 8, "federated_trainings": 3, "rows": rows,
                 "train_rows": cut, "utility": "test AUC, hetero_lr (ss) retrained per coalition",
                 "values": {k: round(v, 4) for k, v in report["values"].items()},
                 "scores": scores, "free_rider": scores["rider"], "cost": report["cost"]})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n = 2_000 if args.quick else 20_000
    bench_append(n)
    bench_inclusion(n)
    bench_cosign(batch=20, reps=3 if args.quick else 10)
    bench_gtg()
    bench_vfl()


if __name__ == "__main__":
    main()
