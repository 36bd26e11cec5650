"""``model.update`` entries of the federation log (issue 22): when a local party's task ends,
the digest of each model update it produced — per round of a horizontal model (the global
model after the round and how many clients were in it), per tree of a SecureBoost part (the
guest's trees, a host's split thresholds of each tree) — signed by this node for the job
initiator's log. Digests and counts only, never weights or thresholds.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from coalition.components.artifacts import ArtifactKind, ModelPart
from coalition.core.errors import CoalitionError
from coalition.core.ids import Party
from coalition.crypto.suite import CryptoSuite, digest_alg, hexdigest
from coalition.engine.store import ArtifactStore
from coalition.node.jobs.tables import JobRow
from coalition.node.ledger import service as ledger
from coalition.node.ledger.operator import operator_of
from coalition.node.runtime import NodeRuntime

__all__ = ["on_task_done", "update_digests"]

log = logging.getLogger(__name__)


def _digest(value: Any, suite: CryptoSuite) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hexdigest(text.encode(), suite)


def _alg(alg: Any) -> dict[str, Any]:
    """``{"digest_alg": alg}`` when not SHA-256: standard entries keep their exact bytes."""
    return {} if alg in (None, "sha256") else {"digest_alg": str(alg)}


def update_digests(data: Any, suite: CryptoSuite | str = CryptoSuite.STANDARD
                   ) -> list[dict[str, Any]]:
    """Per-round digests of a horizontal model (the global model after each round, with how
    many clients were in it; hashed by the aggregator in the job's suite, which the round
    records) or per-tree digests of a SecureBoost part (the guest's trees, a host's split
    thresholds of each tree; hashed here with ``suite``'s hash: SHA-256, or SM3 under
    ``sm``); ``[]`` for any other model. A digest that is not SHA-256 names its hash
    (``digest_alg``)."""
    suite = CryptoSuite(suite)
    if not isinstance(data, dict):
        return []
    if isinstance(data.get("history"), list):  # horizontal: coalition.horizontal.model/1
        return [{"round": r["round"], "model_sha256": r["model_sha256"],
                 "participants": len(r.get("participants", [])), "applied": r.get("applied"),
                 **_alg(r.get("digest_alg"))}
                for r in data["history"]
                if isinstance(r, dict) and isinstance(r.get("model_sha256"), str)]
    tree_alg = _alg(digest_alg(suite))
    if isinstance(data.get("trees"), list):  # SecureBoost guest part
        return [{"tree": i, "tree_sha256": _digest(t, suite), **tree_alg}
                for i, t in enumerate(data["trees"])]
    if isinstance(data.get("splits"), list):  # SecureBoost host part: thresholds per tree
        trees: dict[int, list[Any]] = {}
        for split in data["splits"]:
            if isinstance(split, list | tuple) and split and isinstance(split[0], int):
                trees.setdefault(split[0], []).append(split)
        return [{"tree": t, "tree_sha256": _digest(trees[t], suite), **tree_alg}
                for t in sorted(trees)]
    return []


def on_task_done(rt: NodeRuntime, job: JobRow, task: str, party: Party, *,
                 store: ArtifactStore, key: str) -> None:
    """``model.update`` per round or tree of each model part ``party`` produced in ``task``
    (signed by this node, for the initiator's log); digests and counts only."""
    try:
        for name, entry in store.manifest(task, key).items():
            if entry.kind is not ArtifactKind.MODEL:
                continue
            part = store.load(task, key, name)
            if not isinstance(part, ModelPart):
                continue
            for digest in update_digests(part.data, rt.settings.crypto_suite):
                ledger.record(rt, operator_of(job.dag, job.sites, job.initiator), "model.update", {
                    "job": job.id, "task": task, "party": str(party), "component": part.component,
                    **digest}, job_id=job.id)
    except CoalitionError as exc:
        log.warning("could not record the model updates of %s/%s: %s", job.id, task, exc)
