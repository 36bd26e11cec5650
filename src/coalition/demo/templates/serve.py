"""After a template's job: publish, deploy and score through the nodes' model library and
serving, as each organisation's operators would (``coalition template run`` across nodes).

Every step is a call to a node's API (:class:`~coalition.client.NodeClient`): publish
(``POST /models``), online sources (``POST /online-sources``), deploy (``POST /services``),
score (``POST /services/{name}/predict``). The one local step is what an operator does on
their own node's disk: read its own stored task outputs (:func:`own_output`), e.g. the telco's
fitted encoding to prepare its scoring table.

* ``joint_marketing`` — the car maker has no record of the telco's non-customers, so the
  model it scores them with (``prospect_model`` in the DAG) was trained on the telco's columns
  only. The telco keys its non-customers (subscribers outside the PSI intersection) by
  campaign tokens (HMAC-SHA256 of the phone under a key only the telco holds), serves their
  encoded rows as an online source, and hands the car maker the tokens; the car maker calls
  its deployed service with an empty row of its own per token and gets a score per token.
  The car maker learns tokens and scores (and, as in all SecureBoost serving, which side of
  each telco split a token falls), never a phone number or a telco value; the telco learns
  which of its tokens were scored, never a score (it gets the top decile back to run the
  campaign). The lift is read against the generator's truth.
* ``credit_scorecard`` — the scorecard is published and deployed with both parties' raw
  tables as online sources; a few applicants are scored online and their points compared
  with the job's batch points for the same rows.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from coalition.components.artifacts import Artifact, Dataset
from coalition.core.errors import InputError, NotFoundError
from coalition.demo.cluster import Cluster
from coalition.engine.store import ArtifactStore

__all__ = ["AFTER", "Deployment", "lift_top_decile", "own_output"]

Say = Callable[[str], None]
_CHUNK = 1000  # IDs per predict call (the route's maximum)


@dataclass(frozen=True)
class Deployment:
    """What the after-step needs: the nodes, the finished job, the files and dataset names."""

    nodes: Cluster
    job_id: str
    files: dict[str, Path]
    datasets: dict[str, str]  # organisation -> its registered table's name
    tell: Say


def own_output(home: Path, party: str, task: str, output: str) -> Artifact:
    """The newest stored ``output`` of ``task`` in a node's own artifact store
    (``home/artifacts/<role>-<org>/``): what that node's operator reads from its own disk."""
    root = home / "artifacts" / party
    manifests = sorted((root / task).glob("*/manifest.json"), key=lambda p: p.stat().st_mtime)
    if not manifests:
        raise NotFoundError("no stored output of the task on this node", task=task)
    return ArtifactStore(root).load(task, manifests[-1].parent.name, output)


