"""Each data party's contribution to a finished job: :func:`measure` dispatches to
:func:`horizontal` (the aggregator's report) or :func:`vertical` (the label holder).

**Horizontal** (``homo_lr``/``homo_nn`` with ``contribution_group_size`` and the arbiter's
``validate_data``): the aggregator measured GTG-Shapley and leave-one-out from the round
updates during training (:mod:`coalition.protocols.horizontal.contribution`, which states what
SecAgg groups reveal) and stored them as its ``contributions`` report; the arbiter's node maps
the clients (groups) to organisations and writes the scores with the digests of their inputs
to the federation log.

**Vertical**: each data party's contribution, measured by its label holder: from the job's
``hetero_lr_contribution`` task when it has one (exact Shapley for up to six parties,
``hetero_lr`` retrained on every coalition of hosts), otherwise as below (one host).

Party-level Shapley values (:func:`coalition.protocols.contribution.exact_shapley`) over the
job's data parties, with the utility ``v(S)`` = the test AUC of the best model coalition ``S``
can train:

* ``v(N)``: the federated model's AUC as the job's ``evaluate`` task measured it;
* ``v({label holder})``: the label holder *retrains* the same model family (gradient-boosted
  trees for SecureBoost, logistic regression for hetero LR) on its own features of the job's
  training split and scores it on the job's test split — nothing leaves its node;
* a coalition without the label holder has no labels, so it trains no model:
  ``v(S) = v(∅) = 0.5`` (the AUC of a constant score).

Cost: one local retraining, no extra federated round. With one host this is exact; with more
hosts the coalitions of the label holder and some hosts would need a federated retraining per
coalition (``2^(n-1)`` jobs), which is not built, so such jobs are refused. Who learns what:
the scores and the hashes of the split's IDs go to the federation log; no partner data is read.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from coalition.core.errors import ConflictError, InputError
from coalition.crypto.suite import CryptoSuite, digest_alg, hexdigest
from coalition.node.data import reading
from coalition.node.data.datasets import get_dataset
from coalition.node.jobs import repository as repo
from coalition.node.jobs.derived import derived_name
from coalition.node.jobs.records import job_operator
from coalition.node.jobs.reports import local_reports
from coalition.node.ledger import service as ledger
from coalition.node.runtime import NodeRuntime
from coalition.protocols.contribution import exact_shapley, leave_one_out

__all__ = ["NO_MODEL_AUC", "horizontal", "measure", "vertical"]

NO_MODEL_AUC = 0.5


def _guest(job: Any, me: str) -> str:
    guests = [f"guest:{g}" for g in job.dag.get("parties", {}).get("guest", [])]
    mine = [g for g in guests if job.sites.get(g) == me]
    if not mine:
        raise ConflictError("contributions are measured by the label holder (the guest's node)",
                            id=job.id)
    return mine[0]


def _task_of(tasks: dict[str, Any], name: str, output_of: str) -> str | None:
    """The task whose output feeds ``name``'s input ``output_of`` (``task.output``)."""
    ref = tasks.get(name, {}).get("inputs", {}).get(output_of)
    return None if not isinstance(ref, str) else ref.partition(".")[0]


def _frame(db: Any, name: str) -> tuple[pd.DataFrame, str, str]:
    dataset = get_dataset(db, name)
    frame = reading.load_frame(dataset.kind, dataset.location, dataset.table, dataset.id_column)
    if not dataset.label_column:
        raise InputError("the training split here has no label column")
    return frame, dataset.id_column, dataset.label_column


def _ids_hash(frame: pd.DataFrame, id_column: str, suite: CryptoSuite) -> str:
    """The suite's hash (SHA-256, or SM3 under ``sm``) of the sorted IDs of a split."""
    ids = sorted(frame[id_column].astype(str))
    return hexdigest("".join(f"{i}\n" for i in ids).encode(), suite)


