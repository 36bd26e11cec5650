"""``coalition ledger``: the federation log held by a node (docs/ledger.md).

coalition ledger show [--origin coalition.ledger/bank] [--job JOB]
coalition ledger verify            # exit 1 if any log held here fails
coalition ledger prove 3           # RFC 9162 inclusion proof of entry 3
coalition ledger checkpoints
coalition ledger sync              # operator: pull entries, sign, collect co-signatures
coalition ledger alerts [--open]
coalition ledger ack 2 --reason "reviewed with bank's admin"
"""

from __future__ import annotations

from typing import Annotated

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
from coalition.cli.exit_codes import ExitCode

__all__ = ["register"]

Origin = Annotated[str | None, typer.Option(
    "--origin", help="A log held here, e.g. coalition.ledger/bank (coalition.ledger/bank/sm3 "
    "under the sm suite; default: the node's own).")]


def register(app: typer.Typer) -> None:
    """Add the ``ledger`` command group to ``app``."""
    group = typer.Typer(help="The federation log: entries, proofs, signed heads, alerts.",
                        no_args_is_help=True)
    app.add_typer(group, name="ledger")

    @group.command("show")
    def show(*, origin: Origin = None,
             job: Annotated[str | None, typer.Option("--job", help="Only this job's.")] = None,
             after: Annotated[int, typer.Option(help="From this sequence number.")] = 0,
             limit: Annotated[int, typer.Option(help="At most this many.")] = 500,
             node: NodeUrl = DEFAULT_NODE_URL, token: Token = "", as_json: AsJson = False) -> None:
        """List a log's entries (kind, producer, job, body)."""
        with node_client(node, token) as client:
            shown = client.ledger_entries(origin=origin, job=job, after=after, limit=limit)
        if as_json:
            echo_json(shown)
            return
        print_table(f"{shown['origin']} ({shown['size']} entries)",
                    ("seq", "kind", "producer", "job", "leaf"),
                    [[e["seq"], e["kind"], e["producer"], e["job_id"], e["leaf"][:16]]
                     for e in shown["entries"]])

    @group.command("verify")
    def verify(node: NodeUrl = DEFAULT_NODE_URL, token: Token = "",
               as_json: AsJson = False) -> None:
        """Check every log held here against its newest signed head; exit 1 if one fails."""
        with node_client(node, token) as client:
            report = client.ledger_verify()
        if as_json:
            echo_json(report)
        else:
            for log in report["logs"]:
                state = "verified" if log["verified"] else f"FAILED: {log.get('message')}"
                typer.echo(f"{log['origin']} ({log['role']}): {log['size']} entries, head "
                           f"{log['checkpoint_size']}, co-signed by "
                           f"{', '.join(log['cosigners']) or 'nobody'}"
                           f"{' (final)' if log['final'] else ''}: {state}")
        if not report["verified"]:
            raise typer.Exit(ExitCode.FAILED)

    @group.command("prove")
    def prove(entry: Annotated[int, typer.Argument(help="Sequence number of the entry.")],
              origin: Origin = None, node: NodeUrl = DEFAULT_NODE_URL, token: Token = "",
              as_json: AsJson = False) -> None:
        """An RFC 9162 inclusion proof of ENTRY in the newest signed head, checked."""
        with node_client(node, token) as client:
            proof = client.ledger_proof(entry, origin=origin)
        if as_json:
            echo_json(proof)
            return
        typer.echo(f"entry {proof['seq']} of {proof['origin']} (leaf {proof['leaf']}) is in "
                   f"the head of size {proof['size']}, root {proof['root']}")
        for step in proof["proof"]:
            typer.echo(f"  {step}")

    @group.command("checkpoints")
    def checkpoints(origin: Origin = None, node: NodeUrl = DEFAULT_NODE_URL, token: Token = "",
                    as_json: AsJson = False) -> None:
        """Signed tree heads held here, newest first, with their co-signers."""
        with node_client(node, token) as client:
            heads = client.ledger_checkpoints(origin=origin)
        if as_json:
            echo_json(heads)
            return
        print_table("signed tree heads", ("origin", "role", "size", "root", "cosigners", "final"),
                    [[h["origin"], h["role"], h["size"], h["root"][:16],
                      ", ".join(h["cosigners"]), h["final"]] for h in heads])

    @group.command("sync")
    def sync(witness: Annotated[list[str] | None, typer.Option(
                 "--witness", help="Another witness to ask (repeatable).")] = None,
             node: NodeUrl = DEFAULT_NODE_URL, token: Token = "", as_json: AsJson = False) -> None:
        """Operator: pull partners' entries, sign a new head, collect co-signatures."""
        with node_client(node, token) as client:
            head = client.ledger_sync(witness or [])
        if as_json:
            echo_json(head)
            return
        typer.echo(f"head {head['size']} co-signed by {', '.join(head['cosigners']) or 'nobody'}"
                   f" (quorum {head['quorum']}{', final' if head['final'] else ''})")
        for org, problem in head["problems"].items():
            typer.echo(f"  {org}: {problem}", err=True)

    @group.command("alerts")
    def alerts(open_only: Annotated[bool, typer.Option("--open", help="Unacknowledged only.")]
               = False, node: NodeUrl = DEFAULT_NODE_URL, token: Token = "",
               as_json: AsJson = False) -> None:
        """Forks and rewrites this node detected in partners' logs."""
        with node_client(node, token) as client:
            found = client.ledger_alerts(open_only=open_only)
        if as_json:
            echo_json(found)
            return
        print_table("ledger alerts", ("id", "operator", "kind", "message", "acknowledged_by"),
                    [[a["id"], a["operator"], a["kind"], a["message"], a["acknowledged_by"]]
                     for a in found])

    @group.command("ack")
    def ack(alert: Annotated[int, typer.Argument(help="Alert id.")],
            reason: Annotated[str, typer.Option("--reason", help="Why (audited).")],
            node: NodeUrl = DEFAULT_NODE_URL, token: Token = "", as_json: AsJson = False) -> None:
        """Acknowledge an alert: new jobs with that organisation are allowed again."""
        with node_client(node, token) as client:
            done = client.ledger_acknowledge(alert, reason)
        if as_json:
            echo_json(done)
        else:
            typer.echo(f"alert {done['id']} acknowledged by {done['acknowledged_by']}")
