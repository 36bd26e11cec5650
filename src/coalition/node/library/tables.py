"""Model-library and serving tables. Schema changes go through
``db/migrations/versions/0003_models.py``.

Every node keeps its own rows: a model version lists every party's part (organisation, role,
digest) but holds the file, digest and signature of *its own* part only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from coalition.node.db.base import Base
from coalition.node.db.types import UTCDateTime

__all__ = ["ModelVersionRow", "OnlineSourceRow", "ServiceRow"]

_TS = UTCDateTime()


class ModelVersionRow(Base):
    """One version of a federated model as this node sees it, plus this node's part.

    ``parties`` lists every part: ``{"org", "role", "sha256"}`` (plus ``"digest_alg"`` when the
    digest is not SHA-256: ``sm3`` under the ``sm`` crypto suite); ``guest`` is the organisation
    that published the version (the one that serves it). A part a partner published here is
    named ``<partner>:<name>`` (see :func:`~coalition.node.library.registry.partner_model`).
    ``part_sha256`` is the part's digest under ``part_digest_alg`` (``sha256`` or ``sm3``; NULL
    for parts published before it was recorded: ``sha256``; migration 0014_suite_digests).
    ``part_signature`` is the node's Ed25519 or SM2 signature over the part's canonical record
    (null while protection is off).
    """

    __tablename__ = "model_versions"
    __table_args__ = (UniqueConstraint("name", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(129), index=True)  # <partner>:<name> (0008)
    version: Mapped[int] = mapped_column(Integer)
    component: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    guest: Mapped[str] = mapped_column(String(64))
    job_id: Mapped[str | None] = mapped_column(String(64))
    task: Mapped[str | None] = mapped_column(String(64))
    dag_hash: Mapped[str | None] = mapped_column(String(64))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON)
    parties: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    description: Mapped[str] = mapped_column(Text, default="")
    part_file: Mapped[str] = mapped_column(Text)
    part_sha256: Mapped[str] = mapped_column(String(64))
    part_digest_alg: Mapped[str | None] = mapped_column(String(8))  # NULL: sha256
    part_signature: Mapped[str | None] = mapped_column(String(128))
    part_signer: Mapped[str | None] = mapped_column(String(64))
    protected: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(_TS)


class OnlineSourceRow(Base):
    """A registered dataset this node serves features from, by ID: ``index`` (loaded into
    memory) or ``sql`` (looked up in its table per request)."""

    __tablename__ = "online_sources"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"),
                                            index=True)
    mode: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(_TS)


class ServiceRow(Base):
    """A deployed model version. On the guest (``side`` ``guest``) ``hosts`` maps each host
    organisation to the online source it serves from; on a host (``side`` ``host``) the row
    records which partner's service this node answers for, and from which source, and
    ``hosts`` holds the co-hosts' signed public masking keys (JSON strings, public values)."""

    __tablename__ = "services"
    __table_args__ = (UniqueConstraint("guest", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    guest: Mapped[str] = mapped_column(String(64))
    side: Mapped[str] = mapped_column(String(8))
    model_version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"), index=True)
    source: Mapped[str | None] = mapped_column(String(64))
    hosts: Mapped[dict[str, str]] = mapped_column(JSON)
    timeout_ms: Mapped[int] = mapped_column(Integer)
    # Guest side: this service's quota and rate per API key (None: the node's defaults).
    limits: Mapped[dict[str, float] | None] = mapped_column(JSON, nullable=True, default=None)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(_TS)
