"""The model library's methods between nodes, declared once (handlers: :mod:`.peer`).

A guest that publishes a model version asks each host to store its own part of the same
training task (:data:`MODEL_PART_PUBLISH`) and, to roll back or delete, to drop it again
(:data:`MODEL_PART_DELETE`). Any registered partner may call them; what it may name is limited
to its own namespace and its own jobs (see :mod:`.peer`).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from coalition.node.peer.method import Name, PeerMethod, PeerRequest, PeerResponse

__all__ = ["MODEL_PART_DELETE", "MODEL_PART_PUBLISH", "GuestPart", "PartDeleted",
           "PartDeleteRequest", "PartPublishRequest", "PartStored"]

Version = Field(gt=0)


class GuestPart(PeerRequest):
    """The publishing guest's own part: its role and digest (recorded, never fetched);
    ``sha256`` holds the digest under ``digest_alg`` (``sm3`` in an ``sm`` federation)."""

    role: str
    sha256: str
    digest_alg: str = "sha256"


class PartPublishRequest(PeerRequest):
    """Store this node's host part of version ``version`` of the caller's model ``name``."""

    name: Name
    version: int = Version
    source: dict[str, Any]  # a PartSource: a job's task output, or a drop-folder file name
    meta: dict[str, Any]
    guest_part: GuestPart


class PartStored(PeerResponse):
    """The stored host part: its digest (under ``digest_alg``) and role."""

    sha256: str
    role: str
    digest_alg: str = "sha256"


class PartDeleteRequest(PeerRequest):
    """Delete this node's part of a version the caller published."""

    name: Name
    version: int = Version


class PartDeleted(PeerResponse):
    """Whether the part was deleted."""

    deleted: bool


MODEL_PART_PUBLISH = PeerMethod("ModelPartPublish", PartPublishRequest, PartStored)
MODEL_PART_DELETE = PeerMethod("ModelPartDelete", PartDeleteRequest, PartDeleted)
