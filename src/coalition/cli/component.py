"""``coalition component list|describe``: the component registry as JSON."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from coalition.cli.common import fail
from coalition.core.errors import NotFoundError

__all__ = ["register"]

AsJson = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def register(app: typer.Typer) -> None:
    """Add the ``component`` command group to ``app``."""
    group = typer.Typer(help="Components a job DAG can use.", no_args_is_help=True)
    app.add_typer(group, name="component")

    @group.command("list")
    def list_(as_json: AsJson = False) -> None:
        """List registered components (name:major, version, roles)."""
        from coalition.components import REGISTRY

        rows = [{"ref": c.ref(), "version": c.version,
                 "roles": sorted(r.value for r in c.roles), "description": c.description}
                for c in REGISTRY.components()]
        if as_json:
            typer.echo(json.dumps(rows, indent=2))
            return
        for row in rows:
            typer.echo(f"{row['ref']:<22} {row['version']:<8} "
                       f"{','.join(row['roles']):<20} {row['description']}")

    @group.command("describe")
    def describe(name: Annotated[str, typer.Argument(help="name or name:major")]) -> None:
        """Print a component's declaration; its parameters as JSON Schema."""
        from coalition.components import REGISTRY

        try:
            typer.echo(json.dumps(REGISTRY.describe(name), indent=2))
        except NotFoundError as exc:
            raise fail(exc) from exc
