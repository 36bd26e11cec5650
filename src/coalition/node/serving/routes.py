"""``/services`` (online inference), ``/online-sources``, ``/predictions`` (offline inference)
and the Prometheus ``/metrics`` endpoint.

The predict route authenticates through :class:`CachedRequire`: a credential resolved once is
trusted for ``ttl_s`` seconds (5 by default), so a calling system's request costs no database
round trip; revoking a key takes effect within that time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from pathlib import Path
from typing import Annotated, Literal

import pandas as pd
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import FileResponse, PlainTextResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field, StrictFloat, StrictInt
from starlette.concurrency import run_in_threadpool

from coalition.core.errors import AuthError, InputError, NotFoundError
from coalition.node.api.deps import Require, runtime
from coalition.node.api.schemas import Name, NamePath, Ok, Strict
from coalition.node.auth.permissions import Permission
from coalition.node.auth.principal import Principal
from coalition.node.auth.tokens import authenticate
from coalition.node.data import datasets
from coalition.node.errors import Unauthenticated
from coalition.node.metrics import metrics_of
from coalition.node.runtime import NodeRuntime
from coalition.node.serving import offline, service, sources
from coalition.node.serving.limits import Limits
from coalition.node.serving.metrics import EXPOSITIONS, render
from coalition.node.serving.state import state_of
from coalition.node.slots import Slot

__all__ = ["CachedRequire", "metrics_router", "router"]

router = APIRouter()
metrics_router = APIRouter()
_bearer = HTTPBearer(auto_error=False, description="Session token (cs_...) or API key (ck_...)")


# Resolved credentials of the predict hot path, per runtime: sha256(bearer) -> (expiry, who).
_CREDENTIALS: Slot[dict[str, tuple[float, Principal]]] = Slot(
    "serving.credentials", lambda rt: {}, close=dict.clear)


class CachedRequire(Require):
    """:class:`Require` with a short-lived in-memory cache of resolved credentials, held on
    the runtime."""

    def __init__(self, permission: Permission, ttl_s: float = 5.0, max_entries: int = 10_000) -> None:
        super().__init__(permission)
        self.ttl_s = ttl_s
        self._max = max_entries

    async def __call__(  # type: ignore[override]
        self,
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal:
        """Resolve the bearer credential (cached), then check the permission."""
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise Unauthenticated("missing bearer credentials")
        rt = runtime(request)
        cache = rt.state(_CREDENTIALS)
        key = hashlib.sha256(credentials.credentials.encode()).hexdigest()
        now = time.monotonic()
        hit = cache.get(key)
        if hit is not None and hit[0] > now:
            principal = hit[1]
        else:
            principal = await run_in_threadpool(self._resolve, rt, credentials.credentials)
            if len(cache) >= self._max:
                cache.clear()
            cache[key] = (now + self.ttl_s, principal)
        if self.permission not in principal.permissions:
            raise AuthError("permission denied", permission=str(self.permission),
                            role=str(principal.role))
        return principal

    @staticmethod
    def _resolve(rt: NodeRuntime, bearer: str) -> Principal:
        with rt.db.session() as db:
            return authenticate(db, bearer)


Runtime = Annotated[NodeRuntime, Depends(runtime)]
Reader = Annotated[Principal, Depends(Require(Permission.SERVICES_READ))]
Manager = Annotated[Principal, Depends(Require(Permission.SERVICES_MANAGE))]
Predictor = Annotated[Principal, Depends(CachedRequire(Permission.SERVICES_PREDICT))]
ModelManager = Annotated[Principal, Depends(Require(Permission.MODELS_MANAGE))]
Previewer = Annotated[Principal, Depends(Require(Permission.DATASETS_PREVIEW))]
IdStr = Annotated[str, Field(min_length=1, max_length=128)]


class LimitsIn(Strict):
    """A service's quota (IDs per UTC day) and rate (token bucket) per API key or session."""

    ids_per_day: int = Field(ge=1, le=10**12)
    ids_per_s: float = Field(gt=0, le=10**9)
    burst_ids: int = Field(ge=1, le=10**9)


