"""Peer methods of the model library, answered on a host for the guest that publishes.

A partner may store and delete only model versions it published itself (``guest`` is the
calling organisation); it learns the stored part's digest and role, nothing else.
"""

from __future__ import annotations

from typing import Any

from coalition.core.errors import AuthError, InputError
from coalition.core.ids import Role
from coalition.node.db.models import Partner
from coalition.node.models import registry
from coalition.node.models.sources import PartSource, resolve_part
from coalition.node.runtime import NodeRuntime

__all__ = ["MODEL_HANDLERS"]


def _str(payload: dict[str, Any], key: str) -> str:
    value = payload.get(key)
    if not isinstance(value, str):
        raise InputError(f"field {key!r} must be a string")
    return value


def _int(payload: dict[str, Any], key: str) -> int:
    value = payload.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InputError(f"field {key!r} must be a positive integer")
    return value


def publish_part(rt: NodeRuntime, partner: Partner, payload: dict[str, Any]) -> dict[str, Any]:
    """Store this node's host part of the partner's model version."""
    source, meta, guest = payload.get("source"), payload.get("meta"), payload.get("guest_part")
    if not isinstance(source, dict) or not isinstance(meta, dict) or not isinstance(guest, dict):
        raise InputError("source, meta and guest_part must be objects")
    found = resolve_part(rt, PartSource.from_dict(source))
    if found.orgs and partner.name not in found.orgs:
        raise AuthError("you took no part in this job", job_id=source.get("job_id"))
    part = found.part
    if part.role is not Role.HOST:
        raise InputError("the named part is not a host part", role=part.role.value)
    guest_entry = {"org": partner.name, "role": str(guest.get("role")),
                   "sha256": str(guest.get("sha256"))}
    actor = f"partner:{partner.name}"
    with rt.db.session() as db:
        row = registry.publish_local(
            rt, db, actor, name=_str(payload, "name"), version=_int(payload, "version"),
            part=part, guest=partner.name, parties=[guest_entry],
            meta={**{k: meta.get(k) for k in ("job_id", "task", "dag_hash", "params", "metrics",
                                              "description")}, **found.meta},
            protected=bool(payload.get("protected", True)))
        return {"sha256": row.part_sha256, "role": row.role}


def delete_part(rt: NodeRuntime, partner: Partner, payload: dict[str, Any]) -> dict[str, Any]:
    """Delete this node's part of a version the partner published (refused while deployed)."""
    name, version = _str(payload, "name"), _int(payload, "version")
    with rt.db.session() as db:
        row = registry.get_version(db, name, version)
        if row.guest != partner.name:
            raise AuthError("this model version was not published by you", model=name)
        registry.delete_version(rt, db, f"partner:{partner.name}", name, version)
    return {"deleted": True}


MODEL_HANDLERS = {"ModelPartPublish": publish_part, "ModelPartDelete": delete_part}
