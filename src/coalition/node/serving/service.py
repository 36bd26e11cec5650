"""The guest's side of online inference: deploy, undeploy, and the predict hot path.

``deploy`` verifies this node's part (audited), asks every host to bind the service to its
part and an online source (``ServingPrepare``), and keeps the scorer, the hosts' channels and
the guest's feature lookup in memory. ``predict`` then touches no database: guest rows (from
the request or the guest's online source), one ``ServingPartial`` call per host in parallel on
a long-lived mTLS channel, combine, and record the request's metrics. Concurrent requests share
host calls (:mod:`.batching`: no added delay; a failed batch is retried request by request).

Issue 16: each API key (or session) spends a quota and a rate per service (the deploy's
``limits`` or the node's ``serving_key_*`` defaults; refusals are HTTP 429 with
``Retry-After``; volume audited as aggregates, :mod:`.limits`). A response marks each ID
``found`` only from the guest's own data (its online source, or rows sent in the request):
hosts answer every ID (decoys for IDs they lack), so no batch fails on an ID unknown at a host
and nothing in a response says whether a host knows an ID. With several linear hosts, deploy
exchanges the hosts' signed masking keys (:mod:`.maskkeys`), so this node only ever sees the
sum of their partial scores.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from coalition.core.errors import CoalitionError, ConflictError, InputError, NotFoundError
from coalition.node.audit.events import Event, EventKind, emit
from coalition.node.db.types import utcnow
from coalition.node.jobs.tables import JobRow
from coalition.node.ledger import service as federation_log
from coalition.node.library import registry
from coalition.node.library.tables import ModelVersionRow, ServiceRow
from coalition.node.partners import directory as partners
from coalition.node.partners.tables import Partner
from coalition.node.runtime import NodeRuntime
from coalition.node.serving.batching import Batcher
from coalition.node.serving.features import Lookup, open_source, request_matrix
from coalition.node.serving.host import audit_refusal, flush_volume, ledger
from coalition.node.serving.limits import Limits, ServingRefused
from coalition.node.serving.peer_methods import (
    SERVING_KEYS,
    SERVING_PARTIAL,
    SERVING_PREPARE,
    SERVING_RELEASE,
    PartialRequest,
    PrepareRequest,
    ReleaseRequest,
    ServiceKeys,
)
from coalition.node.serving.scoring import GuestScorer, guest_scorer
from coalition.node.serving.sources import get_source
from coalition.node.serving.state import Deployed, state_of

__all__ = ["DeployRequest", "deploy", "guest_rows", "list_services", "predict",
           "prepare_hosts", "release_hosts", "service_view", "undeploy"]

Matrix = NDArray[np.float64]
_PREPARE_TIMEOUT_S = 120.0  # loading a large online source into memory takes a while
_fanout = ThreadPoolExecutor(max_workers=16, thread_name_prefix="serving-fanout")


@dataclass(frozen=True)
class DeployRequest:
    """Serve ``model`` (``version``, newest if None) as ``name``: each host's online source,
    the guest's own online source (optional: callers may send guest features instead)."""

    name: str
    model: str
    version: int | None = None
    hosts: dict[str, str] = field(default_factory=dict)
    source: str | None = None
    timeout_ms: int = 2000
    limits: Limits | None = None  # per API key or session; None: the node's defaults


def _partner(rt: NodeRuntime, org: str) -> Partner:
    with rt.db.session() as db:
        partner = partners.get_partner(db, org)
        db.expunge(partner)
        return partner


def _host_orgs(row: ModelVersionRow) -> dict[str, str]:
    """Host organisation → its party name in the training job."""
    return {p["org"]: str(p.get("party") or p["org"]) for p in row.parties
            if p.get("role") == "host"}


