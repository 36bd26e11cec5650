"""The initiator's side of a job: propose, start, drive the tasks in order, finish or fail.

One background thread per job (:func:`drive`). Every organisation of the job — this node
included — is reached through the node's peer client (``rt.peers``), so the initiator runs its own parties the
way its partners run theirs. Per task, in topological order over the run's selection
(:func:`~coalition.engine.plan.select`): ask each organisation whether each of its parties'
cache keys hits (``TaskPrepare``); reuse the task if every party hits and the task is not a
target of a partial run (:func:`~coalition.engine.plan.decide`); otherwise start every party's
worker (``TaskRun``) and wait for every party's report. The first failure fails the task and
the job everywhere, with the root cause (a party's own error is preferred over the peer errors
it provoked in the others); workers still running are killed.

A failure reason is mirrored to every organisation, so it is built from typed codes and
messages only (:func:`~.public.public_error`); the full local error goes to this node's log.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.orm import Session

from coalition.core.errors import CoalitionError, ConflictError, PeerError
from coalition.engine.plan import Action, decide, select
from coalition.engine.states import JobState, TaskState, is_terminal
from coalition.node.jobs import records
from coalition.node.jobs import repository as repo
from coalition.node.jobs.manager import TaskReport, manager_for
from coalition.node.jobs.notify import notify as _notify
from coalition.node.jobs.notify import orgs as _orgs
from coalition.node.jobs.peer_methods import (
    JOB_CANCEL,
    JOB_PROPOSE,
    JOB_START,
    TASK_PREPARE,
    TASK_RUN,
    CancelRequest,
    JobProposal,
    ProposeRequest,
    StartRequest,
    TaskRequest,
)
from coalition.node.jobs.public import public_error
from coalition.node.jobs.tables import JobRow
from coalition.node.logs import log_context
from coalition.node.runtime import NodeRuntime

__all__ = ["cancel", "close_job", "drive", "fail", "run_tasks"]

log = logging.getLogger("coalition.node.jobs")
_WORKER_MARGIN_S = 120.0  # worker start-up and output storage, beyond the protocol timeout


def _selection(job: JobRow) -> dict[str, Any]:
    s = job.selection
    return {"only": s.get("only"), "start": s.get("start"), "until": s.get("until")}


def drive(rt: NodeRuntime, job_id: str) -> None:
    """Propose the job to every organisation, then run it if all accepted."""
    with log_context(job=job_id):
        _drive(rt, job_id)


def _drive(rt: NodeRuntime, job_id: str) -> None:
    job = repo.read(rt, lambda db: repo.get_job(db, job_id))
    proposal = ProposeRequest(job=JobProposal.model_validate({
        "id": job.id, "name": job.name, "initiator": job.initiator, "dag": job.dag,
        "sites": job.sites, "selection": job.selection, "timeout_s": job.timeout_s,
        "rerun_of": job.rerun_of}, strict=False))
    endpoints: dict[str, Any] = {}
    for org in _orgs(job):
        try:
            reply = rt.peers.call(org, JOB_PROPOSE, proposal)
            status, reason = reply.status, reply.reason[:2000]
            # An organisation speaks for the parties sited at it only.
            endpoints.update({k: v.model_dump() for k, v in reply.endpoints.items()
                              if job.sites.get(k) == org})
        except CoalitionError as exc:
            _local(rt, job_id, f"{org} could not take the proposal", exc)
            status, reason = "rejected", f"{org} could not take the proposal: {_public(exc)}"
        if org != rt.name:
            _answer(rt, job_id, org, status, reason)
        repo.log(rt, job_id, f"{org}: {status}" + (f" ({reason})" if reason else ""))
        if status == "rejected":
            fail(rt, job_id, f"rejected by {org}: {reason}")
            return

    def merge(db: Session) -> bool:
        row = repo.get_job(db, job_id)
        row.endpoints = {**row.endpoints, **endpoints}
        waiting = any(p.status != "accepted" for p in repo.parties(db, job_id))
        if waiting:
            repo.move_job(db, row, JobState.WAITING_APPROVAL,
                          "waiting for approval at a partner", "system")
        return waiting

    if not repo.write(rt, merge):
        run_tasks(rt, job_id)


def _answer(rt: NodeRuntime, job_id: str, org: str, status: str, reason: str) -> None:
    repo.write(rt, lambda db: repo.set_party(db, job_id, org, status, reason, f"partner:{org}"))


def run_tasks(rt: NodeRuntime, job_id: str) -> None:
    """Start the accepted job everywhere and drive its tasks (see the module docstring)."""
    manager = manager_for(rt)
    job = repo.read(rt, lambda db: repo.get_job(db, job_id))
    try:
        for org in _orgs(job):
            rt.peers.call(org, JOB_START, StartRequest.model_validate(
                {"job_id": job_id, "endpoints": job.endpoints}, strict=False))
    except CoalitionError as exc:
        _local(rt, job_id, "could not start the job", exc)
        fail(rt, job_id, f"could not start the job: {_public(exc)}")
        return
    _notify(rt, job, {"state": JobState.RUNNING.value, "reason": ""})
    graph = manager.graph(job)
    selection = select(graph.deps(), **_selection(job))
    force = bool(job.selection.get("force", False))
    for name in selection.needed:
        if manager.stopped(job_id):
            return
        node = graph.tasks[name]
        parties = {str(p) for p in node.parties}
        task_orgs = sorted({job.sites[p] for p in parties})
        msg = TaskRequest(job_id=job_id, task=name)
        try:
            hits: dict[str, bool] = {}
            for org in task_orgs:
                hits.update(rt.peers.call(org, TASK_PREPARE, msg).hits)
            hit = set(hits) == parties and all(hits.values())
            if decide(name, selection, all_parties_hit=hit, force=force) is Action.REUSE:
                _task(rt, job, name, TaskState.REUSED, "cache hit on every party")
                continue
            _task(rt, job, name, TaskState.RUNNING, "")
            for org in task_orgs:
                rt.peers.call(org, TASK_RUN, msg)
        except CoalitionError as exc:
            _local(rt, job_id, f"task {name}", exc)
            fail(rt, job_id, f"task {name}: {_public(exc)}", task=name)
            return
        reports = manager.wait_reports(job_id, name, parties, job.timeout_s + _WORKER_MARGIN_S)
        if manager.stopped(job_id):
            return
        cause = _cause(reports, parties)
        if cause is not None:
            fail(rt, job_id, f"task {name}: {cause}", task=name)
            return
        _task(rt, job, name, TaskState.SUCCEEDED, "",
              seconds=max((r.seconds for r in reports.values()), default=0.0))
    _finish(rt, job)


def _public(exc: BaseException) -> str:
    return public_error(exc)[1]


def _local(rt: NodeRuntime, job_id: str, what: str, exc: BaseException) -> None:
    """The full error (details included) in this node's own log only."""
    repo.log(rt, job_id, f"{what}: {type(exc).__name__}: {exc}", level="error")


