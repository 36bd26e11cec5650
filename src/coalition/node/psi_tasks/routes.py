"""``/psi``: PSI tasks with partners: save, run now, follow run records, preview and download
the result (``datasets.preview``; every download audited)."""

from __future__ import annotations

import datetime as dt
import io
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from coalition.node.api.deps import Require, runtime
from coalition.node.auth.permissions import Permission
from coalition.node.auth.principal import Principal
from coalition.node.data.reading import to_records
from coalition.node.psi_tasks import schedules, service
from coalition.node.runtime import NodeRuntime

__all__ = ["router"]

router = APIRouter(prefix="/psi", tags=["psi"])
Runtime = Annotated[NodeRuntime, Depends(runtime)]
Reader = Annotated[Principal, Depends(Require(Permission.JOBS_READ))]
Runner = Annotated[Principal, Depends(Require(Permission.JOBS_SUBMIT))]
Viewer = Annotated[Principal, Depends(Require(Permission.DATASETS_PREVIEW))]
_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]
TaskRef = Annotated[str, Path(max_length=64, description="task name or id")]


class TaskIn(BaseModel):
    """A PSI task: this node's dataset and key column against a partner's shared dataset."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=_NAME)
    dataset: str = Field(max_length=64, description="a dataset registered on this node")
    key_column: str = Field(min_length=1, max_length=128)
    partner: str = Field(max_length=64)
    partner_dataset: str = Field(max_length=64, description="the partner's shared dataset")
    partner_key_column: str | None = Field(default=None, max_length=128,
                                           description="default: key_column")
    protocol: Literal["auto", "kkrt", "ecdh", "oprf"] = "auto"
    receiver: Literal["both"] = Field("both", description="who learns the intersection")


class TaskOut(BaseModel):
    """A saved task."""

    id: str
    name: str
    dataset: str
    key_column: str
    partner: str
    partner_dataset: str
    partner_key_column: str
    protocol: str
    receiver: str
    created_by: str
    created_at: dt.datetime


class RunOut(BaseModel):
    """A run record (sizes, wall time and result hash once ``finalised_at`` is set)."""

    id: int
    task_id: str
    job_id: str
    state: str
    error: str
    protocol: str
    started_by: str
    started_at: dt.datetime
    finalised_at: dt.datetime | None
    wall_s: float | None
    input_rows: int | None
    intersection_size: int | None
    wire_bytes: int | None
    result_dataset: str | None
    result_hash: str | None
    result_hash_alg: str = "sha256"


class Preview(BaseModel):
    """The first rows of a run's result."""

    rows: list[dict[str, object]]


@router.post("/tasks", status_code=201, summary="Save a PSI task")
def create_task(body: TaskIn, caller: Runner, rt: Runtime) -> TaskOut:
    return TaskOut(**service.create_task(rt, caller.actor, body.model_dump()))


@router.get("/tasks", summary="List PSI tasks")
def list_tasks(caller: Reader, rt: Runtime) -> list[TaskOut]:
    return [TaskOut(**t) for t in service.list_tasks(rt)]


@router.post("/tasks/{task}/run", status_code=202, summary="Run a PSI task now")
def run_task(task: TaskRef, caller: Runner, rt: Runtime) -> RunOut:
    return RunOut(**service.run_task(rt, caller.actor, task))


@router.get("/runs", summary="List run records")
def list_runs(caller: Reader, rt: Runtime,
              task: Annotated[str | None, Query(max_length=64)] = None,
              state: Annotated[str | None, Query(max_length=24)] = None,
              limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[RunOut]:
    return [RunOut(**r) for r in service.list_runs(rt, task=task, state=state, limit=limit)]


@router.get("/runs/{run_id}", summary="One run record")
def get_run(run_id: RowId, caller: Reader, rt: Runtime) -> RunOut:
    return RunOut(**service.get_run(rt, run_id))


@router.get("/runs/{run_id}/preview", summary="First rows of a run's result")
def preview(run_id: RowId, caller: Viewer, rt: Runtime,
            limit: Annotated[int, Query(ge=1, le=100)] = 20) -> Preview:
    frame = service.result_frame(rt, caller.actor, run_id, limit=limit, download=None)
    return Preview(rows=to_records(frame))


@router.get("/runs/{run_id}/download", summary="Download a run's result (audited)",
            response_class=Response)
def download(run_id: RowId, caller: Viewer, rt: Runtime,
             fmt: Annotated[Literal["csv", "parquet"], Query(alias="format")] = "csv",
             ) -> Response:
    frame = service.result_frame(rt, caller.actor, run_id, limit=None, download=fmt)
    if fmt == "csv":
        return Response(frame.to_csv(index=False), media_type="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="psi-{run_id}.csv"'})
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return Response(buffer.getvalue(), media_type="application/vnd.apache.parquet",
                    headers={"Content-Disposition":
                             f'attachment; filename="psi-{run_id}.parquet"'})


class ScheduleIn(BaseModel):
    """A cron expression (five fields, or six with seconds last), in UTC."""

    model_config = ConfigDict(extra="forbid")

    cron: str = Field(min_length=9, max_length=128)


class ScheduleOut(BaseModel):
    """A schedule: when it runs next and its latest run."""

    id: int
    task_id: str
    cron: str
    enabled: bool
    next_run_at: dt.datetime
    last_run_id: int | None
    created_by: str
    created_at: dt.datetime


@router.post("/tasks/{task}/schedules", status_code=201, summary="Run a PSI task on a schedule")
def add_schedule(task: TaskRef, body: ScheduleIn, caller: Runner, rt: Runtime) -> ScheduleOut:
    return ScheduleOut(**schedules.add_schedule(rt, caller.actor, task, body.cron))


@router.get("/schedules", summary="List PSI schedules")
def list_schedules(caller: Reader, rt: Runtime) -> list[ScheduleOut]:
    return [ScheduleOut(**s) for s in schedules.list_schedules(rt)]


@router.delete("/schedules/{schedule_id}", status_code=204, summary="Remove a PSI schedule")
def remove_schedule(schedule_id: RowId, caller: Runner, rt: Runtime) -> None:
    schedules.remove_schedule(rt, caller.actor, schedule_id)
