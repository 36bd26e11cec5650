"""``coalition model``: the model library of a running node, over its API.

Every command takes ``--url`` (``COALITION_URL``) and ``--token`` (``COALITION_TOKEN``: a
session token or an API key). Errors print the problem document's detail and code; bad input
exits 3, anything else 1.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from coalition.cli.exit_codes import ExitCode

__all__ = ["AsJson", "NodeApi", "Token", "Url", "register"]

Url = Annotated[str, typer.Option("--url", envvar="COALITION_URL", help="Node API base URL.")]
Token = Annotated[str, typer.Option("--token", envvar="COALITION_TOKEN",
                                    help="Session token or API key.")]
AsJson = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
_DEFAULT_URL = "http://127.0.0.1:8470"


class NodeApi:
    """A tiny client of the node's ``/api/v1``; failures exit with the problem's detail."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url.rstrip("/")
        self.token = token

    def call(self, method: str, path: str, body: dict[str, Any] | None = None,
             params: dict[str, Any] | None = None) -> Any:
        """Send one request; return its JSON body."""
        import httpx

        try:
            r = httpx.request(method, f"{self.url}/api/v1{path}", json=body, params=params,
                              headers={"Authorization": f"Bearer {self.token}"}, timeout=120)
        except httpx.HTTPError as exc:
            typer.echo(f"error: cannot reach the node at {self.url}: {exc}", err=True)
            raise typer.Exit(ExitCode.FAILED) from None
        if r.status_code >= 400:
            try:
                problem = r.json()
                detail = f"{problem.get('detail')} ({problem.get('code')})"
            except ValueError:
                detail = r.text[:200]
            typer.echo(f"error: {detail}", err=True)
            bad_input = r.status_code in (400, 404, 409, 422)
            raise typer.Exit(ExitCode.INPUT if bad_input else ExitCode.FAILED)
        return r.json()


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
    def list_(token: Token, url: Url = _DEFAULT_URL, as_json: AsJson = False,
              name: Annotated[str | None, typer.Option(help="Only this model.")] = None) -> None:
        """Every model version on the node."""
        _show(NodeApi(url, token).call("GET", "/models", params={"name": name} if name else None),
              as_json)

    @group.command("show")
    def show(name: str, version: int, token: Token, url: Url = _DEFAULT_URL,
             as_json: AsJson = True) -> None:
        """One version: job, DAG hash, parameters, metrics, parts."""
        _show(NodeApi(url, token).call("GET", f"/models/{name}/versions/{version}"), as_json)

    @group.command("publish")
    def publish(  # noqa: PLR0917 (typer maps each parameter to an option)
        name: str, token: Token, url: Url = _DEFAULT_URL,
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
        _show(NodeApi(url, token).call("POST", "/models", body), as_json)

    @group.command("delete")
    def delete(name: str, version: int, token: Token, url: Url = _DEFAULT_URL) -> None:
        """Delete a version here and on its hosts (refused while deployed)."""
        out = NodeApi(url, token).call("DELETE", f"/models/{name}/versions/{version}")
        typer.echo(f"deleted {name} v{version}; hosts: {out['hosts'] or '-'}")

    @group.command("verify")
    def verify(name: str, version: int, token: Token, url: Url = _DEFAULT_URL,
               as_json: AsJson = False) -> None:
        """Check this node's part against its digest and signature (exit 3 if tampered)."""
        out = NodeApi(url, token).call("POST", f"/models/{name}/versions/{version}/verify")
        typer.echo(json.dumps(out) if as_json else
                   f"{name} v{version}: intact (sha256 {out['sha256']}, "
                   f"{'signed' if out['signed'] else 'unsigned'})")

    @group.command("protect")
    def protect(name: str, version: int, token: Token, url: Url = _DEFAULT_URL,
                off: Annotated[bool, typer.Option("--off", help="Turn protection off.")] = False,
                ) -> None:
        """Turn tamper protection on (sign from now on) or off."""
        NodeApi(url, token).call("PUT", f"/models/{name}/versions/{version}/protection",
                                 {"enabled": not off})
        typer.echo(f"{name} v{version}: protection {'off' if off else 'on'}")

    @group.command("compare")
    def compare(name: str, a: int, b: int, token: Token, url: Url = _DEFAULT_URL) -> None:
        """Parameters and metrics of two versions side by side."""
        typer.echo(json.dumps(NodeApi(url, token).call(
            "GET", f"/models/{name}/compare", params={"a": a, "b": b}), indent=1))
