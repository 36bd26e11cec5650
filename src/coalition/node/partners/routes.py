"""``/partners``: register partner nodes, check their health, browse what they share, ask them
for grants."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import AwareDatetime, BaseModel, Field

from coalition.engine.policy import GrantTerms
from coalition.node.api.deps import Require, runtime
from coalition.node.api.schemas import IdPath, Name, NamePath, Ok, Strict
from coalition.node.auth.permissions import Permission
from coalition.node.auth.principal import Principal
from coalition.node.identity import normalise_fingerprint
from coalition.node.partners import directory as partners
from coalition.node.partners import federation
from coalition.node.partners.tables import Partner
from coalition.node.runtime import NodeRuntime

__all__ = ["router"]

router = APIRouter(prefix="/partners", tags=["partners"])
Runtime = Annotated[NodeRuntime, Depends(runtime)]
Reader = Annotated[Principal, Depends(Require(Permission.PARTNERS_READ))]
Manager = Annotated[Principal, Depends(Require(Permission.PARTNERS_MANAGE))]
Checker = Annotated[Principal, Depends(Require(Permission.PARTNERS_CHECK))]
Browser = Annotated[Principal, Depends(Require(Permission.REMOTE_DATASETS_READ))]
Requester = Annotated[Principal, Depends(Require(Permission.GRANTS_REQUEST))]
GrantReader = Annotated[Principal, Depends(Require(Permission.GRANTS_READ))]

_ADDRESS = r"^[^\s:]+:[0-9]{1,5}$|^\[[0-9A-Fa-f:.]+\]:[0-9]{1,5}$"


class PartnerOut(BaseModel):
    """A registered partner."""

    name: str
    address: str
    fingerprint: str
    created_at: dt.datetime
    last_health_at: dt.datetime | None
    last_health_ok: bool | None

    @classmethod
    def of(cls, p: Partner) -> PartnerOut:
        """From the ORM row."""
        return cls(name=p.name, address=p.address, fingerprint=p.fingerprint,
                   created_at=p.created_at, last_health_at=p.last_health_at,
                   last_health_ok=p.last_health_ok)


class PartnerCreate(Strict):
    """Register by fingerprint; without ``certificate_pem`` the node fetches the certificate
    from ``address`` and keeps it only if it matches the fingerprint."""

    name: Name
    address: str = Field(pattern=_ADDRESS, max_length=255)
    fingerprint: str = Field(min_length=64, max_length=110)
    certificate_pem: str | None = Field(default=None, max_length=20000)


class BundleImport(Strict):
    """The JSON text of a bundle written by ``coalition node export-identity``."""

    bundle: str = Field(min_length=2, max_length=40000)
    address: str | None = Field(default=None, pattern=_ADDRESS, max_length=255,
                                description="override the bundle's address")


class Health(BaseModel):
    """Outcome of a health check over the peer endpoint."""

    ok: bool
    partner: str
    remote_name: str | None
    seen_as: str | None
    remote_version: str | None
    remote_suite: str | None = None  # the partner's crypto suite; another than ours fails
    error: str | None


class GrantAsk(Strict):
    """What to ask the partner for."""

    dataset: Name
    purpose: str = Field(min_length=1, max_length=2000)
    component_kinds: list[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_.:-]{0,63}$")]] = Field(min_length=1)
    valid_until: AwareDatetime
    terms: GrantTerms = Field(default_factory=GrantTerms,
                              description="privacy-policy allowances asked for")


def _register(rt: NodeRuntime, actor: str, *, name: str, address: str, fingerprint: str,
              pem: bytes | None) -> PartnerOut:
    # Validate what we can before any network traffic.
    normalise_fingerprint(fingerprint)
    partners.parse_address(address)
    cert = pem if pem is not None else partners.fetch_certificate(rt, address)
    with rt.db.session() as db:
        return PartnerOut.of(partners.register_partner(
            db, rt, actor, name=name, address=address, fingerprint=fingerprint, certificate_pem=cert))


@router.get("", response_model=list[PartnerOut], summary="List partners")
def list_partners(_: Reader, rt: Runtime) -> list[PartnerOut]:
    """Every registered partner."""
    with rt.db.session() as db:
        return [PartnerOut.of(p) for p in partners.list_partners(db)]


@router.post("", response_model=PartnerOut, status_code=201, summary="Register a partner")
def register(body: PartnerCreate, caller: Manager, rt: Runtime) -> PartnerOut:
    """Pin a partner by name, address and certificate fingerprint."""
    pem = body.certificate_pem.encode() if body.certificate_pem else None
    return _register(rt, caller.actor, name=body.name, address=body.address,
                     fingerprint=body.fingerprint, pem=pem)


@router.post("/import", response_model=PartnerOut, status_code=201, summary="Import a bundle")
def import_bundle(body: BundleImport, caller: Manager, rt: Runtime) -> PartnerOut:
    """Register the partner described by its exported bundle."""
    data = partners.parse_bundle(body.bundle)
    return _register(rt, caller.actor, name=data["name"], address=body.address or data["address"],
                     fingerprint=data["fingerprint"], pem=data["certificate_pem"].encode())


@router.get("/{name}", response_model=PartnerOut, summary="Get a partner")
def get_partner(name: NamePath, _: Reader, rt: Runtime) -> PartnerOut:
    """One partner."""
    with rt.db.session() as db:
        return PartnerOut.of(partners.get_partner(db, name))


@router.delete("/{name}", response_model=Ok, summary="Remove a partner")
def remove(name: NamePath, caller: Manager, rt: Runtime) -> Ok:
    """Stop trusting the partner's certificate; its shares, grants and policies go with it."""
    with rt.db.session() as db:
        partners.remove_partner(db, caller.actor, name)
    return Ok()


@router.post("/{name}/health", response_model=Health, summary="Health check over mutual TLS")
def health(name: NamePath, caller: Checker, rt: Runtime) -> Health:
    """Call the partner's peer endpoint; ``ok`` is false with an error if it fails."""
    return Health(**federation.check_health(rt, caller.actor, name))


@router.get("/{name}/datasets", summary="Datasets the partner shares with us")
def remote_datasets(name: NamePath, _: Browser, rt: Runtime) -> list[dict[str, Any]]:
    """Name, schema and row count of each dataset the partner made visible to this node."""
    return federation.remote_datasets(rt, name)


@router.post("/{name}/grant-requests", status_code=201, summary="Ask the partner for a grant")
def ask_grant(name: NamePath, body: GrantAsk, caller: Requester, rt: Runtime) -> dict[str, Any]:
    """Returns the partner's grant record (pending, or approved by its standing policy)."""
    return federation.ask_grant(rt, caller.actor, name, dataset=body.dataset, purpose=body.purpose,
                                component_kinds=list(body.component_kinds),
                                valid_until=body.valid_until,
                                terms=body.terms.model_dump(mode="json", exclude_defaults=True))


@router.get("/{name}/grant-requests/{grant_id}", summary="State of a grant we asked for")
def remote_grant(name: NamePath, grant_id: IdPath, _: GrantReader, rt: Runtime) -> dict[str, Any]:
    """Asks the partner for the grant's current status."""
    return federation.remote_grant(rt, name, grant_id)
