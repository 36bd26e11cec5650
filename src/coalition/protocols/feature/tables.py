"""The report format of the feature-engineering components: named tables a chart can draw.

A report's content is ``{"format": "coalition.tables/1", "tables": [TABLE, ...]}``; each table
is ``{"name", "party", "columns": [str, ...], "rows": [[cell, ...], ...]}`` where a cell is a
JSON number, string, boolean, ``null`` (missing, suppressed or undefined) or a list of
``[value, count]`` pairs (top values). Rows follow ``columns`` position by position, so a
console draws a table, a bar chart of one column against ``feature``, or a histogram, without
knowing the component that made it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["FORMAT", "Table", "json_cell", "tables_report"]

FORMAT = "coalition.tables/1"


def json_cell(value: Any) -> Any:
    """A JSON-safe cell: numpy scalars become Python ones; NaN and infinities become ``None``."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list | tuple):
        return [json_cell(v) for v in value]
    return value


@dataclass(frozen=True)
class Table:
    """One named table of one party."""

    name: str
    party: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]

    def to_dict(self) -> dict[str, Any]:
        """The JSON form described in the module docstring."""
        return {"name": self.name, "party": self.party, "columns": list(self.columns),
                "rows": [[json_cell(c) for c in row] for row in self.rows]}

    def records(self) -> list[dict[str, Any]]:
        """Rows as dicts keyed by column (for tests and scripts)."""
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


def tables_report(tables: Sequence[Table]) -> dict[str, Any]:
    """A report's content holding ``tables``."""
    return {"format": FORMAT, "tables": [t.to_dict() for t in tables]}
