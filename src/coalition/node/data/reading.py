"""Reading and validating local datasets (CSV, Parquet, SQL table) for registration.

Everything here runs on the owner's node only. Errors name the file, column and counts, never
data values, because error documents may be shown to people who may not see the data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from coalition.core.errors import InputError
from coalition.node.data import credentials

__all__ = ["KINDS", "Inspection", "inspect_frame", "load_frame", "statistics", "to_records"]

KINDS = ("csv", "parquet", "sql")


@dataclass(frozen=True)
class Inspection:
    """What registration learns: the schema (name and type per column) and the row count."""

    columns: list[dict[str, str]]
    row_count: int


def _type_name(series: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(series):
        return "bool"
    if pd.api.types.is_integer_dtype(series):
        return "int"
    if pd.api.types.is_float_dtype(series):
        return "float"
    if pd.api.types.is_datetime64_any_dtype(series):
        return "datetime"
    return "string"


def _read_csv(path: Path, id_column: str, limit: int | None) -> pd.DataFrame:
    try:
        return pd.read_csv(path, dtype={id_column: str}, encoding="utf-8",
                           encoding_errors="strict", nrows=limit)
    except UnicodeDecodeError as exc:
        raise InputError("file is not valid UTF-8", path=str(path), byte_offset=exc.start) from exc
    except pd.errors.EmptyDataError as exc:
        raise InputError("file is empty", path=str(path)) from exc
    except pd.errors.ParserError as exc:
        raise InputError("malformed CSV", path=str(path), reason=str(exc).splitlines()[0]) from exc


def _read_parquet(path: Path, limit: int | None) -> pd.DataFrame:
    try:
        frame = pd.read_parquet(path)
    except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        raise InputError("not a readable Parquet file", path=str(path)) from exc
    return frame if limit is None else frame.head(limit)


def _read_sql(url: str, table: str, limit: int | None) -> pd.DataFrame:
    try:
        engine = sa.create_engine(credentials.open_url(url))  # decrypted only to connect
    except (SQLAlchemyError, ValueError) as exc:  # unknown dialect or driver not installed
        raise InputError("unusable database URL", reason=type(exc).__name__) from exc
    try:
        meta = sa.MetaData()
        try:
            tbl = sa.Table(table, meta, autoload_with=engine)
        except sa.exc.NoSuchTableError as exc:
            raise InputError("no such SQL table", table=table) from exc
        query = sa.select(tbl) if limit is None else sa.select(tbl).limit(limit)
        with engine.connect() as conn:
            result = conn.execute(query)
            return pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    except SQLAlchemyError as exc:
        raise InputError("could not read the SQL table", table=table, reason=type(exc).__name__) from exc
    finally:
        engine.dispose()


def load_frame(kind: str, location: str, table: str | None, id_column: str,
               limit: int | None = None) -> pd.DataFrame:
    """Read a dataset (or its first ``limit`` rows) into a DataFrame."""
    if kind == "sql":
        if not table:
            raise InputError("a SQL dataset needs a table name")
        return _read_sql(location, table, limit)
    path = Path(location)
    if not path.is_file():
        raise InputError("file not found", path=location)
    if kind == "csv":
        return _read_csv(path, id_column, limit)
    if kind == "parquet":
        return _read_parquet(path, limit)
    raise InputError("unknown dataset kind", kind=kind, kinds=list(KINDS))


def _identifiers(numeric_looking: pd.Series) -> bool:
    """Whether the number-like values of a text column are identifiers: digit strings of 16 or
    more digits (beyond what a float holds exactly), as national ID numbers whose last character
    may be ``X`` are. Such a column is text, not a numeric column with stray text."""
    return bool(numeric_looking.astype(str).str.fullmatch(r"\d{16,}").all())


def inspect_frame(frame: pd.DataFrame, id_column: str, label_column: str | None) -> Inspection:
    """Validate IDs, label and column types; return the schema and row count."""
    if id_column not in frame.columns:
        raise InputError("ID column not found", column=id_column, columns=[str(c) for c in frame.columns])
    if label_column is not None and label_column not in frame.columns:
        raise InputError("label column not found", column=label_column)
    if label_column == id_column:
        raise InputError("the label column cannot be the ID column")
    if len(frame) == 0:
        raise InputError("dataset has no rows")
    ids = frame[id_column]
    if int(ids.isna().sum()):
        raise InputError("missing IDs", column=id_column, count=int(ids.isna().sum()))
    duplicates = int(ids.astype(str).duplicated().sum())
    if duplicates:
        raise InputError("duplicate IDs", column=id_column, count=duplicates)
    for name in frame.columns:
        if name == id_column or _type_name(frame[name]) != "string":
            continue
        present = frame[name].dropna()
        looks_numeric = pd.to_numeric(present, errors="coerce").notna()
        numeric = int(looks_numeric.sum())
        if 0 < numeric < len(present) and not _identifiers(present[looks_numeric]):
            raise InputError("column mixes numbers and text", column=str(name),
                             numeric=numeric, text=len(present) - numeric)
    columns = [{"name": str(c), "type": "string" if c == id_column else _type_name(frame[c])}
               for c in frame.columns]
    return Inspection(columns=columns, row_count=len(frame))


def _plain(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if hasattr(value, "item"):  # numpy scalar
        return _plain(value.item())
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value if isinstance(value, str | int | float | bool) else str(value)


def to_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-safe dicts (NaN becomes null)."""
    return [{str(k): _plain(v) for k, v in row.items()} for row in frame.to_dict("records")]


def statistics(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Per-column count, missing, distinct; mean/std/min/max for numeric columns."""
    out: list[dict[str, Any]] = []
    for name in frame.columns:
        col = frame[name]
        entry: dict[str, Any] = {
            "name": str(name), "type": _type_name(col), "count": int(col.notna().sum()),
            "missing": int(col.isna().sum()), "distinct": int(col.nunique(dropna=True)),
        }
        if entry["type"] in ("int", "float") and entry["count"]:
            entry.update({k: _plain(getattr(col, k)()) for k in ("mean", "std", "min", "max")})
        out.append(entry)
    return out