def prepare_hosts(rt: NodeRuntime, service: str, row: ModelVersionRow, scorer: GuestScorer, *,
                  sources: dict[str, dict[str, Any]], transient: bool) -> list[Partner]:
    """Bind every host; on failure release the ones already bound."""
    orgs = _host_orgs(row)
    missing = sorted(set(orgs) - set(sources))
    extra = sorted(set(sources) - set(orgs))
    if missing or extra:
        raise InputError("name a source for exactly the model's hosts", missing=missing,
                         unexpected=extra)
    hosts = [_partner(rt, org) for org in sorted(orgs)]
    infos: dict[str, dict[str, Any]] = {}
    try:
        for partner in hosts:
            infos[partner.name] = rt.peers.call(partner, SERVING_PREPARE, PrepareRequest(
                service=service, model=row.name, version=row.version,
                source=sources[partner.name], transient=transient,
                cohosts=sorted(set(orgs) - {partner.name})),
                timeout_s=_PREPARE_TIMEOUT_S).model_dump()
        signed = {org: info["mask_key"] for org, info in infos.items()
                  if isinstance(info.get("mask_key"), dict)}
        if signed:  # several linear hosts: relay each host's signed key to the others
            for partner in hosts:
                rt.peers.call(partner, SERVING_KEYS, ServiceKeys(
                    service=service,
                    keys={o: k for o, k in signed.items() if o != partner.name}),
                    timeout_s=_PREPARE_TIMEOUT_S)
        scorer.attach(infos, {party: org for org, party in orgs.items()})
    except CoalitionError:
        release_hosts(rt, service, [p for p in hosts if p.name in infos])
        raise
    return hosts


def release_hosts(rt: NodeRuntime, service: str, hosts: Sequence[Partner]) -> dict[str, bool]:
    """Ask each host to drop the service; per host, whether it confirmed."""
    done = {}
    for partner in hosts:
        try:
            rt.peers.call(partner, SERVING_RELEASE, ReleaseRequest(service=service))
            done[partner.name] = True
        except CoalitionError:
            done[partner.name] = False
    return done


def _guest_lookup(rt: NodeRuntime, source: str | None, scorer: GuestScorer
                  ) -> tuple[Lookup | None, bool]:
    if source is None:
        return None, False
    with rt.db.session() as db:
        src, dataset = get_source(db, source)
        db.expunge(dataset)
        mode = src.mode
    return open_source(dataset, mode).bind(scorer.feature_names,
                                            categories=scorer.categories), mode == "sql"


def _activate(rt: NodeRuntime, actor: str, req: DeployRequest, persist: bool) -> Deployed:
    row, part = registry.load_verified(rt, actor, req.model, req.version, "deploy")
    if row.guest != rt.name:
        raise InputError("only the node that published a model version serves it",
                         model=row.name, publisher=row.guest)
    scorer = guest_scorer(part)
    lookup, blocks = _guest_lookup(rt, req.source, scorer)
    if persist:
        with rt.db.session() as db:
            if db.scalars(select(ServiceRow.id).where(ServiceRow.guest == rt.name,
                                                      ServiceRow.name == req.name)).first():
                raise ConflictError("a service with this name is deployed", service=req.name)
    sources = {org: {"online": src} for org, src in req.hosts.items()}
    hosts = (prepare_hosts(rt, req.name, row, scorer, sources=sources, transient=False)
             if scorer.vertical else [])
    if persist:
        with rt.db.session() as db:
            db.add(ServiceRow(name=req.name, guest=rt.name, side="guest",
                              model_version_id=row.id, source=req.source, hosts=dict(req.hosts),
                              timeout_ms=req.timeout_ms, created_by=actor, created_at=utcnow(),
                              limits=req.limits.as_dict() if req.limits else None))
            emit(db, Event(EventKind.SERVICE_DEPLOYED, actor, f"service:{rt.name}/{req.name}",
                           {"model": row.name, "version": row.version, "hosts": req.hosts,
                            "source": req.source}))
    deployed = Deployed(req.name, row.name, row.version, scorer, hosts, lookup,
                        req.timeout_ms / 1000.0, lookup_blocks=blocks, limits=req.limits)
    deployed.batcher = Batcher(_joint_scores(rt, deployed))
    state = state_of(rt)
    with state.lock:
        state.services[req.name] = deployed
    return deployed


def deploy(rt: NodeRuntime, actor: str, req: DeployRequest) -> Deployed:
    """Deploy a model version as a service on this (the guest's) node."""
    if not 50 <= req.timeout_ms <= 60_000:
        raise InputError("timeout_ms must be between 50 and 60000")
    deployed = _activate(rt, actor, req, persist=True)
    _record_deploy(rt, deployed)
    return deployed


