"""Online sources: registered datasets this node's owner allows to be read by ID for serving.

Registering one is the owner's decision to serve from that dataset; a partner's service may use
it only with an approved grant for the ``predict`` component kind on the dataset
(:func:`coalition.node.partners.grants.check_grant`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from coalition.core.errors import ConflictError, InputError, NotFoundError
from coalition.node.audit.events import Event, EventKind, emit
from coalition.node.data.datasets import get_dataset
from coalition.node.data.tables import Dataset
from coalition.node.db.types import utcnow
from coalition.node.library.tables import OnlineSourceRow, ServiceRow
from coalition.node.serving.features import MODES

__all__ = ["get_source", "list_sources", "register_source", "remove_source", "source_view"]


def register_source(db: Session, actor: str, name: str, dataset: str, mode: str) -> OnlineSourceRow:
    """Serve features from ``dataset`` under ``name`` (``index``: in memory; ``sql``: per
    request from its table)."""
    if mode not in MODES:
        raise InputError("unknown online source mode", mode=mode, modes=list(MODES))
    ds = get_dataset(db, dataset)
    if mode == "sql" and ds.kind != "sql":
        raise InputError("sql mode needs a dataset registered from a SQL table", dataset=dataset)
    if db.scalars(select(OnlineSourceRow.id).where(OnlineSourceRow.name == name)).first():
        raise ConflictError("online source name already registered", name=name)
    row = OnlineSourceRow(name=name, dataset_id=ds.id, mode=mode, created_by=actor,
                          created_at=utcnow())
    db.add(row)
    db.flush()
    emit(db, Event(EventKind.ONLINE_SOURCE_REGISTERED, actor, f"online_source:{name}",
                   {"dataset": dataset, "mode": mode}))
    return row


def get_source(db: Session, name: str) -> tuple[OnlineSourceRow, Dataset]:
    """The online source ``name`` and its dataset."""
    row = db.scalars(select(OnlineSourceRow).where(OnlineSourceRow.name == name)).first()
    if row is None:
        raise NotFoundError("no such online source", name=name)
    ds = db.get(Dataset, row.dataset_id)
    if ds is None:  # pragma: no cover - the foreign key cascades
        raise NotFoundError("the online source's dataset is gone", name=name)
    return row, ds


def list_sources(db: Session) -> list[OnlineSourceRow]:
    """Every online source, by name."""
    return list(db.scalars(select(OnlineSourceRow).order_by(OnlineSourceRow.name)).all())


def remove_source(db: Session, actor: str, name: str) -> None:
    """Forget an online source; refused while a service reads from it."""
    row, _ = get_source(db, name)
    users = db.scalars(select(ServiceRow.name).where(ServiceRow.source == name)).all()
    if users:
        raise ConflictError("online source is used by deployed services", services=sorted(users))
    db.delete(row)
    emit(db, Event(EventKind.ONLINE_SOURCE_REMOVED, actor, f"online_source:{name}"))


def source_view(db: Session, row: OnlineSourceRow) -> dict[str, Any]:
    """An online source as the owner's users see it."""
    ds = db.get(Dataset, row.dataset_id)
    return {"name": row.name, "dataset": ds.name if ds else None, "mode": row.mode,
            "created_by": row.created_by, "created_at": row.created_at}
