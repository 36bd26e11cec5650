"""Registered datasets: registration with schema inference, owner-only preview and statistics,
and per-partner visibility.

Partners see a dataset's name, schema (column names and types, which column is the ID and which
the label) and row count, and only once the owner shares it with them. Locations, values,
previews and statistics never leave the node.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.orm import Session

from coalition.core.errors import ConflictError, InputError, NotFoundError
from coalition.node.audit.events import Event, EventKind, emit
from coalition.node.data import credentials, reading
from coalition.node.data.tables import Dataset, DatasetShare
from coalition.node.db.types import utcnow
from coalition.node.partners.directory import get_partner
from coalition.node.partners.tables import Partner
from coalition.node.settings import NodeSettings

__all__ = [
    "get_dataset",
    "inspect_source",
    "list_datasets",
    "preview",
    "public_view",
    "register_dataset",
    "remove_dataset",
    "safe_location",
    "share_dataset",
    "shared_with",
    "stats",
    "unshare_dataset",
    "visible_to",
]


def _check_allowed(settings: NodeSettings, path: Path) -> None:
    resolved = path.resolve()
    if not any(resolved.is_relative_to(root) for root in settings.allowed_data_dirs):
        raise InputError("path is outside the node's data folders (settings: data_dirs)",
                         path=str(path))


def _normalise_location(settings: NodeSettings, kind: str, location: str) -> str:
    if kind != "sql":
        path = Path(location).expanduser()
        _check_allowed(settings, path)
        return str(path.resolve())
    try:
        url = sa.make_url(location)
    except sa.exc.ArgumentError as exc:
        raise InputError("not a SQLAlchemy database URL") from exc
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        _check_allowed(settings, Path(url.database))
    # The password never reaches the database: sealed under a key file (finding 11).
    key = credentials.load_or_create_key(settings.credentials_key_path)
    credentials.register_key(key)
    return credentials.seal_url(key, location, settings.crypto_suite)


def safe_location(dataset: Dataset) -> str:
    """The location for display: SQL URLs with their (sealed) password shown as ``***``."""
    if dataset.kind != "sql":
        return dataset.location
    return sa.make_url(dataset.location).render_as_string(hide_password=True)


def inspect_source(settings: NodeSettings, kind: str, location: str, *, table: str | None,
                   id_column: str, label_column: str | None) -> tuple[str, reading.Inspection]:
    """Read and validate a source (no database writes); return its stored location and schema."""
    if kind not in reading.KINDS:
        raise InputError("unknown dataset kind", kind=kind, kinds=list(reading.KINDS))
    stored = _normalise_location(settings, kind, location)
    frame = reading.load_frame(kind, stored, table, id_column)
    return stored, reading.inspect_frame(frame, id_column, label_column)


def register_dataset(db: Session, actor: str, name: str, *, kind: str, location: str,
                     table: str | None, id_column: str, label_column: str | None,
                     description: str, inspection: reading.Inspection) -> Dataset:
    """Store an inspected dataset under a unique name."""
    if db.scalars(select(Dataset.id).where(Dataset.name == name)).first() is not None:
        raise ConflictError("dataset name already registered", name=name)
    row = Dataset(name=name, kind=kind, location=location, table=table, id_column=id_column,
                  label_column=label_column, columns=inspection.columns,
                  row_count=inspection.row_count, description=description,
                  created_by=actor, created_at=utcnow())
    db.add(row)
    db.flush()
    emit(db, Event(EventKind.DATASET_REGISTERED, actor, f"dataset:{name}",
                   {"kind": kind, "rows": inspection.row_count, "columns": len(inspection.columns)}))
    return row


def list_datasets(db: Session) -> list[Dataset]:
    """All datasets, by name."""
    return list(db.scalars(select(Dataset).order_by(Dataset.name)).all())


def get_dataset(db: Session, name: str) -> Dataset:
    """The dataset called ``name``."""
    row = db.scalars(select(Dataset).where(Dataset.name == name)).first()
    if row is None:
        raise NotFoundError("no such dataset", name=name)
    return row


def remove_dataset(db: Session, actor: str, name: str) -> None:
    """Unregister a dataset (the file or table itself is untouched)."""
    row = get_dataset(db, name)
    db.execute(sa.delete(DatasetShare).where(DatasetShare.dataset_id == row.id))
    db.delete(row)
    emit(db, Event(EventKind.DATASET_REMOVED, actor, f"dataset:{name}"))


def share_dataset(db: Session, actor: str, name: str, partner_name: str) -> None:
    """Let ``partner_name`` see the dataset's name, schema and row count."""
    row, partner = get_dataset(db, name), get_partner(db, partner_name)
    exists = db.scalars(select(DatasetShare.id).where(
        DatasetShare.dataset_id == row.id, DatasetShare.partner_id == partner.id)).first()
    if exists is not None:
        raise ConflictError("dataset already visible to this partner", partner=partner_name)
    db.add(DatasetShare(dataset_id=row.id, partner_id=partner.id, created_at=utcnow()))
    emit(db, Event(EventKind.DATASET_SHARED, actor, f"dataset:{name}", {"partner": partner_name}))


def unshare_dataset(db: Session, actor: str, name: str, partner_name: str) -> None:
    """Hide the dataset from ``partner_name`` again."""
    row, partner = get_dataset(db, name), get_partner(db, partner_name)
    share = db.scalars(select(DatasetShare).where(
        DatasetShare.dataset_id == row.id, DatasetShare.partner_id == partner.id)).first()
    if share is None:
        raise NotFoundError("dataset is not visible to this partner", partner=partner_name)
    db.delete(share)
    emit(db, Event(EventKind.DATASET_UNSHARED, actor, f"dataset:{name}", {"partner": partner_name}))


def shared_with(db: Session, dataset: Dataset) -> list[str]:
    """Names of partners that may see ``dataset``."""
    query = (select(Partner.name).join(DatasetShare, DatasetShare.partner_id == Partner.id)
             .where(DatasetShare.dataset_id == dataset.id).order_by(Partner.name))
    return list(db.scalars(query).all())


def public_view(dataset: Dataset) -> dict[str, Any]:
    """Exactly what a partner may learn about a shared dataset."""
    return {"name": dataset.name, "columns": dataset.columns, "row_count": dataset.row_count,
            "id_column": dataset.id_column, "label_column": dataset.label_column}


def visible_to(db: Session, partner: Partner) -> list[Dataset]:
    """Datasets shared with ``partner``."""
    query = (select(Dataset).join(DatasetShare, DatasetShare.dataset_id == Dataset.id)
             .where(DatasetShare.partner_id == partner.id).order_by(Dataset.name))
    return list(db.scalars(query).all())


def preview(dataset: Dataset, limit: int) -> list[dict[str, Any]]:
    """The first ``limit`` rows (owner only)."""
    frame = reading.load_frame(dataset.kind, dataset.location, dataset.table,
                                  dataset.id_column, limit=limit)
    return reading.to_records(frame)


def stats(dataset: Dataset) -> list[dict[str, Any]]:
    """Per-column statistics (owner only)."""
    frame = reading.load_frame(dataset.kind, dataset.location, dataset.table, dataset.id_column)
    return reading.statistics(frame)
