"""The provider's answers to :mod:`.peer_methods` (registered by the composition). Each
handler starts with the trust decision on this node's own records (:func:`.service.
check_access`, :func:`.service.admit_batch`)."""

from __future__ import annotations

from coalition.core.errors import ConflictError
from coalition.node.peer.registry import PeerRegistry
from coalition.node.runtime import NodeRuntime
from coalition.node.verify3 import service
from coalition.node.verify3.peer_methods import (
    PAGE_ROWS,
    VERIFY3_EVALUATE,
    VERIFY3_MANIFEST,
    VERIFY3_TABLE,
    Evaluated,
    EvaluateRequest,
    ManifestOut,
    ServiceRef,
    TablePage,
    TableRequest,
)

__all__ = ["evaluate", "manifest", "register", "table_page"]


def manifest(rt: NodeRuntime, partner: str, request: ServiceRef) -> ManifestOut:
    """The current manifest, for a partner with a grant."""
    row = service.check_access(rt, partner, request.service)
    m = service.table_of(rt, row).manifest
    return ManifestOut(**m.to_wire(), phone_country=row.phone_country)


def table_page(rt: NodeRuntime, partner: str, request: TableRequest) -> TablePage:
    """One page of the current epoch's sorted tags."""
    row = service.check_access(rt, partner, request.service)
    if request.epoch != row.epoch:
        raise ConflictError("the service has a new epoch; fetch its manifest again",
                            service=row.name)
    tags = service.table_of(rt, row).tags
    part = tags[request.offset:request.offset + PAGE_ROWS]
    return TablePage(offset=request.offset, total=int(tags.shape[0]),
                     tags=service.b64(part.tobytes()))


def evaluate(rt: NodeRuntime, partner: str, request: EvaluateRequest) -> Evaluated:
    """``[k]B`` for a padded batch, after :func:`.service.admit_batch`."""
    table, blinded = service.admit_batch(rt, partner, request)
    return Evaluated(elements=service.b64(table.evaluate(blinded).tobytes()))


def register(peer_registry: PeerRegistry) -> None:
    """Answer the verification methods (composition)."""
    peer_registry.register(VERIFY3_MANIFEST, manifest)
    peer_registry.register(VERIFY3_TABLE, table_page)
    peer_registry.register(VERIFY3_EVALUATE, evaluate)
