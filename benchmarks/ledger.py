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
* ``contribution.hfl.gtg`` — seconds for GTG-Shapley over a demo-sized horizontal job (4
  clients, one a noise free-rider, 5 rounds); anchor: exact per-round Shapley (all ``2^n``
  sub-models), same run. The free-rider's score is in params.
* ``contribution.vfl.shapley`` — seconds for exact party-level Shapley (bank, telco, a
  random-feature free-rider) by retraining a logistic regression per coalition; no anchor.
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
from coalition.protocols.contribution import RoundUpdates, exact_shapley, gtg_shapley


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


def bench_gtg() -> None:
    rng = np.random.default_rng(1)
    w_true = rng.normal(size=20)
    x_val = rng.normal(size=(500, 20))
    y_val = x_val @ w_true
    model, rounds = np.zeros(20), []
    for _ in range(5):
        updates = {}
        for c in ("c1", "c2", "c3"):
            x = rng.normal(size=(300, 20))
            y = x @ w_true + rng.normal(scale=0.1, size=300)
            local = model.copy()
            for _ in range(5):
                local -= 0.1 * x.T @ (x @ local - y) / 300
            updates[c] = local - model
        updates["rider"] = rng.normal(scale=0.01, size=20)
        rnd = RoundUpdates(model, updates, {**dict.fromkeys(updates, 300.0), "rider": 10.0})
        rounds.append(rnd)
        model = rnd.submodel(frozenset(updates))

    def utility(w: np.ndarray) -> float:
        return -float(np.mean((x_val @ w - y_val) ** 2))

    scores: dict[str, float] = {}

    def gtg() -> None:
        scores.update(gtg_shapley(rounds, utility, eps=1e-4))

    def exact() -> None:
        for r in rounds:
            exact_shapley(sorted(r.updates), lambda s, r=r: utility(r.submodel(s)))

    ours, anchor = median_time(gtg), median_time(exact)
    emit("contribution.hfl.gtg", unit="s", ours=round(ours, 4), anchor="exact per-round Shapley, same run",
         anchor_value=round(anchor, 4), higher_is_better=False,
         params={"clients": 4, "rounds": 5, "scores": {k: round(v, 3) for k, v in scores.items()},
                 "free_rider": round(scores["rider"], 4)})


def bench_vfl() -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(2)
    n = 2000
    groups = {"bank": rng.normal(size=(n, 6)), "telco": rng.normal(size=(n, 4)), "rider": rng.normal(size=(n, 5))}
    logit = groups["bank"] @ rng.normal(size=6) + groups["telco"] @ rng.normal(size=4)
    y = (logit + rng.normal(size=n) > 0).astype(int)
    train, val = slice(0, 1500), slice(1500, n)

    def value(s: frozenset[str]) -> float:
        if not s:
            return 0.5
        x = np.hstack([groups[p] for p in sorted(s)])
        model = LogisticRegression(max_iter=200).fit(x[train], y[train])
        return float(roc_auc_score(y[val], model.predict_proba(x[val])[:, 1]))

    scores: dict[str, float] = {}
    t0 = time.perf_counter()
    scores.update(exact_shapley(["bank", "telco", "rider"], value))
    emit("contribution.vfl.shapley", unit="s", ours=round(time.perf_counter() - t0, 4), anchor="none",
         anchor_value=None, higher_is_better=False,
         params={"parties": 3, "coalitions": 8, "rows": n, "utility": "validation AUC, retrained LR",
                 "scores": {k: round(v, 4) for k, v in scores.items()}, "free_rider": round(scores["rider"], 4)})


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
