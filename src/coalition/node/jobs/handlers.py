"""Peer methods for jobs, one function each; registered on the peer endpoint and for local calls.

Initiator → participant: ``JobPropose`` (the whole job; answered with accept, reject or wait,
plus the per-job party endpoints), ``JobStart`` (every party's endpoint), ``TaskPrepare``
(whether each local party's cache key hits — keys never leave the node), ``TaskRun`` (start
the local workers) and ``JobUpdate`` (mirror a job or task state). Participant → initiator:
``JobDecision`` (a person approved or rejected a waiting job), ``TaskReport`` (a party's
outcome, with its metric points) and ``JobCancel``. Each checks that the caller is the job's
initiator, or an organisation taking part, as the method requires.

Consent: ``JobStart``, ``JobUpdate`` (except towards failed/cancelled), ``TaskPrepare`` and
``TaskRun`` need *this node's own* recorded acceptance of the job (its party row ``accepted``,
written here when the proposal was accepted or a local person approved); the initiator's word
never moves a job out of ``waiting_approval`` or ``rejected``. Every job id is checked
(:func:`~coalition.core.ids.check_job_id`) before it touches the database or a folder; a
proposal reusing an existing id is refused; party certificates must be bound to the job.

Bounds (:class:`~coalition.node.settings.NodeSettings`): pending proposals per partner, DAG
tasks and parties, string lengths, and ``timeout_s`` (clamped); refusals are typed.

Leakage: a participant learns the job document (DAG, parameters, sites) and states; the
initiator learns each party's outcome, error message and metric points.
"""

from __future__ import annotations

import math
from typing import Any, TypeVar

from sqlalchemy import func
from sqlalchemy import select as sql_select
from sqlalchemy.orm import Session

from coalition.core.errors import AuthError, ConflictError, InputError
from coalition.core.ids import Party, check_job_id
from coalition.engine.dag import parse_dag
from coalition.engine.plan import select
from coalition.engine.states import JobState, TaskState, is_terminal
from coalition.engine.validate import validate_dag
from coalition.node.events import Event, EventKind, emit
from coalition.node.jobs import local, scheduler
from coalition.node.jobs import repository as repo
from coalition.node.jobs.certs import check_endpoint, mint_endpoint
from coalition.node.jobs.consent import verdict
from coalition.node.jobs.links import JobHandler
from coalition.node.jobs.manager import TaskReport, manager_for
from coalition.node.jobs.models import JobRow
from coalition.node.jobs.public import bounded
from coalition.node.limits import LimitError
from coalition.node.partners import get_partner
from coalition.node.runtime import NodeRuntime

__all__ = ["JOB_HANDLERS", "mint_local_endpoints", "verify_endpoints"]


_MAX_NAME = 200
_MAX_METRICS = 10_000
_WAITING = (JobState.PENDING.value, JobState.WAITING_APPROVAL.value)


def _str(payload: dict[str, Any], name: str, limit: int = _MAX_NAME) -> str:
    value = payload.get(name)
    if not isinstance(value, str) or not value or len(value) > limit:
        raise InputError(f"field {name!r} must be a non-empty string of at most {limit} "
                         "characters")
    return value


def accepted_here(db: Session, rt: NodeRuntime, job_id: str) -> bool:
    """Whether this node itself recorded its acceptance of the job (its own party row)."""
    return any(p.org == rt.name and p.status == "accepted" for p in repo.parties(db, job_id))


def _require_acceptance(db: Session, rt: NodeRuntime, job_id: str) -> None:
    if not accepted_here(db, rt, job_id):
        raise AuthError("this node has not accepted the job", id=job_id)


E = TypeVar("E", JobState, TaskState)


def _enum(cls: type[E], value: str) -> E:
    try:
        return cls(value)
    except ValueError as exc:
        raise InputError("unknown state", state=value) from exc


def _job_from(rt: NodeRuntime, caller: str, payload: dict[str, Any], *,
              initiator_only: bool) -> JobRow:
    job_id = check_job_id(payload.get("job_id"))
    job = repo.read(rt, lambda db: repo.get_job(db, job_id))
    allowed = {job.initiator} if initiator_only else set(job.sites.values())
    if caller not in allowed:
        raise AuthError("not your job to drive", job=job.id)
    return job


