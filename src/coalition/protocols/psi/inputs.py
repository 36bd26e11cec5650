"""Reading one party's IDs: from CSV/Parquet columns, numpy arrays, pandas Series or lists, to
an :class:`IdSet` of unique canonical IDs that remembers each one's first row.

Duplicates are counted and either refused or dropped (keeping the first row) per
:class:`~coalition.protocols.psi.spec.OnDuplicate`. An empty input is a valid, empty set: every
engine then returns an empty intersection rather than failing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from coalition.core.errors import InputError
from coalition.protocols.psi.canonical import Canonicaliser
from coalition.protocols.psi.spec import OnDuplicate

__all__ = ["IdSet", "read_id_column"]


@dataclass(frozen=True)
class IdSet:
    """Unique canonical IDs (``ids``), the input row of each (``rows``), and input statistics."""

    ids: list[str]
    rows: npt.NDArray[np.int64]
    input_rows: int
    duplicates: int

    def __len__(self) -> int:
        return len(self.ids)

    def encoded(self) -> list[bytes]:
        """UTF-8 bytes of each canonical ID: what gets hashed."""
        return [x.encode("utf-8") for x in self.ids]

    @classmethod
    def build(cls, values: Sequence[Any] | npt.NDArray[Any] | pd.Series | pd.Index,
              *, canonicaliser: Canonicaliser | None = None,
              on_duplicate: OnDuplicate = OnDuplicate.DEDUPE) -> IdSet:
        """Canonicalise ``values`` and handle duplicates (see module docstring)."""
        canon = canonicaliser or Canonicaliser()
        if isinstance(values, pd.Series | pd.Index):
            raw: Sequence[Any] = values.tolist()
        elif isinstance(values, np.ndarray):
            if values.ndim != 1:
                raise InputError("IDs must be one-dimensional", shape=list(values.shape))
            raw = values.tolist()
        else:
            raw = values
        ids = canon.many(raw)
        first: dict[str, int] = {}
        for row, x in enumerate(ids):
            first.setdefault(x, row)
        duplicates = len(ids) - len(first)
        if duplicates and on_duplicate == OnDuplicate.ERROR:
            raise InputError("duplicate IDs in input (after canonicalisation)",
                             duplicates=duplicates)
        return cls(ids=list(first), rows=np.fromiter(first.values(), dtype=np.int64,
                                                     count=len(first)),
                   input_rows=len(ids), duplicates=duplicates)


def read_id_column(path: str | Path, column: str | None = None) -> pd.Series:
    """The ID column of a CSV or Parquet file, as strings exactly as written (no type guessing,
    so ``007`` stays ``007``). ``column=None`` takes the first column."""
    p = Path(path)
    if not p.is_file():
        raise InputError("ID file not found", path=str(p))
    suffix = p.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            frame = pd.read_parquet(p, columns=[column] if column else None)
        elif suffix in (".csv", ".txt", ".tsv"):
            frame = pd.read_csv(p, dtype=str, keep_default_na=False,
                                sep="\t" if suffix == ".tsv" else ",",
                                usecols=[column] if column else None)
        else:
            raise InputError("unsupported ID file type (use .csv, .tsv, .txt or .parquet)",
                             path=str(p))
    except (ValueError, KeyError, OSError) as exc:
        raise InputError("cannot read ID column", path=str(p), column=column,
                         reason=str(exc)) from exc
    if frame.shape[1] == 0:
        raise InputError("ID file has no columns", path=str(p))
    name = column if column is not None else frame.columns[0]
    if name not in frame.columns:
        raise InputError("ID column not found", column=name, path=str(p))
    return frame[name]