def lift_top_decile(scores: np.ndarray[Any, Any], outcome: np.ndarray[Any, Any]) -> float:
    """Outcome rate among the top 10 % of scores over the overall rate."""
    if len(scores) < 10 or not outcome.any():
        raise InputError("too few scored rows or no positive outcome for a lift")
    top = np.argsort(-scores, kind="stable")[: max(1, len(scores) // 10)]
    return float(outcome[top].mean() / outcome.mean())


def _dataset(artifact: Artifact) -> Dataset:
    if not isinstance(artifact, Dataset):
        raise InputError("the stored output is not a dataset")
    return artifact


def _campaign_tokens(phones: list[str]) -> list[str]:
    """The telco's pseudonyms for the car maker: HMAC-SHA256 (RFC 2104) under a fresh key
    that never leaves this function's caller (the telco)."""
    key = secrets.token_bytes(32)
    return [hmac.new(key, p.encode(), hashlib.sha256).hexdigest()[:32] for p in phones]


def score_prospects(dep: Deployment) -> dict[str, Any]:
    """joint_marketing: publish and deploy the prospect model, score the telco's
    non-customers through the service, report their count and the top-decile lift."""
    nodes, tell = dep.nodes, dep.tell
    telco, carmaker = nodes["telco"], nodes["carmaker"]
    # The telco: its non-customers are its subscribers outside the PSI intersection.
    shared = set(_dataset(own_output(telco.home, "host-telco", "align", "data")).ids())
    raw = pd.read_csv(dep.files["telco"], dtype={"phone": str})
    outside = raw[~raw["phone"].isin(shared)].reset_index(drop=True)
    # Raw columns: the telco's model part carries its fitted encoding and selection, which
    # serving applies (its preprocessing chain), as for any served model.
    tokens = _campaign_tokens(outside["phone"].tolist())
    table = outside.drop(columns=["phone"])
    table.insert(0, "token", tokens)
    path = dep.files["telco"].parent / "telco_prospects.csv"
    table.to_csv(path, index=False)
    nodes.register_dataset("telco", "prospects", path, id_column="token")
    nodes.grant("telco", "prospects", to="carmaker", kinds=["predict"])
    with telco.client() as api:
        api.add_online_source("prospects_online", "prospects")
    tell(f"telco: {len(table)} non-customers as campaign tokens, served to carmaker's "
         "scoring (predict grant)")
    # The car maker: publish, deploy, score the tokens with no row of its own.
    with carmaker.client(timeout=300) as api:
        model = api.publish_model({"name": "joint_marketing_prospects",
                                   "source": {"job_id": dep.job_id, "task": "prospect_model"}})
        api.deploy_service({"name": "prospects", "model": model["name"],
                            "version": model["version"],
                            "hosts": {"telco": "prospects_online"}})
        scores: list[float] = []
        for start in range(0, len(tokens), _CHUNK):
            chunk = tokens[start:start + _CHUNK]
            no_row: list[list[float]] = [[] for _ in chunk]  # it holds nothing on them
            answer = api.predict("prospects", chunk, features=no_row)
            scores += [float(s) for s in answer["scores"]]
    tell(f"carmaker: published {model['name']} v{model['version']}, deployed 'prospects', "
         f"scored {len(scores)} tokens")
    # The campaign's outcome: who of them buys (the generator's truth, by the telco's map).
    truth = pd.read_csv(dep.files["dag"].parent / "expected_prospects.csv",
                        dtype={"phone": str}).set_index("phone")["bought"]
    bought = truth.reindex(outside["phone"]).to_numpy(dtype=np.float64)
    return {"model": model["name"], "version": int(model["version"]), "service": "prospects",
            "prospects_scored": len(scores),
            "prospect_lift_top_decile": lift_top_decile(np.array(scores), bought)}


def serve_scorecard(dep: Deployment) -> dict[str, Any]:
    """credit_scorecard: publish and deploy the scorecard, score a few applicants online and
    compare their points with the job's batch points for the same rows."""
    nodes, tell = dep.nodes, dep.tell
    bank, telco = nodes["bank"], nodes["telco"]
    with telco.client() as api:
        api.add_online_source("scorecard_online", dep.datasets["telco"])
    batch = _dataset(own_output(bank.home, "guest-bank", "card_predict", "predictions")).frame
    with bank.client(timeout=300) as api:
        api.add_online_source("scorecard_online", dep.datasets["bank"])
        model = api.publish_model({"name": "credit_scorecard",
                                   "source": {"job_id": dep.job_id, "task": "card"}})
        api.deploy_service({"name": "scorecard", "model": model["name"],
                            "version": model["version"], "source": "scorecard_online",
                            "hosts": {"telco": "scorecard_online"}})
        ids = [str(i) for i in batch.iloc[:5, 0]]
        answer = api.predict("scorecard", ids)
    online = [float(s) for s in answer["scores"]]
    offline = [float(s) for s in batch["points"].iloc[:5]]
    tell(f"bank: published {model['name']} v{model['version']}, deployed 'scorecard'; "
         + ", ".join(f"{i}: {p:.1f} points" for i, p in zip(ids, online, strict=True)))
    return {"model": model["name"], "version": int(model["version"]), "service": "scorecard",
            "applicants": [{"id": i, "points": p, "batch_points": b}
                           for i, p, b in zip(ids, online, offline, strict=True)],
            "max_points_difference": max(abs(p - b) for p, b in zip(online, offline,
                                                                   strict=True))}


#: Per template, what its operators do once the job succeeded (nodes only).
AFTER: dict[str, Callable[[Deployment], dict[str, Any]]] = {
    "joint_marketing": score_prospects,
    "credit_scorecard": serve_scorecard,
}
