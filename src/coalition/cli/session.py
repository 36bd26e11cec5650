"""``coalition login``, ``logout`` and ``whoami``: a session token for the other commands.

``login`` prints only the token on stdout, so a shell can keep it::

    export COALITION_TOKEN=$(coalition login --node http://bank:8470 --username olga)
"""

from __future__ import annotations

from typing import Annotated

import typer

from coalition.cli.common import DEFAULT_NODE_URL, AsJson, NodeUrl, Token, echo_json, node_client

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add ``login``, ``logout`` and ``whoami`` to ``app``."""

    @app.command("login")
    def login(
        username: Annotated[str | None, typer.Option(help="Your user name (asked for when "
                                                     "omitted).")] = None,
        password: Annotated[str | None, typer.Option(help="Asked for (hidden) when omitted.")
                            ] = None,
        node: NodeUrl = DEFAULT_NODE_URL, as_json: AsJson = False,
    ) -> None:
        """Log in with a password; print the session token (for COALITION_TOKEN)."""
        # Prompts go to stderr: stdout is the token, for $(coalition login).
        username = username or typer.prompt("username", err=True)
        password = password or typer.prompt("password", hide_input=True, err=True)
        with node_client(node, "") as client:
            out = client.login_session(username, password)
        if as_json:
            echo_json(out)
            return
        typer.echo(f"logged in as {out['username']} ({out['role']}) until {out['expires_at']}",
                   err=True)
        typer.echo(out["token"])

    @app.command("logout")
    def logout(node: NodeUrl = DEFAULT_NODE_URL, token: Token = "") -> None:
        """End this session: the token stops working."""
        with node_client(node, token) as client:
            client.logout()
        typer.echo("logged out")

    @app.command("whoami")
    def whoami(node: NodeUrl = DEFAULT_NODE_URL, token: Token = "",
               as_json: AsJson = False) -> None:
        """Who the token belongs to, and what it may do."""
        with node_client(node, token) as client:
            me = client.me()
        if as_json:
            echo_json(me)
        else:
            typer.echo(f"{me['username']} ({me['role']}, via {me['via']}): "
                       + ", ".join(me["permissions"]))
