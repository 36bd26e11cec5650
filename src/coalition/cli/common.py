"""Pieces every command group shares: the node options and client, output, the progress bar
and failing with the one error → exit-code mapping (:func:`exit_code_for`)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from coalition.cli.exit_codes import ExitCode, exit_code_for
from coalition.client import DEFAULT_NODE_URL, NODE_URL_ENV, TOKEN_ENV, RemoteError
from coalition.core.errors import CoalitionError

if TYPE_CHECKING:
    from coalition.client import NodeClient

__all__ = ["DEFAULT_NODE_URL", "AsJson", "NodeUrl", "ProgressFn", "Token", "connect", "echo_json",
           "fail", "json_object", "node_client", "print_table", "progress_bar"]

# ``progress(stage, done, total)``: the callback shape protocols accept.
ProgressFn = Callable[[str, int, int], None]

# The one way every command names its node and credential.
NodeUrl = Annotated[str, typer.Option("--node", envvar=NODE_URL_ENV, show_envvar=True,
                                      help="The node's API URL.")]
Token = Annotated[str, typer.Option("--token", envvar=TOKEN_ENV, show_envvar=True,
                                    help="Session token (cs_...) or API key (ck_...).")]
AsJson = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def connect(node: str, token: str) -> NodeClient:
    """The client every command uses (tests replace this to reach an in-process node)."""
    from coalition.client import NodeClient

    return NodeClient(node, token)


@contextmanager
def node_client(node: str, token: str) -> Iterator[NodeClient]:
    """A client for the command's node; any typed error exits through :func:`fail`."""
    try:
        with connect(node, token) as client:
            yield client
    except CoalitionError as exc:
        raise fail(exc) from None


def fail(exc: CoalitionError) -> typer.Exit:
    """Print ``exc`` (with its code and any listed problems, for a node's errors) and return
    the exit to raise (see :func:`coalition.cli.exit_codes.exit_code_for`)."""
    text = f"error: {exc.message} ({exc.code})" if isinstance(exc, RemoteError) else \
        f"error: {exc}"
    for e in exc.errors if isinstance(exc, RemoteError) else []:
        where = e.get("path") or ".".join(str(p) for p in e.get("loc", ()))
        text += f"\n  {where}: {e.get('message') or e.get('msg') or ''}"
    typer.echo(text, err=True)
    return typer.Exit(int(exit_code_for(exc)))


def echo_json(data: Any) -> None:
    """Print ``data`` as indented JSON (datetimes as strings)."""
    typer.echo(json.dumps(data, indent=2, default=str))


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A rich table on stdout; ``None`` prints as ``-``."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for col in columns:
        table.add_column(col)
    for row in rows:
        table.add_row(*("-" if v is None else str(v) for v in row))
    Console().print(table)


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


def json_object(value: str | None, option: str) -> dict[str, Any] | None:
    """Parse an option holding a JSON object (``--terms '{"min_batch_size": 256}'``);
    anything else exits with a usage error."""
    if value is None:
        return None
    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        typer.echo(f"error: {option} must be a JSON object", err=True)
        raise typer.Exit(int(ExitCode.USAGE))
    return parsed
