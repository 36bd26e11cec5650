r"""``coalition pir``: keyword PIR (匿踪查询) between two processes over gRPC (mTLS).

Typical use, the data provider (server) and the client in two processes::

    coalition pir certs ./pir-certs --client bank --server telco
    coalition pir build telco.csv --id-column phone --payload risk,tag --out ./risk-table \
        --table-id telco-risk
    coalition pir serve ./risk-table --name telco --client bank --listen 127.0.0.1:47202 \
        --peer 127.0.0.1:47201 --certs ./pir-certs --quota 100000 --sessions 0
    coalition pir query ids.csv --name bank --server telco --listen 127.0.0.1:47201 \
        --peer 127.0.0.1:47202 --certs ./pir-certs --server-key ./risk-table/verify.key \
        --table-id telco-risk --out answers.csv
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from coalition.cli import pir_service
from coalition.cli.common import fail, progress_bar
from coalition.cli.exit_codes import ExitCode
from coalition.core.errors import CoalitionError

__all__ = ["register"]

Listen = Annotated[str, typer.Option(help="host:port this process serves on.")]
Peer = Annotated[str, typer.Option(help="host:port of the other process.")]
Certs = Annotated[Path, typer.Option("--certs", help="Folder made by `pir certs`.")]
Workers = Annotated[int, typer.Option(min=1, help="Worker processes for the crypto.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print a JSON summary.")]
Timeout = Annotated[float, typer.Option(help="Seconds to wait for the other side.")]


def register(app: typer.Typer) -> None:
    """Add the ``pir`` command group to ``app``."""
    group = typer.Typer(help="Keyword PIR: look up IDs in a partner's table without "
                             "revealing them.", no_args_is_help=True)
    app.add_typer(group, name="pir")
    pir_service.register(group)

    @group.command("certs")
    def certs(directory: Annotated[Path, typer.Argument(help="Output folder.")],
              client: Annotated[str, typer.Option(help="Client party name.")] = "client",
              server: Annotated[str, typer.Option(help="Server party name.")] = "server",
              ) -> None:
        """Mint a throw-away CA and client/server certificates for standalone PIR."""
        from coalition.engine.direct.pir import mint_certs

        mint_certs(directory, client=client, server=server)
        typer.echo(f"wrote {directory}/ca.crt, {directory}/{client}/, {directory}/{server}/")

    @group.command("build")
    def build(
        source: Annotated[Path, typer.Argument(help="CSV/TSV/Parquet with the rows.")],
        *,
        id_column: Annotated[str, typer.Option(help="The ID column.")],
        payload: Annotated[str, typer.Option(help="Payload columns, comma-separated.")],
        out: Annotated[Path, typer.Option(help="Table folder (created or synced).")],
        table_id: Annotated[str, typer.Option(help="Table name clients pin.")],
        payload_bytes: Annotated[int | None, typer.Option(
            help="Fixed payload size (default: longest payload, rounded up).")] = None,
        bucket_bits: Annotated[int, typer.Option(help="Prefix bits for bucketed mode.")] = 8,
        case: Annotated[str, typer.Option(help="ID case: lower, upper or keep.")] = "lower",
        rotate: Annotated[bool, typer.Option(help="Start a new key epoch first.")] = False,
        suite: Annotated[str, typer.Option(
            help="Crypto suite of a new table: standard, or sm (SM2/SM3/SM4).")] = "standard",
        workers: Workers = 2,
        as_json: AsJson = False,
    ) -> None:
        """Build (or sync) a server table: OPRF tags and encrypted payloads per row."""
        from coalition.engine.direct.pir import BuildJob, build_table

        job = BuildJob(source=source, out=out, table_id=table_id, id_column=id_column,
                       payload_columns=[c.strip() for c in payload.split(",") if c.strip()],
                       payload_bytes=payload_bytes, bucket_bits=bucket_bits, case=case,
                       workers=workers, rotate=rotate, suite=suite)
        try:
            with progress_bar(not as_json) as progress:
                stats = build_table(job, progress)
        except CoalitionError as exc:
            raise fail(exc) from exc
        info = stats.__dict__ | {"verify_key": (out / "verify.key").read_text().strip()}
        typer.echo(json.dumps(info) if as_json else
                   f"table {table_id} v{stats.version}: {stats.rows} rows ({stats.added} added, "
                   f"{stats.changed} changed, {stats.removed} removed); give clients "
                   f"{out}/verify.key")

    @group.command("serve")
    def serve_cmd(
        table: Annotated[Path, typer.Argument(help="Table folder from `pir build`.")],
        *,
        name: Annotated[str, typer.Option(help="This server's party name.")],
        client: Annotated[str, typer.Option(help="The client's party name.")],
        listen: Listen, peer: Peer, certs_dir: Certs,
        quota: Annotated[int | None, typer.Option(
            help="Queries per client per key epoch (padded count).")] = None,
        sessions: Annotated[int, typer.Option(help="Batches to answer (0: forever).")] = 1,
        workers: Workers = 2,
        timeout: Timeout = 600.0,
        as_json: AsJson = False,
    ) -> None:
        """Answer batches from one client; every batch logged, quota enforced."""
        from coalition.engine.direct.pir import Endpoint, serve

        end = Endpoint(me=name, peer_name=client, listen=listen, peer=peer, certs=certs_dir,
                       timeout=timeout, workers=workers)
        try:
            with progress_bar(not as_json) as progress:
                done = serve(table, end, sessions=sessions, quota=quota, progress=progress)
        except CoalitionError as exc:
            raise fail(exc) from exc
        for item in done:
            if isinstance(item, str):
                typer.echo(f"refused: {item}", err=True)
            else:
                typer.echo(json.dumps(item.to_dict()) if as_json else
                           f"answered {item.padded} queries ({item.mode}) from {item.client} "
                           f"in {item.seconds:.2f} s, online {item.online_s:.3f} s")

    @group.command("query")
    def query_cmd(
        ids: Annotated[Path, typer.Argument(help="CSV/TSV/Parquet file with the IDs.")],
        *,
        name: Annotated[str, typer.Option(help="This client's party name.")],
        server: Annotated[str, typer.Option(help="The server's party name.")],
        listen: Listen, peer: Peer, certs_dir: Certs,
        server_key: Annotated[str, typer.Option(help="Server's verify.key (file or hex).")],
        out: Annotated[Path, typer.Option(help="Results: .csv or .parquet.")],
        table_id: Annotated[str | None, typer.Option(help="Expected table name.")] = None,
        column: Annotated[str | None, typer.Option(help="ID column (default: first).")] = None,
        mode: Annotated[str, typer.Option(help="download, bucketed or ot_decoys.")] = "download",
        decoys: Annotated[int, typer.Option(help="ot_decoys: candidates per ID (k).")] = 100,
        min_batch: Annotated[int, typer.Option(help="Smallest padded batch.")] = 16,
        cache: Annotated[Path | None, typer.Option(help="Table cache folder (deltas).")] = None,
        suite: Annotated[str, typer.Option(
            help="Our crypto suite: a table of another suite is refused.")] = "standard",
        workers: Workers = 2,
        timeout: Timeout = 600.0,
        as_json: AsJson = False,
    ) -> None:
        """Look up a batch of IDs; answers in query order with found / not found."""
        from coalition.engine.direct.pir import Endpoint, load_verify_key, query
        from coalition.protocols.pir.spec import QuotaExceededError
        from coalition.protocols.psi.inputs import read_id_column

        end = Endpoint(me=name, peer_name=server, listen=listen, peer=peer, certs=certs_dir,
                       timeout=timeout, workers=workers)
        try:
            key = load_verify_key(server_key)
            values = read_id_column(ids, column).tolist()
            with progress_bar(not as_json) as progress:
                result = query(values, end, server_key=key, out=out, table_id=table_id,
                               cache_dir=cache, progress=progress,
                               params={"mode": mode, "decoys": decoys, "min_batch": min_batch,
                                       "suite": suite})
        except QuotaExceededError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(int(ExitCode.FAILED)) from exc
        except CoalitionError as exc:
            raise fail(exc) from exc
        s = result.summary
        typer.echo(json.dumps(s.to_dict()) if as_json else
                   f"{s.found} of {s.queries} IDs found ({s.mode}, padded to {s.padded}) in "
                   f"{s.seconds:.2f} s; results in {out}")
