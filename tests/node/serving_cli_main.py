"""A ``coalition``-like entry point with the node, model and service groups (for tests that
drive real node processes, independent of how the main CLI is wired)."""

from __future__ import annotations

import typer

from coalition.cli import model, node, service

app = typer.Typer(no_args_is_help=True)
node.register(app)
model.register(app)
service.register(app)

if __name__ == "__main__":
    app()
