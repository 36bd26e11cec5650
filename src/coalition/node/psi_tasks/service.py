"""PSI tasks: create, run (as a reader → psi job with the partner), finalise the run record,
read the result.

Trust stays where it belongs: this node checks only that its own dataset exists and the partner
is registered; whether the partner's dataset may be used for PSI is decided on the partner's
node by its grants and privacy policy when the job is proposed (:mod:`..jobs.consent`).
:func:`finalise_run` is the one place a run record becomes final (a later ledger hooks there).
"""

from __future__ import annotations

import re
import secrets
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from coalition.core.errors import ConflictError, InputError, NotFoundError
from coalition.crypto.suite import CryptoSuite, digest_alg, hexdigest
from coalition.engine.states import JobState, is_terminal
from coalition.node.audit.events import Event, EventKind, emit
from coalition.node.data import reading
from coalition.node.data.datasets import get_dataset
from coalition.node.db.types import utcnow
from coalition.node.jobs import repository as repo
from coalition.node.jobs import service as jobs
from coalition.node.jobs.derived import derived_name
from coalition.node.ledger import service as ledger
from coalition.node.partners.directory import get_partner
from coalition.node.psi_tasks.metrics import PSI_METRICS
from coalition.node.psi_tasks.tables import PsiRunRow, PsiTaskRow
from coalition.node.runtime import NodeRuntime

__all__ = ["PROTOCOLS", "create_task", "finalise_run", "get_run", "job_document", "list_runs",
           "list_tasks", "result_frame", "run_task", "run_view", "task_view"]

#: Protocols a task may name (the psi component's engines; ``auto`` lets it choose).
PROTOCOLS = ("auto", "kkrt", "ecdh", "oprf")
#: Who receives the intersection: the psi component aligns both parties' rows.
RECEIVERS = ("both",)
PSI_STEP = "psi"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def job_document(task: PsiTaskRow, me: str) -> dict[str, Any]:
    """The two-party DAG of one run: each side reads its dataset, then PSI on the key."""
    return {
        "version": 1, "name": f"psi-{task.name}",
        "parties": {"guest": [me], "host": [task.partner]},
        "tasks": {
            "read": {"component": "reader", "parameters": {},
                     "party_parameters": {
                         f"guest:{me}": {"path": task.dataset, "id_column": task.key_column},
                         f"host:{task.partner}": {"path": task.partner_dataset,
                                                  "id_column": task.partner_key_column}}},
            PSI_STEP: {"component": "psi", "parameters": {"protocol": task.protocol},
                       "inputs": {"data": "read.data"}},
        },
    }


def task_view(task: PsiTaskRow) -> dict[str, Any]:
    """A task as the API shows it."""
    return {"id": task.id, "name": task.name, "dataset": task.dataset,
            "key_column": task.key_column, "partner": task.partner,
            "partner_dataset": task.partner_dataset,
            "partner_key_column": task.partner_key_column, "protocol": task.protocol,
            "receiver": task.receiver, "created_by": task.created_by,
            "created_at": task.created_at}


def run_view(run: PsiRunRow) -> dict[str, Any]:
    """A run record as the API shows it."""
    return {"id": run.id, "task_id": run.task_id, "job_id": run.job_id, "state": run.state,
            "error": run.error, "protocol": run.protocol, "started_by": run.started_by,
            "started_at": run.started_at, "finalised_at": run.finalised_at,
            "wall_s": run.wall_s, "input_rows": run.input_rows,
            "intersection_size": run.intersection_size, "wire_bytes": run.wire_bytes,
            "result_dataset": run.result_dataset, "result_hash": run.result_hash,
            "result_hash_alg": run.result_hash_alg or "sha256"}


