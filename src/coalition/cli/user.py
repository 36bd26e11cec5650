"""``coalition user``: people, API users and their keys on a node (administrators).

Every command takes ``--node``/``COALITION_NODE_URL`` and ``--token``/``COALITION_TOKEN`` and
prints a table, or the API's JSON with ``--json``.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from coalition.cli.common import (
    DEFAULT_NODE_URL,
    AsJson,
    NodeUrl,
    Token,
    echo_json,
    node_client,
    print_table,
)

__all__ = ["register"]

Username = Annotated[str, typer.Argument(help="User name.")]
RequestId = Annotated[int, typer.Argument(help="Request id.")]


def _users(rows: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        echo_json(rows)
        return
    print_table("users", ("username", "kind", "role", "disabled", "locked until", "created"),
                [(u["username"], u["kind"], u["role"], "yes" if u["disabled"] else "no",
                  u.get("locked_until"), u["created_at"]) for u in rows])


def _keys(rows: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        echo_json(rows)
        return
    print_table("API keys", ("key id", "user", "scopes", "expires", "revoked"),
                [(k["key_id"], k["username"], ", ".join(k["scopes"]), k.get("expires_at"),
                  k.get("revoked_at")) for k in rows])


def register(app: typer.Typer) -> None:
    """Add the ``user`` command group (with its ``key`` subgroup) to ``app``."""
    group = typer.Typer(help="Users and API keys of a node.", no_args_is_help=True)
    app.add_typer(group, name="user")
    keys = typer.Typer(help="API keys of API users.", no_args_is_help=True)
    group.add_typer(keys, name="key")
    _register_auditor_requests(group)

    @group.command("list")
    def list_(node: NodeUrl = DEFAULT_NODE_URL, token: Token = "", as_json: AsJson = False) -> None:
        """Every user account."""
        with node_client(node, token) as client:
            _users(client.list_users(), as_json)

    @group.command("show")
    def show(username: Username, node: NodeUrl = DEFAULT_NODE_URL, token: Token = "",
             as_json: AsJson = False) -> None:
        """One user account."""
        with node_client(node, token) as client:
            _users([client.get_user(username)], as_json)

    @group.command("create")
    def create(  # noqa: PLR0917 (typer maps each parameter to an option)
        username: Username,
        role: Annotated[str, typer.Option(help="admin, data_scientist or operator.")],
        api: Annotated[bool, typer.Option("--api", help="An API user (no password; give it "
                                          "keys with `coalition user key create`).")] = False,
        password: Annotated[str | None, typer.Option(
            help="The person's password (asked for, hidden, when omitted).")] = None,
        node: NodeUrl = DEFAULT_NODE_URL, token: Token = "", as_json: AsJson = False,
    ) -> None:
        """Create a person (with a password) or an API user."""
        if not api and password is None:
            password = typer.prompt("password", hide_input=True, confirmation_prompt=True,
                                     err=True)
        with node_client(node, token) as client:
            out = client.create_user(username, role, kind="api" if api else "human",
                                     password=None if api else password)
        _users([out], as_json)

    @group.command("update")
    def update(  # noqa: PLR0917 (typer maps each parameter to an option)
        username: Username,
        role: Annotated[str | None, typer.Option(help="New role.")] = None,
        disabled: Annotated[bool | None, typer.Option("--disable/--enable",
                                                      help="Disable or enable the account.")
                            ] = None,
        node: NodeUrl = DEFAULT_NODE_URL, token: Token = "", as_json: AsJson = False,
    ) -> None:
        """Change a user's role, or disable/enable the account."""
        with node_client(node, token) as client:
            _users([client.update_user(username, role=role, disabled=disabled)], as_json)

    @group.command("reset-password")
    def reset_password(
        username: Username,
        password: Annotated[str | None, typer.Option(
            help="The new password (asked for, hidden, when omitted).")] = None,
        node: NodeUrl = DEFAULT_NODE_URL, token: Token = "",
    ) -> None:
        """Set another user's password; their sessions end."""
        if password is None:
            password = typer.prompt("new password", hide_input=True, confirmation_prompt=True,
                                     err=True)
        with node_client(node, token) as client:
            client.reset_password(username, password)
        typer.echo(f"password of {username} reset")

    @group.command("revoke-sessions")
    def revoke_sessions(username: Username, node: NodeUrl = DEFAULT_NODE_URL,
                        token: Token = "") -> None:
        """End every session of a user."""
        with node_client(node, token) as client:
            out = client.revoke_sessions(username)
        typer.echo(f"{out['revoked']} session(s) of {username} revoked")

    @keys.command("list")
    def list_keys(node: NodeUrl = DEFAULT_NODE_URL, token: Token = "",
                  as_json: AsJson = False) -> None:
        """Every API key (never the secret)."""
        with node_client(node, token) as client:
            _keys(client.list_api_keys(), as_json)

    @keys.command("create")
    def create_key(  # noqa: PLR0917 (typer maps each parameter to an option)
        username: Username,
        scope: Annotated[list[str], typer.Option(help="A permission, e.g. jobs.read; "
                                                 "repeatable.")],
        expires: Annotated[str | None, typer.Option(help="ISO 8601 time with zone.")] = None,
        node: NodeUrl = DEFAULT_NODE_URL, token: Token = "", as_json: AsJson = False,
    ) -> None:
        """Issue a key for an API user; the key is printed this once."""
        with node_client(node, token) as client:
            out = client.create_api_key(username, scope, expires)
        if as_json:
            echo_json(out)
            return
        typer.echo(f"key {out['key_id']} for {out['username']} (shown once, store it now):")
        typer.echo(out["key"])

    @keys.command("revoke")
    def revoke_key(key_id: Annotated[str, typer.Argument(help="Key id (16 hex digits).")],
                   node: NodeUrl = DEFAULT_NODE_URL, token: Token = "") -> None:
        """Revoke an API key."""
        with node_client(node, token) as client:
            client.revoke_api_key(key_id)
        typer.echo(f"key {key_id} revoked")