class DeployIn(Strict):
    """Serve a model version: each host's online source and, optionally, the guest's; the
    quota and rate each API key gets (default: the node's ``serving_key_*`` settings)."""

    name: Name
    model: Name
    version: int | None = Field(default=None, ge=1, le=2**31 - 1)
    hosts: dict[str, Name] = Field(default_factory=dict, max_length=32)
    source: Name | None = None
    timeout_ms: int = Field(default=2000, ge=50, le=60_000)
    limits: LimitsIn | None = None


class ServiceOut(BaseModel):
    """A deployed service: served here (``side`` guest) or a partner's that this node answers
    for from ``source`` (``side`` host; ``guest`` is the partner)."""

    name: str
    side: str
    guest: str
    model: str
    version: int
    component: str
    hosts: dict[str, str]
    source: str | None
    timeout_ms: int
    limits: dict[str, float] | None = None
    created_by: str
    created_at: dt.datetime


class UndeployOut(BaseModel):
    """Undeployed here; per host, whether it released its binding."""

    ok: bool = True
    hosts: dict[str, bool]


FeatureValue = Annotated[StrictFloat | StrictInt | Annotated[str, Field(max_length=256)] | None,
                         Field(union_mode="left_to_right")]


class PredictIn(Strict):
    """One or a batch of IDs; optional guest-side feature rows (one per ID): numbers, strings
    for text columns, null for a missing value (typed per the model's fitted preprocessing,
    see ``docs/serving.md``)."""

    ids: list[IdStr] = Field(min_length=1, max_length=1000)
    features: list[dict[str, FeatureValue]] | list[list[FeatureValue]] | None = Field(
        default=None, max_length=1000)


class PredictOut(BaseModel):
    """Scores per ID (class probabilities per ID for multiclass) and the model version.
    ``found`` says, from this node's own data only, whether it knows each ID (score null when
    not); hosts' membership is never revealed (see ``docs/serving.md``)."""

    service: str
    model: str
    version: int
    ids: list[str]
    scores: list[float | None] | list[list[float] | None]
    found: list[bool]


class SourceIn(Strict):
    """Serve features by ID from a registered dataset."""

    name: Name
    dataset: Name
    mode: Literal["index", "sql"] = "index"


class SourceOut(BaseModel):
    """An online source."""

    name: str
    dataset: str | None
    mode: str
    created_by: str
    created_at: dt.datetime


class OfflineIn(Strict):
    """Score every row of the guest's ``dataset``; hosts score theirs; write ``output``."""

    model: Name
    version: int | None = Field(default=None, ge=1, le=2**31 - 1)
    dataset: Name
    hosts: dict[str, Name] = Field(default_factory=dict, max_length=32)
    output: Name


class OfflineOut(BaseModel):
    """The derived dataset that holds the predictions."""

    dataset: str
    rows: int
    model: str
    version: int


# First in the router: routes are matched in order, and this one is the hot path.
@router.post("/services/{name}/predict", tags=["services"], summary="Score IDs",
             responses={200: {"model": PredictOut, "description": "Scores per ID"}})
async def predict(name: NamePath, body: PredictIn, caller: Predictor,
                  request: Request) -> Response:
    """Joint scores for the IDs, with the model version that produced them. Each API key (or
    session) spends its quota and rate on the service: 429 with ``Retry-After`` when out."""
    # The hot path runs on the event loop (see coalition.node.serving.service.predict), and
    # is serialised here to skip response-model re-validation.
    subject = f"key:{caller.key_id}" if caller.key_id else caller.actor
    out = await service.predict(runtime(request), name, body.ids, body.features, subject)
    return Response(json.dumps(out), media_type="application/json")


@router.get("/services", response_model=list[ServiceOut], tags=["services"],
            summary="List deployed services")
def list_services(_: Reader, rt: Runtime) -> list[ServiceOut]:
    """Services this node serves."""
    return [ServiceOut.model_validate(s) for s in service.list_services(rt)]


@router.post("/services", response_model=ServiceOut, status_code=201, tags=["services"],
             summary="Deploy a model version")
def deploy(body: DeployIn, caller: Manager, rt: Runtime) -> ServiceOut:
    """Verify the parts, bind every host to its online source, start serving."""
    limits = (Limits(body.limits.ids_per_day, body.limits.ids_per_s, body.limits.burst_ids)
              if body.limits else None)
    service.deploy(rt, caller.actor, service.DeployRequest(
        body.name, body.model, body.version, dict(body.hosts), body.source, body.timeout_ms,
        limits))
    return _service(rt, body.name)


