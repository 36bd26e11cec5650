"""``reader``: load one party's own table (CSV or Parquet) as a :class:`Dataset`.

Each party names its own file (``party_parameters`` or ``role_parameters`` in the DAG); in
standalone mode a relative path is read relative to the DAG file, on a node it is the name of a
dataset registered there. Nothing is sent to anyone: the reader is purely local. The ID column
is read as text exactly as written (``007`` stays ``007``). Only the guest may name a label.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
from pydantic import Field

from coalition.components.artifacts import Artifact, ArtifactKind, Dataset, Metrics
from coalition.components.base import (
    Component,
    Environment,
    Output,
    ParamProblem,
    TaskContext,
    slots,
)
from coalition.components.registry import register
from coalition.core.errors import InputError
from coalition.core.ids import Role
from coalition.core.params import Params

__all__ = ["Reader", "ReaderParams"]

_ANY = frozenset({Role.GUEST, Role.HOST})


class ReaderParams(Params):
    """Which file, and which columns are the ID and the label."""

    params_of = "reader"

    path: str = Field(min_length=1, description="CSV/Parquet file (standalone) or dataset name")
    id_column: str = Field("id", min_length=1)
    label_column: str | None = Field(None, description="the guest's label column, if any")
    columns: list[str] | None = Field(None, description="feature columns to keep (default all)")


def _read(path: Path, id_column: str) -> pd.DataFrame:
    if not path.is_file():
        raise InputError("data file not found", path=str(path))
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            frame = pd.read_parquet(path)
            if id_column in frame.columns:
                frame[id_column] = frame[id_column].astype(str)
            return frame
        if suffix in (".csv", ".tsv", ".txt"):
            return pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",",
                               dtype={id_column: str}, keep_default_na=False, na_values=[""])
    except (OSError, ValueError) as exc:
        raise InputError("cannot read data file", path=str(path), reason=str(exc)) from exc
    raise InputError("unsupported data file type (use .csv, .tsv, .txt or .parquet)",
                     path=str(path))


@register
class Reader(Component):
    """Load this party's table."""

    name = "reader"
    version = "1.0.0"
    description = "Read one party's own CSV/Parquet table (ID column, optional label)."
    Params = ReaderParams
    roles = _ANY
    required_roles = frozenset[Role]()
    outputs = slots(
        data=Output(ArtifactKind.DATASET, _ANY, doc="the party's table"),
        metrics=Output(ArtifactKind.METRICS, _ANY, doc="row and column counts"),
    )

    @classmethod
    def check_role(cls, role: Role, params: ReaderParams) -> list[ParamProblem]:
        """Only the guest may name a label column."""
        if params.label_column is not None and role is not Role.GUEST:
            return [ParamProblem("label_column", "only the guest holds labels")]
        return []

    @classmethod
    def fingerprint(cls, params: ReaderParams, env: Environment) -> str:
        """SHA-256 of the file's bytes, so an edited file misses the cache."""
        path = env.resolve_data(params.path)
        h = hashlib.sha256()
        try:
            with path.open("rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    h.update(block)
        except OSError as exc:
            raise InputError("data file not found", path=str(path)) from exc
        return h.hexdigest()

    def run(self, ctx: TaskContext) -> Mapping[str, Artifact]:
        """Read, check and select columns."""
        p: ReaderParams = ctx.params
        if p.label_column is not None and ctx.role is not Role.GUEST:
            raise InputError("only the guest holds labels", role=ctx.role.value)
        frame = _read(ctx.env.resolve_data(p.path), p.id_column)
        for col in (p.id_column, p.label_column, *(p.columns or [])):
            if col is not None and col not in frame.columns:
                raise InputError("column not in the data file", column=col, path=p.path)
        if frame[p.id_column].isna().any() or (frame[p.id_column] == "").any():
            raise InputError("empty IDs in the data file", column=p.id_column)
        if p.columns is not None:
            keep = [p.id_column, *([p.label_column] if p.label_column else []), *p.columns]
            frame = frame[keep]
        data = Dataset(frame.reset_index(drop=True), p.id_column, p.label_column)
        return {"data": data,
                "metrics": Metrics({"rows": float(len(frame)),
                                    "features": float(len(data.features))})}
