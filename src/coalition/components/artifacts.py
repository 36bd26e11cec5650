"""What flows between the tasks of a job: datasets, model parts, metrics and reports.

Every artifact belongs to exactly one party and never leaves it: a downstream task of the same
job reads the artifact its own party produced upstream. Each kind has a stable content
:func:`digest` (SHA-256 over a canonical form), which the engine uses in the cache key of the
tasks that consume it, so a changed upstream output always invalidates what depends on it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from coalition.core import codec
from coalition.core.errors import InputError
from coalition.core.ids import Role

__all__ = [
    "Artifact",
    "ArtifactKind",
    "Dataset",
    "DatasetSchema",
    "Metrics",
    "ModelPart",
    "Report",
    "digest",
    "kind_of",
]


class ArtifactKind(StrEnum):
    """The type of an input or output; wiring must match it."""

    DATASET = "dataset"
    MODEL = "model"
    METRICS = "metrics"
    REPORT = "report"


@dataclass(frozen=True)
class DatasetSchema:
    """What a partner may see of a dataset: its columns and row count, never its values."""

    id_column: str
    label_column: str | None
    features: tuple[str, ...]
    rows: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"id_column": self.id_column, "label_column": self.label_column,
                "features": list(self.features), "rows": self.rows}


@dataclass(frozen=True)
class Dataset:
    """A party's table: one ID column, an optional label column, feature columns."""

    frame: pd.DataFrame
    id_column: str
    label_column: str | None = None

    def __post_init__(self) -> None:
        cols = set(self.frame.columns)
        if self.id_column not in cols:
            raise InputError("id column missing", column=self.id_column)
        if self.label_column is not None and self.label_column not in cols:
            raise InputError("label column missing", column=self.label_column)

    @property
    def features(self) -> list[str]:
        """Feature columns, in table order."""
        skip = {self.id_column, self.label_column}
        return [str(c) for c in self.frame.columns if c not in skip]

    @property
    def schema(self) -> DatasetSchema:
        """Columns and row count."""
        return DatasetSchema(self.id_column, self.label_column, tuple(self.features),
                             len(self.frame))

    def ids(self) -> list[str]:
        """IDs as strings, in row order."""
        return [str(v) for v in self.frame[self.id_column].tolist()]

    def feature_matrix(self) -> NDArray[np.float64]:
        """Features as a float matrix; :class:`InputError` if a column is not numeric."""
        try:
            out: NDArray[np.float64] = self.frame[self.features].to_numpy(dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise InputError("non-numeric feature column",
                             columns=self._non_numeric(self.features)) from exc
        return out

    def _non_numeric(self, columns: list[str]) -> list[str]:
        """The columns that do not convert to float (the typed error names only these)."""
        bad = []
        for name in columns:
            try:
                self.frame[name].to_numpy(dtype=np.float64)
            except (TypeError, ValueError):
                bad.append(name)
        return bad

    def labels(self) -> NDArray[np.float64]:
        """Labels as floats; :class:`InputError` if this dataset has none."""
        if self.label_column is None:
            raise InputError("this dataset has no label column")
        try:
            out: NDArray[np.float64] = self.frame[self.label_column].to_numpy(dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise InputError("non-numeric label column", column=self.label_column) from exc
        return out

    def take(self, rows: NDArray[np.int64]) -> Dataset:
        """The given rows, in the given order."""
        return Dataset(self.frame.iloc[rows].reset_index(drop=True), self.id_column,
                       self.label_column)

    def with_frame(self, frame: pd.DataFrame) -> Dataset:
        """Same schema roles over another frame."""
        return Dataset(frame.reset_index(drop=True), self.id_column, self.label_column)


@dataclass(frozen=True)
class ModelPart:
    """One party's part of a federated model: ``data`` is the estimator's ``to_artifact()``.

    ``component`` names the family that made it (``hetero_lr``, ``hetero_secureboost``, ...),
    which is how ``predict`` knows how to load it. ``preprocess`` is set on a *published* part
    only: the party's fitted column steps between its raw table and the model
    (:mod:`coalition.protocols.feature.chain`), which serving applies to raw rows.
    """

    component: str
    role: Role
    data: dict[str, Any]
    preprocess: dict[str, Any] | None = None

    def stored(self) -> dict[str, Any]:
        """The plain form parts are stored and digested in (``preprocess`` only when set,
        so a part without one keeps the form and digest it always had)."""
        out = {"component": self.component, "role": self.role.value, "data": self.data}
        return out if self.preprocess is None else {**out, "preprocess": self.preprocess}

    @classmethod
    def from_stored(cls, raw: dict[str, Any], role: Role | None = None) -> ModelPart:
        """Inverse of :meth:`stored` (``role`` overrides the stored one)."""
        chain = raw.get("preprocess")
        return cls(str(raw["component"]), role or Role(raw["role"]), dict(raw["data"]),
                   dict(chain) if isinstance(chain, dict) else None)


@dataclass(frozen=True)
class Metrics:
    """Named scalar metrics (loss, AUC, intersection size, ...)."""

    values: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Report:
    """A structured, JSON-ready result (curves, tables, confusion matrices)."""

    content: dict[str, Any] = field(default_factory=dict)


Artifact = Dataset | ModelPart | Metrics | Report

_KINDS: dict[type[Any], ArtifactKind] = {
    Dataset: ArtifactKind.DATASET,
    ModelPart: ArtifactKind.MODEL,
    Metrics: ArtifactKind.METRICS,
    Report: ArtifactKind.REPORT,
}


def kind_of(artifact: object) -> ArtifactKind:
    """The kind of ``artifact``; :class:`InputError` for anything else."""
    kind = _KINDS.get(type(artifact))
    if kind is None:
        raise InputError("not an artifact", type=type(artifact).__name__)
    return kind


def digest(artifact: Artifact) -> str:
    """SHA-256 (hex) of the artifact's content; equal content gives equal digests."""
    h = hashlib.sha256(kind_of(artifact).value.encode())
    if isinstance(artifact, Dataset):
        frame = artifact.frame
        h.update(codec.encode({"id": artifact.id_column, "label": artifact.label_column,
                               "columns": [str(c) for c in frame.columns],
                               "dtypes": [str(t) for t in frame.dtypes]}))
        h.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    elif isinstance(artifact, ModelPart):
        h.update(codec.encode(artifact.stored()))
    elif isinstance(artifact, Metrics):
        h.update(codec.encode(dict(sorted(artifact.values.items()))))
    else:
        h.update(codec.encode(artifact.content))
    return h.hexdigest()
