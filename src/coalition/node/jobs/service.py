"""What users do with jobs at their node: submit, rerun, approve or reject, cancel.

``submit`` validates the DAG against the component registry, sites each party at an
organisation (by default the organisation named like the party), records the job and starts
the initiator's scheduler thread (:func:`~.scheduler.drive`). A rerun is a new job with the
same document and sites and its own partial-run selection; unchanged upstream tasks are then
reused from each party's content-addressed store (``rerun_of`` links the two).
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy.orm import Session

from coalition.core.errors import ConflictError, InputError
from coalition.core.ids import check_job_id
from coalition.engine.dag import parse_dag
from coalition.engine.plan import select
from coalition.engine.policy import PolicyError, check, fill_suite
from coalition.engine.states import JobState
from coalition.engine.validate import validate_dag
from coalition.node.audit.events import Event, EventKind, emit
from coalition.node.jobs import records, scheduler
from coalition.node.jobs import repository as repo
from coalition.node.jobs.handlers import mint_local_endpoints
from coalition.node.jobs.manager import manager_for
from coalition.node.jobs.peer_methods import JOB_DECISION, DecisionRequest
from coalition.node.jobs.privacy import submit_policy
from coalition.node.jobs.tables import JobRow
from coalition.node.partners.directory import list_partners
from coalition.node.runtime import NodeRuntime

__all__ = ["approve", "cancel", "reject", "rerun", "submit"]


def _sites(db: Session, rt: NodeRuntime, parties: list[str],
           given: dict[str, str]) -> dict[str, str]:
    unknown = sorted(set(given) - set(parties))
    if unknown:
        raise InputError("sites name parties the job does not have", parties=unknown)
    sites = {p: given.get(p, p.partition(":")[2]) for p in parties}
    known = {rt.name} | {p.name for p in list_partners(db)}
    strangers = sorted({org for org in sites.values() if org not in known})
    if strangers:
        raise InputError("parties are sited at organisations that are not partners "
                         "(map them with 'sites': {\"role:name\": \"org\"})", orgs=strangers)
    if rt.name not in sites.values():
        raise InputError("the initiating node must run at least one party of the job")
    return sites


def submit(rt: NodeRuntime, actor: str, document: dict[str, Any], *,
           sites: dict[str, str] | None = None, selection: dict[str, Any] | None = None,
           timeout_s: float = 600.0, rerun_of: str | None = None) -> str:
    """Record a job initiated here and start proposing it; returns the job id. Every
    suite-bearing task that names no crypto suite gets the federation's (this node's
    ``crypto_suite``, :func:`~coalition.engine.policy.fill_suite`), so the proposed and recorded
    job names it; a task naming another suite is refused by the policy below, as on every node."""
    graph = fill_suite(validate_dag(parse_dag(document)), rt.settings.crypto_suite)
    chosen = {k: v for k, v in (selection or {}).items() if v not in (None, False)}
    needed = select(graph.deps(), only=chosen.get("only"), start=chosen.get("start"),
                    until=chosen.get("until")).needed
    job_id = secrets.token_hex(8)

    def create(db: Session) -> dict[str, str]:
        where = _sites(db, rt, [str(p) for p in graph.parties], sites or {})
        records.refuse_if_alerted(db, sorted(set(where.values())))  # ledger alerts stop jobs
        # fail fast: the job-wide rules every participant will check (allowances are each
        # data owner's to give, from its grants, so they are checked there)
        violations = check(graph, where, submit_policy(db, rt.settings, graph, where, rt.name))
        if violations:
            raise PolicyError(violations)
        orgs: dict[str, list[str]] = {}
        for party, org in where.items():
            orgs.setdefault(org, []).append(party)
        repo.create_job(db, job_id=job_id, name=graph.name, initiator=rt.name,
                        dag=graph.spec.to_document(), sites=where, selection=chosen,
                        timeout_s=timeout_s, created_by=actor, rerun_of=rerun_of,
                        task_names=needed, orgs=orgs)
        emit(db, Event(EventKind.JOB_SUBMITTED, actor, f"job:{job_id}",
                       {"name": graph.name, "dag": graph.digest(), "sites": where,
                        "selection": chosen, "rerun_of": rerun_of}))
        repo.add_log(db, job_id, f"submitted by {actor}: {len(needed)} task(s), "
                     f"organisations {sorted(orgs)}")
        return where

    records.on_submit(rt, job_id, graph, repo.write(rt, create))
    manager_for(rt).spawn(job_id, scheduler.drive, rt, job_id)
    return job_id


def rerun(rt: NodeRuntime, actor: str, job_id: str, selection: dict[str, Any]) -> str:
    """A new job from ``job_id``'s document and sites (at the initiator only)."""
    check_job_id(job_id)
    job = repo.read(rt, lambda db: repo.get_job(db, job_id))
    if job.initiator != rt.name:
        raise ConflictError("rerun a job at its initiator", initiator=job.initiator)
    return submit(rt, actor, job.dag, sites=job.sites, selection=selection,
                  timeout_s=job.timeout_s, rerun_of=job.id)


def cancel(rt: NodeRuntime, actor: str, job_id: str, reason: str) -> None:
    """Cancel from any participating node (see :func:`~.scheduler.cancel`)."""
    check_job_id(job_id)
    repo.write(rt, lambda db: emit(db, Event(EventKind.JOB_CANCEL_REQUESTED, actor,
                                             f"job:{job_id}", {"reason": reason})))
    scheduler.cancel(rt, job_id, reason or f"cancelled by {actor}", actor)


def _waiting(rt: NodeRuntime, job_id: str) -> JobRow:
    check_job_id(job_id)
    job = repo.read(rt, lambda db: repo.get_job(db, job_id))
    if job.initiator == rt.name or job.state != JobState.WAITING_APPROVAL:
        raise ConflictError("only a partner's job waiting for approval here can be decided",
                            id=job_id, state=job.state)
    return job


def approve(rt: NodeRuntime, actor: str, job_id: str, reason: str) -> None:
    """Approve a partner's job that no grant covered; the initiator then starts it."""
    job = _waiting(rt, job_id)

    def accept(db: Session) -> dict[str, Any]:
        row = repo.get_job(db, job_id)
        endpoints = mint_local_endpoints(rt, row)
        row.endpoints = {**row.endpoints, **endpoints}
        repo.set_party(db, job_id, rt.name, "accepted", reason or f"approved by {actor}", actor)
        return endpoints

    endpoints = repo.write(rt, accept)
    rt.peers.call(job.initiator, JOB_DECISION, DecisionRequest.model_validate(
        {"job_id": job_id, "status": "accepted", "reason": reason, "endpoints": endpoints},
        strict=False))


def reject(rt: NodeRuntime, actor: str, job_id: str, reason: str) -> None:
    """Refuse a partner's job; it fails everywhere with the reason."""
    if not reason.strip():
        raise InputError("a rejection needs a reason")
    job = _waiting(rt, job_id)

    def refuse(db: Session) -> None:
        repo.set_party(db, job_id, rt.name, "rejected", reason, actor)
        repo.move_job(db, repo.get_job(db, job_id), JobState.FAILED,
                      f"rejected by {rt.name}: {reason}", actor)

    repo.write(rt, refuse)
    rt.peers.call(job.initiator, JOB_DECISION,
                  DecisionRequest(job_id=job_id, status="rejected", reason=reason))
