r"""``coalition pir service``: PIR services through this node (publish, query, records).

The provider publishes a table from a registered dataset; a partner's node queries it over
the nodes' mTLS peer channel::

    coalition pir service publish risk --dataset subscribers --id-column msisdn \
        --columns risk,tag --mode download --mode bucketed --quota 100000 --cron "0 3 * * *"
    coalition pir service quota risk --partner bank --max-queries 50000
    coalition pir service query telco risk --ids ids.csv --column phone --out answers.csv
    coalition pir service records --side consumer

The provider decides from its own records: its ``pir`` grant to the partner for the dataset,
the modes it publishes and the partner's quota per epoch.
"""

from __future__ import annotations

import io
from pathlib import Path
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

_SERVICE_COLUMNS = ("name", "dataset", "id_column", "columns", "modes", "quota_per_partner",
                    "rows", "version", "cron")
_BATCH_COLUMNS = ("id", "side", "service", "partner", "mode", "queries", "padded", "found",
                  "state", "code", "seconds", "at")


def _batches_table(batches: list[dict[str, Any]]) -> None:
    print_table("PIR batches", _BATCH_COLUMNS, [[b[c] for c in _BATCH_COLUMNS] for b in batches])


def _split(value: str) -> list[str]:
    return [c.strip() for c in value.split(",") if c.strip()]


