"""The job methods between nodes, declared once (handlers: :mod:`.handlers`).

Initiator → participant: :data:`JOB_PROPOSE` (the whole job; answered with accept, reject or
wait, plus the per-job party endpoints), :data:`JOB_START` (every party's endpoint),
:data:`TASK_PREPARE` (whether each local party's cache key hits — keys never leave the node),
:data:`TASK_RUN` (start the local workers) and :data:`JOB_UPDATE` (mirror a job or task state).
Participant → initiator: :data:`JOB_DECISION` (a person approved or rejected a waiting job),
:data:`TASK_REPORT` (a party's outcome, with its metric points) and :data:`JOB_CANCEL`.

Each declares who may call it (the job's initiator, or an organisation taking part) and whether
it needs *this node's own* recorded acceptance of the job; the guards behind those kinds are
:func:`.handlers.register`'s. Every job id is checked (:func:`~coalition.core.ids.check_job_id`)
while the request validates, before it touches the database or a folder.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field

from coalition.engine.states import JobState, TaskState
from coalition.node.ledger.errors import LedgerAlertOpen
from coalition.node.peer.method import (
    Access,
    Empty,
    JobId,
    Name,
    PeerMethod,
    PeerRequest,
    PeerResponse,
    Requirement,
    Seconds,
)

__all__ = ["JOB_CANCEL", "JOB_DECISION", "JOB_PROPOSE", "JOB_START", "JOB_UPDATE",
           "TASK_PREPARE", "TASK_REPORT", "TASK_RUN", "CancelRequest", "DecisionRequest",
           "JobProposal", "JobRequest", "PartyEndpoint", "ProposalAnswer", "ProposeRequest",
           "Selection", "StartRequest", "TaskHits", "TaskReportRequest", "TaskRequest",
           "TasksStarted", "UpdateRequest"]


class Selection(PeerRequest):
    """Which tasks a run covers (:func:`~coalition.engine.plan.select`)."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    only: str | None = Field(default=None, max_length=64)
    start: str | None = Field(default=None, max_length=64)
    until: str | None = Field(default=None, max_length=64)
    force: bool = False


class JobProposal(PeerRequest):
    """The job document as the initiator stored it. Sizes against this node's limits (tasks,
    parties) are checked by the handler before any parsing work."""

    id: JobId
    name: Name
    initiator: Name
    dag: dict[str, Any]
    sites: dict[Name, Name]
    selection: Selection = Selection()
    timeout_s: Seconds | None = None
    rerun_of: JobId | None = None


class ProposeRequest(PeerRequest):
    """A job proposed by its initiator."""

    job: JobProposal


class PartyEndpoint(PeerResponse):
    """Where a party of the job listens, with its node-issued certificate."""

    address: str
    cert_pem: str


class ProposalAnswer(PeerResponse):
    """The answer of this node, with its own parties' endpoints when it accepted."""

    status: Literal["accepted", "rejected", "waiting_approval"]
    reason: str = ""
    endpoints: dict[str, PartyEndpoint] = Field(default_factory=dict)


class JobRequest(PeerRequest):
    """Any request about one existing job."""

    job_id: JobId


class StartRequest(JobRequest):
    """Every party's endpoint: the job runs."""

    endpoints: dict[str, PartyEndpoint]


class TaskRequest(JobRequest):
    """One task of a running job."""

    task: str = Field(min_length=1, max_length=200)


class TaskHits(PeerResponse):
    """Per local party, whether its cache key of the task hits."""

    hits: dict[str, bool]


class TasksStarted(PeerResponse):
    """The local parties whose workers run."""

    started: list[str]


class UpdateRequest(JobRequest):
    """A job state (``state``), or a task state (``task_state`` of ``task``)."""

    state: JobState | None = None
    task_state: TaskState | None = None
    task: str | None = Field(default=None, max_length=200)
    reason: str | None = None

    @property
    def stops_job(self) -> bool:
        """Whether this only stops the job (failed or cancelled): allowed without acceptance."""
        return self.task_state is None and self.state in (JobState.FAILED, JobState.CANCELLED)


class TaskReportRequest(JobRequest):
    """One party's outcome of a task, with its metric points."""

    task: str = Field(min_length=1, max_length=200)
    party: Name
    ok: bool = False
    error: str | None = None
    code: str | None = None
    seconds: float | None = None
    metrics: list[dict[str, Any]] = Field(default_factory=list)


class DecisionRequest(JobRequest):
    """A participant's late answer, with its parties' endpoints when accepted."""

    status: Literal["accepted", "rejected"]
    reason: str | None = None
    endpoints: dict[str, PartyEndpoint] = Field(default_factory=dict)


class CancelRequest(JobRequest):
    """A participant asks the initiator to stop the job."""

    reason: str | None = None
    fail: bool = False  # after the participant's restart: fail rather than cancel
    task: str | None = Field(default=None, max_length=200)


_INITIATOR, _PARTY = Access.JOB_INITIATOR, Access.JOB_PARTY
_ACCEPTED = Requirement.JOB_ACCEPTED_HERE

# caller = job.initiator; a federation-log alert about it arrives exactly (ledger.alert_open)
JOB_PROPOSE = PeerMethod("JobPropose", ProposeRequest, ProposalAnswer,
                         errors=(LedgerAlertOpen,))
JOB_START = PeerMethod("JobStart", StartRequest, Empty, _INITIATOR, _ACCEPTED)
TASK_PREPARE = PeerMethod("TaskPrepare", TaskRequest, TaskHits, _INITIATOR, _ACCEPTED)
TASK_RUN = PeerMethod("TaskRun", TaskRequest, TasksStarted, _INITIATOR, _ACCEPTED)
JOB_UPDATE = PeerMethod("JobUpdate", UpdateRequest, Empty, _INITIATOR,
                        Requirement.JOB_ACCEPTED_HERE_UNLESS_STOPPING)
TASK_REPORT = PeerMethod("TaskReport", TaskReportRequest, Empty, _PARTY)
JOB_DECISION = PeerMethod("JobDecision", DecisionRequest, Empty, _PARTY)
JOB_CANCEL = PeerMethod("JobCancel", CancelRequest, Empty, _PARTY)
