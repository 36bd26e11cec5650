"""Telling a job's other organisations about a state change (best effort, logged).

Shared by the scheduler (every state change of a job it drives) and the manager's restart
recovery (:func:`announce_restart`), which is why it sits below both.
"""

from __future__ import annotations

import logging
from typing import Any

from coalition.core.errors import CoalitionError
from coalition.engine.states import JobState
from coalition.node.jobs import repository as repo
from coalition.node.jobs.peer_methods import JOB_CANCEL, JOB_UPDATE, CancelRequest, UpdateRequest
from coalition.node.jobs.tables import JobRow
from coalition.node.runtime import NodeRuntime

__all__ = ["announce_restart", "notify", "orgs"]

log = logging.getLogger("coalition.node.jobs")


def orgs(job: JobRow) -> list[str]:
    """The organisations of the job, sorted."""
    return sorted(set(job.sites.values()))


def notify(rt: NodeRuntime, job: JobRow, payload: dict[str, Any]) -> None:
    """Mirror a state change (``JobUpdate`` fields) at every other organisation."""
    for org in orgs(job):
        if org == rt.name:
            continue
        try:
            rt.peers.call(org, JOB_UPDATE, UpdateRequest.model_validate(
                {"job_id": job.id, **payload}, strict=False))
        except CoalitionError as exc:
            repo.log(rt, job.id, f"could not update {org}: {exc}", level="warning")


def _job(rt: NodeRuntime, job_id: str) -> JobRow:
    return repo.read(rt, lambda db: repo.get_job(db, job_id))


def announce_restart(rt: NodeRuntime, failed: list[tuple[str, str, list[str]]]) -> None:
    """After :func:`~.manager.recover`: tell the other organisations of each failed job."""
    for job_id, initiator, running in failed:
        job = _job(rt, job_id)
        cause = job.error
        try:
            if initiator == rt.name:
                notify(rt, job, {"state": JobState.FAILED.value, "reason": cause,
                                 "task": running[0] if running else None})
            else:
                rt.peers.call(initiator, JOB_CANCEL, CancelRequest(
                    job_id=job_id, reason=cause, fail=True,
                    task=running[0] if running else None))
        except CoalitionError as exc:
            log.warning("could not announce the restart for job %s: %s", job_id, exc)
