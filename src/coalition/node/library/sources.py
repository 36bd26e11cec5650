"""Where a model part to publish comes from: a succeeded training task, or a file.

A task's outputs live in each local party's :class:`~coalition.engine.store.ArtifactStore`
(``coalition.node.jobs.local``), under the cache key the job recorded for that party;
:func:`find_task_part` loads this node's ``model`` output of the task and reads the DAG hash,
the task's parameters and its metrics from the job. A file source is a model part written by
an artifact store (``*.msgpack``, the wire codec, never pickle) inside the node's data or job
folders.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from coalition.components import ArtifactKind, Dataset, ModelPart
from coalition.components.lineage import training_chain
from coalition.core import codec
from coalition.core.errors import CodecError, ConflictError, InputError, NotFoundError
from coalition.core.ids import Party
from coalition.engine import dag as dags
from coalition.engine.validate import validate_dag
from coalition.node.jobs import repository as repo
from coalition.node.jobs.local import store_for
from coalition.node.jobs.tables import JobMetricRow
from coalition.node.runtime import NodeRuntime
from coalition.node.settings import NodeSettings

__all__ = ["PartSource", "TaskPart", "find_task_part", "jobs_root", "read_part_file",
           "resolve_part"]


@dataclass(frozen=True)
class PartSource:
    """Exactly one of: ``artifact`` (a file path on this node) or ``job_id`` + ``task``."""

    artifact: str | None = None
    job_id: str | None = None
    task: str | None = None
    output: str = "model"

    def __post_init__(self) -> None:
        by_job = self.job_id is not None and self.task is not None
        if (self.artifact is None) == (not by_job):
            raise InputError("give either an artifact path or a job id and task name")

    def to_dict(self) -> dict[str, Any]:
        """Plain form (sent to hosts)."""
        return {"artifact": self.artifact, "job_id": self.job_id, "task": self.task,
                "output": self.output}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> PartSource:
        """Inverse of :meth:`to_dict`; :class:`InputError` on a malformed one."""
        fields = {k: raw.get(k) for k in ("artifact", "job_id", "task")}
        if any(v is not None and not isinstance(v, str) for v in fields.values()):
            raise InputError("model part source fields must be strings")
        return cls(**fields, output=str(raw.get("output") or "model"))


def jobs_root(settings: NodeSettings) -> Path:
    """Where this node's job outputs live."""
    return (settings.home / "jobs").resolve()


def read_part_file(path: Path) -> ModelPart:
    """Decode a model part written by an artifact store."""
    try:
        return ModelPart.from_stored(codec.decode(path.read_bytes()))
    except FileNotFoundError as exc:
        raise NotFoundError("model part file not found", path=str(path)) from exc
    except (OSError, CodecError, KeyError, TypeError, ValueError) as exc:
        raise InputError("not a model part file", path=str(path)) from exc


@dataclass(frozen=True)
class TaskPart:
    """A succeeded task's model part on this node, with what the job says about it."""

    part: ModelPart
    party: str  # ``role:name`` in the job
    meta: dict[str, Any]
    hosts: dict[str, str]  # host organisation -> its party name in the job
    orgs: frozenset[str] = frozenset()  # every organisation of the job (empty for a file)


