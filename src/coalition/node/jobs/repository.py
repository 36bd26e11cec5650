"""Job rows behind one small API: create, read, move through the state machine, log, measure.

State changes go through :func:`coalition.engine.states.advance` (an invalid move is refused,
never written) and each emits one audited event in the same transaction. Logs and metric
points are data about a run, not state changes, and are not audited.

A job's state is read then written, so :func:`write` runs a job transaction under one
process-wide lock and the database-wide ``jobs`` writer lock (:func:`serialise`: writers in
other processes wait too, on SQLite and PostgreSQL), and retries a transaction the database
ends for a conflict (a deadlock with row locks on PostgreSQL, a busy SQLite).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from coalition.core.errors import NotFoundError
from coalition.engine.states import (
    InvalidTransitionError,
    JobState,
    TaskState,
    advance,
    is_terminal,
)
from coalition.node.at_rest import remove_inputs_after_commit
from coalition.node.audit.events import Event, EventKind, emit
from coalition.node.db.engine import serialise
from coalition.node.db.types import utcnow
from coalition.node.jobs.tables import JobLogRow, JobMetricRow, JobPartyRow, JobRow, JobTaskRow
from coalition.node.runtime import NodeRuntime

__all__ = [
    "REPORT_DONE",
    "REPORT_FAILED",
    "add_log",
    "add_metric",
    "create_job",
    "get_job",
    "get_task",
    "job_view",
    "list_jobs",
    "log",
    "logs",
    "metrics",
    "move_job",
    "move_task",
    "parties",
    "read",
    "report_line",
    "set_party",
    "tasks",
    "write",
]

T = TypeVar("T")
_LOCK = threading.Lock()


def write(rt: NodeRuntime, fn: Callable[[Session], T], attempts: int = 5) -> T:
    """Run ``fn`` in one transaction, serialised with this process's other job writes."""
    for attempt in range(attempts):
        try:
            with _LOCK, rt.db.session() as db:
                serialise(db, "jobs")  # before "audit", which fn's emits take
                return fn(db)
        except (IntegrityError, OperationalError):
            if attempt == attempts - 1:
                raise
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")  # pragma: no cover


def read(rt: NodeRuntime, fn: Callable[[Session], T]) -> T:
    """Run ``fn`` in a read transaction."""
    with rt.db.session() as db:
        return fn(db)


def create_job(db: Session, *, job_id: str, name: str, initiator: str, dag: dict[str, Any],
               sites: dict[str, str], selection: dict[str, Any], timeout_s: float,
               created_by: str, rerun_of: str | None, task_names: Iterable[str],
               orgs: dict[str, list[str]]) -> JobRow:
    """Insert a job in ``pending`` with its tasks (``pending``) and organisations."""
    now = utcnow()
    job = JobRow(id=job_id, name=name, initiator=initiator, dag=dag, sites=sites,
                 selection=selection, endpoints={}, timeout_s=timeout_s,
                 state=JobState.PENDING.value, error="", rerun_of=rerun_of,
                 created_by=created_by, created_at=now, updated_at=now)
    db.add(job)
    db.flush()
    for i, task in enumerate(task_names):
        db.add(JobTaskRow(job_id=job_id, task=task, position=i, state=TaskState.PENDING.value,
                          error="", keys={}))
    for org, names in sorted(orgs.items()):
        db.add(JobPartyRow(job_id=job_id, org=org, parties=sorted(names), status="pending",
                           reason=""))
    db.flush()
    return job


def get_job(db: Session, job_id: str) -> JobRow:
    """The job with this id (:class:`NotFoundError` otherwise)."""
    job = db.get(JobRow, job_id)
    if job is None:
        raise NotFoundError("no such job", id=job_id)
    return job


def list_jobs(db: Session, limit: int = 100) -> list[JobRow]:
    """Newest jobs first."""
    return list(db.scalars(select(JobRow).order_by(JobRow.created_at.desc()).limit(limit)))


def tasks(db: Session, job_id: str) -> list[JobTaskRow]:
    """The job's tasks in run order."""
    return list(db.scalars(select(JobTaskRow).where(JobTaskRow.job_id == job_id)
                           .order_by(JobTaskRow.position)))


def get_task(db: Session, job_id: str, task: str) -> JobTaskRow:
    """One task row (:class:`NotFoundError` if the job has no such task)."""
    row = db.scalars(select(JobTaskRow).where(JobTaskRow.job_id == job_id,
                                              JobTaskRow.task == task)).first()
    if row is None:
        raise NotFoundError("no such task in this job", job=job_id, task=task)
    return row


def parties(db: Session, job_id: str) -> list[JobPartyRow]:
    """Participating organisations and their answers."""
    return list(db.scalars(select(JobPartyRow).where(JobPartyRow.job_id == job_id)
                           .order_by(JobPartyRow.org)))


