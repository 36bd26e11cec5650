"""A stand-alone ``coalition``-like entry point with just the node and audit groups (for tests
that start real node processes, independent of how the main CLI is wired)."""

from __future__ import annotations

import typer

from coalition.cli import audit, node

app = typer.Typer(no_args_is_help=True)
node.register(app)
audit.register(app)

if __name__ == "__main__":
    app()
