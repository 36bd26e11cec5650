r"""``coalition verify3``: private three-element verification (三要素核验) through this node.

    coalition verify3 publish kyc --dataset subscribers --phone-column msisdn \
        --name-column holder --id-number-column cert_no --quota 300000
    coalition verify3 query telco kyc --file triples.csv --out flags.csv
    coalition verify3 batches --side served

The provider's node decides whether a partner may query (a grant naming ``verify3`` on the
service's dataset) and meters every OPRF evaluation against the partner's quota; both sides
record each batch by count. ``triples.csv`` has the columns ``phone``, ``name``, ``id_number``
(other names with ``--phone-column`` …); the flags come back in the same row order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
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

_SERVICE_COLUMNS = ("name", "dataset", "suite", "epoch", "rows", "quota", "built_at")
_BATCH_COLUMNS = ("id", "side", "partner", "service", "epoch", "elements", "triples", "at")


def register(app: typer.Typer) -> None:
    """Add the ``verify3`` group."""
    group = typer.Typer(help="Private three-element verification (phone, name, ID number).",
                        no_args_is_help=True)
    app.add_typer(group, name="verify3")

    @group.command("publish")
    def publish(
        name: Annotated[str, typer.Argument(help="Service name.")],
        *,
        dataset: Annotated[str, typer.Option(help="This node's registered dataset.")],
        phone_column: Annotated[str, typer.Option(help="Column of phone numbers.")] = "phone",
        name_column: Annotated[str, typer.Option(help="Column of names.")] = "name",
        id_number_column: Annotated[str, typer.Option(help="Column of ID numbers.")] =
            "id_number",
        phone_country: Annotated[str, typer.Option(
            help="Country code prefixed to national numbers.")] = "",
        quota: Annotated[int | None, typer.Option(
            help="OPRF evaluations per partner per epoch (3 per padded triple).")] = None,
        node: NodeUrl = DEFAULT_NODE_URL, token: Token = "", as_json: AsJson = False,
    ) -> None:
        """Publish (or rebuild under a new key) a verification service."""
        with node_client(node, token) as client:
            made = client.publish_verify3({
                "name": name, "dataset": dataset, "phone_column": phone_column,
                "name_column": name_column, "id_number_column": id_number_column,
                "phone_country": phone_country, "quota": quota})
        if as_json:
            echo_json(made)
        else:
            typer.echo(f"published {made['name']}: {made['rows']} records, epoch {made['epoch']}")

    @group.command("services")
    def services(node: NodeUrl = DEFAULT_NODE_URL, token: Token = "",
                 as_json: AsJson = False) -> None:
        """List the services this node publishes."""
        with node_client(node, token) as client:
            found = client.list_verify3_services()
        if as_json:
            echo_json(found)
        else:
            print_table("verification services", _SERVICE_COLUMNS,
                        [[s[c] for c in _SERVICE_COLUMNS] for s in found])

    @group.command("rebuild")
    def rebuild(name: Annotated[str, typer.Argument(help="Service name.")], *,
                node: NodeUrl = DEFAULT_NODE_URL, token: Token = "",
                as_json: AsJson = False) -> None:
        """Rebuild a service from its dataset under a fresh key (a new epoch)."""
        with node_client(node, token) as client:
            made = client.rebuild_verify3(name)
        if as_json:
            echo_json(made)
        else:
            typer.echo(f"rebuilt {made['name']}: {made['rows']} records, epoch {made['epoch']}")

    @group.command("withdraw")
    def withdraw(name: Annotated[str, typer.Argument(help="Service name.")], *,
                 node: NodeUrl = DEFAULT_NODE_URL, token: Token = "",
                 as_json: AsJson = False) -> None:
        """Stop offering a service: partners' batches are refused, its tags and key are
        deleted, batch records stay."""
        with node_client(node, token) as client:
            made = client.withdraw_verify3(name)
        if as_json:
            echo_json(made)
        else:
            typer.echo(f"withdrew {made['name']} ({made['rows']} records)")

    @group.command("query")
    def query(
        partner: Annotated[str, typer.Argument(help="The provider organisation.")],
        service: Annotated[str, typer.Argument(help="Its service name.")],
        *,
        file: Annotated[Path, typer.Option(help="CSV of triples.", exists=True,
                                           dir_okay=False)],
        phone_column: Annotated[str, typer.Option(help="Column of phone numbers.")] = "phone",
        name_column: Annotated[str, typer.Option(help="Column of names.")] = "name",
        id_number_column: Annotated[str, typer.Option(help="Column of ID numbers.")] =
            "id_number",
        out: Annotated[Path | None, typer.Option(
            help="Write the file's rows with the three flags added (CSV).")] = None,
        node: NodeUrl = DEFAULT_NODE_URL, token: Token = "", as_json: AsJson = False,
    ) -> None:
        """Verify the file's triples at a partner; flags in the file's row order."""
        frame = pd.read_csv(file, dtype=str, keep_default_na=False)
        cols = [phone_column, name_column, id_number_column]
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            typer.echo(f"error: columns missing from {file.name}: {', '.join(missing)}",
                       err=True)
            raise typer.Exit(ExitCode.USAGE)
        triples = frame[cols].values.tolist()
        with node_client(node, token) as client:
            answer = client.verify3(partner, service, triples)
        flags = pd.DataFrame(answer["results"]).astype(int)
        if out is not None:
            pd.concat([frame, flags], axis=1).to_csv(out, index=False)
        if as_json:
            echo_json(answer)
            return
        s = answer["summary"]
        typer.echo(f"{s['triples']} triples: {int(flags['phone_found'].sum())} phones found, "
                   f"{int(flags['name_match'].sum())} names and {int(flags['id_match'].sum())} "
                   f"ID numbers match ({s['seconds']} s)")

    @group.command("batches")
    def batches(
        *,
        side: Annotated[str | None, typer.Option(help="served or queried.")] = None,
        limit: Annotated[int, typer.Option(min=1, max=1000)] = 100,
        node: NodeUrl = DEFAULT_NODE_URL, token: Token = "", as_json: AsJson = False,
    ) -> None:
        """Batches this node served or queried (counts only)."""
        with node_client(node, token) as client:
            found = client.list_verify3_batches(side=side, limit=limit)
        if as_json:
            echo_json(found)
        else:
            print_table("verification batches", _BATCH_COLUMNS,
                        [[b[c] for c in _BATCH_COLUMNS] for b in found])