def set_party(db: Session, job_id: str, org: str, status: str, reason: str,  # noqa: PLR0917
              actor: str) -> None:
    """Record an organisation's answer to the proposal (audited)."""
    row = db.scalars(select(JobPartyRow).where(JobPartyRow.job_id == job_id,
                                               JobPartyRow.org == org)).first()
    if row is None:
        raise NotFoundError("organisation takes no part in this job", job=job_id, org=org)
    row.status, row.reason, row.decided_at = status, reason, utcnow()
    emit(db, Event(EventKind.JOB_DECIDED, actor, f"job:{job_id}",
                   {"org": org, "status": status, "reason": reason}))


def move_job(db: Session, job: JobRow, target: JobState, reason: str, actor: str) -> bool:
    """Move the job to ``target``; ``False`` (and no write) if the machine refuses."""
    current = JobState(job.state)
    if current is target:
        return False
    try:
        t = advance(current, target, job=job.id, reason=reason)
    except InvalidTransitionError:
        return False
    job.state, job.updated_at = target.value, utcnow()
    if target in (JobState.FAILED, JobState.CANCELLED) and reason and not job.error:
        job.error = reason
    if is_terminal(target):
        job.finished_at = job.updated_at
        remove_inputs_after_commit(db, job.id)  # exported inputs must not outlive the job
    emit(db, Event(EventKind.JOB_STATE_CHANGED, actor, f"job:{job.id}",
                   {"from": t.before, "to": t.after, "reason": reason}))
    return True


def move_task(db: Session, job_id: str, task: str, target: TaskState,  # noqa: PLR0917
              reason: str, actor: str, *, seconds: float | None = None) -> bool:
    """Move one task to ``target``; ``False`` (and no write) if the machine refuses."""
    row = get_task(db, job_id, task)
    current = TaskState(row.state)
    try:
        t = advance(current, target, job=job_id, task=task, reason=reason)
    except InvalidTransitionError:
        return False
    now = utcnow()
    row.state = target.value
    if target is TaskState.RUNNING:
        row.started_at = now
    if is_terminal(target):
        row.finished_at = now
        row.error = reason if target in (TaskState.FAILED, TaskState.CANCELLED) else ""
    if seconds is not None:
        row.seconds = seconds
    emit(db, Event(EventKind.TASK_STATE_CHANGED, actor, f"job:{job_id}",
                   {"task": task, "from": t.before, "to": t.after, "reason": reason}))
    return True


REPORT_DONE, REPORT_FAILED = ": done", ": failed: "


def report_line(party: str, ok: bool, error: str) -> str:
    """The log text of a party's report of a task — the one format
    :func:`~.progress.party_states` reads back."""
    return f"{party}{REPORT_DONE}" if ok else f"{party}{REPORT_FAILED}{error}"


def add_log(db: Session, job_id: str, message: str, *, level: str = "info",
            task: str | None = None, party: str | None = None) -> None:
    """Append one log line."""
    db.add(JobLogRow(job_id=job_id, task=task, party=party, level=level,
                     message=message[:20000], at=utcnow()))


def log(rt: NodeRuntime, job_id: str, message: str, *, level: str = "info",
        task: str | None = None, party: str | None = None) -> None:
    """Append one log line in its own transaction."""
    write(rt, lambda db: add_log(db, job_id, message, level=level, task=task, party=party))


def add_metric(db: Session, job_id: str, task: str, party: str, *, name: str, value: float,
               step: int | None) -> None:
    """Append one metric point."""
    db.add(JobMetricRow(job_id=job_id, task=task, party=party, name=name[:128], step=step,
                        value=float(value), at=utcnow()))


def logs(db: Session, job_id: str, *, after: int = 0, task: str | None = None,
         limit: int = 1000) -> list[JobLogRow]:
    """Log lines with ``id > after``, oldest first."""
    q = select(JobLogRow).where(JobLogRow.job_id == job_id, JobLogRow.id > after)
    if task is not None:
        q = q.where(JobLogRow.task == task)
    return list(db.scalars(q.order_by(JobLogRow.id).limit(limit)))


def metrics(db: Session, job_id: str, *, after: int = 0, limit: int = 5000) -> list[JobMetricRow]:
    """Metric points with ``id > after``, oldest first."""
    q = select(JobMetricRow).where(JobMetricRow.job_id == job_id, JobMetricRow.id > after)
    return list(db.scalars(q.order_by(JobMetricRow.id).limit(limit)))


def job_view(db: Session, job: JobRow) -> dict[str, Any]:
    """The job as plain values: states, answers, tasks (no keys, no endpoints)."""
    return {
        "id": job.id, "name": job.name, "initiator": job.initiator, "state": job.state,
        "error": job.error, "rerun_of": job.rerun_of, "sites": job.sites,
        "selection": job.selection, "created_by": job.created_by,
        "created_at": job.created_at, "updated_at": job.updated_at,
        "finished_at": job.finished_at,
        "organisations": [{"org": p.org, "parties": p.parties, "status": p.status,
                           "reason": p.reason} for p in parties(db, job.id)],
        "tasks": [{"name": t.task, "state": t.state, "error": t.error, "seconds": t.seconds,
                   "started_at": t.started_at, "finished_at": t.finished_at}
                  for t in tasks(db, job.id)],
    }