def _record_deploy(rt: NodeRuntime, deployed: Deployed) -> None:
    """``model.part`` (event ``deploy``): the part hashes of the version now serving."""
    with rt.db.session() as db:
        version = db.scalars(select(ModelVersionRow).where(
            ModelVersionRow.name == deployed.model,
            ModelVersionRow.version == deployed.version)).first()
        if version is None:
            return
        job = db.get(JobRow, version.job_id) if version.job_id else None
        operator = job.initiator if job is not None else rt.name
        body = {"event": "deploy", "service": deployed.name, "model": version.name,
                "version": version.version, "job": version.job_id,
                "parts": [{k: p[k] for k in ("org", "role", "sha256", "digest_alg") if k in p}
                          for p in version.parties]}
    federation_log.record(rt, operator, "model.part", body, job_id=version.job_id)


def _restore(rt: NodeRuntime, name: str) -> Deployed:
    """Rebuild a deployed service after a restart (verifies the part again)."""
    with rt.db.session() as db:
        row = db.scalars(select(ServiceRow).where(ServiceRow.guest == rt.name,
                                                  ServiceRow.name == name,
                                                  ServiceRow.side == "guest")).first()
        if row is None:
            raise NotFoundError("no such service", service=name)
        version = db.get(ModelVersionRow, row.model_version_id)
        if version is None:  # pragma: no cover - foreign key
            raise NotFoundError("the service's model version is gone", service=name)
        limits = (Limits(int(row.limits["ids_per_day"]), float(row.limits["ids_per_s"]),
                         int(row.limits["burst_ids"])) if row.limits else None)
        req = DeployRequest(name, version.name, version.version, dict(row.hosts), row.source,
                            row.timeout_ms, limits)
    return _activate(rt, "system", req, persist=False)


def undeploy(rt: NodeRuntime, actor: str, name: str) -> dict[str, bool]:
    """Stop serving ``name``; returns, per host, whether it released its binding."""
    with rt.db.session() as db:
        row = db.scalars(select(ServiceRow).where(ServiceRow.guest == rt.name,
                                                  ServiceRow.name == name,
                                                  ServiceRow.side == "guest")).first()
        if row is None:
            raise NotFoundError("no such service", service=name)
        hosts = sorted(row.hosts)
        db.delete(row)
        emit(db, Event(EventKind.SERVICE_UNDEPLOYED, actor, f"service:{rt.name}/{name}"))
    state = state_of(rt)
    with state.lock:
        state.services.pop(name, None)
    known = []
    for org in hosts:
        try:
            known.append(_partner(rt, org))
        except NotFoundError:
            continue
    released = release_hosts(rt, name, known)
    return {org: released.get(org, False) for org in hosts}


def list_services(rt: NodeRuntime) -> list[dict[str, Any]]:
    """Services this node serves (``side`` guest) and partners' services it answers for with
    its own data (``side`` host, ``guest`` names the partner)."""
    with rt.db.session() as db:
        rows = db.execute(select(ServiceRow, ModelVersionRow).join(
            ModelVersionRow, ServiceRow.model_version_id == ModelVersionRow.id).order_by(
            ServiceRow.side, ServiceRow.guest, ServiceRow.name)).all()
        return [service_view(s, m) for s, m in rows]


def service_view(row: ServiceRow, version: ModelVersionRow) -> dict[str, Any]:
    """A service as the owner's users see it."""
    return {"name": row.name, "side": row.side, "guest": row.guest,
            "model": version.name, "version": version.version,
            "component": version.component, "hosts": row.hosts, "source": row.source,
            "timeout_ms": row.timeout_ms, "limits": row.limits, "created_by": row.created_by,
            "created_at": row.created_at}


#: Guest feature rows in a request body: by column name, or lists in the model's raw column
#: order; numbers, strings for text columns, null for missing values.
RequestRows = Sequence[Sequence[float | str | None]] | Sequence[Mapping[str, float | str | None]]


def guest_rows(scorer: GuestScorer, lookup: Lookup | None, ids: Sequence[str],
               features: RequestRows | None,
               ) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """The guest's feature rows and which IDs it knows: rows from the request if given (all
    known), else from its online source (unknown IDs: zero rows, not found)."""
    n = len(ids)
    known = np.ones(n, dtype=np.bool_)
    if features is None and lookup is not None:
        return lookup(ids)
    return _request_rows(scorer, n, features), known


