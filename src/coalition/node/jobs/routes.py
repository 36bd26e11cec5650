"""``/jobs``: submit a DAG across nodes, follow it (status, logs, metrics, a live event
stream), cancel, rerun, and approve or reject partners' jobs that no grant covered."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import weakref
from collections.abc import AsyncIterator, Callable
from functools import partial
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.types import Receive, Scope, Send

from coalition.core.ids import JOB_ID_PATTERN
from coalition.engine.states import JobState, is_terminal
from coalition.node.api.deps import Require, runtime
from coalition.node.auth.permissions import Permission
from coalition.node.auth.principal import Principal
from coalition.node.errors import RateLimited
from coalition.node.jobs import contributions, privacy, progress, service
from coalition.node.jobs import repository as repo
from coalition.node.jobs.reports import local_reports
from coalition.node.runtime import NodeRuntime

__all__ = ["router"]

router = APIRouter(prefix="/jobs", tags=["jobs"])
Runtime = Annotated[NodeRuntime, Depends(runtime)]
Reader = Annotated[Principal, Depends(Require(Permission.JOBS_READ))]
Submitter = Annotated[Principal, Depends(Require(Permission.JOBS_SUBMIT))]
Canceller = Annotated[Principal, Depends(Require(Permission.JOBS_CANCEL))]
Approver = Annotated[Principal, Depends(Require(Permission.JOBS_APPROVE))]
# Checked before any lookup: an id names a folder on every node of the job.
JobId = Annotated[str, Path(pattern=JOB_ID_PATTERN, description="job id (16 hex digits)")]
_POLL_S = 0.5
_KEEPALIVE_S = 15.0


class Selection(BaseModel):
    """A partial run: ``only`` one task, ``from`` a task on, ``until`` a task; ``force``
    reruns the selected tasks even when their outputs are cached."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    only: str | None = Field(default=None, max_length=64)
    start: str | None = Field(default=None, alias="from", max_length=64)
    until: str | None = Field(default=None, max_length=64)
    force: bool = False

    def plain(self) -> dict[str, Any]:
        """As stored with the job."""
        return {"only": self.only, "start": self.start, "until": self.until,
                "force": self.force}


class JobSubmit(Selection):
    """A DAG document (as ``coalition job validate`` reads it) and where each party runs."""

    dag: dict[str, Any]
    sites: dict[str, str] = Field(default_factory=dict, description="party (role:name) -> "
                                  "organisation; default: the organisation named like the party")
    timeout_s: float = Field(default=600.0, ge=1.0, le=7 * 86400.0,
                             description="how long a party waits for a peer's message")


class Reason(BaseModel):
    """An optional note (required to reject)."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(default="", max_length=2000)


class OrgOut(BaseModel):
    """An organisation's answer to the proposal."""

    org: str
    parties: list[str]
    status: str
    reason: str


class PartyStateOut(BaseModel):
    """One party's state of a task: its own report where this node received it (the
    initiator), else the task's state (``reported`` false)."""

    party: str
    site: str
    state: str
    error: str
    reported: bool
    at: dt.datetime | None


class AttemptOut(BaseModel):
    """One run of a task: in this job or in a job it reruns (``rerun_of`` chain)."""

    job_id: str
    state: str
    seconds: float | None
    started_at: dt.datetime | None
    finished_at: dt.datetime | None


class TaskOut(BaseModel):
    """One task's state; ``parties`` and ``attempts`` in the job detail only."""

    name: str
    state: str
    error: str
    seconds: float | None
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    parties: list[PartyStateOut] | None = None
    attempts: list[AttemptOut] | None = None


class PartyReview(BaseModel):
    """One party of a task: where it runs and the parameters it runs with."""

    party: str
    site: str
    parameters: dict[str, Any]


class TaskReview(BaseModel):
    """One task as an approver must see it (``variant`` as grants' terms name it)."""

    task: str
    component: str
    variant: str
    parties: list[PartyReview]


class JobOut(BaseModel):
    """A job as this node sees it. In the job detail only: ``review``, the full sites and
    parameters of every task (what a person approving the job decides on), and ``dag``, the
    job's document as this node holds it — the initiator's submission, or the proposal a
    partner sent, which every organisation of the job received whole — for cloning."""

    id: str
    name: str
    initiator: str
    state: str
    error: str
    rerun_of: str | None
    sites: dict[str, str]
    selection: dict[str, Any]
    created_by: str
    created_at: dt.datetime
    updated_at: dt.datetime
    finished_at: dt.datetime | None
    organisations: list[OrgOut]
    tasks: list[TaskOut]
    review: list[TaskReview] | None = None
    dag: dict[str, Any] | None = None


class LogOut(BaseModel):
    """One log line."""

    id: int
    task: str | None
    party: str | None
    level: str
    message: str
    at: dt.datetime


class ReportOut(BaseModel):
    """A report (curves, tables) one of this node's parties stored for a task."""

    task: str
    party: str
    output: str
    report: dict[str, Any]


class MetricOut(BaseModel):
    """One metric point."""

    id: int
    task: str
    party: str
    name: str
    step: int | None
    value: float
    at: dt.datetime