def mint_local_endpoints(rt: NodeRuntime, job: JobRow) -> dict[str, Any]:
    """Endpoints (port + node-issued certificate) for each party this node runs."""
    return {p: mint_endpoint(rt, job.id, Party.parse(p)).to_dict()
            for p, org in sorted(job.sites.items()) if org == rt.name}


def verify_endpoints(db: Session, rt: NodeRuntime, job: JobRow,
                     endpoints: dict[str, Any]) -> None:
    """Every party has an endpoint whose certificate its siting organisation issued for this
    job; this node's own parties keep exactly the endpoints it minted."""
    for party, org in job.sites.items():
        ep = endpoints.get(party)
        if not isinstance(ep, dict) or not isinstance(ep.get("cert_pem"), str) \
                or not isinstance(ep.get("address"), str):
            raise InputError("missing endpoint", party=party)
        if org == rt.name and ep != job.endpoints.get(party):
            raise AuthError("endpoint of a local party is not the one this node minted",
                            party=party)
        org_pem = rt.identity.cert_pem if org == rt.name else \
            get_partner(db, org).certificate_pem.encode()
        check_endpoint(Party.parse(party), ep["cert_pem"].encode(), org_pem, job.id)


def _timeout(value: Any, limit: float) -> float:
    if value is None:
        return min(600.0, limit)
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or not math.isfinite(value) or value <= 0:
        raise InputError("timeout_s must be a positive number of seconds")
    return min(float(value), limit)


