"""Pieces every command group shares: the progress bar and the error → exit-code mapping."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import typer
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from coalition.cli.exit_codes import ExitCode
from coalition.core.errors import CoalitionError, ConfigError, InputError

__all__ = ["ProgressFn", "fail", "progress_bar"]

# ``progress(stage, done, total)``: the callback shape protocols accept.
ProgressFn = Callable[[str, int, int], None]


@contextmanager
def progress_bar(enabled: bool) -> Iterator[ProgressFn | None]:
    """A rich progress bar per stage, or ``None`` (for ``--json`` output) when disabled."""
    if not enabled:
        yield None
        return
    with Progress(TextColumn("{task.description}"), BarColumn(),
                  TextColumn("{task.percentage:>3.0f}%"), TimeElapsedColumn(),
                  transient=True) as bar:
        tasks: dict[str, TaskID] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=max(total, 1))
            bar.update(tasks[stage], completed=done if total else 1)

        yield update


def fail(exc: CoalitionError) -> typer.Exit:
    """Print ``exc`` and return the exit to raise: bad input/config → 3, anything else → 1."""
    typer.echo(f"error: {exc}", err=True)
    code = ExitCode.INPUT if isinstance(exc, InputError | ConfigError) else ExitCode.FAILED
    return typer.Exit(int(code))
