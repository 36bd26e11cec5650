"""The host's side of online and offline inference: the handlers of the serving peer methods
(declared in :mod:`.peer_methods`) the guest calls.

``ServingPrepare`` binds a partner's service to this node's part of the model version (loaded
and verified once) and to a feature source (an online source, or for offline prediction a
dataset); ``ServingPartial`` answers one request: rows by ID → partial result; and
``ServingRelease`` drops the binding; ``ServingKeys`` hands a multi-host linear binding the
co-hosts' signed masking keys (:mod:`.maskkeys`). Every binding needs an approved ``predict``
grant for the dataset.

Leakage and limits (issue 16, findings 7 and 19):

* unknown IDs are answered with decoy rows (:mod:`.features`), so no answer and no error says
  whether an ID is a member here;
* every ``ServingPartial`` spends the calling partner's quota and rate (all its services
  together; :mod:`.limits`); refusals are typed (``serving.rate_limited`` /
  ``serving.quota_exceeded``, gRPC ``RESOURCE_EXHAUSTED``) and counted, volume is audited as
  aggregates;
* a linear or split-learning part with fewer features than ``policy_min_serving_features`` is
  refused at bind;
* with co-hosts, linear partial results are masked so the guest sees only their sum.

The partner learns the (summed) partial results (see :mod:`.scoring`); it never learns
feature values, thresholds or weights.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from coalition.core.errors import AuthError, CoalitionError, InputError, NotFoundError
from coalition.crypto.suite import CryptoSuite
from coalition.node.audit.events import Event, EventKind, emit
from coalition.node.data.datasets import get_dataset
from coalition.node.db.types import utcnow
from coalition.node.jobs.tables import JobRow
from coalition.node.library import registry
from coalition.node.library.tables import ModelVersionRow, ServiceRow
from coalition.node.partners import directory as partners
from coalition.node.partners import grants
from coalition.node.peer.registry import PeerRegistry
from coalition.node.runtime import NodeRuntime
from coalition.node.serving.features import open_source
from coalition.node.serving.limits import Limits, QueryLedger, ServingRefused
from coalition.node.serving.maskkeys import decoy_key, pair_keys, signed_public
from coalition.node.serving.peer_methods import (
    SERVING_KEYS,
    SERVING_PARTIAL,
    SERVING_PREPARE,
    SERVING_RELEASE,
    HostInfo,
    KeysTaken,
    PartialRequest,
    PartialResult,
    PrepareRequest,
    Released,
    ReleaseRequest,
    ServiceKeys,
)
from coalition.node.serving.scoring import host_scorer
from coalition.node.serving.sources import get_source
from coalition.node.serving.state import HostBinding, state_of
from coalition.node.signing import signing_key
from coalition.protocols.linear.predict import TooFewFeatures

__all__ = ["GRANT_KIND", "admit", "audit_refusal", "flush_volume", "ledger", "register"]

GRANT_KIND = "predict"


def _cohosts(rt: NodeRuntime, partner: str, names: list[str]) -> tuple[str, ...]:
    cohosts = tuple(sorted(set(names)))
    if rt.name in cohosts or partner in cohosts:
        raise InputError("co-hosts are the model's other hosts: neither the guest nor this node")
    return cohosts


def _job_hosts(db: Session, job_id: str | None, me: str) -> set[str] | None:
    """The other host organisations of the training job, if this node has its record."""
    job = db.get(JobRow, job_id) if job_id else None
    if job is None:
        return None
    return {org for party, org in job.sites.items() if party.startswith("host:")} - {me}


def _bind(rt: NodeRuntime, partner: str, service: str, *, model: str, version: int,
          source: dict[str, Any], persist: bool, cohosts: tuple[str, ...] = ()) -> HostBinding:
    local = registry.partner_model(partner, model)  # the partner's namespace here
    with rt.db.session() as db:
        row = registry.get_version(db, local, version)
        if row.guest != partner or row.role != "host":
            raise AuthError("no host part of this model version was published by you",
                            model=model, version=version)
        if isinstance(source.get("online"), str):
            src, dataset = get_source(db, source["online"])
            mode, online = src.mode, src.name
        elif isinstance(source.get("dataset"), str) and not persist:
            dataset, mode, online = get_dataset(db, source["dataset"]), "index", None
        else:
            raise InputError("source must name an online source (or, offline, a dataset)")
        grants.check_grant(db, partner, dataset.name, GRANT_KIND)
        trained_with = _job_hosts(db, row.job_id, rt.name)
        if trained_with is not None and set(cohosts) != trained_with:
            # The guest names the co-hosts; where this node took part in the training job it
            # knows them, and a guest that calls a multi-host model single-host (to get this
            # host's partial in the clear) is refused.
            raise AuthError("the co-hosts differ from the hosts of the job that trained this "
                            "model", model=model, version=version)
        db.expunge(dataset)
        version_id = row.id
    actor = f"partner:{partner}"
    _, part = registry.load_verified(rt, actor, local, version, "serve")
    scorer = host_scorer(part, rt.settings.crypto_suite)
    minimum = rt.settings.policy_min_serving_features
    if scorer.per_row_value and scorer.feature_count() < minimum:
        raise TooFewFeatures("this node's policy refuses to serve a model part with fewer "
                             "features than its minimum",
                             features=scorer.feature_count(), minimum=minimum)
    info = scorer.info()
    if cohosts and scorer.maskable:
        with rt.db.session() as db:
            for org in cohosts:  # masking keys are checked against pinned certificates
                try:
                    partners.get_partner(db, org)
                except NotFoundError as exc:
                    raise AuthError("every co-host must be a registered partner of this node "
                                    "(its certificate verifies the masking keys)",
                                    host=org) from exc
        info = {**info, "mask_key": signed_public(
            rt.identity, rt.name, (partner, service, model, version), rt.settings.crypto_suite,
            signing_key(rt.settings) if rt.settings.crypto_suite == CryptoSuite.SM else None)}
    suite = rt.settings.crypto_suite
    lookup = open_source(dataset, mode).bind(scorer.feature_names, decoy_key(rt.identity, suite),
                                             scorer.categories, suite)
    binding = HostBinding(model, version, scorer, lookup, info,
                          cohosts if scorer.maskable else ())
    if persist:
        with rt.db.session() as db:
            old = db.scalars(select(ServiceRow).where(
                ServiceRow.guest == partner, ServiceRow.name == service)).first()
            if old is None:
                db.add(ServiceRow(name=service, guest=partner, side="host",
                                  model_version_id=version_id, source=online, hosts={},
                                  timeout_ms=0, created_by=actor, created_at=utcnow()))
                emit(db, Event(EventKind.SERVICE_DEPLOYED, actor, f"service:{partner}/{service}",
                               {"model": model, "version": version, "source": online}))
            elif old.model_version_id != version_id or old.source != online:
                raise InputError("this service is already bound to another model or source",
                                 service=service)
            elif set(old.hosts) != set(binding.cohosts):
                old.hosts = {}  # a new set of co-hosts: keys again (ServingKeys)
    with state_of(rt).lock:
        state_of(rt).bindings[(partner, service)] = binding
    return binding


def prepare(rt: NodeRuntime, partner: str, request: PrepareRequest) -> HostInfo:
    """Bind a service (idempotent); returns what the guest needs to read partial results."""
    binding = _bind(rt, partner, request.service, model=request.model,
                    version=request.version, source=dict(request.source),
                    persist=not request.transient,
                    cohosts=_cohosts(rt, partner, list(request.cohosts)))
    return HostInfo.model_validate(binding.info, strict=False)


def _set_keys(rt: NodeRuntime, partner: str, service: str, binding: HostBinding,
              signed: dict[str, Any]) -> None:
    if set(signed) != set(binding.cohosts):
        raise InputError("send one masking key per co-host", expected=list(binding.cohosts))
    with rt.db.session() as db:
        certs = {org: partners.get_partner(db, org).certificate_pem for org in binding.cohosts}
    keys = pair_keys(rt.identity, rt.name, (partner, service, binding.model,
                                             binding.version),
                     {org: (certs[org], signed[org]) for org in binding.cohosts},
                     rt.settings.crypto_suite)
    with state_of(rt).lock:
        binding.pair_keys = keys


def set_keys(rt: NodeRuntime, partner: str, request: ServiceKeys) -> KeysTaken:
    """Take the co-hosts' signed masking keys (relayed by the guest; each verified against the
    certificate this node pinned for that co-host) and derive the pair keys."""
    service, signed = request.service, dict(request.keys)
    binding = state_of(rt).bindings.get((partner, service))
    if binding is None:
        binding = _restore(rt, partner, service)
    _set_keys(rt, partner, service, binding, signed)
    with rt.db.session() as db:  # kept (public values) to rebuild the keys after a restart
        row = db.scalars(select(ServiceRow).where(
            ServiceRow.guest == partner, ServiceRow.name == service,
            ServiceRow.side == "host")).first()
        if row is not None:
            row.hosts = {org: json.dumps(v) for org, v in signed.items()}
    return KeysTaken(ok=True)


def _restore(rt: NodeRuntime, partner: str, service: str) -> HostBinding:
    with rt.db.session() as db:
        row = db.scalars(select(ServiceRow).where(
            ServiceRow.guest == partner, ServiceRow.name == service,
            ServiceRow.side == "host")).first()
        if row is None:
            raise NotFoundError("no such service bound on this node", service=service)
        version = db.get(ModelVersionRow, row.model_version_id)
        if version is None or row.source is None:  # pragma: no cover - foreign key
            raise NotFoundError("the service's model version is gone", service=service)
        model = registry.published_name(partner, version.name)
        number, source = version.version, row.source
        stored = {org: json.loads(v) for org, v in (row.hosts or {}).items()}
    binding = _bind(rt, partner, service, model=model, version=number,
                    source={"online": source}, persist=True, cohosts=tuple(sorted(stored)))
    if binding.cohosts:
        _set_keys(rt, partner, service, binding, stored)
    return binding


def _limits(rt: NodeRuntime, org: str) -> Limits:
    s = rt.settings
    own = s.serving_partner_limits.get(org, {})
    return Limits(int(own.get("ids_per_day", s.serving_partner_ids_per_day)),
                  float(own.get("ids_per_s", s.serving_partner_ids_per_s)),
                  int(own.get("burst_ids", s.serving_partner_burst_ids)))


def ledger(rt: NodeRuntime) -> QueryLedger:
    """The node's serving ledger (quotas, rates, volume counters)."""
    state = state_of(rt)
    if state.ledger is None:
        with state.lock:
            if state.ledger is None:
                state.ledger = QueryLedger(float(rt.settings.serving_audit_window_s))
    return state.ledger