def _selection(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not set(value) <= {"only", "start", "until", "force"}:
        raise InputError("selection takes only, start, until and force")
    for key in ("only", "start", "until"):
        v = value.get(key)
        if v is not None and (not isinstance(v, str) or len(v) > 64):
            raise InputError(f"selection {key!r} must be a task name")
    if not isinstance(value.get("force", False), bool):
        raise InputError("selection 'force' must be true or false")
    return value


def _bounded_job(rt: NodeRuntime, p: dict[str, Any]) -> dict[str, Any]:
    """Size checks before any parsing work: task and party counts, names, sites."""
    limits = rt.settings
    dag = p.get("dag")
    if not isinstance(dag, dict):
        raise InputError("field 'dag' must be an object")
    tasks, parties = dag.get("tasks"), dag.get("parties")
    if isinstance(tasks, dict) and len(tasks) > limits.job_max_tasks:
        raise InputError("the job has more tasks than this node accepts",
                         max_tasks=limits.job_max_tasks)
    if isinstance(parties, dict) and sum(len(v) if isinstance(v, list) else 1
                                         for v in parties.values()) > limits.job_max_parties:
        raise InputError("the job has more parties than this node accepts",
                         max_parties=limits.job_max_parties)
    sites = p.get("sites")
    if not isinstance(sites, dict) or len(sites) > limits.job_max_parties or not all(
            isinstance(k, str) and isinstance(v, str) and len(k) <= _MAX_NAME
            and len(v) <= _MAX_NAME for k, v in sites.items()):
        raise InputError("sites must map party names to organisation names")
    rerun_of = p.get("rerun_of")
    return {"name": _str(p, "name"), "dag": dag, "sites": sites,
            "selection": _selection(p.get("selection")),
            "timeout_s": _timeout(p.get("timeout_s"), limits.job_max_timeout_s),
            "rerun_of": None if rerun_of is None else check_job_id(rerun_of)}


def _pending_from(db: Session, initiator: str) -> int:
    return int(db.scalar(sql_select(func.count()).select_from(JobRow).where(
        JobRow.initiator == initiator, JobRow.state.in_(_WAITING))) or 0)


def propose(rt: NodeRuntime, caller: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Take (or refuse) a proposed job; see :mod:`.consent`. An id already known here (any
    initiator's) is refused with :class:`ConflictError` and the stored job is left as it is."""
    p = payload.get("job")
    if not isinstance(p, dict) or p.get("initiator") != caller:
        raise AuthError("only the initiator proposes its job")
    job_id = check_job_id(p.get("id"))
    b = _bounded_job(rt, p)
    graph = validate_dag(parse_dag(b["dag"]))
    sites, selection = b["sites"], b["selection"]
    if set(sites) != {str(x) for x in graph.parties} or rt.name not in sites.values():
        raise InputError("sites must map every party of the job, some of them to this node")
    needed = select(graph.deps(), only=selection.get("only"), start=selection.get("start"),
                    until=selection.get("until")).needed

    def take(db: Session) -> dict[str, Any]:
        job = db.get(JobRow, job_id)
        if caller != rt.name:
            if job is not None:
                raise ConflictError("job id already in use", id=job_id)
            if _pending_from(db, caller) >= rt.settings.job_max_pending_per_partner:
                raise LimitError("too many of your jobs are pending here",
                                 max_pending=rt.settings.job_max_pending_per_partner)
            orgs: dict[str, list[str]] = {}
            for party, org in sites.items():
                orgs.setdefault(str(org), []).append(str(party))
            job = repo.create_job(db, job_id=job_id, name=b["name"], initiator=caller,
                                  dag=b["dag"], sites=sites, selection=selection,
                                  timeout_s=b["timeout_s"], created_by=f"partner:{caller}",
                                  rerun_of=b["rerun_of"], task_names=needed, orgs=orgs)
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
        return {"status": v.status, "reason": v.reason, "endpoints": endpoints}

    return repo.write(rt, take)


def start(rt: NodeRuntime, caller: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Record every party's endpoint (each certificate checked) and mark the job running."""
    job = _job_from(rt, caller, payload, initiator_only=True)
    endpoints = payload.get("endpoints")
    if not isinstance(endpoints, dict):
        raise InputError("field 'endpoints' must be an object")

    def go(db: Session) -> None:
        row = repo.get_job(db, job.id)
        _require_acceptance(db, rt, row.id)
        if row.state not in _WAITING:
            raise ConflictError(f"job is {row.state} here", id=row.id)
        verify_endpoints(db, rt, row, endpoints)
        row.endpoints = endpoints
        repo.move_job(db, row, JobState.RUNNING, "", f"partner:{caller}")

    repo.write(rt, go)
    return {}


def _running(rt: NodeRuntime, caller: str, payload: dict[str, Any]) -> JobRow:
    job = _job_from(rt, caller, payload, initiator_only=True)
    repo.read(rt, lambda db: _require_acceptance(db, rt, job.id))
    if job.state != JobState.RUNNING or manager_for(rt).stopped(job.id):
        raise ConflictError(f"job is {job.state} here", id=job.id)
    return job


def prepare(rt: NodeRuntime, caller: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Whether each local party's cache key of the task hits."""
    job = _running(rt, caller, payload)
    graph = manager_for(rt).graph(job)
    return {"hits": local.prepare(rt, job, graph, _task_of(graph.tasks, payload))}


def run(rt: NodeRuntime, caller: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Start the local parties' workers of the task."""
    job = _running(rt, caller, payload)
    manager = manager_for(rt)
    graph = manager.graph(job)
    return {"started": local.launch(rt, manager, job, graph, _task_of(graph.tasks, payload))}


def _task_of(tasks: Any, payload: dict[str, Any]) -> str:
    task = _str(payload, "task")
    if task not in tasks:
        raise InputError("no such task in the job", task=task)
    return task


def update(rt: NodeRuntime, caller: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Mirror the initiator's job or task state; a failed or cancelled job stops here too.
    Anything but stopping needs this node's own acceptance."""
    job = _job_from(rt, caller, payload, initiator_only=True)
    reason, task = bounded(payload.get("reason")), payload.get("task")
    actor = f"partner:{caller}"
    stopping = "task_state" not in payload and payload.get("state") in (
        JobState.FAILED.value, JobState.CANCELLED.value)
    if not stopping:
        repo.read(rt, lambda db: _require_acceptance(db, rt, job.id))
    if "task_state" in payload:
        target_task = _enum(TaskState, _str(payload, "task_state"))
        task_name = _task_of(manager_for(rt).graph(job).tasks, payload)

        def mirror_task(db: Session) -> None:
            if target_task in (TaskState.SUCCEEDED, TaskState.FAILED):
                repo.move_task(db, job.id, task_name, TaskState.RUNNING, "", actor)
            repo.move_task(db, job.id, task_name, target_task, reason, actor)

        repo.write(rt, mirror_task)
        return {}
    target = _enum(JobState, _str(payload, "state"))
    if is_terminal(target) and target is not JobState.SUCCEEDED:
        manager_for(rt).stop(job.id)
        failed_task = task if isinstance(task, str) else None
        repo.write(rt, lambda db: scheduler.close_job(db, repo.get_job(db, job.id), target,
                                                      reason, actor, task=failed_task))
    else:
        repo.write(rt, lambda db: repo.move_job(db, repo.get_job(db, job.id), target, reason,
                                                actor))
    return {}


def report(rt: NodeRuntime, caller: str, payload: dict[str, Any]) -> dict[str, Any]:
    """A party's outcome of a task (at the initiator)."""
    job = _job_from(rt, caller, payload, initiator_only=False)
    party, task = _str(payload, "party"), _task_of(manager_for(rt).graph(job).tasks, payload)
    if job.initiator != rt.name or job.sites.get(party) != caller:
        raise AuthError("party is not run by the caller", party=party)
    ok = bool(payload.get("ok"))
    points = payload.get("metrics") if caller != rt.name else []
    if isinstance(points, list) and len(points) > _MAX_METRICS:
        raise InputError("too many metric points in one report", max_points=_MAX_METRICS)
    error, code = bounded(payload.get("error")), bounded(payload.get("code"), 64)

    def record(db: Session) -> None:
        for m in points if isinstance(points, list) else []:
            if isinstance(m, dict) and isinstance(m.get("value"), int | float):
                step = m.get("step")
                repo.add_metric(db, job.id, task, party, name=str(m.get("name")),
                                value=m["value"], step=step if isinstance(step, int) else None)
        repo.add_log(db, job.id, f"{party}: " + ("done" if ok else f"failed: {error}"),
                     level="info" if ok else "error", task=task, party=party)

    seconds = payload.get("seconds")
    repo.write(rt, record)
    manager_for(rt).report(job.id, task, TaskReport(
        party, ok, error, code,
        float(seconds) if isinstance(seconds, int | float) and math.isfinite(seconds) else 0.0))
    return {}


def decision(rt: NodeRuntime, caller: str, payload: dict[str, Any]) -> dict[str, Any]:
    """A participant's late answer (after a person decided there)."""
    job = _job_from(rt, caller, payload, initiator_only=False)
    status, reason = _str(payload, "status"), bounded(payload.get("reason"))
    if job.initiator != rt.name or status not in ("accepted", "rejected"):
        raise InputError("decisions go to the initiator: accepted or rejected")
    given = payload.get("endpoints") if status == "accepted" else {}
    # A participant speaks for its own parties only.
    endpoints = {k: v for k, v in (given if isinstance(given, dict) else {}).items()
                 if job.sites.get(k) == caller}

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
    return {}


def cancel(rt: NodeRuntime, caller: str, payload: dict[str, Any]) -> dict[str, Any]:
    """A participant asks the initiator to cancel (or, after its restart, to fail) the job."""
    job = _job_from(rt, caller, payload, initiator_only=False)
    reason = bounded(payload.get("reason")) or f"cancelled at {caller}"
    repo.write(rt, lambda db: emit(db, Event(EventKind.JOB_CANCEL_REQUESTED,
                                             f"partner:{caller}", f"job:{job.id}",
                                             {"reason": reason})))
    if payload.get("fail"):
        task = payload.get("task")
        scheduler.fail(rt, job.id, reason, task=task if isinstance(task, str) else None,
                       actor=f"partner:{caller}")
    else:
        scheduler.cancel(rt, job.id, reason, f"partner:{caller}")
    return {}


JOB_HANDLERS: dict[str, JobHandler] = {
    "JobPropose": propose,
    "JobStart": start,
    "TaskPrepare": prepare,
    "TaskRun": run,
    "JobUpdate": update,
    "TaskReport": report,
    "JobDecision": decision,
    "JobCancel": cancel,
}
