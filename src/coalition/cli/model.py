"""``coalition model``: the model library of a running node, over its API.

Every command takes ``--node`` (``COALITION_NODE_URL``) and ``--token`` (``COALITION_TOKEN``:
a session token or an API key). Errors print the problem document's detail and code and exit
by :func:`coalition.cli.exit_codes.exit_code_for`.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from coalition.cli.common import DEFAULT_NODE_URL, AsJson, NodeUrl, Token, node_client
from coalition.cli.exit_codes import ExitCode

__all__ = ["register"]

_DEFAULT_URL = DEFAULT_NODE_URL


def _pairs(values: list[str], what: str) -> dict[str, str]:
    out = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not key:
            typer.echo(f"error: {what} must look like KEY=VALUE or KEY", err=True)
            raise typer.Exit(ExitCode.USAGE)
        out[key] = rest if sep else ""
    return out


def _number(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return value


def _show(data: Any, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(data, default=str))
        return
    rows = data if isinstance(data, list) else [data]
    for m in rows:
        parts = ", ".join(f"{p['org']}:{p['role']}" for p in m.get("parties", []))
        lock = "signed" if m.get("signer") else "unsigned"
        typer.echo(f"{m['name']} v{m['version']}  {m['component']}  parts [{parts}]  "
                   f"sha256 {m['sha256'][:16]}…  {lock}  job {m.get('job_id') or '-'}")


def register(app: typer.Typer) -> None:
    """Add the ``model`` command group to ``app``."""
    group = typer.Typer(help="Versioned, signed federated models on a node.",
                        no_args_is_help=True)
    app.add_typer(group, name="model")

    @group.command("list")
    def list_(token: Token = "", node: NodeUrl = _DEFAULT_URL, as_json: AsJson = False,
              name: Annotated[str | None, typer.Option(help="Only this model.")] = None) -> None:
        """Every model version on the node."""
        with node_client(node, token) as client:
            _show(client.list_models(name), as_json)

    @group.command("show")
    def show(name: str, version: int, token: Token = "", node: NodeUrl = _DEFAULT_URL,
             as_json: AsJson = True) -> None:
        """One version: job, DAG hash, parameters, metrics, parts."""
        with node_client(node, token) as client:
            _show(client.get_model(name, version), as_json)

    @group.command("publish")
    def publish(  # noqa: PLR0917 (typer maps each parameter to an option)
        name: str, token: Token = "", node: NodeUrl = _DEFAULT_URL,
        artifact: Annotated[str | None, typer.Option(help="Part file on the node.")] = None,
        job: Annotated[str | None, typer.Option(help="Training job id.")] = None,
        task: Annotated[str | None, typer.Option(help="Training task name.")] = None,
        host: Annotated[list[str] | None, typer.Option(
            help="ORG (same job/task) or ORG=FILE (in the drop folder that host keeps for "
            "this node: home/partner-parts/<this org>/); repeatable.")] = None,
        party: Annotated[list[str] | None, typer.Option(
            help="ORG=PARTY: the host's party name in the job, if not its org name.")] = None,
        param: Annotated[list[str] | None, typer.Option(help="KEY=VALUE; repeatable.")] = None,
        metric: Annotated[list[str] | None, typer.Option(help="KEY=NUMBER; repeatable.")] = None,
        unprotected: Annotated[bool, typer.Option(help="Store without signatures.")] = False,
        as_json: AsJson = False,
    ) -> None:
        """Register a version from a succeeded training task (or part files) on every party."""
        own = {"artifact": artifact} if artifact else {"job_id": job, "task": task}
        parties = _pairs(party or [], "--party")
        hosts = {}
        for org, path in _pairs(host or [], "--host").items():
            hosts[org] = {"artifact": path} if path else {"job_id": job, "task": task}
            if org in parties:
                hosts[org]["party"] = parties[org]
        body = {"name": name, "source": own, "hosts": hosts, "protected": not unprotected,
                "params": {k: _number(v) for k, v in _pairs(param or [], "--param").items()},
                "metrics": {k: float(v) for k, v in _pairs(metric or [], "--metric").items()}}
        with node_client(node, token) as client:
            _show(client.publish_model(body), as_json)

    @group.command("delete")
    def delete(name: str, version: int, token: Token = "", node: NodeUrl = _DEFAULT_URL) -> None:
        """Delete a version here and on its hosts (refused while deployed)."""
        with node_client(node, token) as client:
            out = client.delete_model(name, version)
        typer.echo(f"deleted {name} v{version}; hosts: {out['hosts'] or '-'}")

    @group.command("verify")
    def verify(name: str, version: int, token: Token = "", node: NodeUrl = _DEFAULT_URL,
               as_json: AsJson = False) -> None:
        """Check this node's part against its digest and signature (exit 3 if tampered)."""
        with node_client(node, token) as client:
            out = client.verify_model(name, version)
        typer.echo(json.dumps(out) if as_json else
                   f"{name} v{version}: intact (sha256 {out['sha256']}, "
                   f"{'signed' if out['signed'] else 'unsigned'})")

    @group.command("protect")
    def protect(name: str, version: int, token: Token = "", node: NodeUrl = _DEFAULT_URL,
                off: Annotated[bool, typer.Option("--off", help="Turn protection off.")] = False,
                ) -> None:
        """Turn tamper protection on (sign from now on) or off."""
        with node_client(node, token) as client:
            client.protect_model(name, version, enabled=not off)
        typer.echo(f"{name} v{version}: protection {'off' if off else 'on'}")

    @group.command("compare")
    def compare(name: str, a: int, b: int, token: Token = "", node: NodeUrl = _DEFAULT_URL) -> None:
        """Parameters and metrics of two versions side by side."""
        with node_client(node, token) as client:
            typer.echo(json.dumps(client.compare_models(name, a, b), indent=1))
