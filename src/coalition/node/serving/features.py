"""Online feature sources: read a party's feature rows by ID at request time.

* ``index`` — the dataset is loaded once into memory: an ID → row dict over a float matrix, so
  a lookup is a dict probe and a fancy-index (microseconds);
* ``sql`` — the rows are read from the dataset's SQL table per request (``WHERE id IN ...``,
  one round trip), for tables too large or too fresh to hold in memory.

Both bind to the model's feature columns once (:meth:`bind`), so a request does no name work.
Errors name columns and counts, never IDs or values.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import sqlalchemy as sa
from numpy.typing import NDArray
from sqlalchemy.exc import SQLAlchemyError

from coalition.core.errors import InputError, NotFoundError
from coalition.node import credentials, dataset_io
from coalition.node.db.models import Dataset

__all__ = ["MODES", "FeatureSource", "IndexSource", "Lookup", "SqlSource", "open_source"]

MODES = ("index", "sql")
Lookup = Callable[[Sequence[str]], NDArray[np.float64]]


def _missing(n: int) -> NotFoundError:
    return NotFoundError("IDs not found in the online feature source", missing=n)


class FeatureSource:
    """Feature columns of a registered dataset, looked up by ID."""

    def __init__(self, dataset: Dataset) -> None:
        skip = {dataset.id_column, dataset.label_column}
        self.columns = [str(c["name"]) for c in dataset.columns if c["name"] not in skip]
        self.dataset = dataset.name

    def positions(self, names: Sequence[str] | None) -> list[int]:
        """Column positions of ``names`` (all feature columns, in table order, when None)."""
        if names is None:
            return list(range(len(self.columns)))
        where = {c: i for i, c in enumerate(self.columns)}
        absent = [n for n in names if n not in where]
        if absent:
            raise InputError("the online source lacks feature columns the model uses",
                             dataset=self.dataset, columns=absent)
        return [where[n] for n in names]

    def bind(self, names: Sequence[str] | None) -> Lookup:
        """A function from IDs to the rows of ``names`` (see :meth:`positions`)."""
        raise NotImplementedError


class IndexSource(FeatureSource):
    """The dataset held in memory."""

    def __init__(self, dataset: Dataset) -> None:
        super().__init__(dataset)
        frame = dataset_io.load_frame(dataset.kind, dataset.location, dataset.table,
                                      dataset.id_column)
        self._pos = {str(v): i for i, v in enumerate(frame[dataset.id_column].tolist())}
        self._frame = frame[self.columns]

    def bind(self, names: Sequence[str] | None) -> Lookup:
        """Rows by ID from a float matrix of just the bound columns."""
        cols = [self.columns[i] for i in self.positions(names)]
        try:
            matrix = self._frame[cols].to_numpy(dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise InputError("non-numeric feature column in the online source",
                             dataset=self.dataset) from exc
        pos = self._pos

        def lookup(ids: Sequence[str]) -> NDArray[np.float64]:
            rows = [pos.get(i, -1) for i in ids]
            missing = rows.count(-1)
            if missing:
                raise _missing(missing)
            out: NDArray[np.float64] = matrix[rows]
            return out

        return lookup


class SqlSource(FeatureSource):
    """Rows read from the dataset's SQL table on every lookup."""

    def __init__(self, dataset: Dataset) -> None:
        super().__init__(dataset)
        if dataset.kind != "sql" or not dataset.table:
            raise InputError("sql mode needs a dataset registered from a SQL table",
                             dataset=dataset.name)
        self._engine = sa.create_engine(credentials.open_url(dataset.location))
        try:
            self._table = sa.Table(dataset.table, sa.MetaData(), autoload_with=self._engine)
        except SQLAlchemyError as exc:
            raise InputError("cannot read the SQL table", table=dataset.table) from exc
        self._id = self._table.c[dataset.id_column]
        self._id_type: Any = self._id.type.python_type if hasattr(self._id.type, "python_type") else str

    def bind(self, names: Sequence[str] | None) -> Lookup:
        """Rows by ID from one ``SELECT ... WHERE id IN (...)`` per call."""
        cols = [self._table.c[self.columns[i]] for i in self.positions(names)]
        query = sa.select(self._id, *cols).where(self._id.in_(sa.bindparam("ids", expanding=True)))

        def lookup(ids: Sequence[str]) -> NDArray[np.float64]:
            try:
                keys = [self._id_type(i) for i in ids]
            except (TypeError, ValueError) as exc:
                raise _missing(len(ids)) from exc
            try:
                with self._engine.connect() as conn:
                    rows = conn.execute(query, {"ids": keys}).all()
            except SQLAlchemyError as exc:
                raise InputError("online SQL lookup failed", reason=type(exc).__name__) from exc
            found = {str(r[0]): r[1:] for r in rows}
            if len(found) < len(set(ids)):
                raise _missing(len(set(ids)) - len(found))
            out = np.array([found[str(k)] for k in keys], dtype=np.float64)
            return out.reshape(len(ids), len(cols))

        return lookup

    def close(self) -> None:
        """Release pooled connections."""
        self._engine.dispose()


def open_source(dataset: Dataset, mode: str) -> FeatureSource:
    """An online source over ``dataset`` in ``mode`` (``index`` or ``sql``)."""
    if mode == "index":
        return IndexSource(dataset)
    if mode == "sql":
        return SqlSource(dataset)
    raise InputError("unknown online source mode", mode=mode, modes=list(MODES))


