"""The job methods' handlers (declared in :mod:`.peer_methods`) and the job guards.

Consent: ``JobStart``, ``JobUpdate`` (except towards failed/cancelled), ``TaskPrepare`` and
``TaskRun`` need *this node's own* recorded acceptance of the job (its party row ``accepted``,
written here when the proposal was accepted or a local person approved); the initiator's word
never moves a job out of ``waiting_approval`` or ``rejected``. Every job id is checked
(:func:`~coalition.core.ids.check_job_id`) before it touches the database or a folder; a
proposal reusing an existing id is refused; party certificates must be bound to the job.

Bounds: string lengths and types by the request models; pending proposals per partner, DAG
tasks and parties and ``timeout_s`` (clamped) by this node's
:class:`~coalition.node.settings.NodeSettings`; refusals are typed.

Leakage: a participant learns the job document (DAG, parameters, sites) and states; the
initiator learns each party's outcome, error message and metric points.
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as sql_select
from sqlalchemy.orm import Session

from coalition.core.errors import AuthError, ConfigError, ConflictError, InputError
from coalition.core.ids import Party
from coalition.engine.dag import parse_dag
from coalition.engine.plan import select
from coalition.engine.states import JobState, TaskState, is_terminal
from coalition.engine.validate import validate_dag
from coalition.node.audit.events import Event, EventKind, emit
from coalition.node.jobs import local, records, scheduler
from coalition.node.jobs import repository as repo
from coalition.node.jobs.certs import check_endpoint, mint_endpoint
from coalition.node.jobs.consent import verdict
from coalition.node.jobs.manager import TaskReport, manager_for
from coalition.node.jobs.peer_methods import (
    JOB_CANCEL,
    JOB_DECISION,
    JOB_PROPOSE,
    JOB_START,
    JOB_UPDATE,
    TASK_PREPARE,
    TASK_REPORT,
    TASK_RUN,
    CancelRequest,
    DecisionRequest,
    JobProposal,
    JobRequest,
    PartyEndpoint,
    ProposalAnswer,
    ProposeRequest,
    StartRequest,
    TaskHits,
    TaskReportRequest,
    TaskRequest,
    TasksStarted,
    UpdateRequest,
)
from coalition.node.jobs.public import bounded
from coalition.node.jobs.tables import JobRow
from coalition.node.limits import LimitError
from coalition.node.partners.directory import get_partner
from coalition.node.peer.method import Access, Empty, Requirement
from coalition.node.peer.registry import PeerRegistry
from coalition.node.runtime import NodeRuntime

__all__ = ["accepted_here", "mint_local_endpoints", "register", "verify_endpoints"]


_MAX_METRICS = 10_000
_WAITING = (JobState.PENDING.value, JobState.WAITING_APPROVAL.value)


def accepted_here(db: Session, rt: NodeRuntime, job_id: str) -> bool:
    """Whether this node itself recorded its acceptance of the job (its own party row)."""
    return any(p.org == rt.name and p.status == "accepted" for p in repo.parties(db, job_id))


def _require_acceptance(db: Session, rt: NodeRuntime, job_id: str) -> None:
    if not accepted_here(db, rt, job_id):
        raise AuthError("this node has not accepted the job", id=job_id)


def _job_request(request: object) -> JobRequest:
    if not isinstance(request, JobRequest):  # a declaration error, not the caller's
        raise ConfigError("a job guard on a request without a job id")
    return request


def _job(rt: NodeRuntime, job_id: str) -> JobRow:
    return repo.read(rt, lambda db: repo.get_job(db, job_id))


# Guards behind the job access and requirement kinds (see .peer_methods).

def _initiator_only(rt: NodeRuntime, caller: str, request: object) -> None:
    job = _job(rt, _job_request(request).job_id)
    if caller != job.initiator:
        raise AuthError("not your job to drive", job=job.id)


def _party_only(rt: NodeRuntime, caller: str, request: object) -> None:
    job = _job(rt, _job_request(request).job_id)
    if caller not in set(job.sites.values()):
        raise AuthError("not your job to drive", job=job.id)


def _accepted(rt: NodeRuntime, caller: str, request: object) -> None:
    job_id = _job_request(request).job_id
    repo.read(rt, lambda db: _require_acceptance(db, rt, job_id))


def _accepted_unless_stopping(rt: NodeRuntime, caller: str, request: object) -> None:
    if not (isinstance(request, UpdateRequest) and request.stops_job):
        _accepted(rt, caller, request)


def mint_local_endpoints(rt: NodeRuntime, job: JobRow) -> dict[str, Any]:
    """Endpoints (port + node-issued certificate) for each party this node runs."""
    return {p: mint_endpoint(rt, job.id, Party.parse(p)).to_dict()
            for p, org in sorted(job.sites.items()) if org == rt.name}


def verify_endpoints(db: Session, rt: NodeRuntime, job: JobRow,
                     endpoints: dict[str, PartyEndpoint]) -> None:
    """Every party has an endpoint whose certificate its siting organisation issued for this
    job; this node's own parties keep exactly the endpoints it minted."""
    for party, org in job.sites.items():
        ep = endpoints.get(party)
        if ep is None:
            raise InputError("missing endpoint", party=party)
        if org == rt.name and ep.model_dump() != job.endpoints.get(party):
            raise AuthError("endpoint of a local party is not the one this node minted",
                            party=party)
        org_pem = rt.identity.cert_pem if org == rt.name else \
            get_partner(db, org).certificate_pem.encode()
        check_endpoint(Party.parse(party), ep.cert_pem.encode(), org_pem, job.id)