def create_task(rt: NodeRuntime, actor: str, fields: dict[str, Any]) -> dict[str, Any]:
    """Save a task; its dataset and partner must exist here (the partner decides the rest)."""
    name = str(fields["name"])
    if not _NAME.match(name):
        raise InputError("a task name is 1-64 letters, digits, '_', '.' or '-'")
    if fields["protocol"] not in PROTOCOLS:
        raise InputError("unknown PSI protocol", protocol=fields["protocol"],
                         protocols=list(PROTOCOLS))
    if fields["receiver"] not in RECEIVERS:
        raise InputError("the node PSI task aligns both parties' rows", receivers=list(RECEIVERS))

    def create(db: Session) -> dict[str, Any]:
        if db.scalars(select(PsiTaskRow.id).where(PsiTaskRow.name == name)).first():
            raise ConflictError("a PSI task with this name exists", name=name)
        get_dataset(db, str(fields["dataset"]))
        get_partner(db, str(fields["partner"]))
        row = PsiTaskRow(id=secrets.token_hex(8), name=name, dataset=fields["dataset"],
                         key_column=fields["key_column"], partner=fields["partner"],
                         partner_dataset=fields["partner_dataset"],
                         partner_key_column=fields.get("partner_key_column")
                         or fields["key_column"],
                         protocol=fields["protocol"], receiver=fields["receiver"],
                         created_by=actor, created_at=utcnow())
        db.add(row)
        db.flush()
        emit(db, Event(EventKind.PSI_TASK_CREATED, actor, f"psi_task:{row.id}",
                       {"name": name, "dataset": row.dataset, "partner": row.partner,
                        "partner_dataset": row.partner_dataset, "protocol": row.protocol}))
        return task_view(row)

    return repo.write(rt, create)


def _task(db: Session, task_id: str) -> PsiTaskRow:
    row = db.scalars(select(PsiTaskRow).where(
        (PsiTaskRow.id == task_id) | (PsiTaskRow.name == task_id))).first()
    if row is None:
        raise NotFoundError("no such PSI task", id=task_id)
    return row


def list_tasks(rt: NodeRuntime) -> list[dict[str, Any]]:
    """Every saved task, newest first."""
    return repo.read(rt, lambda db: [task_view(t) for t in db.scalars(
        select(PsiTaskRow).order_by(PsiTaskRow.created_at.desc()))])


def run_task(rt: NodeRuntime, actor: str, task_id: str) -> dict[str, Any]:
    """Start one run of a task now: submit its job and record the run (state ``pending``)."""
    task = repo.read(rt, lambda db: _task(db, task_id))
    job_id = jobs.submit(rt, actor, job_document(task, rt.name))

    def record(db: Session) -> dict[str, Any]:
        run = PsiRunRow(task_id=task.id, job_id=job_id, state=JobState.PENDING.value, error="",
                        protocol=task.protocol, started_by=actor, started_at=utcnow())
        db.add(run)
        db.flush()
        emit(db, Event(EventKind.PSI_RUN_STARTED, actor, f"psi_run:{run.id}",
                       {"task": task.id, "job": job_id, "protocol": task.protocol}))
        return run_view(run)

    return repo.write(rt, record)


def _metric(db: Session, job_id: str, party: str, name: str) -> int | None:
    values = [m.value for m in repo.metrics(db, job_id)
              if m.task == PSI_STEP and m.party == party and m.name.endswith(name)]
    return int(values[-1]) if values else None


def _result_hash(frame: pd.DataFrame, id_column: str, suite: CryptoSuite) -> str:
    """The suite's hash (SHA-256, or SM3 under ``sm``) of the sorted IDs, one per line."""
    ids = sorted(frame[id_column].astype(str))
    return hexdigest("".join(f"{i}\n" for i in ids).encode(), suite)


def _attach_result(db: Session, run: PsiRunRow, name: str, suite: CryptoSuite) -> None:
    """Point the record at its derived dataset and hash it; a result that cannot be read
    (removed, unreadable) leaves the record final without one."""
    try:
        dataset = get_dataset(db, name)
        frame = reading.load_frame(dataset.kind, dataset.location, dataset.table,
                                   dataset.id_column)
    except (NotFoundError, InputError, OSError, ValueError):
        run.error = "the result dataset could not be read"
        return
    run.result_dataset = name
    run.result_hash = _result_hash(frame, dataset.id_column, suite)
    alg = digest_alg(suite)
    run.result_hash_alg = None if alg == "sha256" else alg  # NULL: sha256, as before


