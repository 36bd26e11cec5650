"""What a job writes to the federation log (:mod:`coalition.node.ledger`), at the points the
job passes: its DAG hash and parties at submission, each organisation's consent decision and
the manifests of the datasets it reads (schema hash and row count, never values) at proposal,
the final metrics and a co-signed head at the end (the digests of each model update are
:mod:`.update_log`'s). The log is the initiator's.

Also the job stop: a node refuses a new job with an organisation it holds an unacknowledged
ledger alert about (:func:`coalition.node.ledger.store.refuse_if_alerted`).
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from sqlalchemy.orm import Session

from coalition.core.errors import CoalitionError
from coalition.engine.validate import JobGraph
from coalition.node.data.datasets import get_dataset
from coalition.node.jobs import repository as repo
from coalition.node.jobs.consent import required_uses
from coalition.node.jobs.tables import JobRow
from coalition.node.ledger import service as ledger
from coalition.node.ledger.operator import operator_of
from coalition.node.ledger.store import refuse_if_alerted
from coalition.node.runtime import NodeRuntime

__all__ = ["job_operator", "on_finish", "on_proposal", "on_submit", "refuse_if_alerted",
           "schema_hash"]

log = logging.getLogger(__name__)


def schema_hash(columns: list[dict[str, Any]]) -> str:
    """SHA-256 of a dataset's column list (names and types) as canonical JSON."""
    body = json.dumps(columns, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(body.encode()).hexdigest()


def job_operator(job: JobRow) -> str:
    """The organisation operating the log this job's records go to (its DAG says whose)."""
    return operator_of(job.dag, job.sites, job.initiator)


def on_submit(rt: NodeRuntime, job_id: str, graph: JobGraph, sites: dict[str, str]) -> None:
    """``job.dag``: the DAG hash, the parties and where they run, and the log's operator."""
    operator = operator_of(graph.spec.to_document(), sites, rt.name)
    ledger.record(rt, operator, "job.dag", {
        "job": job_id, "name": graph.name, "dag_sha256": graph.digest(), "parties": sites,
        "orgs": sorted(set(sites.values())), "operator": operator}, job_id=job_id)


def _manifests(db: Session, graph: JobGraph, sites: dict[str, str],
               org: str) -> list[dict[str, Any]]:
    out = []
    for name in sorted(required_uses(graph, sites, org)):
        try:
            dataset = get_dataset(db, name)
        except CoalitionError:
            continue  # an unknown dataset fails the job elsewhere; nothing to record
        out.append({"dataset": name, "schema_sha256": schema_hash(dataset.columns),
                    "rows": dataset.row_count})
    return out


def on_proposal(rt: NodeRuntime, initiator: str, job_id: str, graph: JobGraph, *,
                sites: dict[str, str], status: str) -> None:
    """``consent.decision`` of this organisation, ``dataset.manifest`` per dataset it reads."""
    operator = operator_of(graph.spec.to_document(), sites, initiator)
    ledger.record(rt, operator, "consent.decision",
                  {"job": job_id, "org": rt.name, "status": status}, job_id=job_id)
    if status != "accepted":
        return
    with rt.db.session() as db:
        manifests = _manifests(db, graph, sites, rt.name)
    for manifest in manifests:
        ledger.record(rt, operator, "dataset.manifest",
                      {"job": job_id, "org": rt.name, **manifest}, job_id=job_id)


def on_finish(rt: NodeRuntime, job: JobRow) -> None:
    """``job.metrics`` (the last value of each task/party/metric), then a co-signed head."""
    def last_values(db: Session) -> dict[str, float]:
        values: dict[str, float] = {}
        for m in repo.metrics(db, job.id):
            values[f"{m.task}/{m.party}/{m.name}"] = m.value
        return values

    try:
        values = repo.read(rt, last_values)
        operator = job_operator(job)
        ledger.record(rt, operator, "job.metrics", {"job": job.id, "metrics": values},
                      job_id=job.id)
        if operator != rt.name:  # the arbiter's node checkpoints its log (ledger sync)
            return
        result = ledger.sync(rt, sorted(set(job.sites.values())))
        if result["problems"]:
            log.warning("federation log head %d: %s", result["size"], result["problems"])
    except CoalitionError as exc:
        log.warning("could not checkpoint the federation log after job %s: %s", job.id, exc)