def _bounded_job(rt: NodeRuntime, job: JobProposal) -> float:
    """Check this node's size limits before any parsing work (task and party counts); returns the
    clamped timeout."""
    limits = rt.settings
    tasks, parties = job.dag.get("tasks"), job.dag.get("parties")
    if isinstance(tasks, dict) and len(tasks) > limits.job_max_tasks:
        raise InputError("the job has more tasks than this node accepts",
                         max_tasks=limits.job_max_tasks)
    if isinstance(parties, dict) and sum(len(v) if isinstance(v, list) else 1
                                         for v in parties.values()) > limits.job_max_parties:
        raise InputError("the job has more parties than this node accepts",
                         max_parties=limits.job_max_parties)
    if len(job.sites) > limits.job_max_parties:
        raise InputError("sites must map party names to organisation names")
    timeout = min(600.0, limits.job_max_timeout_s) if job.timeout_s is None else job.timeout_s
    return min(timeout, limits.job_max_timeout_s)


def _pending_from(db: Session, initiator: str) -> int:
    return int(db.scalar(sql_select(func.count()).select_from(JobRow).where(
        JobRow.initiator == initiator, JobRow.state.in_(_WAITING))) or 0)


def propose(rt: NodeRuntime, caller: str, request: ProposeRequest) -> ProposalAnswer:
    """Take (or refuse) a proposed job; see :mod:`.consent`. An id already known here (any
    initiator's) is refused with :class:`ConflictError` and the stored job is left as it is."""
    p = request.job
    if p.initiator != caller:
        raise AuthError("only the initiator proposes its job")
    job_id = p.id
    timeout_s = _bounded_job(rt, p)
    graph = validate_dag(parse_dag(p.dag))
    sites = dict(p.sites)
    selection = p.selection.model_dump(exclude_defaults=True)
    if set(sites) != {str(x) for x in graph.parties} or rt.name not in sites.values():
        raise InputError("sites must map every party of the job, some of them to this node")
    needed = select(graph.deps(), only=p.selection.only, start=p.selection.start,
                    until=p.selection.until).needed

    def take(db: Session) -> ProposalAnswer:
        records.refuse_if_alerted(db, sorted({caller, *sites.values()}))
        job = db.get(JobRow, job_id)
        if caller != rt.name:
            if job is not None:
                raise ConflictError("job id already in use", id=job_id)
            if _pending_from(db, caller) >= rt.settings.job_max_pending_per_partner:
                raise LimitError("too many of your jobs are pending here",
                                 max_pending=rt.settings.job_max_pending_per_partner)
            orgs: dict[str, list[str]] = {}
            for party, org in sites.items():
                orgs.setdefault(org, []).append(party)
            job = repo.create_job(db, job_id=job_id, name=p.name, initiator=caller,
                                  dag=p.dag, sites=sites, selection=selection,
                                  timeout_s=timeout_s, created_by=f"partner:{caller}",
                                  rerun_of=p.rerun_of, task_names=needed, orgs=orgs)
            emit(db, Event(EventKind.JOB_PROPOSED, f"partner:{caller}", f"job:{job_id}",
                           {"name": job.name, "tasks": list(needed)}))
        elif job is None:
            raise ConflictError("job already proposed", id=job_id)
        v = verdict(db, graph, sites, rt.name, caller, rt.settings)
        endpoints = mint_local_endpoints(rt, job) if v.status == "accepted" else {}
        job.endpoints = {**job.endpoints, **endpoints}
        repo.set_party(db, job_id, rt.name, v.status, v.reason, "system")
        if caller != rt.name and v.status == "waiting_approval":
            repo.move_job(db, job, JobState.WAITING_APPROVAL, v.reason, "system")
        if caller != rt.name and v.status == "rejected":
            repo.move_job(db, job, JobState.FAILED, v.reason, "system")
        repo.add_log(db, job_id, f"proposal from {caller}: {v.status} ({v.reason})")
        return ProposalAnswer.model_validate({"status": v.status, "reason": v.reason,
                                              "endpoints": endpoints}, strict=False)

    answer = repo.write(rt, take)
    records.on_proposal(rt, caller, job_id, graph, sites=sites, status=answer.status)
    return answer


