"""``/node``: this node's name, identity and partner bundle."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from cryptography import x509
from fastapi import APIRouter, Depends
from pydantic import BaseModel

import coalition
from coalition.node.api.deps import Require, runtime
from coalition.node.auth.permissions import Permission
from coalition.node.auth.principal import Principal
from coalition.node.partners.directory import export_bundle
from coalition.node.runtime import NodeRuntime

__all__ = ["router"]

router = APIRouter(prefix="/node", tags=["node"])
Reader = Annotated[Principal, Depends(Require(Permission.NODE_READ))]
Runtime = Annotated[NodeRuntime, Depends(runtime)]


class NodeInfo(BaseModel):
    """Public facts about this node."""

    name: str
    version: str
    fingerprint: str
    peer_address: str
    cert_expires_at: dt.datetime
    crypto_suite: str
    """The federation's crypto suite this node runs (``standard`` or ``sm``)."""


@router.get("", response_model=NodeInfo, summary="This node")
def info(_: Reader, rt: Runtime) -> NodeInfo:
    """Name, version, certificate fingerprint and expiry, advertised peer address, crypto
    suite."""
    return NodeInfo(name=rt.name, version=coalition.__version__,
                    fingerprint=rt.identity.fingerprint,
                    peer_address=rt.settings.advertised_peer_address,
                    cert_expires_at=x509.load_pem_x509_certificate(
                        rt.identity.cert_pem).not_valid_after_utc,
                    crypto_suite=rt.settings.crypto_suite.value)


@router.get("/identity", summary="This node's partner bundle")
def identity(_: Reader, rt: Runtime) -> dict[str, Any]:
    """The bundle partners import (same as ``coalition node export-identity``)."""
    return export_bundle(rt)
