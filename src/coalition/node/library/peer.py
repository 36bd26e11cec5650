"""The model library's peer handlers (declared in :mod:`.peer_methods`), answered on a host
for the guest that publishes.

Contract (issue 16, finding 13): what a partner sends chooses nothing on this node beyond its
own namespace.

* The part is stored as ``<partner>:<name>`` (:func:`registry.partner_model`): a partner can
  never overwrite or shadow this node's own models or another partner's; its version numbers
  count within its namespace only.
* Tamper protection is this node's setting (``partner_models_protected``), never the
  partner's flag.
* The part comes from this node's own records: the ``model`` output of a succeeded task of a
  job in which this node ran a host and the calling partner ran the guest (checked from this
  node's job rows), or a part file this node's operators put in the partner's drop folder
  ``home/partner-parts/<partner>/``. Any other file on this node is refused, with the same
  answer whether it exists or not.

A partner may delete only versions it published itself. It learns the stored part's digest
and role, nothing else.
"""

from __future__ import annotations

from pathlib import Path

from coalition.core.errors import AuthError, InputError, NotFoundError
from coalition.core.ids import Party, Role
from coalition.node.jobs import repository as repo
from coalition.node.library import registry
from coalition.node.library.peer_methods import (
    MODEL_PART_DELETE,
    MODEL_PART_PUBLISH,
    PartDeleted,
    PartDeleteRequest,
    PartPublishRequest,
    PartStored,
)
from coalition.node.library.sources import PartSource, TaskPart, find_task_part, read_part_file
from coalition.node.peer.registry import PeerRegistry
from coalition.node.runtime import NodeRuntime

__all__ = ["partner_drop_folder", "register"]

DROP_FOLDER = "partner-parts"


def partner_drop_folder(rt: NodeRuntime, partner: str) -> Path:
    """Where this node's operators put part files a partner may publish by file name."""
    return (rt.settings.home / DROP_FOLDER / partner).resolve()


def _from_drop_folder(rt: NodeRuntime, partner: str, artifact: str) -> TaskPart:
    folder = partner_drop_folder(rt, partner)
    path = (folder / artifact).resolve()  # an absolute ``artifact`` must point inside too
    if not path.is_relative_to(folder) or not path.is_file():
        raise AuthError("part files must be in the folder this node keeps for you")
    part = read_part_file(path)
    return TaskPart(part, part.role.value, {}, {})


def _from_job(rt: NodeRuntime, partner: str, source: PartSource) -> TaskPart:
    job_id = str(source.job_id)
    try:
        with rt.db.session() as db:
            sites = dict(repo.get_job(db, job_id).sites)
    except NotFoundError:
        sites = {}
    guests = {org for p, org in sites.items() if Party.parse(p).role is Role.GUEST}
    if partner not in guests:  # same answer for a job unknown here and one of others
        raise AuthError("you ran no guest of this job with this node")
    return find_task_part(rt, job_id, str(source.task), source.output)


def publish_part(rt: NodeRuntime, partner: str, request: PartPublishRequest) -> PartStored:
    """Store this node's host part of the partner's model version, in the partner's namespace."""
    wanted = PartSource.from_dict(request.source)
    found = (_from_drop_folder(rt, partner, wanted.artifact) if wanted.artifact is not None
             else _from_job(rt, partner, wanted))
    part = found.part
    if part.role is not Role.HOST:
        raise InputError("the named part is not a host part", role=part.role.value)
    guest_entry = {"org": partner, "role": request.guest_part.role,
                   "sha256": request.guest_part.sha256,
                   **({} if request.guest_part.digest_alg == "sha256"
                      else {"digest_alg": request.guest_part.digest_alg})}
    actor = f"partner:{partner}"
    name = registry.partner_model(partner, request.name)
    meta = request.meta
    with rt.db.session() as db:
        row = registry.publish_local(
            rt, db, actor, name=name, version=request.version,
            part=part, guest=partner, parties=[guest_entry],
            meta={**{k: meta.get(k) for k in ("job_id", "task", "dag_hash", "params", "metrics",
                                              "description")}, **found.meta},
            protected=rt.settings.partner_models_protected)
        return PartStored(sha256=row.part_sha256, role=row.role,
                          digest_alg=row.part_digest_alg or "sha256")


def delete_part(rt: NodeRuntime, partner: str, request: PartDeleteRequest) -> PartDeleted:
    """Delete this node's part of a version the partner published (refused while deployed)."""
    name = registry.partner_model(partner, request.name)
    with rt.db.session() as db:
        row = registry.get_version(db, name, request.version)
        if row.guest != partner:  # cannot happen in the namespace; kept as a guard
            raise AuthError("this model version was not published by you", model=name)
        registry.delete_version(rt, db, f"partner:{partner}", name, request.version)
    return PartDeleted(deleted=True)


def register(peer_registry: PeerRegistry) -> None:
    """Answer the model methods (composition)."""
    peer_registry.register(MODEL_PART_PUBLISH, publish_part)
    peer_registry.register(MODEL_PART_DELETE, delete_part)
