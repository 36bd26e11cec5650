"""Enumerated exit codes, stable for scripts, and the one error → exit-code mapping."""

from __future__ import annotations

from enum import IntEnum

from coalition.core.errors import (
    AuthError,
    CoalitionError,
    ConfigError,
    ConflictError,
    InputError,
    NotFoundError,
)

__all__ = ["ExitCode", "exit_code_for"]


class ExitCode(IntEnum):
    """What a ``coalition`` command's exit status means."""

    OK = 0
    FAILED = 1  # the work ran and failed (protocol, peer, crypto error; node unreachable)
    USAGE = 2  # bad arguments (typer's own usage errors also exit 2)
    INPUT = 3  # bad input data or configuration; a name that does not exist; a conflict
    DENIED = 4  # not logged in, or not allowed
    INTERRUPTED = 130


def exit_code_for(exc: BaseException) -> ExitCode:
    """The exit status for an error every command uses: what the caller must fix (input,
    configuration, a missing or conflicting name) → 3, credentials → 4, anything else → 1.

    A job party's failure wrapping another error (``exc.error``) maps by its cause.
    """
    cause = getattr(exc, "error", None)
    if isinstance(cause, CoalitionError):
        exc = cause
    if isinstance(exc, AuthError):
        return ExitCode.DENIED
    if isinstance(exc, InputError | ConfigError | ConflictError | NotFoundError):
        return ExitCode.INPUT
    return ExitCode.FAILED
