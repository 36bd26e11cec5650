"""``coalition grant``: decide partners' requests to use this node's data, and keep standing
policies that decide them automatically.

Every command takes ``--node``/``COALITION_NODE_URL`` and ``--token``/``COALITION_TOKEN`` and
prints a table, or the API's JSON with ``--json``.
"""

from __future__ import annotations

import json
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

GrantId = Annotated[int, typer.Argument(help="Grant id.")]
Reason = Annotated[str, typer.Option(help="Why (required).")]
Terms = Annotated[str | None, typer.Option(
    help='Privacy-policy terms as a JSON object, e.g. \'{"min_batch_size": 256}\'.')]


def _grants(rows: list[dict[str, Any]], as_json: bool, title: str = "grants") -> None:
    if as_json:
        echo_json(rows)
        return
    print_table(title, ("id", "partner", "dataset", "status", "kinds", "terms", "valid until",
                        "purpose"),
                [(g["id"], g.get("partner"), g.get("dataset"), g["status"],
                  ", ".join(g["component_kinds"]),
                  json.dumps(g["terms"], sort_keys=True) if g.get("terms") else None,
                  g["valid_until"], g["purpose"]) for g in rows])


def _policies(rows: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        echo_json(rows)
        return
    print_table("standing policies", ("id", "dataset", "partner", "kinds", "max days", "terms",
                                      "by"),
                [(p["id"], p.get("dataset"), p.get("partner") or "any", ", ".join(
                    p["component_kinds"]), p["max_days"],
                  json.dumps(p["terms"], sort_keys=True) if p.get("terms") else None,
                  p["created_by"]) for p in rows])


def register(app: typer.Typer) -> None:
    """Add the ``grant`` command group (with its ``policy`` subgroup) to ``app``."""
    group = typer.Typer(help="Partners' requests to use this node's data.",
                        no_args_is_help=True)
    app.add_typer(group, name="grant")
    policy = typer.Typer(help="Standing policies that approve matching requests.",
                         no_args_is_help=True)
    group.add_typer(policy, name="policy")

    @group.command("list")
    def list_(status: Annotated[str | None, typer.Option(
                  help="pending, approved, rejected, revoked or expired.")] = None,
              node: NodeUrl = DEFAULT_NODE_URL, token: Token = "",
              as_json: AsJson = False) -> None:
        """Grant requests on this node's data."""
        with node_client(node, token) as client:
            _grants(client.list_grants(status), as_json)

    @group.command("pending")
    def pending(node: NodeUrl = DEFAULT_NODE_URL, token: Token = "",
                as_json: AsJson = False) -> None:
        """Requests waiting for a decision."""
        with node_client(node, token) as client:
            _grants(client.approvals(), as_json, "waiting for a decision")

    @group.command("show")
    def show(grant_id: GrantId, node: NodeUrl = DEFAULT_NODE_URL, token: Token = "",
             as_json: AsJson = False) -> None:
        """One request and its decision."""
        with node_client(node, token) as client:
            _grants([client.get_grant(grant_id)], as_json)

    @group.command("approve")
    def approve(  # noqa: PLR0917 (typer maps each parameter to an option)
        grant_id: GrantId,
        reason: Annotated[str, typer.Option(help="A note.")] = "",
        terms: Terms = None,
        node: NodeUrl = DEFAULT_NODE_URL, token: Token = "", as_json: AsJson = False,
    ) -> None:
        """Approve a request, with the terms it asked for or narrower --terms."""
        with node_client(node, token) as client:
            _grants([client.approve_grant(grant_id, reason, json_object(terms, "--terms"))],
                    as_json)

    @group.command("reject")
    def reject(grant_id: GrantId, reason: Reason, node: NodeUrl = DEFAULT_NODE_URL,
               token: Token = "", as_json: AsJson = False) -> None:
        """Reject a request."""
        with node_client(node, token) as client:
            _grants([client.reject_grant(grant_id, reason)], as_json)

    @group.command("revoke")
    def revoke(grant_id: GrantId, reason: Reason, node: NodeUrl = DEFAULT_NODE_URL,
               token: Token = "", as_json: AsJson = False) -> None:
        """Revoke an approved grant; jobs it covered stop being accepted."""
        with node_client(node, token) as client:
            _grants([client.revoke_grant(grant_id, reason)], as_json)

    @policy.command("list")
    def list_policies(node: NodeUrl = DEFAULT_NODE_URL, token: Token = "",
                      as_json: AsJson = False) -> None:
        """Standing policies."""
        with node_client(node, token) as client:
            _policies(client.list_policies(), as_json)

    @policy.command("add")
    def add_policy(  # noqa: PLR0917 (typer maps each parameter to an option)
        dataset: Annotated[str, typer.Argument(help="This node's dataset.")],
        kind: Annotated[list[str], typer.Option(help="A component kind; repeatable.")],
        max_days: Annotated[int, typer.Option(help="The longest grant it approves.")],
        partner: Annotated[str | None, typer.Option(
            help="Only this partner (default: any the dataset is shared with).")] = None,
        terms: Terms = None,
        node: NodeUrl = DEFAULT_NODE_URL, token: Token = "", as_json: AsJson = False,
    ) -> None:
        """Approve future requests on a dataset for these kinds automatically."""
        with node_client(node, token) as client:
            out = client.create_policy(dataset, kind, max_days, partner=partner,
                                       terms=json_object(terms, "--terms"))
        _policies([out], as_json)

    @policy.command("remove")
    def remove_policy(policy_id: Annotated[int, typer.Argument(help="Policy id.")],
                      node: NodeUrl = DEFAULT_NODE_URL, token: Token = "") -> None:
        """Remove a standing policy (grants it approved stay)."""
        with node_client(node, token) as client:
            client.remove_policy(policy_id)
        typer.echo(f"policy {policy_id} removed")
