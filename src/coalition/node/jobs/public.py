"""What of a failure may cross to another organisation: a typed error's code and message.

A failure's full text (``str(exc)`` with its details, a traceback, a worker's last output
line) can hold a host's file paths or a cell value. Only :func:`public_error` of it is sent to
the initiator or mirrored to partners; the full text stays in this node's own job log.
"""

from __future__ import annotations

from coalition.core.errors import CoalitionError
from coalition.engine.worker import INTERNAL_CODE, INTERNAL_MESSAGE

__all__ = ["INTERNAL_CODE", "INTERNAL_MESSAGE", "MAX_TEXT", "bounded", "public_error"]

# What a worker process reports for an untyped failure is what the node reports for one of
# its own: one pair, defined with the worker's contract (coalition.engine.worker.spec).
MAX_TEXT = 2000


def bounded(text: object, limit: int = MAX_TEXT) -> str:
    """``text`` as a string of at most ``limit`` characters (free text from a partner)."""
    value = text if isinstance(text, str) else ""
    return value[:limit]


def public_error(exc: BaseException) -> tuple[str, str]:
    """``(code, message)`` safe to send to a partner: a typed error's code and message
    (never its details), or a fixed ``internal`` pair for anything untyped."""
    if isinstance(exc, CoalitionError):
        return exc.code, bounded(exc.message)
    return INTERNAL_CODE, INTERNAL_MESSAGE
