"""The ASGI application factory: user API under ``/api/v1``, OpenAPI at ``/docs``, the web
console at ``/``."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

import coalition
from coalition.node.api import health, node
from coalition.node.api.problem import PROBLEM_JSON, install_problem_handlers
from coalition.node.audit import routes as audit
from coalition.node.auth import routes as auth
from coalition.node.auth import user_routes as users
from coalition.node.catalog import routes as catalog
from coalition.node.composition import install
from coalition.node.console import routes as console
from coalition.node.data import routes as datasets
from coalition.node.jobs import manager_for
from coalition.node.jobs import routes as jobs
from coalition.node.jobs.metrics import state_counts
from coalition.node.ledger import routes as ledger
from coalition.node.library import routes as library
from coalition.node.metrics import metrics_of
from coalition.node.partners import grant_routes as grants
from coalition.node.partners import routes as partners
from coalition.node.pir_services import routes as pir
from coalition.node.pir_services.metrics import PIR_METRICS
from coalition.node.pir_services.schedules import SCHEDULER as PIR_REBUILDS
from coalition.node.psi_tasks import routes as psi
from coalition.node.psi_tasks.metrics import PSI_METRICS
from coalition.node.psi_tasks.schedules import SCHEDULER as PSI_SCHEDULES
from coalition.node.runtime import NodeRuntime
from coalition.node.serving import routes as services
from coalition.node.serving.metrics import EXPOSITIONS
from coalition.node.verify3 import routes as verify3
from coalition.node.verify3.metrics import VERIFY3_METRICS

__all__ = ["API_PREFIX", "ROUTERS", "create_app"]

API_PREFIX = "/api/v1"
# ``services`` first: routes are matched in order, and its predict route is the hot path.
ROUTERS = tuple(m.router for m in (services, auth, node, users, partners, datasets, grants, audit,
                                   jobs, library, catalog, psi, pir, verify3, ledger))

_PROBLEM = {"description": "Error (RFC 9457 problem document)",
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}}


def create_app(rt: NodeRuntime) -> FastAPI:
    """Build the app for one node runtime (tests build many, each with its own database)."""
    app = FastAPI(
        title=f"Coalition node {rt.name}",
        version=coalition.__version__,
        description="User API of a Coalition node. Authenticate with `Authorization: Bearer "
                    "<session token or API key>`; errors are `application/problem+json`.",
        docs_url="/docs",
        openapi_url="/openapi.json",
        redoc_url=None,
    )
    app.state.runtime = rt
    install(rt)  # the peer registry and client (rt.peers), before anything may call a partner
    manager_for(rt)  # first use fails the jobs a restart interrupted (coalition.node.jobs)
    metrics_of(rt).count_at_scrape("jobs", state_counts)  # /metrics: jobs and tasks by state
    rt.state(PSI_SCHEDULES)  # the cron loop of PSI tasks, resuming from stored due times
    rt.state(EXPOSITIONS).append(rt.state(PSI_METRICS).render)  # PSI counters on /metrics
    rt.state(EXPOSITIONS).append(rt.state(VERIFY3_METRICS).render)  # verify3 batch counters
    rt.state(PIR_REBUILDS)  # the cron loop rebuilding PIR services under new epochs
    rt.state(EXPOSITIONS).append(rt.state(PIR_METRICS).render)  # PIR batch counters
    install_problem_handlers(app)
    api = APIRouter(prefix=API_PREFIX, responses={400: _PROBLEM, 401: _PROBLEM, 403: _PROBLEM,
                                                  404: _PROBLEM, 409: _PROBLEM, 422: _PROBLEM,
                                                  429: _PROBLEM, 500: _PROBLEM})
    for router in ROUTERS:
        api.include_router(router)
    app.include_router(api)
    app.include_router(services.metrics_router)  # Prometheus /metrics, outside the versioned API
    app.include_router(health.router)  # /healthz for container health checks, no credential
    app.include_router(console.router)  # last: its fallback answers every other path with the app
    _add_problem_schema(app)
    return app


def _add_problem_schema(app: FastAPI) -> None:
    original = app.openapi

    def openapi() -> dict[str, object]:
        if app.openapi_schema is None:
            schema = original()
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components["Problem"] = {
                "type": "object",
                "required": ["type", "title", "status", "detail", "code"],
                "properties": {
                    "type": {"type": "string"}, "title": {"type": "string"},
                    "status": {"type": "integer"}, "detail": {"type": "string"},
                    "code": {"type": "string"}, "details": {"type": "object"},
                    "errors": {"type": "array", "items": {"type": "object"}},
                },
            }
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