def flush_volume(rt: NodeRuntime) -> int:
    """Write the finished window's aggregates (one audit event per subject and service)."""
    rows = ledger(rt).drain()
    if rows:
        with rt.db.session() as db:
            for r in rows:
                actor = f"partner:{r['subject']}" if r["side"] == "host" else r["subject"]
                guest = r["subject"] if r["side"] == "host" else rt.name
                emit(db, Event(EventKind.SERVICE_QUERY_VOLUME, actor,
                               f"service:{guest}/{r['service']}", r))
    return len(rows)


def audit_refusal(rt: NodeRuntime, refusal: ServingRefused, *, side: str, subject: str,
                  guest: str, service: str) -> None:
    """The first refusal of a subject in a window, with the window's counts so far."""
    counts = ledger(rt).snapshot((side, subject, service))
    actor = f"partner:{subject}" if side == "host" else subject
    with rt.db.session() as db:
        emit(db, Event(EventKind.SERVICE_QUERY_REFUSED, actor, f"service:{guest}/{service}",
                       {"side": side, "code": refusal.code, **counts}))


def admit(rt: NodeRuntime, *, side: str, bucket: tuple[str, ...], subject: str, guest: str,
          service: str, n: int, limits: Limits) -> None:
    """Spend quota and rate for ``n`` IDs or raise the typed refusal (audited as aggregates)."""
    book = ledger(rt)
    if book.due():
        with contextlib.suppress(CoalitionError):  # the audit must not stop serving
            flush_volume(rt)
    try:
        book.admit(bucket, (side, subject, service), n, limits)
    except ServingRefused as refusal:
        if refusal.first_in_window:
            audit_refusal(rt, refusal, side=side, subject=subject, guest=guest,
                          service=service)
        raise