def _service(rt: NodeRuntime, name: str) -> ServiceOut:
    found = [s for s in service.list_services(rt) if s["name"] == name and s["side"] == "guest"]
    if not found:
        raise NotFoundError("no such service", service=name)
    return ServiceOut.model_validate(found[0])


@router.get("/services/{name}", response_model=ServiceOut, tags=["services"],
            summary="Get a service")
def get_service(name: NamePath, _: Reader, rt: Runtime) -> ServiceOut:
    """One service."""
    return _service(rt, name)


@router.delete("/services/{name}", response_model=UndeployOut, tags=["services"],
               summary="Undeploy a service")
def undeploy(name: NamePath, caller: Manager, rt: Runtime) -> UndeployOut:
    """Stop serving; each host drops its binding."""
    return UndeployOut(hosts=service.undeploy(rt, caller.actor, name))


@router.get("/online-sources", response_model=list[SourceOut], tags=["services"],
            summary="List online sources")
def list_sources(_: Reader, rt: Runtime) -> list[SourceOut]:
    """Datasets this node serves features from."""
    with rt.db.session() as db:
        return [SourceOut.model_validate(sources.source_view(db, r))
                for r in sources.list_sources(db)]


@router.post("/online-sources", response_model=SourceOut, status_code=201, tags=["services"],
             summary="Register an online source")
def register_source(body: SourceIn, caller: Manager, rt: Runtime) -> SourceOut:
    """Serve features by ID from a registered dataset (partners still need a grant)."""
    with rt.db.session() as db:
        row = sources.register_source(db, caller.actor, body.name, body.dataset, body.mode)
        return SourceOut.model_validate(sources.source_view(db, row))


@router.delete("/online-sources/{name}", response_model=Ok, tags=["services"],
               summary="Remove an online source")
def remove_source(name: NamePath, caller: Manager, rt: Runtime) -> Ok:
    """Refused while a service reads from it."""
    with rt.db.session() as db:
        sources.remove_source(db, caller.actor, name)
    return Ok()


@router.post("/predictions", response_model=OfflineOut, status_code=201, tags=["services"],
             summary="Run offline inference")
def run_predictions(body: OfflineIn, caller: ModelManager, rt: Runtime) -> OfflineOut:
    """Score a dataset with a model version; the result is a new dataset."""
    return OfflineOut.model_validate(offline.run_offline(
        rt, caller.actor, model=body.model, version=body.version, dataset=body.dataset,
        hosts=dict(body.hosts), output=body.output))


@router.get("/predictions/{name}/download", tags=["services"], summary="Download predictions",
            responses={200: {"content": {"text/csv": {}, "application/vnd.apache.parquet": {}}}})
def download(name: NamePath, _: Previewer, rt: Runtime,
             format: Annotated[Literal["csv", "parquet"], Query()] = "csv") -> Response:
    """A prediction dataset as CSV or Parquet (owner only: these are values)."""
    with rt.db.session() as db:
        row = datasets.get_dataset(db, name)
        location = Path(row.location)
    if not location.resolve().is_relative_to(offline.predictions_dir(rt)) or not location.is_file():
        raise InputError("not a prediction dataset", dataset=name)
    if format == "parquet":
        return FileResponse(location, media_type="application/vnd.apache.parquet",
                            filename=f"{name}.parquet")
    csv = pd.read_parquet(location).to_csv(index=False)
    return Response(csv, media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})


@metrics_router.get("/metrics", include_in_schema=False)
def metrics(_: Reader, rt: Runtime) -> PlainTextResponse:
    """Per-service request metrics, then the node's (:mod:`coalition.node.metrics`: jobs,
    tasks, workers, peer calls) and the expositions features add (PSI tasks), in the
    Prometheus text format."""
    text = (render(dict(state_of(rt).metrics)) + metrics_of(rt).render()
            + "".join(f() for f in rt.state(EXPOSITIONS)))
    return PlainTextResponse(text, media_type="text/plain; version=0.0.4")