def _view(rt: NodeRuntime, job_id: str) -> JobOut:
    return JobOut(**repo.read(rt, lambda db: repo.job_view(db, repo.get_job(db, job_id))))


def _detail(rt: NodeRuntime, job_id: str) -> JobOut:
    def read(db: Any) -> JobOut:
        job = repo.get_job(db, job_id)
        graph = progress.graph_of(job)
        rows = repo.tasks(db, job_id)
        states = progress.party_states(graph, job.sites, rows, progress.report_rows(db, job_id))
        runs = progress.attempts(db, job)
        out = JobOut(**repo.job_view(db, job))
        for task in out.tasks:
            task.parties = [PartyStateOut(**p) for p in states.get(task.name, [])]
            task.attempts = [AttemptOut(**a) for a in runs.get(task.name, [])]
        out.review = [TaskReview(**t) for t in privacy.review(job.dag, job.sites)]
        out.dag = dict(job.dag)
        return out

    return repo.read(rt, read)


@router.post("", response_model=JobOut, status_code=201, summary="Submit a job")
def submit(body: JobSubmit, caller: Submitter, rt: Runtime) -> JobOut:
    """Validate the DAG, record the job here (the initiator) and propose it to partners."""
    job_id = service.submit(rt, caller.actor, body.dag, sites=body.sites,
                            selection=body.plain(), timeout_s=body.timeout_s)
    return _view(rt, job_id)


@router.get("", response_model=list[JobOut], summary="List jobs")
def list_jobs(_: Reader, rt: Runtime,
              limit: Annotated[int, Query(ge=1, le=500)] = 100,
              dataset: Annotated[str | None, Query(max_length=64, description=(
                  "only jobs in which a party run by this node reads this registered "
                  "dataset (its usage), among the newest 500"))] = None) -> list[JobOut]:
    """Newest first: jobs initiated here and partners' jobs this node takes part in."""
    def rows(db: Any) -> list[JobOut]:
        if dataset is None:
            return [JobOut(**repo.job_view(db, j)) for j in repo.list_jobs(db, limit)]
        used = progress.jobs_using(db, rt.name, dataset)[:limit]
        return [JobOut(**repo.job_view(db, j)) for j in used]

    return repo.read(rt, rows)


@router.get("/{job_id}", response_model=JobOut, summary="Job status")
def get_job(job_id: JobId, _: Reader, rt: Runtime) -> JobOut:
    """The job, each organisation's answer, each task's state with each party's state and
    the task's attempts across reruns, the full sites and parameters of every task
    (``review``: what an approver decides on) and the job's DAG document (``dag``)."""
    return _detail(rt, job_id)


def _logs(rt: NodeRuntime, job_id: str, after: int, task: str | None) -> list[LogOut]:
    def rows(db: Any) -> list[LogOut]:
        repo.get_job(db, job_id)
        return [LogOut(id=r.id, task=r.task, party=r.party, level=r.level,
                       message=r.message, at=r.at)
                for r in repo.logs(db, job_id, after=after, task=task)]

    return repo.read(rt, rows)


def _metrics(rt: NodeRuntime, job_id: str, after: int) -> list[MetricOut]:
    def rows(db: Any) -> list[MetricOut]:
        repo.get_job(db, job_id)
        return [MetricOut(id=m.id, task=m.task, party=m.party, name=m.name, step=m.step,
                          value=m.value, at=m.at)
                for m in repo.metrics(db, job_id, after=after)]

    return repo.read(rt, rows)


@router.get("/{job_id}/logs", response_model=list[LogOut], summary="Job logs")
def logs(job_id: JobId, _: Reader, rt: Runtime,
         task: Annotated[str | None, Query(max_length=64)] = None,
         after: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0) -> list[LogOut]:
    """Scheduler events and this node's workers' output (``after``: the last id seen)."""
    return _logs(rt, job_id, after, task)


@router.get("/{job_id}/metrics", response_model=list[MetricOut], summary="Metric series")
def metrics(job_id: JobId, _: Reader, rt: Runtime,
            after: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0) -> list[MetricOut]:
    """Metric points (loss per epoch, AUC, ...) of the job's parties known here."""
    return _metrics(rt, job_id, after)


@router.post("/{job_id}/contributions", summary="Each data party's contribution (label holder)")
def contribution_scores(job_id: JobId, _: Submitter, rt: Runtime,
                        task: Annotated[str | None, Query(max_length=64)] = None
                        ) -> dict[str, Any]:
    """Each party's contribution to a finished job, written to the federation log
    (docs/ledger.md "Contribution"): horizontal GTG-Shapley from the aggregator's report
    (at the arbiter's node), or vertical party-level Shapley (at the label holder)."""
    return contributions.measure(rt, job_id, task=task)


@router.get("/{job_id}/reports", response_model=list[ReportOut], summary="Reports stored here")
def reports(job_id: JobId, _: Reader, rt: Runtime) -> list[ReportOut]:
    """Report outputs (ROC/KS curves, lift and gain, confusion matrix, ...) that this node's
    own parties stored for the job; a partner's reports stay on the partner's node."""
    return [ReportOut(task=r.task, party=r.party, output=r.output, report=r.content)
            for r in local_reports(rt, job_id)]


