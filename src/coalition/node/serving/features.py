"""Online feature sources: read a party's feature rows by ID at request time.

* ``index`` — the dataset is loaded once into memory: an ID → row dict over a float matrix, so
  a lookup is a dict probe and a fancy-index (microseconds);
* ``sql`` — the rows are read from the dataset's SQL table per request (``WHERE id IN ...``,
  one round trip), for tables too large or too fresh to hold in memory.

Both bind to the model's feature columns once (:meth:`bind`), so a request does no name work.
Errors name columns and counts, never IDs or values.

Unknown IDs never fail a lookup (a failing batch would be a membership test for whoever sends
IDs). A lookup answers every ID with a row and a ``found`` flag. Bound with a *decoy key* (the
host's side), the row of an unknown ID is synthetic (:class:`DecoyRows`): each of its features
is that column's value in a source row picked by a keyed PRF of the ID, so it is deterministic
(asking again gives the same answer), every feature lies in its column's support, and the row
mixes members without copying one (no partial result repeats a member's exactly). Decoys are
computed for every asked ID, so a lookup's cost does not depend on membership.
Without a decoy key (the guest's own source) an unknown ID gets a zero row, and the guest uses
``found`` to answer "not found" for it.

Text columns: a model whose bins hold categories (a scorecard) binds them with their training
categories, and the source codes each value as the category's index (``-1`` for one unseen at
training, NaN for a missing value), so rows stay a float matrix; any other text column is an
error.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from numpy.typing import NDArray
from sqlalchemy.exc import SQLAlchemyError

from coalition.core.errors import InputError
from coalition.crypto.prg import expand_sm4
from coalition.crypto.sm.sm3 import hmac_sm3
from coalition.crypto.suite import CryptoSuite
from coalition.node.data import credentials, reading
from coalition.node.data.tables import Dataset

__all__ = ["MODES", "DecoyRows", "FeatureSource", "IndexSource", "Lookup", "Rows", "SqlSource",
           "coded_matrix", "open_source", "request_matrix"]

MODES = ("index", "sql")
#: Feature rows (one per asked ID, in order) and whether each ID is in the source.
Rows = tuple[NDArray[np.float64], NDArray[np.bool_]]
Lookup = Callable[[Sequence[str]], Rows]
_SQL_DECOY_POOL = 4096  # rows a SQL source keeps in memory to answer unknown IDs
#: Training categories of the bound text columns (see the module docstring).
Categories = Mapping[str, Sequence[str]]


def coded_matrix(frame: pd.DataFrame, categories: Categories | None, dataset: str
                 ) -> NDArray[np.float64]:
    """``frame`` as floats, the ``categories`` columns coded as category indices."""
    out = frame.copy()
    for name, cats in (categories or {}).items():
        if name in out.columns:
            index = {c: float(i) for i, c in enumerate(cats)}
            out[name] = [np.nan if pd.isna(v) else index.get(str(v), -1.0) for v in frame[name]]
    try:
        matrix: NDArray[np.float64] = out.to_numpy(dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError("non-numeric feature column in the online source",
                         dataset=dataset) from exc
    return matrix


def request_matrix(rows: Sequence[Sequence[Any]], names: Sequence[str],
                   categories: Categories | None, imputed: frozenset[str] = frozenset(),
                   ) -> NDArray[np.float64]:
    """Feature rows sent in a request body, coded as :func:`coded_matrix` codes a table:
    a text column takes a string (its category index, ``-1`` for one unseen at training) or
    null; any other column a number, or null where the model's preprocessing fills missing
    values (``imputed``). Wrong types are an :class:`InputError` naming the column, never the
    value."""
    text = {j: {c: float(i) for i, c in enumerate((categories or {})[n])}
            for j, n in enumerate(names) if n in (categories or {})}
    out = np.empty((len(rows), len(names)))
    for i, row in enumerate(rows):
        if len(row) != len(names):
            raise InputError("a feature row has the wrong number of values",
                             expected=len(names), given=len(row))
        for j, value in enumerate(row):
            index = text.get(j)
            if value is None:
                if index is None and names[j] not in imputed:
                    raise InputError("a missing value in a column the model cannot fill",
                                     column=names[j])
                out[i, j] = np.nan
            elif index is not None:
                if not isinstance(value, str):
                    raise InputError("a text feature takes a string (or null)", column=names[j])
                out[i, j] = index.get(value, -1.0)
            elif isinstance(value, bool) or not isinstance(value, int | float):
                raise InputError("a numeric feature takes a number", column=names[j])
            else:
                out[i, j] = float(value)
    if not np.isfinite(out[~np.isnan(out)]).all():
        raise InputError("feature values must be finite numbers")
    return out


class DecoyRows:
    """Synthetic rows for unknown IDs: column ``j`` of the decoy row of ``id`` is column ``j``
    of source row ``w_j mod n``, where ``w`` is the output of SHAKE-256 (FIPS 202) on the key
    and the length-prefixed ID — a keyed PRF (a sponge with a secret prefix, as KMAC, NIST SP
    800-185). Under the ``sm`` crypto suite ``w`` is the SM4-CTR keystream
    (:func:`coalition.crypto.prg.expand_sm4`) of ``HMAC-SM3(key, length-prefixed ID)``
    (GB/T 32905, 32907). Each feature is drawn from that column's own values, the row mixes
    different members (its partial result matches no member's exactly), and the same ID always
    gets the same row."""

    def __init__(self, key: bytes, matrix: NDArray[np.float64],
                 suite: CryptoSuite = CryptoSuite.STANDARD) -> None:
        self._key = key
        self._matrix = matrix
        self._sm = CryptoSuite(suite) == CryptoSuite.SM

    def rows(self, ids: Sequence[str]) -> NDArray[np.float64]:
        """One decoy row per ID."""
        n, m = self._matrix.shape
        if n == 0:
            raise InputError("the online feature source is empty")
        if self._sm:
            words = self._sm_words(ids, m)
        else:
            prefix = hashlib.shake_256(self._key)
            raw = bytearray()
            for i in ids:
                h = prefix.copy()
                b = i.encode()
                h.update(len(b).to_bytes(4, "big") + b)
                raw += h.digest(8 * m)
            words = np.frombuffer(bytes(raw), dtype="<u8").reshape(len(ids), m)
        picks = (words % np.uint64(n)).astype(np.intp)
        out: NDArray[np.float64] = self._matrix[picks, np.arange(m)]
        return out


    def _sm_words(self, ids: Sequence[str], m: int) -> NDArray[np.uint64]:
        out = np.empty((len(ids), m), dtype=np.uint64)
        for row, i in enumerate(ids):
            b = i.encode()
            out[row] = expand_sm4(hmac_sm3(self._key, len(b).to_bytes(4, "big") + b), m)
        return out


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

    def bind(self, names: Sequence[str] | None, decoy_key: bytes | None = None,
             categories: Categories | None = None,
             suite: CryptoSuite = CryptoSuite.STANDARD) -> Lookup:
        """A function from IDs to the rows of ``names`` (see :meth:`positions`) and their
        ``found`` flags; unknown IDs get decoy rows under ``decoy_key`` (zero rows without) with
        the PRF of ``suite`` (:class:`DecoyRows`); text columns named in ``categories`` are
        coded (module docstring)."""
        raise NotImplementedError


class IndexSource(FeatureSource):
    """The dataset held in memory."""

    def __init__(self, dataset: Dataset) -> None:
        super().__init__(dataset)
        frame = reading.load_frame(dataset.kind, dataset.location, dataset.table,
                                      dataset.id_column)
        self._pos = {str(v): i for i, v in enumerate(frame[dataset.id_column].tolist())}
        self._frame = frame[self.columns]

    def bind(self, names: Sequence[str] | None, decoy_key: bytes | None = None,
             categories: Categories | None = None,
             suite: CryptoSuite = CryptoSuite.STANDARD) -> Lookup:
        """Rows by ID from a float matrix of just the bound columns."""
        cols = [self.columns[i] for i in self.positions(names)]
        matrix = coded_matrix(self._frame[cols], categories, self.dataset)
        pos = self._pos
        decoys = DecoyRows(decoy_key, matrix, suite) if decoy_key is not None else None

        def lookup(ids: Sequence[str]) -> Rows:
            rows = np.fromiter((pos.get(i, -1) for i in ids), dtype=np.intp, count=len(ids))
            found = rows >= 0
            if decoys is not None:
                # Decoys are drawn for every ID, member or not, so the work (and the time a
                # partner can measure) does not depend on membership.
                fake = decoys.rows(ids)
                return np.where(found[:, None], matrix[np.where(found, rows, 0)], fake), found
            out = np.zeros((len(ids), len(cols)))
            out[found] = matrix[rows[found]]
            return out, found

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

    def _pool(self, cols: list[Any], categories: Categories | None) -> NDArray[np.float64]:
        """Up to :data:`_SQL_DECOY_POOL` rows held in memory to stand in for unknown IDs (read
        once at bind time, so an unknown ID costs no extra query)."""
        query = sa.select(self._id, *cols).order_by(self._id).limit(_SQL_DECOY_POOL)
        try:
            with self._engine.connect() as conn:
                rows = conn.execute(query).all()
        except SQLAlchemyError as exc:
            raise InputError("online SQL lookup failed", reason=type(exc).__name__) from exc
        frame = pd.DataFrame([tuple(r[1:]) for r in rows], columns=[c.name for c in cols])
        return coded_matrix(frame, categories, self.dataset).reshape(len(rows), len(cols))

    def bind(self, names: Sequence[str] | None, decoy_key: bytes | None = None,
             categories: Categories | None = None,
             suite: CryptoSuite = CryptoSuite.STANDARD) -> Lookup:
        """Rows by ID from one ``SELECT ... WHERE id IN (...)`` per call."""
        cols = [self._table.c[self.columns[i]] for i in self.positions(names)]
        query = sa.select(self._id, *cols).where(self._id.in_(sa.bindparam("ids", expanding=True)))
        decoys = (DecoyRows(decoy_key, self._pool(cols, categories), suite)
                  if decoy_key is not None else None)
        names_ = [c.name for c in cols]

        def key(i: str) -> Any:
            try:
                return self._id_type(i)
            except (TypeError, ValueError):
                return None  # cannot be in the table: answered as unknown

        def lookup(ids: Sequence[str]) -> Rows:
            keys = [key(i) for i in ids]
            wanted = [k for k in keys if k is not None]
            rows = []
            if wanted:
                try:
                    with self._engine.connect() as conn:
                        rows = list(conn.execute(query, {"ids": wanted}).all())
                except SQLAlchemyError as exc:
                    raise InputError("online SQL lookup failed",
                                     reason=type(exc).__name__) from exc
            by_id = {str(r[0]): r[1:] for r in rows}
            found = np.array([k is not None and str(k) in by_id for k in keys], dtype=np.bool_)
            out = np.zeros((len(ids), len(cols)))
            if found.any():
                frame = pd.DataFrame([tuple(by_id[str(k)]) for k, f in zip(keys, found,
                                                                           strict=True) if f],
                                     columns=names_)
                out[found] = coded_matrix(frame, categories, self.dataset).reshape(-1, len(cols))
            if decoys is not None:  # for every ID, as in the index source
                out = np.where(found[:, None], out, decoys.rows(ids))
            return out, found

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


