"""``data_union``: append one of a party's tables to another (issue 19, data shaping).

Each party unions its own two tables — say two months of exports before PSI, or a sample and
its top-up — and nothing is sent. The tables must have the same ID column, label column and
feature columns (in any order); the output keeps ``data``'s column order. An ID present in
both is an error by default (``on_duplicate: error``), or the row from ``data`` or from
``other`` is kept (``first`` / ``last``) and the number of dropped rows is a metric. Errors name
columns and counts, never values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import pandas as pd
from pydantic import Field

from coalition.components.artifacts import Artifact, ArtifactKind, Dataset, Metrics
from coalition.components.base import Component, Input, Output, TaskContext, slots
from coalition.components.registry import register
from coalition.core.errors import InputError
from coalition.core.ids import Role
from coalition.core.params import Params
from coalition.protocols.linear.data import CANONICAL_IDS

__all__ = ["DataUnion", "UnionParams", "union"]

_PARTIES = frozenset({Role.GUEST, Role.HOST})


class UnionParams(Params):
    """What to do with an ID that both tables hold."""

    params_of = "data_union"

    on_duplicate: Literal["error", "first", "last"] = Field("error", description=(
        "an ID in both tables: refuse (error), keep data's row (first) or other's row (last)"))


def union(first: Dataset, second: Dataset, on_duplicate: str = "error") -> tuple[Dataset, int]:
    """``first`` then ``second``'s rows, and how many duplicate rows were dropped."""
    if (first.id_column, first.label_column) != (second.id_column, second.label_column):
        raise InputError("the tables have different ID or label columns",
                         id_columns=[first.id_column, second.id_column],
                         label_columns=[first.label_column, second.label_column])
    a, b = set(map(str, first.frame.columns)), set(map(str, second.frame.columns))
    if a != b:
        raise InputError("the tables have different columns", only_in_data=sorted(a - b),
                         only_in_other=sorted(b - a))
    frame = pd.concat([first.frame, second.frame[list(first.frame.columns)]],
                      ignore_index=True)
    keys = pd.Series(CANONICAL_IDS.many([str(v) for v in frame[first.id_column].tolist()]))
    repeated = keys.duplicated(keep=False)
    if on_duplicate == "error" and bool(repeated.any()):
        raise InputError("an ID is in both tables (or twice in one)",
                         duplicates=int(keys.duplicated().sum()))
    keep = ~keys.duplicated(keep="first" if on_duplicate == "first" else "last")
    out = frame[keep.to_numpy()].reset_index(drop=True)
    return Dataset(out, first.id_column, first.label_column), int((~keep).sum())


@register
class DataUnion(Component):
    """Rows of ``data`` and then ``other``, each party on its own tables."""

    name = "data_union"
    version = "1.0.0"
    description = "Append a party's second table to its first (same columns); local."
    Params = UnionParams
    roles = _PARTIES
    required_roles = frozenset[Role]()
    inputs = slots(
        data=Input(ArtifactKind.DATASET, _PARTIES, doc="the first table"),
        other=Input(ArtifactKind.DATASET, _PARTIES, doc="rows appended after data's"),
    )
    outputs = slots(
        data=Output(ArtifactKind.DATASET, _PARTIES, doc="the union"),
        metrics=Output(ArtifactKind.METRICS, _PARTIES, doc="rows, duplicates_dropped"),
    )

    def run(self, ctx: TaskContext) -> Mapping[str, Artifact]:
        """Union this party's two tables."""
        p = ctx.params_as(UnionParams)
        out, dropped = union(ctx.dataset("data"), ctx.dataset("other"), p.on_duplicate)
        return {"data": out, "metrics": Metrics({"rows": float(len(out.frame)),
                                                 "duplicates_dropped": float(dropped)})}
