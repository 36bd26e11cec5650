r"""``coalition psi task``: PSI with a partner through this node (saved tasks, runs, results).

    coalition psi task create match --dataset customers --key phone \
        --partner telco --partner-dataset subscribers --partner-key msisdn --protocol kkrt
    coalition psi task run match --wait
    coalition psi task schedule match "0 3 * * *"
    coalition psi task runs --task match
    coalition psi task download 7 --format parquet --out matched.parquet

The partner's node decides whether its dataset may be used (its grants for ``psi`` and its
privacy policy); the parties talk over job-bound mTLS certificates from the node identities.
"""

from __future__ import annotations

import time
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
from coalition.cli.exit_codes import ExitCode

__all__ = ["register"]

_RUN_COLUMNS = ("id", "task_id", "state", "protocol", "input_rows", "intersection_size",
                "wall_s", "result_hash", "started_by")


def _runs_table(runs: list[dict[str, Any]]) -> None:
    print_table("PSI runs", _RUN_COLUMNS, [[r[c] for c in _RUN_COLUMNS] for r in runs])


def register(psi: typer.Typer) -> None:
    """Add ``task`` to the ``psi`` group."""
    group = typer.Typer(help="PSI tasks with partners, run by this node.", no_args_is_help=True)
    psi.add_typer(group, name="task")

    @group.command("create")
    def create(
        name: Annotated[str, typer.Argument(help="Task name.")],
        *,
        dataset: Annotated[str, typer.Option(help="This node's registered dataset.")],
        key: Annotated[str, typer.Option(help="Its key (ID) column.")],
        partner: Annotated[str, typer.Option(help="The partner organisation.")],
        partner_dataset: Annotated[str, typer.Option(help="The partner's shared dataset.")],
        partner_key: Annotated[str | None, typer.Option(
            help="The partner's key column (default: --key).")] = None,
        protocol: Annotated[str, typer.Option(help="auto, kkrt, ecdh or oprf.")] = "auto",
        node: NodeUrl = DEFAULT_NODE_URL, token: Token = "", as_json: AsJson = False,
    ) -> None:
        """Save a PSI task."""
        with node_client(node, token) as client:
            task = client.create_psi_task({
                "name": name, "dataset": dataset, "key_column": key, "partner": partner,
                "partner_dataset": partner_dataset, "partner_key_column": partner_key,
                "protocol": protocol})
        if as_json:
            echo_json(task)
        else:
            typer.echo(f"saved PSI task {task['name']} ({task['id']})")

    @group.command("list")
    def list_tasks(node: NodeUrl = DEFAULT_NODE_URL, token: Token = "",
                   as_json: AsJson = False) -> None:
        """List saved PSI tasks."""
        with node_client(node, token) as client:
            tasks = client.list_psi_tasks()
        if as_json:
            echo_json(tasks)
            return
        cols = ("name", "dataset", "key_column", "partner", "partner_dataset", "protocol")
        print_table("PSI tasks", cols, [[t[c] for c in cols] for t in tasks])

    @group.command("run")
    def run(
        task: Annotated[str, typer.Argument(help="Task name or id.")],
        *,
        wait: Annotated[bool, typer.Option("--wait", help="Wait for the record.")] = False,
        timeout: Annotated[float, typer.Option(help="Seconds to wait.")] = 600.0,
        node: NodeUrl = DEFAULT_NODE_URL, token: Token = "", as_json: AsJson = False,
    ) -> None:
        """Run a PSI task now."""
        with node_client(node, token) as client:
            record = client.run_psi_task(task)
            end = time.monotonic() + timeout
            while wait and record["finalised_at"] is None and time.monotonic() < end:
                time.sleep(1.0)
                record = client.get_psi_run(record["id"])
        if as_json:
            echo_json(record)
        else:
            _runs_table([record])
        if wait and record["state"] != "succeeded":
            raise typer.Exit(ExitCode.FAILED)

    @group.command("runs")
    def runs(
        *,
        task: Annotated[str | None, typer.Option(help="Only this task's runs.")] = None,
        state: Annotated[str | None, typer.Option(help="Only runs in this state.")] = None,
        limit: Annotated[int, typer.Option(min=1, max=1000)] = 100,
        node: NodeUrl = DEFAULT_NODE_URL, token: Token = "", as_json: AsJson = False,
    ) -> None:
        """List run records (filters: task, state)."""
        with node_client(node, token) as client:
            found = client.list_psi_runs(task=task, state=state, limit=limit)
        if as_json:
            echo_json(found)
        else:
            _runs_table(found)

    @group.command("preview")
    def preview(run_id: Annotated[int, typer.Argument(help="Run id.")], *,
                limit: Annotated[int, typer.Option(min=1, max=100)] = 20,
                node: NodeUrl = DEFAULT_NODE_URL, token: Token = "") -> None:
        """Print the first rows of a run's result (needs datasets.preview)."""
        with node_client(node, token) as client:
            echo_json(client.preview_psi_run(run_id, limit)["rows"])

    @group.command("download")
    def download(
        run_id: Annotated[int, typer.Argument(help="Run id.")],
        *,
        out: Annotated[Path, typer.Option(help="File to write.")],
        fmt: Annotated[str, typer.Option("--format", help="csv or parquet.")] = "csv",
        node: NodeUrl = DEFAULT_NODE_URL, token: Token = "",
    ) -> None:
        """Download a run's result (needs datasets.preview; audited on the node)."""
        with node_client(node, token) as client:
            data = client.download_psi_run(run_id, fmt)
        out.write_bytes(data)
        typer.echo(f"wrote {len(data):,} bytes to {out}")

    @group.command("schedule")
    def schedule(
        task: Annotated[str, typer.Argument(help="Task name or id.")],
        cron: Annotated[str, typer.Argument(
            help="Cron expression in UTC: five fields, or six with seconds last.")],
        node: NodeUrl = DEFAULT_NODE_URL, token: Token = "", as_json: AsJson = False,
    ) -> None:
        """Run a task on a schedule (stored on the node; survives restarts)."""
        with node_client(node, token) as client:
            added = client.add_psi_schedule(task, cron)
        if as_json:
            echo_json(added)
        else:
            typer.echo(f"schedule {added['id']}: next run {added['next_run_at']}")

    @group.command("schedules")
    def list_schedules(node: NodeUrl = DEFAULT_NODE_URL, token: Token = "",
                       as_json: AsJson = False) -> None:
        """List schedules."""
        with node_client(node, token) as client:
            found = client.list_psi_schedules()
        if as_json:
            echo_json(found)
            return
        cols = ("id", "task_id", "cron", "next_run_at", "last_run_id")
        print_table("PSI schedules", cols, [[s[c] for c in cols] for s in found])

    @group.command("unschedule")
    def unschedule(schedule_id: Annotated[int, typer.Argument(help="Schedule id.")],
                   node: NodeUrl = DEFAULT_NODE_URL, token: Token = "") -> None:
        """Remove a schedule."""
        with node_client(node, token) as client:
            client.remove_psi_schedule(schedule_id)
        typer.echo(f"removed schedule {schedule_id}")
