"""``coalition demo``: the credit-risk pipeline on generated data — over three node processes
by default, or in one process with ``--standalone``."""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from coalition.cli.common import fail
from coalition.cli.exit_codes import ExitCode
from coalition.core.errors import CoalitionError
from coalition.crypto.suite import CryptoSuite

if TYPE_CHECKING:
    from coalition.demo.cluster import Cluster
    from coalition.demo.network import NetworkDemo

__all__ = ["register"]

_MODELS = {"secureboost_evaluate": "SecureBoost (bank+telco)", "lr_evaluate": "SS-LR (bank+telco)"}


@dataclass(frozen=True)
class _Options:
    trees: int
    key_bits: int
    customers: int
    as_json: bool
    suite: str = "standard"


Trees = Annotated[int, typer.Option(min=1, max=50, help="SecureBoost trees.")]
KeyBits = Annotated[int, typer.Option(help="HE key size for SecureBoost (2048/3072).")]
Customers = Annotated[int, typer.Option(min=200, help="Bank customers (telco has 25% more).")]
Standalone = Annotated[bool, typer.Option("--standalone",
                                          help="Every party in this process (no nodes).")]
Directory = Annotated[Path | None, typer.Option("--dir",
                                                help="Node homes and data (default: temp dir).")]
ExitAfter = Annotated[bool, typer.Option("--exit", help="Stop the nodes when the job ends.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")]
Suite = Annotated[CryptoSuite, typer.Option(
    "--suite", help="Crypto suite of the federation: standard, or sm (SM2/SM3/SM4).")]


def register(app: typer.Typer) -> None:
    """Add the command to ``app``."""

    @app.command("demo")
    def demo(  # noqa: PLR0917 (typer maps each parameter to an option)
        trees: Trees = 5, key_bits: KeyBits = 2048, customers: Customers = 2000,
        standalone: Standalone = False, directory: Directory = None,
        exit_after: ExitAfter = False, as_json: AsJson = False,
        suite: Suite = CryptoSuite.STANDARD,
    ) -> None:
        """Bank + telco (+ a car maker as arbiter) credit-risk pipeline on generated data:
        PSI -> split -> SecureBoost and SS-LR -> evaluation.

        By default three organisations run three node processes on loopback (own database,
        certificates, data) and the job runs across them over gRPC with mutual TLS; the nodes
        keep running for you to explore until Ctrl-C (or stop at once with --exit).
        """
        opts = _Options(trees, key_bits, customers, as_json, suite.value)
        console = Console(stderr=as_json)
        try:
            if standalone:
                _standalone(console, opts)
            elif directory is not None:
                _network(console, opts, directory, exit_after)
            else:
                with tempfile.TemporaryDirectory(prefix="coalition-demo-") as tmp:
                    _network(console, opts, Path(tmp), exit_after)
        except CoalitionError as exc:
            raise fail(exc) from exc


def _say(console: Console) -> Callable[[str, str], None]:
    return lambda stage, msg: console.print(f"[cyan]{stage:>12}[/] {msg}")


def _network(console: Console, opts: _Options, root: Path, exit_after: bool) -> None:
    from coalition.demo.network import network_demo

    console.rule("[bold]Coalition demo — three organisations, three nodes, one job")
    with network_demo(root, customers=opts.customers, trees=opts.trees,
                      key_bits=opts.key_bits, say=_say(console), suite=opts.suite) as result:
        models = {label: {"auc": result.metrics.get(task, {}).get("auc"),
                          "ks": result.metrics.get(task, {}).get("ks")}
                  for task, label in _MODELS.items()}
        size = result.metrics.get("align", {}).get("intersection_size")
        intersection = None if size is None else int(size)
        if opts.as_json:
            typer.echo(json.dumps({"mode": "network", "job": result.job_id,
                                   "state": result.state, "error": result.error,
                                   "seconds": round(result.seconds, 1),
                                   "intersection": intersection, "models": models,
                                   "ledger": result.ledger,
                                   "contributions": result.contributions,
                                   "nodes": result.urls}))
        else:
            _table(console, models)
            console.print(f"job {result.job_id}: {result.state} in {result.seconds:.1f} s; "
                          f"shared customers found by PSI: {intersection}")
        if result.state != "succeeded":
            console.print(f"[red]job failed:[/] {result.error}")
            raise typer.Exit(int(ExitCode.FAILED))
        if not exit_after:
            _hold(console, result)


def _hold(console: Console, result: NetworkDemo) -> None:
    console.print("[bold]Next, without a terminal:[/] open the [bold]bank[/]'s console below, "
                  "sign in, press [bold]Open the example job[/] on its overview, then "
                  "[bold]Run all[/] (docs/console.md).")
    hold_nodes(console, result.cluster)


def hold_nodes(console: Console, cluster: Cluster) -> None:
    """Print each node's console URL and admin password; keep the nodes up until Ctrl-C."""
    console.print("[bold]Open the web console[/] (sign in as admin with the node's password); "
                  "the nodes keep running until Ctrl-C:")
    for name, handle in cluster.nodes.items():
        console.print(f"  {name:>9}  {handle.url}/   user [bold]admin[/]  password "
                      f"[bold]{handle.admin_password}[/]")
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        console.print("stopping the nodes")


def _standalone(console: Console, opts: _Options) -> None:
    from coalition.demo.standalone import DemoConfig, run_credit_demo

    n = opts.customers
    cfg = DemoConfig(n_bank=n, n_telco=n * 5 // 4, n_shared=n * 3 // 4, trees=opts.trees,
                     key_bits=opts.key_bits, suite=opts.suite)
    console.rule("[bold]Coalition demo — standalone (one process, in-memory hub)")
    start = time.perf_counter()
    result = run_credit_demo(cfg, _say(console))
    total = time.perf_counter() - start
    if opts.as_json:
        typer.echo(json.dumps({"mode": "standalone", "intersection": result.intersection,
                               "true_overlap": result.true_overlap, "models": result.models,
                               "timings_s": result.timings, "total_s": total}))
        return
    _table(console, result.models)
    console.print(f"shared customers found by PSI: {result.intersection:,} "
                  f"(generated overlap {result.true_overlap:,}); total {total:.1f} s")


def _table(console: Console, models: dict[str, dict[str, Any]]) -> None:
    table = Table(title="Test-set quality at the bank (labels never left it)")
    table.add_column("model")
    table.add_column("AUC", justify="right")
    table.add_column("KS", justify="right")
    for name, m in models.items():
        auc, ks = m.get("auc"), m.get("ks")
        table.add_row(name, "-" if auc is None else f"{auc:.3f}", "-" if ks is None else f"{ks:.3f}")
    console.print(table)
