"""Publishing a model version across nodes: the guest stores its part and asks each host to
store its own part of the same training task under the same name and version.

What a host learns: the model name, version, job/task, the guest's part digest and the
metadata the guest sends (parameters, metrics). What the guest learns: each host part's
digest (SHA-256, or SM3 in an ``sm`` federation, with its algorithm). No part ever leaves its
node.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from coalition.core.errors import CoalitionError
from coalition.node.jobs.tables import JobRow
from coalition.node.ledger import service as ledger
from coalition.node.ledger.operator import operator_of
from coalition.node.library import registry
from coalition.node.library.peer_methods import (
    MODEL_PART_DELETE,
    MODEL_PART_PUBLISH,
    GuestPart,
    PartDeleteRequest,
    PartPublishRequest,
)
from coalition.node.library.sources import PartSource, resolve_part
from coalition.node.library.tables import ModelVersionRow
from coalition.node.runtime import NodeRuntime

__all__ = ["PublishRequest", "delete_everywhere", "publish"]

log = logging.getLogger("coalition.node.library")


@dataclass(frozen=True)
class PublishRequest:
    """A version to publish: this node's source, each host's source, and metadata."""

    name: str
    source: PartSource
    hosts: dict[str, PartSource] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    protected: bool = True
    host_parties: dict[str, str] = field(default_factory=dict)  # org -> party name in the job


def publish(rt: NodeRuntime, actor: str, req: PublishRequest) -> ModelVersionRow:
    """Store every party's part of one version; all or nothing (hosts are rolled back)."""
    found = resolve_part(rt, req.source)
    part = found.part
    # What the job records (DAG hash, parameters, metrics) wins over what the caller typed.
    meta = {"job_id": req.source.job_id, "task": req.source.task,
            **{k: v for k, v in req.meta.items() if v not in (None, "", {})}, **found.meta}
    by_job = req.source.job_id is not None
    # From a job, the hosts are the job's: each loads its own output of the same task.
    hosts = dict(req.hosts) or ({org: req.source for org in found.hosts} if by_job else {})
    party_names = {**found.hosts, **req.host_parties}
    with rt.db.session() as db:
        version = registry.next_version(db, req.name)
    alg = registry.digest_alg_of(rt)
    blob_sha = registry.part_digest_of(part, alg)
    own = {"org": rt.name, "role": part.role.value, "sha256": blob_sha,
           **({} if alg == "sha256" else {"digest_alg": alg})}
    parties: list[dict[str, Any]] = [own]
    done: list[str] = []
    try:
        for org, source in sorted(hosts.items()):
            reply = rt.peers.call(org, MODEL_PART_PUBLISH, PartPublishRequest(
                name=req.name, version=version, source=source.to_dict(), meta=meta,
                guest_part=GuestPart(role=own["role"], sha256=own["sha256"], digest_alg=alg)))
            done.append(org)
            parties.append({"org": org, "role": reply.role, "sha256": reply.sha256,
                            **({} if reply.digest_alg == "sha256"
                               else {"digest_alg": reply.digest_alg}),
                            "party": party_names.get(org, org)})
        with rt.db.session() as db:
            row = registry.publish_local(rt, db, actor, name=req.name, version=version,
                                         part=part, guest=rt.name, parties=parties, meta=meta,
                                         protected=req.protected)
            db.expunge(row)
        _record_parts(rt, row)
        return row
    except CoalitionError:
        for org in done:
            _discard(rt, org, req.name, version)
        raise


def _discard(rt: NodeRuntime, org: str, name: str, version: int) -> bool:
    try:
        rt.peers.call(org, MODEL_PART_DELETE, PartDeleteRequest(name=name, version=version))
    except CoalitionError as exc:
        log.warning("could not delete %s v%d at %s: %s", name, version, org, exc)
        return False
    return True


def delete_everywhere(rt: NodeRuntime, actor: str, name: str, version: int) -> dict[str, bool]:
    """Delete a version here and, if this node published it, ask its hosts to delete theirs.
    Returns, per host, whether it confirmed (a host that is down keeps its part)."""
    with rt.db.session() as db:
        row = registry.get_version(db, name, version)
        hosts = [p["org"] for p in row.parties if p.get("org") != rt.name]
        ours = row.guest == rt.name
        registry.delete_version(rt, db, actor, name, version)
    return {org: _discard(rt, org, name, version) for org in hosts} if ours else {}


def _record_parts(rt: NodeRuntime, row: ModelVersionRow) -> None:
    """``model.part``: every part's hash of a published version, in the log of the job that
    trained it (its operator's), or this node's own log for a model from a file."""
    operator = rt.name
    if row.job_id is not None:
        with rt.db.session() as db:
            job = db.get(JobRow, row.job_id)
            operator = operator_of(job.dag, job.sites, job.initiator) if job is not None \
                else rt.name
    ledger.record(rt, operator, "model.part", {
        "event": "publish", "model": row.name, "version": row.version, "job": row.job_id,
        "task": row.task, "dag_sha256": row.dag_hash,
        "parts": [{k: p[k] for k in ("org", "role", "sha256", "digest_alg") if k in p}
                  for p in row.parties]},
        job_id=row.job_id)
