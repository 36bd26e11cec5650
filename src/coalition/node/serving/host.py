"""The host's side of online and offline inference: peer methods the guest calls.

``ServingPrepare`` binds a partner's service to this node's part of the model version (loaded
and verified once) and to a feature source (an online source, or for offline prediction a
dataset); ``ServingPartial`` answers one request: rows by ID → partial result; and
``ServingRelease`` drops the binding. Every binding needs an approved ``predict`` grant for
the dataset. Leakage: the partner learns the partial results (see :mod:`.scoring`) and whether
its IDs exist here; it never learns feature values, thresholds or weights.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from coalition.core.errors import AuthError, InputError, NotFoundError
from coalition.node import grants
from coalition.node.datasets import get_dataset
from coalition.node.db.models import Partner
from coalition.node.db.types import utcnow
from coalition.node.events import Event, EventKind, emit
from coalition.node.models import registry
from coalition.node.models.tables import ModelVersionRow, ServiceRow
from coalition.node.runtime import NodeRuntime
from coalition.node.serving.features import open_source
from coalition.node.serving.scoring import host_scorer
from coalition.node.serving.sources import get_source
from coalition.node.serving.state import HostBinding, state_of

__all__ = ["GRANT_KIND", "SERVING_HANDLERS"]

GRANT_KIND = "predict"
_MAX_IDS = 100_000


def _str(payload: dict[str, Any], key: str) -> str:
    value = payload.get(key)
    if not isinstance(value, str) or not value:
        raise InputError(f"field {key!r} must be a non-empty string")
    return value


def _bind(rt: NodeRuntime, partner: Partner, service: str, *, model: str, version: int,
          source: dict[str, Any], persist: bool) -> HostBinding:
    local = registry.partner_model(partner.name, model)  # the partner's namespace here
    with rt.db.session() as db:
        row = registry.get_version(db, local, version)
        if row.guest != partner.name or row.role != "host":
            raise AuthError("no host part of this model version was published by you",
                            model=model, version=version)
        if isinstance(source.get("online"), str):
            src, dataset = get_source(db, source["online"])
            mode, online = src.mode, src.name
        elif isinstance(source.get("dataset"), str) and not persist:
            dataset, mode, online = get_dataset(db, source["dataset"]), "index", None
        else:
            raise InputError("source must name an online source (or, offline, a dataset)")
        grants.check_grant(db, partner.name, dataset.name, GRANT_KIND)
        db.expunge(dataset)
        version_id = row.id
    actor = f"partner:{partner.name}"
    _, part = registry.load_verified(rt, actor, local, version, "serve")
    scorer = host_scorer(part)
    binding = HostBinding(model, version, scorer,
                          open_source(dataset, mode).bind(scorer.feature_names), scorer.info())
    if persist:
        with rt.db.session() as db:
            old = db.scalars(select(ServiceRow).where(
                ServiceRow.guest == partner.name, ServiceRow.name == service)).first()
            if old is None:
                db.add(ServiceRow(name=service, guest=partner.name, side="host",
                                  model_version_id=version_id, source=online, hosts={},
                                  timeout_ms=0, created_by=actor, created_at=utcnow()))
                emit(db, Event(EventKind.SERVICE_DEPLOYED, actor, f"service:{partner.name}/{service}",
                               {"model": model, "version": version, "source": online}))
            elif old.model_version_id != version_id or old.source != online:
                raise InputError("this service is already bound to another model or source",
                                 service=service)
    with state_of(rt).lock:
        state_of(rt).bindings[(partner.name, service)] = binding
    return binding


def prepare(rt: NodeRuntime, partner: Partner, payload: dict[str, Any]) -> dict[str, Any]:
    """Bind a service (idempotent); returns what the guest needs to read partial results."""
    version = payload.get("version")
    source = payload.get("source")
    if not isinstance(version, int) or not isinstance(source, dict):
        raise InputError("version must be an integer and source an object")
    binding = _bind(rt, partner, _str(payload, "service"), model=_str(payload, "model"),
                    version=version, source=source, persist=not payload.get("transient", False))
    return binding.info


def _restore(rt: NodeRuntime, partner: Partner, service: str) -> HostBinding:
    with rt.db.session() as db:
        row = db.scalars(select(ServiceRow).where(
            ServiceRow.guest == partner.name, ServiceRow.name == service,
            ServiceRow.side == "host")).first()
        if row is None:
            raise NotFoundError("no such service bound on this node", service=service)
        version = db.get(ModelVersionRow, row.model_version_id)
        if version is None or row.source is None:  # pragma: no cover - foreign key
            raise NotFoundError("the service's model version is gone", service=service)
        model, number, source = version.name, version.version, row.source
    return _bind(rt, partner, service, model=model, version=number, source={"online": source},
                 persist=True)


def partial(rt: NodeRuntime, partner: Partner, payload: dict[str, Any]) -> dict[str, Any]:
    """The hot path: rows by ID from the bound source, then this part's partial result."""
    service = payload.get("service")
    ids = payload.get("ids")
    if not isinstance(service, str) or not isinstance(ids, list) or not 0 < len(ids) <= _MAX_IDS:
        raise InputError(f"service must be a string and ids a list of 1..{_MAX_IDS} IDs")
    binding = state_of(rt).bindings.get((partner.name, service))
    if binding is None:
        binding = _restore(rt, partner, service)
    return binding.scorer.partial(binding.lookup([str(i) for i in ids]))


def release(rt: NodeRuntime, partner: Partner, payload: dict[str, Any]) -> dict[str, Any]:
    """Drop a service binding (and its row, for online services)."""
    service = _str(payload, "service")
    with state_of(rt).lock:
        state_of(rt).bindings.pop((partner.name, service), None)
    with rt.db.session() as db:
        row = db.scalars(select(ServiceRow).where(
            ServiceRow.guest == partner.name, ServiceRow.name == service,
            ServiceRow.side == "host")).first()
        if row is not None:
            db.delete(row)
            emit(db, Event(EventKind.SERVICE_UNDEPLOYED, f"partner:{partner.name}",
                           f"service:{partner.name}/{service}"))
    return {"released": True}


SERVING_HANDLERS = {"ServingPrepare": prepare, "ServingPartial": partial,
                    "ServingRelease": release}