def _cause(reports: dict[str, TaskReport], parties: set[str]) -> str | None:
    failed = sorted((r for r in reports.values() if not r.ok),
                    key=lambda r: (r.code.startswith("peer.") or r.code == "job.cancelled",
                                   r.party))
    if failed:
        return f"party {failed[0].party} failed: {failed[0].error}"
    missing = sorted(parties - set(reports))
    if missing:
        return "no report from " + ", ".join(missing) + " in time"
    return None


def _task(rt: NodeRuntime, job: JobRow, task: str, state: TaskState, reason: str, *,
          seconds: float | None = None) -> None:
    def move(db: Session) -> None:
        repo.move_task(db, job.id, task, state, reason, "system", seconds=seconds)
        repo.add_log(db, job.id, f"task {task}: {state.value}", task=task)

    repo.write(rt, move)
    _notify(rt, job, {"task": task, "task_state": state.value, "reason": reason})


def _finish(rt: NodeRuntime, job: JobRow) -> None:
    def done(db: Session) -> bool:
        return repo.move_job(db, repo.get_job(db, job.id), JobState.SUCCEEDED, "", "system")

    if repo.write(rt, done):
        repo.log(rt, job.id, "job succeeded")
        _notify(rt, job, {"state": JobState.SUCCEEDED.value, "reason": ""})
        records.on_finish(rt, job)  # metrics to the federation log, a co-signed head


def close_job(db: Session, job: JobRow, target: JobState, reason: str, actor: str, *,
              task: str | None) -> bool:
    """Every unfinished task ends (the named one failed, the rest cancelled), then the job."""
    if is_terminal(JobState(job.state)):
        return False
    for row in repo.tasks(db, job.id):
        if row.task == task and target is JobState.FAILED:
            if row.state == TaskState.PENDING:
                repo.move_task(db, job.id, row.task, TaskState.RUNNING, "", actor)
            repo.move_task(db, job.id, row.task, TaskState.FAILED, reason, actor)
        else:
            repo.move_task(db, job.id, row.task, TaskState.CANCELLED,
                           reason if target is JobState.CANCELLED else "an earlier task failed",
                           actor)
    repo.move_job(db, job, target, reason, actor)
    repo.add_log(db, job.id, f"job {target.value}: {reason}",
                 level="error" if target is JobState.FAILED else "warning", task=task)
    return True


def fail(rt: NodeRuntime, job_id: str, reason: str, *, task: str | None = None,
         actor: str = "system") -> None:
    """Fail the job here and everywhere, killing its workers."""
    changed = repo.write(rt, lambda db: close_job(db, repo.get_job(db, job_id), JobState.FAILED,
                                                  reason, actor, task=task))
    manager_for(rt).stop(job_id)
    if changed:
        job = repo.read(rt, lambda db: repo.get_job(db, job_id))
        _notify(rt, job, {"state": JobState.FAILED.value, "reason": reason, "task": task})


def cancel(rt: NodeRuntime, job_id: str, reason: str, actor: str) -> None:
    """Cancel at the initiator (and everywhere), or ask the initiator to; a participant that
    cannot reach the initiator still stops its own workers and marks the job cancelled."""
    job = repo.read(rt, lambda db: repo.get_job(db, job_id))
    if is_terminal(JobState(job.state)):
        raise ConflictError(f"job is already {job.state}", id=job_id)
    if job.initiator != rt.name:
        try:
            rt.peers.call(job.initiator, JOB_CANCEL, CancelRequest(job_id=job_id, reason=reason))
            return
        except PeerError as exc:
            reason = f"{reason} (initiator unreachable: {exc})"
    changed = repo.write(rt, lambda db: close_job(db, repo.get_job(db, job_id),
                                                  JobState.CANCELLED, reason, actor, task=None))
    manager_for(rt).stop(job_id)
    if changed and job.initiator == rt.name:
        _notify(rt, job, {"state": JobState.CANCELLED.value, "reason": reason})