def finalise_run(rt: NodeRuntime, run_id: int) -> dict[str, Any]:
    """Bring a run record up to date from its job; once the job ended, fill sizes, wall time,
    the derived result dataset and its hash, and mark the record final (exactly once).

    The one place a PSI run record becomes final: a ledger or notifier hooks here.
    """
    def update(db: Session, finalised_now: list[bool]) -> dict[str, Any]:
        finalised_now.clear()  # a retried transaction starts over
        run = _run(db, run_id)
        if run.finalised_at is not None:
            return run_view(run)
        job = repo.get_job(db, run.job_id)
        run.state = job.state
        run.error = job.error
        if not is_terminal(JobState(job.state)):
            return run_view(run)
        party = f"guest:{rt.name}"
        run.finalised_at = utcnow()
        finalised_now.append(True)
        if job.finished_at is not None:
            run.wall_s = (job.finished_at - job.created_at).total_seconds()
        run.input_rows = _metric(db, job.id, party, "input_rows")
        run.intersection_size = _metric(db, job.id, party, "intersection_size")
        sent, received = (_metric(db, job.id, party, "bytes_sent"),
                          _metric(db, job.id, party, "bytes_received"))
        run.wire_bytes = None if sent is None or received is None else sent + received
        if job.state == JobState.SUCCEEDED:
            key = repo.get_task(db, job.id, PSI_STEP).keys.get(party)
            if key is not None:
                _attach_result(db, run, derived_name(PSI_STEP, "data", key),
                               rt.settings.crypto_suite)
        emit(db, Event(EventKind.PSI_RUN_FINALISED, "system", f"psi_run:{run.id}",
                       {"task": run.task_id, "job": run.job_id, "state": run.state,
                        "protocol": run.protocol, "input_rows": run.input_rows,
                        "intersection_size": run.intersection_size, "wall_s": run.wall_s,
                        "wire_bytes": run.wire_bytes, "result_hash": run.result_hash}))
        return run_view(run)

    finalised_now: list[bool] = []
    view = repo.write(rt, lambda db: update(db, finalised_now))
    if finalised_now:
        rt.state(PSI_METRICS).record(view["protocol"], view["state"], view["intersection_size"])
        # the run's sizes and result hash in the federation log (this node initiated the job)
        ledger.record(rt, rt.name, "psi.run", {
            "job": view["job_id"], "task": view["task_id"], "protocol": view["protocol"],
            "state": view["state"], "input_rows": view["input_rows"],
            "intersection_size": view["intersection_size"],
            "result_sha256": view["result_hash"],
            # standard entries keep their exact bytes; sm names its hash
            **({} if view["result_hash_alg"] == "sha256"
               else {"digest_alg": view["result_hash_alg"]})}, job_id=view["job_id"])
    return view


def _run(db: Session, run_id: int) -> PsiRunRow:
    run = db.get(PsiRunRow, run_id)
    if run is None:
        raise NotFoundError("no such PSI run", id=run_id)
    return run


def get_run(rt: NodeRuntime, run_id: int) -> dict[str, Any]:
    """One run record, brought up to date."""
    return finalise_run(rt, run_id)


def list_runs(rt: NodeRuntime, *, task: str | None = None, state: str | None = None,
              limit: int = 100) -> list[dict[str, Any]]:
    """Run records, newest first, filtered by task (id or name) and state."""
    def ids(db: Session) -> list[int]:
        query = select(PsiRunRow.id).order_by(PsiRunRow.id.desc()).limit(limit)
        if task is not None:
            query = query.where(PsiRunRow.task_id == _task(db, task).id)
        return list(db.scalars(query))

    runs = [finalise_run(rt, i) for i in repo.read(rt, ids)]
    return [r for r in runs if state is None or r["state"] == state]


def result_frame(rt: NodeRuntime, actor: str, run_id: int, *, limit: int | None,
                 download: str | None) -> pd.DataFrame:
    """The run's aligned rows (this node's own columns); a download is audited."""
    finalise_run(rt, run_id)

    def load(db: Session) -> pd.DataFrame:
        run = _run(db, run_id)
        if run.result_dataset is None:
            raise ConflictError("this run has no result", state=run.state)
        dataset = get_dataset(db, run.result_dataset)
        frame = reading.load_frame(dataset.kind, dataset.location, dataset.table,
                                   dataset.id_column, limit)
        if download is not None:
            emit(db, Event(EventKind.PSI_RESULT_DOWNLOADED, actor, f"psi_run:{run.id}",
                           {"format": download, "rows": len(frame),
                            "result_hash": run.result_hash}))
        return frame

    return repo.write(rt, load)
