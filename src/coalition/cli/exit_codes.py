"""Enumerated exit codes, stable for scripts."""

from enum import IntEnum

__all__ = ["ExitCode"]


class ExitCode(IntEnum):
    """What a ``coalition`` command's exit status means."""

    OK = 0
    FAILED = 1  # the work ran and failed (protocol, peer, crypto error)
    USAGE = 2  # bad arguments (typer's own usage errors also exit 2)
    INPUT = 3  # bad input data or configuration
    INTERRUPTED = 130