def _local_auc(component: str, params: dict[str, Any], train: pd.DataFrame,
               test: pd.DataFrame, *, id_column: str, label: str) -> float:
    # scikit-learn only when a contribution is measured: the node starts without loading it
    from sklearn.ensemble import HistGradientBoostingClassifier  # noqa: PLC0415
    from sklearn.linear_model import LogisticRegression  # noqa: PLC0415
    from sklearn.metrics import roc_auc_score  # noqa: PLC0415
    from sklearn.pipeline import make_pipeline  # noqa: PLC0415
    from sklearn.preprocessing import StandardScaler  # noqa: PLC0415

    features = [c for c in train.columns
                if c not in (id_column, label) and pd.api.types.is_numeric_dtype(train[c])]
    if not features:
        return NO_MODEL_AUC
    x, y = train[features].to_numpy(np.float64), train[label].to_numpy()
    if component == "hetero_secureboost":
        model: Any = HistGradientBoostingClassifier(
            max_iter=int(params.get("num_trees", 5)), max_depth=int(params.get("max_depth", 3)),
            learning_rate=float(params.get("learning_rate", 0.3)))
    else:
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=200))
    model.fit(x, y)
    scores = model.predict_proba(test[features].to_numpy(np.float64))[:, 1]
    return float(roc_auc_score(test[label].to_numpy(), scores))


def _horizontal_report(rt: NodeRuntime, job_id: str,
                       task: str | None) -> tuple[str, str, dict[str, Any]] | None:
    for report in local_reports(rt, job_id):
        if report.output == "contributions" and report.party.startswith("arbiter") and \
                (task is None or report.task == task) and "gtg" in report.content:
            return report.task, report.party, report.content
    return None


def horizontal(rt: NodeRuntime, job_id: str, *, task: str | None = None) -> dict[str, Any]:
    """The aggregator's GTG-Shapley and leave-one-out of a finished horizontal job, by
    organisation (or contribution group of organisations), written to the federation log as
    ``contribution.scores``."""
    job = repo.read(rt, lambda db: repo.get_job(db, job_id))
    if job.state != "succeeded":
        raise ConflictError("contributions are measured on a succeeded job", state=job.state)
    found = _horizontal_report(rt, job_id, task)
    if found is None:
        raise InputError("no contribution report of a horizontal task is stored here (the "
                         "aggregator's node measures it)", task=task)
    name, party, report = found

    def org(member: str) -> str:
        return str(job.sites.get(member, member))

    groups = {g: [org(m) for m in members] for g, members in report["groups"].items()}
    # one client per player: name it by its organisation; a group keeps its name
    label = {g: members[0] if len(members) == 1 else g for g, members in groups.items()}
    result = {
        "job": job_id, "method": report["method"], "utility": report["utility"],
        "model_task": name, "evaluate_task": name, "aggregator": party,
        "scores": {label[g]: float(v) for g, v in report["gtg"].items()},
        "leave_one_out": {label[g]: float(v) for g, v in report["leave_one_out"].items()},
        "groups": {label[g]: members for g, members in groups.items()},
        "rounds_measured": report["rounds_measured"],
        "rounds_skipped": report["rounds_skipped"],
        "inputs": report["inputs"],
        "cost": "per measured round up to 2^n sub-model evaluations on the aggregator's "
                "validation rows (GTG-Shapley's truncated sampling uses far fewer); no "
                "federated round",
    }
    ledger.record(rt, job_operator(job), "contribution.scores", result, job_id=job_id)
    return result


def measure(rt: NodeRuntime, job_id: str, *, task: str | None = None) -> dict[str, Any]:
    """Horizontal when this node's aggregator stored a contribution report, else vertical."""
    if _horizontal_report(rt, job_id, task) is not None:
        return horizontal(rt, job_id, task=task)
    return vertical(rt, job_id, task=task)


def _shapley_report(rt: NodeRuntime, job: Any,
                    task: str | None) -> tuple[str, dict[str, Any]] | None:
    """The guest's ``hetero_lr_contribution`` report stored here, if any."""
    tasks: dict[str, Any] = job.dag.get("tasks", {})
    for report in local_reports(rt, job.id):
        if report.output == "contributions" and report.party.startswith("guest") and \
                tasks.get(report.task, {}).get("component") == "hetero_lr_contribution" and \
                (task is None or report.task == task):
            return report.task, report.content
    return None


def _from_shapley_task(rt: NodeRuntime, job: Any, name: str,
                       report: dict[str, Any]) -> dict[str, Any]:
    def org(party: str) -> str:
        return str(job.sites.get(party, party))

    result = {
        "job": job.id, "method": report["method"], "utility": report["utility"],
        "model_task": name, "evaluate_task": name,
        "scores": {org(p): float(v) for p, v in report["scores"].items()},
        "leave_one_out": {org(p): float(v) for p, v in report["leave_one_out"].items()},
        "values": {"+".join(org(p) for p in k.split("+")) if k != "guest_alone" else
                   "guest_alone": v for k, v in report["values"].items()},
        "inputs": report.get("inputs", {}), "cost": report["cost"],
    }
    ledger.record(rt, job_operator(job), "contribution.scores", result, job_id=job.id)
    return result


