"""``coalition version``."""

from __future__ import annotations

import json
import platform

import typer

import coalition

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""

    @app.command("version")
    def version(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
        """Print Coalition's version."""
        info = {"coalition": coalition.__version__, "python": platform.python_version()}
        if as_json:
            typer.echo(json.dumps(info))
        else:
            typer.echo(f"coalition {info['coalition']} (python {info['python']})")
