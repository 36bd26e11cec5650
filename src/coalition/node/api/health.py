"""``GET /healthz``: the unauthenticated liveness and readiness probe of a node.

For container health checks and load balancers: 200 ``{"status": "ok"}`` when the API answers
and the database takes a query, 503 ``{"status": "unavailable"}`` otherwise. It names nothing
(no node name, version or error text), so it needs no credential.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from coalition.node.api.deps import runtime
from coalition.node.runtime import NodeRuntime

__all__ = ["HEALTH_PATH", "router"]

HEALTH_PATH = "/healthz"
router = APIRouter()


@router.get(HEALTH_PATH, include_in_schema=False)
def health(rt: Annotated[NodeRuntime, Depends(runtime)]) -> JSONResponse:
    """``ok`` if the database answers a trivial query."""
    try:
        with rt.db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return JSONResponse({"status": "unavailable"}, status_code=503)
    return JSONResponse({"status": "ok"})
