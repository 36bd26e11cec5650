"""Where a model part to publish comes from: a training task's stored output, or a file.

Task outputs live in an :class:`~coalition.engine.store.ArtifactStore` per job under the node
home (``home/jobs/<job id>/``, any depth): :func:`find_task_part` finds the newest stored
``model`` output of the named task there. A file source is a model part written by an
artifact store (``*.msgpack``, the wire codec, never pickle) inside the node's data folders.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coalition.components import ArtifactKind, ModelPart
from coalition.core import codec
from coalition.core.errors import CodecError, InputError, NotFoundError
from coalition.core.ids import Role
from coalition.engine.store import ArtifactStore
from coalition.node.settings import NodeSettings

__all__ = ["PartSource", "find_task_part", "jobs_root", "read_part_file", "resolve_part"]

_MANIFEST = "manifest.json"


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
        raw = codec.decode(path.read_bytes())
        return ModelPart(str(raw["component"]), Role(raw["role"]), dict(raw["data"]))
    except FileNotFoundError as exc:
        raise NotFoundError("model part file not found", path=str(path)) from exc
    except (OSError, CodecError, KeyError, TypeError, ValueError) as exc:
        raise InputError("not a model part file", path=str(path)) from exc


def find_task_part(settings: NodeSettings, job_id: str, task: str,
                   output: str = "model") -> ModelPart:
    """The newest stored ``output`` (a model part) of ``task`` in job ``job_id`` here."""
    if not job_id.replace("-", "").replace("_", "").isalnum():
        raise InputError("malformed job id")
    root = jobs_root(settings) / job_id
    found: list[tuple[float, Path, str]] = []
    for manifest in root.rglob(f"{task}/*/{_MANIFEST}") if root.is_dir() else []:
        store_root, key = manifest.parent.parent.parent, manifest.parent.name
        entry = ArtifactStore(store_root).manifest(task, key).get(output)
        if entry is not None and entry.kind is ArtifactKind.MODEL:
            found.append((manifest.stat().st_mtime, store_root, key))
    if not found:
        raise NotFoundError("no model output of this task is stored on this node",
                            job_id=job_id, task=task, output=output)
    _, store_root, key = max(found)
    part = ArtifactStore(store_root).load(task, key, output)
    if not isinstance(part, ModelPart):  # pragma: no cover - kind checked above
        raise InputError("task output is not a model part", task=task, output=output)
    return part


def _allowed(settings: NodeSettings, path: Path) -> Path:
    resolved = path.expanduser().resolve()
    roots = [*settings.allowed_data_dirs, jobs_root(settings)]
    if not any(resolved.is_relative_to(r) for r in roots):
        raise InputError("model part path is outside the node's data and job folders",
                         path=str(path))
    return resolved


def resolve_part(settings: NodeSettings, source: PartSource) -> ModelPart:
    """Load the model part ``source`` names, from this node's disk only."""
    if source.artifact is not None:
        return read_part_file(_allowed(settings, Path(source.artifact)))
    return find_task_part(settings, str(source.job_id), str(source.task), source.output)