def vertical(rt: NodeRuntime, job_id: str, *, task: str | None = None) -> dict[str, Any]:
    """Party-level Shapley and leave-one-out of a finished vertical job (see the module
    docstring); the scores are written to the federation log as ``contribution.scores``."""
    job = repo.read(rt, lambda db: repo.get_job(db, job_id))
    if job.state != "succeeded":
        raise ConflictError("contributions are measured on a succeeded job", state=job.state)
    guest = _guest(job, rt.name)
    found = _shapley_report(rt, job, task)
    if found is not None:  # exact Shapley over every coalition, retrained in the job
        return _from_shapley_task(rt, job, *found)
    tasks: dict[str, Any] = job.dag.get("tasks", {})
    hosts = [f"host:{h}" for h in job.dag.get("parties", {}).get("host", [])]
    if len(hosts) != 1:
        raise InputError("with several hosts, add a hetero_lr_contribution task to the job "
                         "(exact Shapley, retrained per coalition; docs/ledger.md)",
                         hosts=len(hosts))
    aucs: dict[str, float] = {}
    for m in repo.read(rt, lambda db: repo.metrics(db, job_id)):
        if m.name == "auc" and m.party == guest and \
                tasks.get(m.task, {}).get("component") == "evaluate":
            aucs[m.task] = m.value
    if task is not None:
        aucs = {k: v for k, v in aucs.items() if k == task}
    if not aucs:
        raise InputError("the job has no evaluated AUC here to measure against", task=task)
    evaluated = max(aucs, key=lambda k: aucs[k])
    predict = _task_of(tasks, evaluated, "data")
    model_task = _task_of(tasks, predict or "", "model")
    split = _task_of(tasks, model_task or "", "train_data")
    if predict is None or model_task is None or split is None:
        raise InputError("cannot trace the evaluated model back to its training split")
    component = str(tasks[model_task].get("component"))

    def load(db: Any) -> tuple[pd.DataFrame, pd.DataFrame, str, str]:
        key = repo.get_task(db, job_id, split).keys.get(guest)
        if key is None:
            raise InputError("the training split of this job is not stored here")
        train, id_column, label = _frame(db, derived_name(split, "train", key))
        test, _, _ = _frame(db, derived_name(split, "test", key))
        return train, test, id_column, label

    train, test, id_column, label = repo.read(rt, load)
    own = _local_auc(component, dict(tasks[model_task].get("parameters") or {}), train, test,
                     id_column=id_column, label=label)
    values = {frozenset(): NO_MODEL_AUC, frozenset({guest}): own,
              frozenset(hosts): NO_MODEL_AUC, frozenset({guest, *hosts}): aucs[evaluated]}
    players = [guest, *hosts]
    shapley = exact_shapley(players, values.__getitem__)
    loo = leave_one_out(players, values.__getitem__)
    orgs = {p: job.sites[p] for p in players}
    suite = rt.settings.crypto_suite
    alg = digest_alg(suite)
    result = {
        "job": job_id, "method": "vertical.party_shapley", "utility": "auc",
        "model_task": model_task, "evaluate_task": evaluated, "component": component,
        "scores": {orgs[p]: shapley[p] for p in players},
        "leave_one_out": {orgs[p]: loo[p] for p in players},
        "values": {"none": NO_MODEL_AUC, orgs[guest]: own, orgs[hosts[0]]: NO_MODEL_AUC,
                   "all": aucs[evaluated]},
        "inputs": {"train_ids_sha256": _ids_hash(train, id_column, suite),
                   "test_ids_sha256": _ids_hash(test, id_column, suite),
                   "train_rows": len(train), "test_rows": len(test),
                   # standard entries keep their exact bytes; sm records its hash
                   **({} if alg == "sha256" else {"digest_alg": alg})},
        "cost": "one local retraining at the label holder (2^n coalitions, n = 2)",
    }
    ledger.record(rt, job_operator(job), "contribution.scores", result, job_id=job_id)
    return result