def _requests(rows: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        echo_json(rows)
        return
    print_table("auditor-account requests", ("id", "action", "user", "role", "status",
                                             "asked by", "decided by"),
                [(r["id"], r["action"], r["username"], r.get("role"), r["status"],
                  r["requested_by"], r.get("decided_by")) for r in rows])


def _register_auditor_requests(group: typer.Typer) -> None:
    requests = typer.Typer(help="Auditor accounts change only with a second person's "
                                "approval.", no_args_is_help=True)
    group.add_typer(requests, name="auditor-request")

    @requests.command("list")
    def list_requests(status: Annotated[str | None, typer.Option(
                          help="pending, approved or rejected.")] = None,
                      node: NodeUrl = DEFAULT_NODE_URL, token: Token = "",
                      as_json: AsJson = False) -> None:
        """Requests to create, re-role or reset auditor accounts."""
        with node_client(node, token) as client:
            _requests(client.list_auditor_requests(status), as_json)

    @requests.command("create")
    def ask(  # noqa: PLR0917 (typer maps each parameter to an option)
        action: Annotated[str, typer.Argument(help="create, role or password.")],
        username: Username,
        role: Annotated[str | None, typer.Option(help="For role: the new role.")] = None,
        password: Annotated[str | None, typer.Option(
            help="For create and password (asked for, hidden, when omitted).")] = None,
        node: NodeUrl = DEFAULT_NODE_URL, token: Token = "", as_json: AsJson = False,
    ) -> None:
        """Ask for a change; a different administrator or an auditor approves it."""
        if action in ("create", "password") and password is None:
            password = typer.prompt("password", hide_input=True, confirmation_prompt=True,
                                     err=True)
        with node_client(node, token) as client:
            out = client.request_auditor_change(action, username, role=role, password=password)
        _requests([out], as_json)

    @requests.command("approve")
    def approve(request_id: RequestId, node: NodeUrl = DEFAULT_NODE_URL, token: Token = "",
                as_json: AsJson = False) -> None:
        """Apply the change (never your own request)."""
        with node_client(node, token) as client:
            _requests([client.approve_auditor_request(request_id)], as_json)

    @requests.command("reject")
    def reject(request_id: RequestId, node: NodeUrl = DEFAULT_NODE_URL, token: Token = "",
               as_json: AsJson = False) -> None:
        """Close the request without any change."""
        with node_client(node, token) as client:
            _requests([client.reject_auditor_request(request_id)], as_json)