def _request_rows(scorer: GuestScorer, n: int, features: RequestRows | None,
                  ) -> NDArray[np.float64]:
    """Request rows coded like the online source's (:func:`.features.request_matrix`)."""
    if features is None:
        if scorer.feature_names == []:
            return np.zeros((n, 0))
        raise InputError("this service has no guest online source: send the guest's features")
    if len(features) != n:
        raise InputError("give one feature row per ID", ids=n, rows=len(features))
    names = scorer.feature_names
    rows: list[Sequence[float | str | None]] = []
    for row in features:
        if isinstance(row, Mapping):
            if names is None:
                raise InputError("this model's guest features have no names; send lists in "
                                 "the training column order")
            absent = [c for c in names if c not in row]
            if absent:
                raise InputError("a feature row lacks a column", column=absent[0])
            rows.append([row[c] for c in names])
        else:
            rows.append(list(row))
    width = len(names) if names is not None else (len(rows[0]) if rows else 0)
    return request_matrix(rows, names if names is not None else [str(j) for j in range(width)],
                          scorer.categories, scorer.imputed)


def _joint_scores(rt: NodeRuntime, dep: Deployed) -> Callable[[list[str], Matrix], Matrix]:
    """One round: every host's partial result for ``ids`` (in parallel), then combine."""
    peers = rt.peers

    def partial(host: Partner, request: PartialRequest) -> dict[str, Any]:
        return peers.call(host, SERVING_PARTIAL, request, timeout_s=dep.timeout_s).model_dump()

    def score(ids: list[str], X: Matrix) -> Matrix:
        request = PartialRequest(service=dep.name, ids=list(ids))
        if len(dep.hosts) == 1:
            host = dep.hosts[0]
            partials = {host.name: partial(host, request)}
        else:
            futures = {h.name: _fanout.submit(partial, h, request) for h in dep.hosts}
            partials = {org: f.result() for org, f in futures.items()}
        return dep.scorer.combine(X, partials)

    return score


def _key_limits(rt: NodeRuntime, dep: Deployed) -> Limits:
    s = rt.settings
    return dep.limits or Limits(s.serving_key_ids_per_day, s.serving_key_ids_per_s,
                                s.serving_key_burst_ids)


async def _admit_key(rt: NodeRuntime, dep: Deployed, caller: str, n: int) -> None:
    """Spend ``caller``'s budget on the event loop (memory only); the rare audit writes (a
    finished window, the window's first refusal) go to a worker thread."""
    book = ledger(rt)
    if book.due():
        await run_in_threadpool(flush_volume, rt)
    try:
        book.admit(("guest", caller, dep.name), ("guest", caller, dep.name), n,
                   _key_limits(rt, dep))
    except ServingRefused as refusal:
        if refusal.first_in_window:
            await run_in_threadpool(partial(audit_refusal, rt, refusal, side="guest",
                                            subject=caller, guest=rt.name, service=dep.name))
        raise


async def predict(rt: NodeRuntime, name: str, ids: Sequence[str],
                  features: RequestRows | None = None,
                  caller: str | None = None) -> dict[str, Any]:
    """Score ``ids`` with service ``name`` (the hot path; see module docstring). Runs on the
    event loop; only the peer calls (one per batch) and SQL lookups go to worker threads.
    ``caller`` (``key:<id>`` or ``user:<name>``) spends its quota and rate on this service.
    IDs the guest does not know come back ``found: false`` with a null score and are not
    sent to the hosts."""
    state = state_of(rt)
    dep = state.services.get(name)
    if dep is None:
        dep = await run_in_threadpool(_restore, rt, name)
    metrics = state.metrics_for(name)
    start = time.perf_counter()
    try:
        if caller is not None:
            await _admit_key(rt, dep, caller, len(ids))
        if dep.lookup_blocks and features is None:
            X, found = await run_in_threadpool(guest_rows, dep.scorer, dep.lookup, ids, None)
        else:
            X, found = guest_rows(dep.scorer, dep.lookup, ids, features)
        known = [i for i, f in zip(ids, found, strict=True) if f]
        scored: list[Any] = [None] * len(ids)
        if known:
            batcher = dep.batcher or Batcher(_joint_scores(rt, dep))
            scores = (await batcher.submit(known, X[found])).tolist()
            for pos, score in zip(np.flatnonzero(found), scores, strict=True):
                scored[pos] = score
    except CoalitionError as exc:
        metrics.record(time.perf_counter() - start, exc.code)
        raise
    metrics.record(time.perf_counter() - start)
    return {"service": name, "model": dep.model, "version": dep.version, "ids": list(ids),
            "scores": scored, "found": found.tolist()}
