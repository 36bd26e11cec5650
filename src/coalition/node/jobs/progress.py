"""What the job monitor shows beyond the job row: each party's state of each task, a task's
attempts across reruns, and which jobs used a dataset — all from this node's own records.

* **Per-party state.** The initiator files every party's report of a task as one log line
  written by :func:`~.repository.report_line` with the task and the party in their own
  columns (:func:`~.handlers.report`, which accepts a report only from the organisation the
  party is sited at); a participant files its own parties' reports the same way when it sends
  them (:mod:`.local`). :func:`party_states` reads those lines back by column and exact text,
  so a partner's free error text can mark only its own party failed, never another party
  done. A participant does not receive the other parties' reports: there a party without a
  report shows the task's mirrored state (``reported`` false).
* **Attempts.** A task's attempts are its runs in this job and in the jobs it reruns
  (``rerun_of``, newest last), as far as this node keeps them.
* **Usage.** A dataset is used by a job when a party sited at this node reads it (the
  reader's ``path``, :func:`~.local.dataset_refs`); :func:`jobs_using`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from coalition.core.errors import ConfigError
from coalition.engine.dag import parse_dag
from coalition.engine.states import TaskState
from coalition.engine.validate import JobGraph, validate_dag
from coalition.node.jobs import repository as repo
from coalition.node.jobs.local import dataset_refs
from coalition.node.jobs.tables import JobLogRow, JobRow, JobTaskRow

__all__ = ["MAX_ATTEMPTS", "attempts", "graph_of", "jobs_using", "party_states",
           "report_rows"]

MAX_ATTEMPTS = 20  # how far back a rerun chain is followed
_DONE, _FAILED = repo.REPORT_DONE, repo.REPORT_FAILED


def graph_of(job: JobRow) -> JobGraph | None:
    """The job's validated DAG; ``None`` for a stored document an older registry wrote."""
    try:
        return validate_dag(parse_dag(job.dag))
    except ConfigError:
        return None


def _report_of(row: JobLogRow) -> tuple[str, str] | None:
    """``(state, error)`` when ``row`` is a party's report, else ``None``."""
    party = row.party or ""
    if row.task is None or not party:
        return None
    if row.message == f"{party}{_DONE}" and row.level == "info":
        return TaskState.SUCCEEDED.value, ""
    if row.message.startswith(f"{party}{_FAILED}") and row.level == "error":
        return TaskState.FAILED.value, row.message[len(party) + len(_FAILED):]
    return None


def report_rows(db: Session, job_id: str) -> list[JobLogRow]:
    """The job's log lines that may be party reports (:func:`party_states` checks each)."""
    return list(db.scalars(select(JobLogRow).where(
        JobLogRow.job_id == job_id, JobLogRow.party.is_not(None), JobLogRow.task.is_not(None),
        or_(JobLogRow.message.like(f"%{_DONE}"), JobLogRow.message.like(f"%{_FAILED}%")))
        .order_by(JobLogRow.id)))


def party_states(graph: JobGraph | None, sites: dict[str, str], tasks: Iterable[JobTaskRow],
                 log_rows: Iterable[JobLogRow]) -> dict[str, list[dict[str, Any]]]:
    """Per task name, each party's ``{party, site, state, error, reported, at}``."""
    reports: dict[tuple[str, str], tuple[str, str, dt.datetime]] = {}
    for row in log_rows:
        found = _report_of(row)
        if found is not None and row.task is not None and row.party is not None:
            reports[(row.task, row.party)] = (*found, row.at)
    out: dict[str, list[dict[str, Any]]] = {}
    for task in tasks:
        node = graph.tasks.get(task.task) if graph is not None else None
        names = [str(p) for p in node.parties] if node is not None else []
        rows = []
        for party in names:
            got = reports.get((task.task, party))
            if got is not None:
                state, error, at = got
                rows.append({"party": party, "site": sites.get(party, ""), "state": state,
                             "error": error, "reported": True, "at": at})
            else:
                rows.append({"party": party, "site": sites.get(party, ""),
                             "state": task.state, "error": "", "reported": False,
                             "at": None})
        out[task.task] = rows
    return out


def attempts(db: Session, job: JobRow) -> dict[str, list[dict[str, Any]]]:
    """Per task name of ``job``, its runs in the rerun chain ending at ``job`` (oldest first):
    ``{job_id, state, seconds, started_at, finished_at}``."""
    chain: list[JobRow] = [job]
    seen = {job.id}
    while chain[-1].rerun_of and len(chain) < MAX_ATTEMPTS:
        parent = db.get(JobRow, chain[-1].rerun_of)
        if parent is None or parent.id in seen:
            break
        seen.add(parent.id)
        chain.append(parent)
    out: dict[str, list[dict[str, Any]]] = {}
    for run in reversed(chain):
        for task in repo.tasks(db, run.id):
            out.setdefault(task.task, []).append({
                "job_id": run.id, "state": task.state, "seconds": task.seconds,
                "started_at": task.started_at, "finished_at": task.finished_at})
    return {t.task: out.get(t.task, []) for t in repo.tasks(db, job.id)}


def jobs_using(db: Session, here: str, dataset: str, scan: int = 500) -> list[JobRow]:
    """Jobs (newest first, among the newest ``scan``) in which a party sited at this node
    (``here``) reads the registered dataset ``dataset``."""
    found = []
    for job in repo.list_jobs(db, scan):
        graph = graph_of(job)
        if graph is not None and any(
                job.sites.get(str(party)) == here and dataset in dataset_refs(node, party)
                for node in graph.tasks.values() for party in node.parties):
            found.append(job)
    return found
