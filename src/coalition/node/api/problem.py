"""The one place errors become HTTP responses: RFC 9457 ``application/problem+json``.

Typed :class:`CoalitionError` s carry their own status and stable code; framework errors (404
for unknown routes, 405, request validation) and unexpected exceptions are mapped here too, so
every error a client sees has the same shape: ``type``, ``title``, ``status``, ``detail``,
``code`` and optional ``details``/``errors``. Validation errors never echo the submitted input
(it may be a password).
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from coalition.core.errors import CoalitionError
from coalition.node.errors import RateLimited, Unauthenticated

__all__ = ["PROBLEM_JSON", "install_problem_handlers", "problem"]

PROBLEM_JSON = "application/problem+json"
_BASE_FIELDS = frozenset({"type", "title", "status", "detail", "code"})
log = logging.getLogger("coalition.node.api")


def problem(status: int, code: str, detail: str, headers: dict[str, str] | None = None,
            **extra: Any) -> JSONResponse:
    """A problem document response."""
    body = {"type": f"urn:coalition:error:{code}", "title": HTTPStatus(status).phrase,
            "status": status, "detail": detail, "code": code, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _coalition(_: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, CoalitionError):  # pragma: no cover - registration guarantees it
        return _unexpected(_, exc)
    headers: dict[str, str] = {}
    if isinstance(exc, Unauthenticated):
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(exc, RateLimited) and "retry_after_s" in exc.details:
        headers["Retry-After"] = str(exc.details["retry_after_s"])
    if exc.http_status >= 500:
        log.error("request failed: %s", exc)
    # The error's own problem body (core) carries details and any structured ``errors`` list
    # (a DAG's validation problems, say); the title here is the HTTP phrase.
    extra = {k: v for k, v in exc.to_problem().items() if k not in _BASE_FIELDS}
    return problem(exc.http_status, exc.code, exc.message, headers or None, **extra)


def _http(_: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, StarletteHTTPException):  # pragma: no cover
        return _unexpected(_, exc)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http.error")
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    return problem(exc.status_code, code, detail, dict(exc.headers) if exc.headers else None)


def _validation(_: Request, exc: Exception) -> JSONResponse:
    raw = exc.errors() if isinstance(exc, RequestValidationError) else []
    errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
              for e in raw]
    return problem(422, "request.invalid", "the request does not match the API schema",
                   errors=errors)


def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return problem(500, "internal", "internal server error")


def install_problem_handlers(app: FastAPI) -> None:
    """Register every error mapping on ``app``."""
    app.add_exception_handler(CoalitionError, _coalition)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(Exception, _unexpected)
