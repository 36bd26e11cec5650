"""One party's artifact store: task outputs on disk, addressed by task and cache key.

Layout under the party's root: ``<task>/<key>/manifest.json`` plus one file per output —
datasets as Parquet, model parts through the wire codec (msgpack with an allow-list; never
pickle), metrics and reports as JSON. A key's folder is written under a temporary name and
renamed into place, so a crash never leaves a half-written entry that would count as a hit.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from coalition.components import (
    Artifact,
    ArtifactKind,
    Dataset,
    Metrics,
    ModelPart,
    Report,
    digest,
    kind_of,
)
from coalition.core import codec
from coalition.core.errors import CodecError, InputError

__all__ = ["ArtifactStore", "StoredOutput"]

_MANIFEST = "manifest.json"
_SUFFIX = {ArtifactKind.DATASET: ".parquet", ArtifactKind.MODEL: ".msgpack",
           ArtifactKind.METRICS: ".json", ArtifactKind.REPORT: ".json"}


@dataclass(frozen=True)
class StoredOutput:
    """One stored output: kind, file name and content digest (plus dataset columns)."""

    kind: ArtifactKind
    file: str
    digest: str
    extra: Mapping[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """Manifest form."""
        return {"kind": self.kind.value, "file": self.file, "digest": self.digest,
                **dict(self.extra)}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> StoredOutput:
        """Inverse of :meth:`to_dict`."""
        extra = {k: v for k, v in raw.items() if k not in ("kind", "file", "digest")}
        return cls(ArtifactKind(raw["kind"]), str(raw["file"]), str(raw["digest"]), extra)


def _write(artifact: Artifact, path: Path) -> dict[str, Any]:
    if isinstance(artifact, Dataset):
        artifact.frame.to_parquet(path, index=False)
        return {"id_column": artifact.id_column, "label_column": artifact.label_column}
    if isinstance(artifact, ModelPart):
        path.write_bytes(codec.encode(artifact.stored()))
        return {}
    body = artifact.values if isinstance(artifact, Metrics) else artifact.content
    path.write_text(json.dumps(body, indent=1, default=float), encoding="utf-8")
    return {}


def _read(out: StoredOutput, path: Path) -> Artifact:
    if out.kind is ArtifactKind.DATASET:
        return Dataset(pd.read_parquet(path), str(out.extra["id_column"]),
                       out.extra.get("label_column"))
    if out.kind is ArtifactKind.MODEL:
        return ModelPart.from_stored(codec.decode(path.read_bytes()))
    body = json.loads(path.read_text(encoding="utf-8"))
    if out.kind is ArtifactKind.METRICS:
        return Metrics({str(k): float(v) for k, v in body.items()})
    return Report(body)


class ArtifactStore:
    """Outputs of one party's tasks (see module docstring)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _entry(self, task: str, key: str) -> Path:
        return self.root / task / key

    def has(self, task: str, key: str) -> bool:
        """Whether outputs of ``task`` under ``key`` are stored."""
        return (self._entry(task, key) / _MANIFEST).is_file()

    def manifest(self, task: str, key: str) -> dict[str, StoredOutput]:
        """The stored outputs of ``task`` under ``key``."""
        path = self._entry(task, key) / _MANIFEST
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            return {n: StoredOutput.from_dict(o) for n, o in raw["outputs"].items()}
        except (OSError, ValueError, KeyError) as exc:
            raise InputError("no usable stored outputs", task=task, key=key) from exc

    def save(self, task: str, key: str, outputs: Mapping[str, Artifact],
             meta: Mapping[str, Any] | None = None) -> dict[str, StoredOutput]:
        """Store ``outputs`` of ``task`` under ``key``; return their manifest entries."""
        final = self._entry(task, key)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{key[:12]}-", dir=final.parent))
        try:
            stored: dict[str, StoredOutput] = {}
            for name, artifact in outputs.items():
                kind = kind_of(artifact)
                file = f"{name}{_SUFFIX[kind]}"
                extra = _write(artifact, tmp / file)
                stored[name] = StoredOutput(kind, file, digest(artifact), extra)
            (tmp / _MANIFEST).write_text(json.dumps(
                {"task": task, "key": key, **dict(meta or {}),
                 "outputs": {n: o.to_dict() for n, o in stored.items()}}, indent=1),
                encoding="utf-8")
            if final.exists():
                shutil.rmtree(final)
            os.replace(tmp, final)
        except (OSError, CodecError, ValueError) as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            raise InputError("cannot store task outputs", task=task, reason=str(exc)) from exc
        return stored

    def load(self, task: str, key: str, output: str) -> Artifact:
        """One stored output."""
        entry = self.manifest(task, key).get(output)
        if entry is None:
            raise InputError("output not stored", task=task, output=output)
        try:
            return _read(entry, self._entry(task, key) / entry.file)
        except (OSError, ValueError, KeyError, CodecError) as exc:
            raise InputError("cannot read stored output", task=task, output=output,
                             reason=str(exc)) from exc
