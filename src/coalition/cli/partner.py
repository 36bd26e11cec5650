"""``coalition partner``: the organisations a node works with, and grants asked of them.

Every command takes ``--node``/``COALITION_NODE_URL`` and ``--token``/``COALITION_TOKEN`` and
prints a table, or the API's JSON with ``--json``.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from coalition.cli.common import (
    DEFAULT_NODE_URL,
    AsJson,
    NodeUrl,
    Token,
    echo_json,
    json_object,
    node_client,
    print_table,
)

__all__ = ["register"]

Name = Annotated[str, typer.Argument(help="Partner name.")]
Terms = Annotated[str | None, typer.Option(
    help='Privacy-policy terms as a JSON object, e.g. \'{"min_batch_size": 256}\'.')]


def _partners(rows: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        echo_json(rows)
        return
    print_table("partners", ("name", "address", "fingerprint", "last health", "ok"),
                [(p["name"], p["address"], p["fingerprint"][:23] + "…", p.get("last_health_at"),
                  p.get("last_health_ok")) for p in rows])


def _asked(grant: dict[str, Any], as_json: bool) -> None:
    if as_json:
        echo_json(grant)
        return
    print_table("grant request", ("id", "dataset", "status", "kinds", "valid until", "reason"),
                [(grant.get("id"), grant.get("dataset"), grant.get("status"),
                  ", ".join(grant.get("component_kinds") or []), grant.get("valid_until"),
                  grant.get("reason") or None)])


def register(app: typer.Typer) -> None:
    """Add the ``partner`` command group to ``app``."""
    group = typer.Typer(help="Partner organisations of a node.", no_args_is_help=True)
    app.add_typer(group, name="partner")

    @group.command("list")
    def list_(node: NodeUrl = DEFAULT_NODE_URL, token: Token = "", as_json: AsJson = False) -> None:
        """Every registered partner."""
        with node_client(node, token) as client:
            _partners(client.list_partners(), as_json)

    @group.command("show")
    def show(name: Name, node: NodeUrl = DEFAULT_NODE_URL, token: Token = "",
             as_json: AsJson = False) -> None:
        """One partner."""
        with node_client(node, token) as client:
            _partners([client.get_partner(name)], as_json)

    @group.command("import")
    def import_(
        bundle: Annotated[Path, typer.Argument(help="The partner's bundle (from `coalition "
                                               "node export-identity`); - for stdin.",
                                               allow_dash=True)],
        address: Annotated[str | None, typer.Option(help="host:port to dial, if not the "
                                                    "bundle's.")] = None,
        node: NodeUrl = DEFAULT_NODE_URL, token: Token = "", as_json: AsJson = False,
    ) -> None:
        """Register a partner from its bundle (its certificate fingerprint is pinned)."""
        text = sys.stdin.read() if str(bundle) == "-" else bundle.read_text(encoding="utf-8")
        with node_client(node, token) as client:
            _partners([client.import_partner(text, address)], as_json)

    @group.command("remove")
    def remove(name: Name, node: NodeUrl = DEFAULT_NODE_URL, token: Token = "") -> None:
        """Remove a partner."""
        with node_client(node, token) as client:
            client.remove_partner(name)
        typer.echo(f"partner {name} removed")

    @group.command("health")
    def health(name: Name, node: NodeUrl = DEFAULT_NODE_URL, token: Token = "",
               as_json: AsJson = False) -> None:
        """Call the partner over mutual TLS (exit 1 if it does not answer)."""
        with node_client(node, token) as client:
            out = client.partner_health(name)
        if as_json:
            echo_json(out)
        else:
            typer.echo(f"{name}: ok, sees us as {out['seen_as']} (version "
                       f"{out['remote_version']})" if out["ok"] else f"{name}: {out['error']}")
        if not out["ok"]:
            raise typer.Exit(1)

    @group.command("datasets")
    def datasets(name: Name, node: NodeUrl = DEFAULT_NODE_URL, token: Token = "",
                 as_json: AsJson = False) -> None:
        """Datasets the partner shares with this node."""
        with node_client(node, token) as client:
            rows = client.partner_datasets(name)
        if as_json:
            echo_json(rows)
            return
        print_table(f"datasets {name} shares", ("name", "rows", "id column", "description"),
                    [(d.get("name"), d.get("row_count"), d.get("id_column"),
                      d.get("description")) for d in rows])

    @group.command("ask-grant")
    def ask_grant(  # noqa: PLR0917 (typer maps each parameter to an option)
        name: Name,
        dataset: Annotated[str, typer.Argument(help="The partner's dataset.")],
        purpose: Annotated[str, typer.Option(help="What the data is for (the owner reads "
                                             "it).")],
        kind: Annotated[list[str], typer.Option(help="A component kind, e.g. psi; "
                                                "repeatable.")],
        days: Annotated[int, typer.Option(min=1, help="Valid for this many days.")] = 30,
        terms: Terms = None,
        node: NodeUrl = DEFAULT_NODE_URL, token: Token = "", as_json: AsJson = False,
    ) -> None:
        """Ask the partner for a grant on its dataset; its owner (or a standing policy)
        decides."""
        until = (dt.datetime.now(dt.UTC) + dt.timedelta(days=days)).isoformat()
        with node_client(node, token) as client:
            out = client.ask_grant(name, dataset, purpose=purpose, component_kinds=kind,
                                   valid_until=until, terms=json_object(terms, "--terms"))
        _asked(out, as_json)

    @group.command("grant-status")
    def grant_status(name: Name, grant_id: Annotated[int, typer.Argument(help="Grant id.")],
                     node: NodeUrl = DEFAULT_NODE_URL, token: Token = "",
                     as_json: AsJson = False) -> None:
        """Where a grant this node asked the partner for stands."""
        with node_client(node, token) as client:
            _asked(client.asked_grant(name, grant_id), as_json)
