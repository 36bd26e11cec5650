"""Cron schedules of PSI tasks: stored in the node database, run by one loop per runtime.

Cron expressions are parsed and stepped by ``croniter`` (five fields, or six with seconds
last). Each schedule stores its next due time; the loop (:data:`SCHEDULER`, a runtime slot)
claims a due schedule by compare-and-set on that time, so each due time starts exactly one run
however many loops look, and a restarted node resumes from the stored time: a due time missed
while the node was down starts one run, not one per missed tick.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from croniter import croniter
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from coalition.core.errors import InputError, NotFoundError
from coalition.node.audit.events import Event, EventKind, emit
from coalition.node.db.types import utcnow
from coalition.node.jobs import repository as repo
from coalition.node.polling import PollingLoop, loop_slot
from coalition.node.psi_tasks import service
from coalition.node.psi_tasks.tables import PsiScheduleRow, PsiTaskRow
from coalition.node.runtime import NodeRuntime
from coalition.node.slots import Slot

__all__ = ["SCHEDULER", "add_schedule", "list_schedules", "next_time",
           "remove_schedule", "run_due"]

_log = logging.getLogger(__name__)
POLL_S = 1.0


def next_time(cron: str, after: dt.datetime) -> dt.datetime:
    """The first time strictly after ``after`` that ``cron`` names (UTC)."""
    if not croniter.is_valid(cron):
        raise InputError("not a cron expression (five fields, or six with seconds last)",
                         field="cron")
    following: dt.datetime = croniter(cron, after.astimezone(dt.UTC)).get_next(dt.datetime)
    return following.astimezone(dt.UTC)


def schedule_view(row: PsiScheduleRow) -> dict[str, Any]:
    """A schedule as the API shows it."""
    return {"id": row.id, "task_id": row.task_id, "cron": row.cron, "enabled": row.enabled,
            "next_run_at": row.next_run_at, "last_run_id": row.last_run_id,
            "created_by": row.created_by, "created_at": row.created_at}


def add_schedule(rt: NodeRuntime, actor: str, task: str, cron: str) -> dict[str, Any]:
    """Run ``task`` at every time ``cron`` names from now on."""
    first = next_time(cron, utcnow())

    def create(db: Session) -> dict[str, Any]:
        row = db.scalars(select(PsiTaskRow).where(
            (PsiTaskRow.id == task) | (PsiTaskRow.name == task))).first()
        if row is None:
            raise NotFoundError("no such PSI task", id=task)
        schedule = PsiScheduleRow(task_id=row.id, cron=cron, enabled=True, next_run_at=first,
                                  created_by=actor, created_at=utcnow())
        db.add(schedule)
        db.flush()
        emit(db, Event(EventKind.PSI_SCHEDULE_CHANGED, actor, f"psi_schedule:{schedule.id}",
                       {"task": row.id, "cron": cron, "enabled": True}))
        return schedule_view(schedule)

    return repo.write(rt, create)


def list_schedules(rt: NodeRuntime) -> list[dict[str, Any]]:
    """Every schedule."""
    return repo.read(rt, lambda db: [schedule_view(s) for s in db.scalars(
        select(PsiScheduleRow).order_by(PsiScheduleRow.id))])


def remove_schedule(rt: NodeRuntime, actor: str, schedule_id: int) -> None:
    """Delete a schedule (runs already started go on)."""
    def delete(db: Session) -> None:
        row = db.get(PsiScheduleRow, schedule_id)
        if row is None:
            raise NotFoundError("no such PSI schedule", id=schedule_id)
        db.delete(row)
        emit(db, Event(EventKind.PSI_SCHEDULE_CHANGED, actor, f"psi_schedule:{schedule_id}",
                       {"task": row.task_id, "cron": row.cron, "enabled": False}))

    repo.write(rt, delete)


def _claim(db: Session, now: dt.datetime) -> list[tuple[int, str]]:
    """Move every due schedule's due time on (compare-and-set); return those this call won."""
    won: list[tuple[int, str]] = []
    due = db.scalars(select(PsiScheduleRow).where(PsiScheduleRow.enabled.is_(True),
                                                  PsiScheduleRow.next_run_at <= now)).all()
    for row in due:
        following = next_time(row.cron, now)
        claimed = db.execute(update(PsiScheduleRow).where(
            PsiScheduleRow.id == row.id, PsiScheduleRow.next_run_at == row.next_run_at,
        ).values(next_run_at=following)).rowcount  # type: ignore[attr-defined]
        if claimed == 1:
            won.append((row.id, row.task_id))
    return won


def run_due(rt: NodeRuntime, now: dt.datetime | None = None) -> list[int]:
    """Start one run of every schedule due at ``now``; return the new run ids."""
    claimed = repo.write(rt, lambda db: _claim(db, now or utcnow()))
    started: list[int] = []
    for schedule_id, task_id in claimed:
        try:
            run = service.run_task(rt, f"schedule:{schedule_id}", task_id)
        except Exception:  # one failing task must not stop the others' schedules
            _log.exception("scheduled PSI run of task %s failed to start", task_id)
            continue
        started.append(int(run["id"]))

        def note(db: Session, sid: int = schedule_id, rid: int = int(run["id"])) -> None:
            row = db.get(PsiScheduleRow, sid)
            if row is not None:
                row.last_run_id = rid

        repo.write(rt, note)
    return started


# A daemon loop calling run_due every POLL_S seconds (coalition.node.polling).
SCHEDULER: Slot[PollingLoop] = loop_slot("psi_tasks.schedules", run_due,
                                         name="psi-schedules", poll_s=POLL_S, join_s=30)