def find_task_part(rt: NodeRuntime, job_id: str, task: str, output: str = "model") -> TaskPart:
    """The node's own stored ``output`` of ``task`` in job ``job_id``; the task must have
    succeeded (or been reused from the cache). Also returns the DAG hash, the task's
    parameters and metrics, and which organisations ran the hosts."""
    with rt.db.session() as db:
        job = repo.get_job(db, job_id)
        row = repo.get_task(db, job_id, task)
        if row.state not in ("succeeded", "reused"):
            raise ConflictError("the training task has not succeeded", job=job_id, task=task,
                                state=row.state)
        sites, keys, document = dict(job.sites), dict(row.keys), dict(job.dag)
        metrics = _task_metrics(db, job_id, task)
    local = [Party.parse(p) for p, org in sites.items() if org == rt.name and p in keys]
    found: list[tuple[Party, ModelPart]] = []
    for party in local:
        store, key = store_for(rt, party), keys[str(party)]
        entry = store.manifest(task, key).get(output) if store.has(task, key) else None
        if entry is not None and entry.kind is ArtifactKind.MODEL:
            loaded = store.load(task, key, output)
            if isinstance(loaded, ModelPart):
                found.append((party, loaded))
    if len(found) != 1:  # e.g. an arbiter-only node, or a job that ran two parties here
        raise NotFoundError("this node holds no single model output of the task",
                            job_id=job_id, task=task, output=output, parts=len(found))
    party, part = found[0]
    spec = dags.parse_dag(document)
    chain = _preprocess_chain(rt, job_id, spec, task, party)
    if chain is not None:
        part = replace(part, preprocess=chain)
    task_spec = spec.tasks.get(task)
    params = dict(task_spec.parameters) if task_spec is not None else {}
    hosts = {org: Party.parse(p).name for p, org in sites.items()
             if p.startswith("host:") and org != rt.name}
    meta = {"dag_hash": validate_dag(spec).digest(), "params": params, "metrics": metrics}
    return TaskPart(part, str(party), meta, hosts, frozenset(sites.values()))


def _preprocess_chain(rt: NodeRuntime, job_id: str, spec: dags.DagSpec, task: str,
                      party: Party) -> dict[str, Any] | None:
    """The party's fitted column steps between its reader and ``task``
    (:func:`~coalition.components.lineage.training_chain`), each step's ``model`` output read
    from this node's own store — never from a partner's word. None when there are none. A
    step that cannot be applied to later rows is recorded with ``data: None``; serving
    refuses it at deploy (:class:`~coalition.protocols.feature.chain.UnservableStep`)."""
    tasks = {name: (t.component, dict(t.inputs)) for name, t in spec.tasks.items()}
    steps = training_chain(tasks, task)
    if not steps:
        return None
    store = store_for(rt, party)
    with rt.db.session() as db:
        keys = {s.task: dict(repo.get_task(db, job_id, s.task).keys).get(str(party))
                for s in steps}
    records: list[dict[str, Any]] = []
    for step in steps:
        key = keys[step.task]
        data: dict[str, Any] | None = None
        if step.servable and key is not None and store.has(step.task, key):
            loaded = store.load(step.task, key, "model")
            data = loaded.data if isinstance(loaded, ModelPart) else None
        records.append({"task": step.task, "component": step.component, "data": data})
    last, key = steps[-1], keys[steps[-1].task]
    columns: list[str] = []
    if key is not None and store.has(last.task, key):
        rows = store.load(last.task, key, last.output)
        columns = rows.features if isinstance(rows, Dataset) else []
    return {"steps": records, "columns": columns}


def _task_metrics(db: Session, job_id: str, task: str) -> dict[str, float]:
    """The last value of each metric the job recorded for the task."""
    rows = db.scalars(select(JobMetricRow).where(
        JobMetricRow.job_id == job_id, JobMetricRow.task == task).order_by(JobMetricRow.id))
    return {r.name: float(r.value) for r in rows}


def _allowed(settings: NodeSettings, path: Path) -> Path:
    resolved = path.expanduser().resolve()
    roots = [*settings.allowed_data_dirs, jobs_root(settings)]
    if not any(resolved.is_relative_to(r) for r in roots):
        raise InputError("model part path is outside the node's data and job folders",
                         path=str(path))
    return resolved


def resolve_part(rt: NodeRuntime, source: PartSource) -> TaskPart:
    """Load the model part ``source`` names, from this node's disk only."""
    if source.artifact is not None:
        part = read_part_file(_allowed(rt.settings, Path(source.artifact)))
        return TaskPart(part, part.role.value, {}, {})
    return find_task_part(rt, str(source.job_id), str(source.task), source.output)