def start(rt: NodeRuntime, caller: str, request: StartRequest) -> Empty:
    """Record every party's endpoint (each certificate checked) and mark the job running."""

    def go(db: Session) -> None:
        row = repo.get_job(db, request.job_id)
        _require_acceptance(db, rt, row.id)  # again, inside the transaction that moves it
        if row.state not in _WAITING:
            raise ConflictError(f"job is {row.state} here", id=row.id)
        verify_endpoints(db, rt, row, dict(request.endpoints))
        row.endpoints = {k: v.model_dump() for k, v in request.endpoints.items()}
        repo.move_job(db, row, JobState.RUNNING, "", f"partner:{caller}")

    repo.write(rt, go)
    return Empty()


def _running(rt: NodeRuntime, job_id: str) -> JobRow:
    job = _job(rt, job_id)
    if job.state != JobState.RUNNING or manager_for(rt).stopped(job.id):
        raise ConflictError(f"job is {job.state} here", id=job.id)
    return job


def prepare(rt: NodeRuntime, caller: str, request: TaskRequest) -> TaskHits:
    """Whether each local party's cache key of the task hits."""
    job = _running(rt, request.job_id)
    graph = manager_for(rt).graph(job)
    return TaskHits(hits=local.prepare(rt, job, graph, _task_of(graph.tasks, request.task)))


def run(rt: NodeRuntime, caller: str, request: TaskRequest) -> TasksStarted:
    """Start the local parties' workers of the task."""
    job = _running(rt, request.job_id)
    manager = manager_for(rt)
    graph = manager.graph(job)
    return TasksStarted(started=local.launch(rt, manager, job, graph,
                                             _task_of(graph.tasks, request.task)))


def _task_of(tasks: Any, task: str | None) -> str:
    if not task:
        raise InputError("field 'task' must name a task of the job")
    if task not in tasks:
        raise InputError("no such task in the job", task=task)
    return task


def update(rt: NodeRuntime, caller: str, request: UpdateRequest) -> Empty:
    """Mirror the initiator's job or task state; a failed or cancelled job stops here too.
    Anything but stopping needs this node's own acceptance (the declared requirement)."""
    job = _job(rt, request.job_id)
    reason, actor = bounded(request.reason), f"partner:{caller}"
    if request.task_state is not None:
        target_task = request.task_state
        task_name = _task_of(manager_for(rt).graph(job).tasks, request.task)

        def mirror_task(db: Session) -> None:
            if target_task in (TaskState.SUCCEEDED, TaskState.FAILED):
                repo.move_task(db, job.id, task_name, TaskState.RUNNING, "", actor)
            repo.move_task(db, job.id, task_name, target_task, reason, actor)

        repo.write(rt, mirror_task)
        return Empty()
    target = request.state
    if target is None:
        raise InputError("send a job state or a task state")
    if is_terminal(target) and target is not JobState.SUCCEEDED:
        manager_for(rt).stop(job.id)
        repo.write(rt, lambda db: scheduler.close_job(db, repo.get_job(db, job.id), target,
                                                      reason, actor, task=request.task))
    else:
        repo.write(rt, lambda db: repo.move_job(db, repo.get_job(db, job.id), target, reason,
                                                actor))
    return Empty()