def partial(rt: NodeRuntime, partner: str, request: PartialRequest) -> PartialResult:
    """The hot path: rows by ID from the bound source, then this part's partial result."""
    service, ids = request.service, request.ids
    admit(rt, side="host", bucket=("host", partner), subject=partner,
          guest=partner, service=service, n=len(ids), limits=_limits(rt, partner))
    binding = state_of(rt).bindings.get((partner, service))
    if binding is None:
        binding = _restore(rt, partner, service)
    if binding.cohosts and not binding.pair_keys:
        raise InputError("this service's masking keys have not been exchanged", service=service)
    keys = [str(i) for i in ids]
    rows, _ = binding.lookup(keys)  # unknown IDs: decoy rows, never an error
    return PartialResult.model_validate(
        binding.scorer.partial(rows, keys, rt.name, binding.pair_keys), strict=False)


def release(rt: NodeRuntime, partner: str, request: ReleaseRequest) -> Released:
    """Drop a service binding (and its row, for online services)."""
    service = request.service
    with state_of(rt).lock:
        state_of(rt).bindings.pop((partner, service), None)
    with rt.db.session() as db:
        row = db.scalars(select(ServiceRow).where(
            ServiceRow.guest == partner, ServiceRow.name == service,
            ServiceRow.side == "host")).first()
        if row is not None:
            db.delete(row)
            emit(db, Event(EventKind.SERVICE_UNDEPLOYED, f"partner:{partner}",
                           f"service:{partner}/{service}"))
    return Released(released=True)


def register(peer_registry: PeerRegistry) -> None:
    """Answer the serving methods (composition)."""
    peer_registry.register(SERVING_PREPARE, prepare)
    peer_registry.register(SERVING_KEYS, set_keys)
    peer_registry.register(SERVING_PARTIAL, partial)
    peer_registry.register(SERVING_RELEASE, release)