def _sse(event: str, data: BaseModel) -> str:
    return f"event: {event}\ndata: {data.model_dump_json()}\n\n"


# Event streams poll the database through at most this many worker threads in all, whatever
# the number of open streams: a stream is a coroutine, not a thread (issue 16, finding 15).
_POLL_THREADS = 2
_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = (
    weakref.WeakKeyDictionary())


def _poll_limiter() -> anyio.CapacityLimiter:
    loop = asyncio.get_running_loop()  # a limiter belongs to one event loop
    limiter = _limiters.get(loop)
    if limiter is None:
        limiter = _limiters[loop] = anyio.CapacityLimiter(_POLL_THREADS)
    return limiter


def _poll(rt: NodeRuntime, job_id: str, after_log: int,
          after_metric: int) -> tuple[JobOut, list[LogOut], list[MetricOut]]:
    """One short read: the job, and its log lines and metric points after the last seen."""
    return _view(rt, job_id), _logs(rt, job_id, after_log, None), _metrics(rt, job_id, after_metric)


async def _stream(rt: NodeRuntime, request: Request, job_id: str) -> AsyncIterator[str]:
    last_view, last_log, last_metric = "", 0, 0
    quiet_since = time.monotonic()
    while not await request.is_disconnected():
        view, new_logs, new_points = await anyio.to_thread.run_sync(
            _poll, rt, job_id, last_log, last_metric, limiter=_poll_limiter())
        out = [_sse("log", r) for r in new_logs] + [_sse("metric", m) for m in new_points]
        last_log = new_logs[-1].id if new_logs else last_log
        last_metric = new_points[-1].id if new_points else last_metric
        text = view.model_dump_json()
        if text != last_view:
            out.append(_sse("job", view))
            last_view = text
        if out:
            quiet_since = time.monotonic()
            yield "".join(out)
        elif time.monotonic() - quiet_since > _KEEPALIVE_S:
            quiet_since = time.monotonic()
            yield ": keepalive\n\n"
        if is_terminal(JobState(view.state)):
            yield "event: end\ndata: {}\n\n"
            return
        await anyio.sleep(_POLL_S)


class _SlotStream(StreamingResponse):
    """A streaming response that gives its stream slot back however it ends (job over,
    client gone, server shutting down)."""

    def __init__(self, content: AsyncIterator[str], release: Callable[[], None]) -> None:
        super().__init__(content, media_type="text/event-stream",
                         headers={"Cache-Control": "no-cache"})
        self._release: Callable[[], None] | None = release

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            release, self._release = self._release, None
            if release is not None:
                release()


@router.get("/{job_id}/events", summary="Live job events (server-sent events)",
            response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}},
                             "description": "`job` (status), `log`, `metric` events, then "
                                            "`end` once the job is finished"},
                       429: {"description": "too many event streams open for this user"}})
async def events(job_id: JobId, caller: Reader, rt: Runtime, request: Request) -> StreamingResponse:
    """Stream status changes, log lines and metric points until the job ends or the client
    goes; at most ``event_streams_per_user`` streams per user (429 beyond)."""
    await anyio.to_thread.run_sync(_view, rt, job_id, limiter=_poll_limiter())  # 404 first
    user = caller.username
    if not rt.event_streams.acquire(user):
        raise RateLimited("too many open event streams", retry_after_s=int(_KEEPALIVE_S))
    return _SlotStream(_stream(rt, request, job_id), partial(rt.event_streams.release, user))


@router.post("/{job_id}/cancel", response_model=JobOut, summary="Cancel a job")
def cancel(job_id: JobId, body: Reason, caller: Canceller, rt: Runtime) -> JobOut:
    """Cancel everywhere (asked of the initiator when this node only takes part)."""
    service.cancel(rt, caller.actor, job_id, body.reason)
    return _view(rt, job_id)


@router.post("/{job_id}/rerun", response_model=JobOut, status_code=201, summary="Rerun a job")
def rerun(job_id: JobId, body: Selection, caller: Submitter, rt: Runtime) -> JobOut:
    """A new job from this one's document; unchanged upstream outputs are reused."""
    return _view(rt, service.rerun(rt, caller.actor, job_id, body.plain()))


@router.post("/{job_id}/approve", response_model=JobOut, summary="Approve a partner's job")
def approve(job_id: JobId, body: Reason, caller: Approver, rt: Runtime) -> JobOut:
    """Take part in a job that no grant covered."""
    service.approve(rt, caller.actor, job_id, body.reason)
    return _view(rt, job_id)


@router.post("/{job_id}/reject", response_model=JobOut, summary="Reject a partner's job")
def reject(job_id: JobId, body: Reason, caller: Approver, rt: Runtime) -> JobOut:
    """Refuse a job that no grant covered; it fails everywhere with the reason."""
    service.reject(rt, caller.actor, job_id, body.reason)
    return _view(rt, job_id)