def register(pir: typer.Typer) -> None:
    """Add ``service`` to the ``pir`` group."""
    group = typer.Typer(help="PIR services published and queried through this node.",
                        no_args_is_help=True)
    pir.add_typer(group, name="service")

    @group.command("publish")
    def publish(
        name: Annotated[str, typer.Argument(help="Service name partners ask for.")],
        *,
        dataset: Annotated[str, typer.Option(help="This node's registered dataset.")],
        id_column: Annotated[str, typer.Option(help="Its ID column.")],
        columns: Annotated[str, typer.Option(help="Payload columns, comma-separated.")],
        mode: Annotated[list[str] | None, typer.Option(
            help="download, bucketed or ot_decoys (repeat; default download).")] = None,
        bucket_bits: Annotated[int, typer.Option(min=0, max=16)] = 8,
        quota: Annotated[int | None, typer.Option(
            min=0, help="Padded queries per partner per epoch (default: unlimited).")] = None,
        cron: Annotated[str | None, typer.Option(
            help="Rebuild under a new epoch on this cron schedule (UTC).")] = None,
        node: NodeUrl = DEFAULT_NODE_URL, token: Token = "", as_json: AsJson = False,
    ) -> None:
        """Publish a PIR service from a registered dataset."""
        with node_client(node, token) as client:
            service = client.publish_pir_service({
                "name": name, "dataset": dataset, "id_column": id_column,
                "columns": _split(columns), "modes": mode or ["download"],
                "bucket_bits": bucket_bits, "quota_per_partner": quota, "cron": cron})
        if as_json:
            echo_json(service)
        else:
            typer.echo(f"published PIR service {service['name']}: {service['rows']} rows, "
                       f"epoch {service['epoch'][:8]}, version {service['version']}")

    @group.command("list")
    def list_services(node: NodeUrl = DEFAULT_NODE_URL, token: Token = "",
                      as_json: AsJson = False) -> None:
        """List this node's published services."""
        with node_client(node, token) as client:
            found = client.list_pir_services()
        if as_json:
            echo_json(found)
            return
        print_table("PIR services", _SERVICE_COLUMNS,
                    [[s[c] for c in _SERVICE_COLUMNS] for s in found])

    @group.command("rebuild")
    def rebuild(
        name: Annotated[str, typer.Argument(help="Service name or id.")],
        *,
        rotate: Annotated[bool, typer.Option(help="Under a new key epoch (quotas restart).")]
        = False,
        node: NodeUrl = DEFAULT_NODE_URL, token: Token = "", as_json: AsJson = False,
    ) -> None:
        """Sync a service's table with its dataset."""
        with node_client(node, token) as client:
            service = client.rebuild_pir_service(name, rotate=rotate)
        if as_json:
            echo_json(service)
        else:
            typer.echo(f"{service['name']}: {service['rows']} rows, version {service['version']}")

    @group.command("withdraw")
    def withdraw(
        name: Annotated[str, typer.Argument(help="Service name or id.")],
        *,
        node: NodeUrl = DEFAULT_NODE_URL, token: Token = "", as_json: AsJson = False,
    ) -> None:
        """Stop offering a service: partners' queries are refused, its table and keys are
        deleted, batch records stay."""
        with node_client(node, token) as client:
            service = client.withdraw_pir_service(name)
        if as_json:
            echo_json(service)
        else:
            typer.echo(f"{service['name']}: withdrawn ({service['rows']} rows)")

    @group.command("schedule")
    def schedule(
        name: Annotated[str, typer.Argument(help="Service name or id.")],
        cron: Annotated[str | None, typer.Argument(
            help='Cron expression in UTC, e.g. "0 3 * * 1" (omit with --off).')] = None,
        *,
        off: Annotated[bool, typer.Option("--off", help="Remove the schedule.")] = False,
        node: NodeUrl = DEFAULT_NODE_URL, token: Token = "",
    ) -> None:
        """Rebuild a service under a new key epoch on a cron schedule."""
        if (cron is None) != off:
            raise typer.BadParameter("give a cron expression or --off")
        with node_client(node, token) as client:
            service = client.set_pir_schedule(name, None if off else cron)
        typer.echo(f"{service['name']}: next rebuild {service['next_rebuild_at'] or 'never'}")

    @group.command("quota")
    def quota(
        name: Annotated[str, typer.Argument(help="Service name or id.")],
        *,
        partner: Annotated[str, typer.Option(help="The partner organisation.")],
        max_queries: Annotated[int, typer.Option(min=0, help="Padded queries per epoch.")],
        api_key: Annotated[str | None, typer.Option(
            help="Only this API key id of the partner.")] = None,
        node: NodeUrl = DEFAULT_NODE_URL, token: Token = "", as_json: AsJson = False,
    ) -> None:
        """Set a partner's (or one of its API keys') quota on a service."""
        with node_client(node, token) as client:
            row = client.set_pir_quota(name, partner, max_queries, api_key)
        if as_json:
            echo_json(row)
        else:
            typer.echo(f"quota for {row['partner']} ({row['api_key']}): {row['max_queries']}")

    @group.command("usage")
    def usage(name: Annotated[str, typer.Argument(help="Service name or id.")], *,
              node: NodeUrl = DEFAULT_NODE_URL, token: Token = "",
              as_json: AsJson = False) -> None:
        """Quota use in the service's current epoch."""
        with node_client(node, token) as client:
            rows = client.pir_usage(name)
        if as_json:
            echo_json(rows)
            return
        cols = ("partner", "api_key", "used", "max_queries", "epoch")
        print_table("PIR quota use", cols, [[r[c] for c in cols] for r in rows])

    @group.command("describe")
    def describe(partner: Annotated[str, typer.Argument(help="The partner organisation.")],
                 name: Annotated[str, typer.Argument(help="Its service name.")], *,
                 node: NodeUrl = DEFAULT_NODE_URL, token: Token = "") -> None:
        """Show a partner's service (modes, columns, epoch) as it describes itself."""
        with node_client(node, token) as client:
            echo_json(client.describe_pir_service(partner, name))

    @group.command("query")
    def query(
        partner: Annotated[str, typer.Argument(help="The partner organisation.")],
        name: Annotated[str, typer.Argument(help="Its service name.")],
        *,
        ids: Annotated[Path | None, typer.Option(help="CSV file of IDs to look up.")] = None,
        id_: Annotated[list[str] | None, typer.Option(
            "--id", help="One ID (repeat for a few).")] = None,
        column: Annotated[str | None, typer.Option(
            help="The CSV file's ID column (default: the first).")] = None,
        mode: Annotated[str | None, typer.Option(
            help="download, bucketed or ot_decoys (default: the service's first).")] = None,
        columns: Annotated[str | None, typer.Option(
            help="Payload columns, comma-separated (default: all published).")] = None,
        decoys: Annotated[int | None, typer.Option(min=2, max=4096,
                                                   help="ot_decoys: candidates per ID.")] = None,
        out: Annotated[Path | None, typer.Option(
            help="Write answers to .csv or .parquet (default: print).")] = None,
        node: NodeUrl = DEFAULT_NODE_URL, token: Token = "", as_json: AsJson = False,
    ) -> None:
        """Look up IDs in a partner's service (answers in query order)."""
        if (ids is None) == (not id_):
            raise typer.BadParameter("give --ids FILE or --id (not both)")
        wanted = _split(columns) if columns else None
        fmt = "parquet" if out is not None and out.suffix.lower() in (".parquet", ".pq") \
            else "csv" if out is not None else "json"
        with node_client(node, token) as client:
            if ids is not None:
                answer = client.pir_query_file(partner, name, ids.read_bytes(), column=column,
                                               mode=mode, columns=wanted, decoys=decoys,
                                               fmt=fmt)
            else:
                answer = client.pir_query(partner, name, list(id_ or []), mode=mode,
                                          columns=wanted, decoys=decoys)
                if fmt != "json":
                    answer = _export(answer["rows"], fmt)
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(answer)
            typer.echo(f"wrote {out}")
        elif as_json:
            echo_json(answer)
        else:
            rows = answer["rows"]
            cols = list(rows[0]) if rows else ["id", "found"]
            print_table(f"{partner}/{name}", cols, [[r.get(c) for c in cols] for r in rows])

    @group.command("records")
    def records(
        *,
        side: Annotated[str | None, typer.Option(help="provider or consumer.")] = None,
        service: Annotated[str | None, typer.Option(help="Only this service.")] = None,
        partner: Annotated[str | None, typer.Option(help="Only this partner.")] = None,
        state: Annotated[str | None, typer.Option(help="ok, refused or failed.")] = None,
        limit: Annotated[int, typer.Option(min=1, max=1000)] = 100,
        node: NodeUrl = DEFAULT_NODE_URL, token: Token = "", as_json: AsJson = False,
    ) -> None:
        """List PIR batch records (counts and mode, never IDs)."""
        with node_client(node, token) as client:
            found = client.list_pir_batches(side=side, service=service, partner=partner,
                                            state=state, limit=limit)
        if as_json:
            echo_json(found)
        else:
            _batches_table(found)


def _export(rows: list[dict[str, Any]], fmt: str) -> bytes:
    import pandas as pd  # the CLI starts fast without pandas

    frame = pd.DataFrame(rows)
    if fmt == "csv":
        return str(frame.to_csv(index=False)).encode()
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()
