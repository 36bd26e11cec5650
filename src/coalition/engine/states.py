"""Job and task state machines: the states, the allowed transitions, typed refusals.

Pure: no clock, no database. A runtime (the standalone runner now, a node's repository later)
keeps the current state, asks :func:`advance` for the next one, and records the returned
:class:`Transition` (a node turns it into one audited event). Terminal states never change.

Job::

    pending ─┬─> waiting_approval ─┬─> running ─┬─> succeeded
             │                     │            ├─> failed
             └─────────────────────┼────────────┘
                                   └─> cancelled / failed (rejected)
    any non-terminal state ──> cancelled

Task::

    pending ─┬─> running ─┬─> succeeded
             │            ├─> failed
             │            └─> cancelled
             ├─> reused      (outputs of an unchanged run are taken from the cache)
             └─> cancelled   (an upstream task failed, or the job was cancelled)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from coalition.core.errors import ConflictError

__all__ = [
    "JOB_TRANSITIONS",
    "TASK_TRANSITIONS",
    "InvalidTransitionError",
    "JobState",
    "TaskState",
    "Transition",
    "advance",
    "is_terminal",
    "job_outcome",
]


class JobState(StrEnum):
    """Where a job is."""

    PENDING = "pending"
    WAITING_APPROVAL = "waiting_approval"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class TaskState(StrEnum):
    """Where one task of a job is."""

    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    REUSED = "reused"
    FAILED = "failed"
    CANCELLED = "cancelled"


J, T = JobState, TaskState

JOB_TRANSITIONS: Mapping[JobState, frozenset[JobState]] = {
    J.PENDING: frozenset({J.WAITING_APPROVAL, J.RUNNING, J.CANCELLED, J.FAILED}),
    J.WAITING_APPROVAL: frozenset({J.RUNNING, J.CANCELLED, J.FAILED}),
    J.RUNNING: frozenset({J.SUCCEEDED, J.FAILED, J.CANCELLED}),
    J.SUCCEEDED: frozenset(),
    J.FAILED: frozenset(),
    J.CANCELLED: frozenset(),
}

TASK_TRANSITIONS: Mapping[TaskState, frozenset[TaskState]] = {
    T.PENDING: frozenset({T.RUNNING, T.REUSED, T.CANCELLED}),
    T.RUNNING: frozenset({T.SUCCEEDED, T.FAILED, T.CANCELLED}),
    T.SUCCEEDED: frozenset(),
    T.REUSED: frozenset(),
    T.FAILED: frozenset(),
    T.CANCELLED: frozenset(),
}

S = TypeVar("S", JobState, TaskState)


class InvalidTransitionError(ConflictError):
    """A state change the machine does not allow (for instance ``succeeded -> running``)."""

    code = "job.invalid_transition"


@dataclass(frozen=True)
class Transition:
    """One state change of the job (``task`` is None) or of one task."""

    job: str
    task: str | None
    before: str
    after: str
    reason: str = ""


def _table(state: JobState | TaskState) -> Mapping[JobState, frozenset[JobState]] | \
        Mapping[TaskState, frozenset[TaskState]]:
    return JOB_TRANSITIONS if isinstance(state, JobState) else TASK_TRANSITIONS


def is_terminal(state: JobState | TaskState) -> bool:
    """Whether nothing may follow ``state``."""
    table: Mapping[object, frozenset[object]] = _table(state)  # type: ignore[assignment]
    return not table[state]


def advance(current: S, target: S, *, job: str, task: str | None = None,
            reason: str = "") -> Transition:
    """The transition ``current -> target``, or :class:`InvalidTransitionError`."""
    if type(current) is not type(target):
        raise InvalidTransitionError("job and task states do not mix", job=job, task=task)
    table: Mapping[object, frozenset[object]] = _table(current)  # type: ignore[assignment]
    if target not in table[current]:
        raise InvalidTransitionError(
            f"{'task' if task else 'job'} cannot go from {current.value} to {target.value}",
            job=job, task=task, allowed=sorted(s.value for s in table[current]))  # type: ignore[attr-defined]
    return Transition(job, task, current.value, target.value, reason)


def job_outcome(tasks: Iterable[TaskState]) -> JobState:
    """The final job state once every task is terminal: failed if any task failed, cancelled
    if any was cancelled, else succeeded. :class:`InvalidTransitionError` while one still runs."""
    states = list(tasks)
    if any(not is_terminal(s) for s in states):
        raise InvalidTransitionError("the job still has unfinished tasks", job="",
                                     unfinished=sorted({s.value for s in states
                                                        if not is_terminal(s)}))
    if TaskState.FAILED in states:
        return JobState.FAILED
    if TaskState.CANCELLED in states:
        return JobState.CANCELLED
    return JobState.SUCCEEDED
