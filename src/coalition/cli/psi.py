r"""``coalition psi``: private set intersection between two processes over gRPC (mTLS).

Typical use, one process per organisation::

    coalition psi certs ./psi-certs
    coalition psi run --role host  --ids host.csv  --listen 127.0.0.1:47102 \
        --peer 127.0.0.1:47101 --certs ./psi-certs --out host-result.csv
    coalition psi run --role guest --ids guest.csv --listen 127.0.0.1:47101 \
        --peer 127.0.0.1:47102 --certs ./psi-certs --out guest-result.csv

or both sides on this machine: ``coalition psi local guest.csv host.csv --out-dir out``.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from coalition.cli import psi_task
from coalition.cli.common import fail, progress_bar
from coalition.core.errors import CoalitionError
from coalition.core.ids import Role

__all__ = ["register"]

Protocol = Annotated[str, typer.Option(help="Engine: auto (kkrt for two parties), kkrt, ecdh or oprf.")]
Delivery = Annotated[str, typer.Option(help="Who learns: both, guest or cardinality.")]
Duplicates = Annotated[str, typer.Option(help="Duplicate IDs: dedupe (count them) or error.")]
Case = Annotated[str, typer.Option(help="Canonical case of IDs: lower, upper or keep.")]
Column = Annotated[str | None, typer.Option(help="ID column (default: the first column).")]
Workers = Annotated[int, typer.Option(min=1, help="Worker processes for the crypto.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")]


def _line(name: str, s: dict[str, Any]) -> str:
    return (f"{name}: intersection {s['intersection_size']} of {s['unique_ids']} IDs "
            f"({s['duplicates']} duplicates), {s['seconds']:.1f} s, "
            f"{s['bytes_sent']:,} bytes sent")


def register(app: typer.Typer) -> None:
    """Add the ``psi`` command group to ``app``."""
    group = typer.Typer(help="Private set intersection (standalone, two processes over gRPC).",
                        no_args_is_help=True)
    app.add_typer(group, name="psi")
    psi_task.register(group)

    @group.command("certs")
    def certs(directory: Annotated[Path, typer.Argument(
            help="Folder for ca.crt, guest/ and host/.")]) -> None:
        """Mint a throw-away CA and guest/host certificates for standalone PSI."""
        from coalition.engine.direct.psi import mint_certs

        mint_certs(directory)
        typer.echo(f"wrote {directory}/ca.crt, {directory}/guest/, {directory}/host/")

    @group.command("run")
    def run(
        *,
        role: Annotated[Role, typer.Option(help="guest or host.")],
        ids: Annotated[Path, typer.Option(help="CSV/TSV/Parquet file with the IDs.")],
        listen: Annotated[str, typer.Option(help="host:port this party serves on.")],
        peer: Annotated[str, typer.Option(help="host:port of the other party.")],
        certs_dir: Annotated[Path, typer.Option("--certs", help="Made by `psi certs`.")],
        out: Annotated[Path, typer.Option(help="Result CSV (id,row) + .summary.json.")],
        column: Column = None,
        protocol: Protocol = "auto",
        delivery: Delivery = "both",
        on_duplicate: Duplicates = "dedupe",
        case: Case = "lower",
        workers: Workers = 2,
        timeout: Annotated[float, typer.Option(help="Seconds to wait for the peer.")] = 600.0,
        as_json: AsJson = False,
    ) -> None:
        """Run one side of a 2-party PSI against a peer process."""
        if role == Role.ARBITER:
            raise typer.BadParameter("role must be guest or host")
        from coalition.engine.direct.psi import PartyJob, run_party

        job = PartyJob(role=role, ids_file=ids, column=column, listen=listen, peer=peer,
                       certs=certs_dir, out=out, case=case, workers=workers, timeout=timeout,
                       params={"protocol": protocol, "delivery": delivery,
                               "on_duplicate": on_duplicate})
        try:
            with progress_bar(not as_json) as progress:
                result = run_party(job, progress)
        except CoalitionError as exc:
            raise fail(exc) from exc
        summary = result.summary.to_dict()
        typer.echo(json.dumps(summary) if as_json else _line(summary["party"], summary))

    @group.command("local")
    def local(
        guest_ids: Annotated[Path, typer.Argument(help="The guest's ID file.")],
        host_ids: Annotated[Path, typer.Argument(help="The host's ID file.")],
        *,
        out_dir: Annotated[Path, typer.Option(help="Where guest.csv, host.csv go.")] = Path(
            "psi-out"),
        column: Column = None,
        protocol: Protocol = "auto",
        delivery: Delivery = "both",
        on_duplicate: Duplicates = "dedupe",
        case: Case = "lower",
        workers: Workers = 2,
        as_json: AsJson = False,
    ) -> None:
        """Run guest and host as two processes over gRPC on loopback (fresh certificates)."""
        from coalition.engine.direct.psi import (
            PartyJob,
            free_port,
            mint_certs,
            run_local_pair,
        )

        g_port, h_port = free_port(), free_port()
        params = {"protocol": protocol, "delivery": delivery, "on_duplicate": on_duplicate}
        with tempfile.TemporaryDirectory(prefix="coalition-psi-") as tmp:
            mint_certs(Path(tmp))
            common: dict[str, Any] = {"column": column, "certs": Path(tmp), "params": params,
                                      "case": case, "workers": workers}
            guest = PartyJob(role=Role.GUEST, ids_file=guest_ids, out=out_dir / "guest.csv",
                             listen=f"127.0.0.1:{g_port}", peer=f"127.0.0.1:{h_port}", **common)
            host = PartyJob(role=Role.HOST, ids_file=host_ids, out=out_dir / "host.csv",
                            listen=f"127.0.0.1:{h_port}", peer=f"127.0.0.1:{g_port}", **common)
            try:
                with progress_bar(not as_json) as progress:
                    summaries = run_local_pair(guest, host, progress)
            except CoalitionError as exc:
                raise fail(exc) from exc
        if as_json:
            typer.echo(json.dumps(summaries))
            return
        for name, s in summaries.items():
            typer.echo(_line(name, s))
        typer.echo(f"results in {out_dir}/")