def report(rt: NodeRuntime, caller: str, request: TaskReportRequest) -> Empty:
    """A party's outcome of a task (at the initiator)."""
    job = _job(rt, request.job_id)
    party, task = request.party, _task_of(manager_for(rt).graph(job).tasks, request.task)
    if job.initiator != rt.name or job.sites.get(party) != caller:
        raise AuthError("party is not run by the caller", party=party)
    points = request.metrics if caller != rt.name else []
    if len(points) > _MAX_METRICS:
        raise InputError("too many metric points in one report", max_points=_MAX_METRICS)
    error, code = bounded(request.error), bounded(request.code, 64)

    def record(db: Session) -> None:
        for m in points:
            value, step = m.get("value"), m.get("step")
            if isinstance(value, int | float) and not isinstance(value, bool):
                repo.add_metric(db, job.id, task, party, name=str(m.get("name")),
                                value=value, step=step if isinstance(step, int) else None)
        repo.add_log(db, job.id, repo.report_line(party, request.ok, error),
                     level="info" if request.ok else "error", task=task, party=party)

    seconds = request.seconds
    repo.write(rt, record)
    manager_for(rt).report(job.id, task, TaskReport(
        party, request.ok, error, code,
        seconds if seconds is not None and math.isfinite(seconds) else 0.0))
    return Empty()


def decision(rt: NodeRuntime, caller: str, request: DecisionRequest) -> Empty:
    """A participant's late answer (after a person decided there)."""
    job = _job(rt, request.job_id)
    status, reason = request.status, bounded(request.reason)
    if job.initiator != rt.name:
        raise InputError("decisions go to the initiator: accepted or rejected")
    given = request.endpoints if status == "accepted" else {}
    # A participant speaks for its own parties only.
    endpoints = {k: v.model_dump() for k, v in given.items() if job.sites.get(k) == caller}

    def record(db: Session) -> bool:
        row = repo.get_job(db, job.id)
        row.endpoints = {**row.endpoints, **endpoints}
        repo.set_party(db, job.id, caller, status, reason, f"partner:{caller}")
        return all(p.status == "accepted" for p in repo.parties(db, job.id))

    ready = repo.write(rt, record)
    if status == "rejected":
        scheduler.fail(rt, job.id, f"rejected by {caller}: {reason}")
    elif ready and job.state == JobState.WAITING_APPROVAL:
        manager_for(rt).spawn(job.id, scheduler.run_tasks, rt, job.id)
    return Empty()


def cancel(rt: NodeRuntime, caller: str, request: CancelRequest) -> Empty:
    """A participant asks the initiator to cancel (or, after its restart, to fail) the job."""
    job = _job(rt, request.job_id)
    reason = bounded(request.reason) or f"cancelled at {caller}"
    repo.write(rt, lambda db: emit(db, Event(EventKind.JOB_CANCEL_REQUESTED,
                                             f"partner:{caller}", f"job:{job.id}",
                                             {"reason": reason})))
    if request.fail:
        scheduler.fail(rt, job.id, reason, task=request.task, actor=f"partner:{caller}")
    else:
        scheduler.cancel(rt, job.id, reason, f"partner:{caller}")
    return Empty()


def register(registry: PeerRegistry) -> None:
    """Answer the job methods and own the job guards (composition)."""
    registry.guard(Access.JOB_INITIATOR, _initiator_only)
    registry.guard(Access.JOB_PARTY, _party_only)
    registry.guard(Requirement.JOB_ACCEPTED_HERE, _accepted)
    registry.guard(Requirement.JOB_ACCEPTED_HERE_UNLESS_STOPPING, _accepted_unless_stopping)
    registry.register(JOB_PROPOSE, propose)
    registry.register(JOB_START, start)
    registry.register(TASK_PREPARE, prepare)
    registry.register(TASK_RUN, run)
    registry.register(JOB_UPDATE, update)
    registry.register(TASK_REPORT, report)
    registry.register(JOB_DECISION, decision)
    registry.register(JOB_CANCEL, cancel)
