"""``/models``: the model library — publish, list, view, compare, verify, protect, delete."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field, model_validator

from coalition.node.api.deps import Require, runtime
from coalition.node.api.schemas import Name, Strict
from coalition.node.auth.permissions import Permission
from coalition.node.auth.principal import Principal
from coalition.node.library import PartSource, federation, registry
from coalition.node.library.tables import ModelVersionRow
from coalition.node.runtime import NodeRuntime

__all__ = ["router"]

router = APIRouter(prefix="/models", tags=["models"])
Runtime = Annotated[NodeRuntime, Depends(runtime)]
Reader = Annotated[Principal, Depends(Require(Permission.MODELS_READ))]
Manager = Annotated[Principal, Depends(Require(Permission.MODELS_MANAGE))]
VersionPath = Annotated[int, Path(ge=1, le=2**31 - 1)]
_PLAIN = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}"
# This node's models are plain names; parts partners published here are ``<partner>:<name>``.
NamePath = Annotated[str, Path(pattern=rf"^({_PLAIN}:)?{_PLAIN}$",
                               description="a model name, or <partner>:<name>")]


class SourceIn(Strict):
    """Where a part comes from on its node: a training task's output, or an artifact file."""

    job_id: str | None = Field(default=None, max_length=64)
    task: str | None = Field(default=None, max_length=64)
    output: str = Field(default="model", max_length=64)
    artifact: str | None = Field(default=None, max_length=4096)
    party: str | None = Field(default=None, max_length=64,
                              description="the part's party name in the training job "
                                          "(defaults to the organisation name)")

    @model_validator(mode="after")
    def _one_source(self) -> SourceIn:
        by_job = self.job_id is not None and self.task is not None
        if (self.artifact is None) == (not by_job):
            raise ValueError("give either artifact or job_id and task")
        return self

    def to_source(self) -> PartSource:
        """The library's source object."""
        return PartSource(self.artifact, self.job_id, self.task, self.output)


class PublishIn(Strict):
    """A version to publish from this node (the guest) and, per host, the host's source."""

    name: Name
    source: SourceIn
    hosts: dict[str, SourceIn] = Field(default_factory=dict, max_length=32)
    dag_hash: str | None = Field(default=None, max_length=64)
    params: dict[str, Any] = Field(default_factory=dict)
    metrics: dict[str, float] = Field(default_factory=dict)
    description: str = Field(default="", max_length=2000)
    protected: bool = True


class Part(BaseModel):
    """One party's part: organisation, role, party name in the job, SHA-256."""

    org: str
    role: str
    sha256: str
    digest_alg: str = "sha256"
    party: str | None = None


class VersionOut(BaseModel):
    """A model version; ``sha256``/``signer`` describe this node's own part."""

    name: str
    version: int
    component: str
    role: str
    guest: str
    job_id: str | None
    task: str | None
    dag_hash: str | None
    params: dict[str, Any]
    metrics: dict[str, Any]
    parties: list[Part]
    description: str
    sha256: str
    digest_alg: str = "sha256"
    protected: bool
    signer: str | None
    created_by: str
    created_at: dt.datetime


class DeleteOut(BaseModel):
    """Deleted here; per host, whether it deleted its part too."""

    ok: bool = True
    hosts: dict[str, bool]


class VerifyOut(BaseModel):
    """The node's own part matched its digest (and signature, if protected)."""

    ok: bool
    sha256: str
    digest_alg: str = "sha256"
    signed: bool


class ProtectionIn(Strict):
    """Turn tamper protection on (sign from now on) or off."""

    enabled: bool


class CompareOut(BaseModel):
    """Differences between versions ``a`` and ``b``."""

    name: str
    a: int
    b: int
    params: dict[str, list[Any]]
    metrics: dict[str, dict[str, Any]]
    component: list[str]
    job_id: list[str | None]
    dag_hash: list[str | None]
    same_part: bool


def _out(row: ModelVersionRow) -> VersionOut:
    return VersionOut.model_validate(registry.view(row))


@router.get("", response_model=list[VersionOut], summary="List model versions")
def list_models(_: Reader, rt: Runtime,
                name: Annotated[str | None, Query(max_length=129)] = None) -> list[VersionOut]:
    """Every version on this node (of one model with ``?name=``)."""
    with rt.db.session() as db:
        return [_out(r) for r in registry.list_versions(db, name)]


@router.post("", response_model=VersionOut, status_code=201, summary="Publish a model version")
def publish(body: PublishIn, caller: Manager, rt: Runtime) -> VersionOut:
    """Store this node's part and ask each host to store its own (all or nothing)."""
    own = body.source.to_source()
    hosts = {org: s.to_source() for org, s in body.hosts.items()}
    meta = {"dag_hash": body.dag_hash, "params": body.params, "metrics": body.metrics,
            "description": body.description}
    parties = {org: s.party for org, s in body.hosts.items() if s.party}
    row = federation.publish(rt, caller.actor, federation.PublishRequest(
        body.name, own, hosts, meta, body.protected, parties))
    return _out(row)


@router.get("/{name}/versions/{version}", response_model=VersionOut, summary="Get a version")
def get_version(name: NamePath, version: VersionPath, _: Reader, rt: Runtime) -> VersionOut:
    """One version's metadata and parts."""
    with rt.db.session() as db:
        return _out(registry.get_version(db, name, version))


@router.delete("/{name}/versions/{version}", response_model=DeleteOut,
               summary="Delete a version (refused while deployed)")
def delete_version(name: NamePath, version: VersionPath, caller: Manager, rt: Runtime) -> DeleteOut:
    """Delete here and, for a version this node published, on its hosts."""
    return DeleteOut(hosts=federation.delete_everywhere(rt, caller.actor, name, version))


@router.post("/{name}/versions/{version}/verify", response_model=VerifyOut,
             summary="Verify this node's part")
def verify(name: NamePath, version: VersionPath, caller: Reader, rt: Runtime) -> VerifyOut:
    """Recompute the digest and check the signature (audited; a mismatch is a 409 alert)."""
    row, _ = registry.load_verified(rt, caller.actor, name, version, "verify")
    return VerifyOut(ok=True, sha256=row.part_sha256, digest_alg=row.part_digest_alg or "sha256",
                     signed=row.part_signature is not None)


@router.put("/{name}/versions/{version}/protection", response_model=VersionOut,
            summary="Turn tamper protection on or off")
def protection(name: NamePath, version: VersionPath, body: ProtectionIn, caller: Manager,
               rt: Runtime) -> VersionOut:
    """On: verify the digest, then sign; every later load checks the signature."""
    return _out(registry.set_protection(rt, caller.actor, name, version, body.enabled))


@router.get("/{name}/compare", response_model=CompareOut, summary="Compare two versions")
def compare(name: NamePath, _: Reader, rt: Runtime,
            a: Annotated[int, Query(ge=1, le=2**31 - 1)],
            b: Annotated[int, Query(ge=1, le=2**31 - 1)]) -> CompareOut:
    """Parameters and metrics side by side (with deltas), and whether the parts differ."""
    with rt.db.session() as db:
        return CompareOut.model_validate(registry.compare(registry.get_version(db, name, a),
                                                          registry.get_version(db, name, b)))
