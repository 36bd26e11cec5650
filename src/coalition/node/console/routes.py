"""``/`` and every path outside ``/api``: the console's static files, else its ``index.html``.

Files come only from the package's ``static/`` folder (resolved paths must stay inside it);
hashed assets (``assets/…``) are cached for a year, ``index.html`` never, so a node upgrade
reaches browsers at the next load. Unknown ``/api/…`` paths stay RFC 9457 ``not_found``.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, Response

from coalition.core.errors import NotFoundError

__all__ = ["STATIC", "router"]

STATIC = Path(__file__).parent / "static"
_RESERVED = ("api/", "docs", "openapi.json", "metrics")
_MISSING = ("<!doctype html><title>Coalition</title><p>The console is not built: run "
            "<code>make console</code>. The API is at <a href='/docs'>/docs</a>.</p>")

router = APIRouter(include_in_schema=False)


def _file(relative: str) -> Path | None:
    root = STATIC.resolve()
    candidate = (root / relative).resolve()
    if candidate.is_relative_to(root) and candidate.is_file():
        return candidate
    return None


def _index() -> Response:
    index = _file("index.html")
    if index is None:
        return HTMLResponse(_MISSING, status_code=503)
    return FileResponse(index, headers={"Cache-Control": "no-cache"})


@router.get("/")
def root() -> Response:
    """The console's entry page."""
    return _index()


@router.get("/{path:path}")
def asset_or_app(path: str) -> Response:
    """A static file if there is one, else the app (client-side routes), never for ``/api``."""
    if path.startswith(_RESERVED):
        raise NotFoundError("no such route")
    found = _file(path) if path else None
    if found is None:
        return _index()
    immutable = path.startswith("assets/")
    return FileResponse(found, headers={"Cache-Control": "public, max-age=31536000, immutable"
                                        if immutable else "no-cache"})
