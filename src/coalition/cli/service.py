"""``coalition service``: deploy, list, call and undeploy online inference services."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from coalition.cli.common import DEFAULT_NODE_URL, AsJson, NodeUrl, Token, node_client
from coalition.cli.exit_codes import ExitCode

__all__ = ["register"]

_DEFAULT_URL = DEFAULT_NODE_URL


def register(app: typer.Typer) -> None:
    """Add the ``service`` command group to ``app``."""
    group = typer.Typer(help="Online inference services on the guest's node.",
                        no_args_is_help=True)
    app.add_typer(group, name="service")

    @group.command("deploy")
    def deploy(  # noqa: PLR0917 (typer maps each parameter to an option)
        name: str, token: Token = "", node: NodeUrl = _DEFAULT_URL,
        model: Annotated[str, typer.Option(help="Model name.")] = "",
        version: Annotated[int | None, typer.Option(help="Version (newest if omitted).")] = None,
        host: Annotated[list[str] | None, typer.Option(
            help="ORG=ONLINE_SOURCE on that host; repeatable.")] = None,
        source: Annotated[str | None, typer.Option(help="This node's online source.")] = None,
        timeout_ms: Annotated[int, typer.Option(help="Per-request host timeout.")] = 2000,
        as_json: AsJson = False,
    ) -> None:
        """Serve a model version (its parts are verified; each host binds its source)."""
        if not model:
            typer.echo("error: --model is required", err=True)
            raise typer.Exit(ExitCode.USAGE)
        bad = [h for h in host or [] if "=" not in h]
        if bad:
            typer.echo(f"error: --host must look like ORG=ONLINE_SOURCE (got {bad[0]!r})", err=True)
            raise typer.Exit(ExitCode.USAGE)
        hosts = dict(h.split("=", 1) for h in host or [])
        with node_client(node, token) as client:
            out = client.deploy_service({"name": name, "model": model, "version": version,
                                         "hosts": hosts, "source": source,
                                         "timeout_ms": timeout_ms})
        typer.echo(json.dumps(out, default=str) if as_json else
                   f"service {out['name']} serves {out['model']} v{out['version']}")

    @group.command("list")
    def list_(token: Token = "", node: NodeUrl = _DEFAULT_URL, as_json: AsJson = False) -> None:
        """Deployed services."""
        with node_client(node, token) as client:
            out = client.list_services()
        if as_json:
            typer.echo(json.dumps(out, default=str))
            return
        for s in out:
            where = f"hosts {s['hosts']}" if s["side"] == "guest" else f"for {s['guest']}"
            typer.echo(f"{s['name']}  {s['model']} v{s['version']}  {s['side']}  {where}")

    @group.command("call")
    def call(  # noqa: PLR0917 (typer maps each parameter to an option)
        name: str, ids: list[str], token: Token = "", node: NodeUrl = _DEFAULT_URL,
        as_json: AsJson = False,
        features: Annotated[str | None, typer.Option(help=(
            "The guest's raw features as JSON, one row per ID (objects by column, or lists): "
            "numbers, strings for text columns, null for missing values."))] = None,
    ) -> None:
        """Score one or more IDs."""
        rows = None
        if features is not None:
            try:
                rows = json.loads(features)
            except ValueError:
                typer.echo("error: --features must be JSON", err=True)
                raise typer.Exit(ExitCode.USAGE) from None
            if not isinstance(rows, list):
                typer.echo("error: --features must be a JSON list of rows", err=True)
                raise typer.Exit(ExitCode.USAGE)
        with node_client(node, token) as client:
            out = client.predict(name, ids, rows)
        if as_json:
            typer.echo(json.dumps(out))
            return
        found = out.get("found") or [True] * len(out["ids"])
        for i, score, known in zip(out["ids"], out["scores"], found, strict=True):
            typer.echo(f"{i}\t{score if known else 'not found'}")

    @group.command("undeploy")
    def undeploy(name: str, token: Token = "", node: NodeUrl = _DEFAULT_URL) -> None:
        """Stop serving; hosts drop their bindings."""
        with node_client(node, token) as client:
            out = client.undeploy_service(name)
        typer.echo(f"undeployed {name}; hosts released: {out['hosts'] or '-'}")
