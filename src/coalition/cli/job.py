"""``coalition job``: check a DAG file or run it in this process (``validate``, ``run-local``);
run it across nodes through a node's API (``submit``, ``status``, ``show``, ``dag``, ``watch``,
``logs``, ``cancel``, ``rerun``, ``list``, ``approve``, ``reject``).

The remote commands take ``--node URL`` (or ``COALITION_NODE_URL``) and ``--token`` (a session
token or API key, or ``COALITION_TOKEN``); they call the API through :class:`NodeClient` and
print what it returns.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from coalition.cli.common import DEFAULT_NODE_URL, AsJson, NodeUrl, Token, fail, node_client
from coalition.cli.exit_codes import ExitCode, exit_code_for
from coalition.core.errors import ConfigError, InputError

if TYPE_CHECKING:
    from coalition.client import NodeClient
    from coalition.engine.states import Transition
    from coalition.engine.validate import JobGraph

__all__ = ["register"]

DagFile = Annotated[Path, typer.Argument(help="DAG file (.yaml, .yml or .json).")]


def _job_id(value: str) -> str:
    """The CLI refuses a malformed job id before it reaches a URL (``../users`` would)."""
    from coalition.core.ids import check_job_id

    try:
        return check_job_id(value)
    except InputError as exc:
        raise fail(exc) from exc


JobId = Annotated[str, typer.Argument(help="Job id (16 hex digits).", callback=_job_id)]
Start = Annotated[str | None, typer.Option("--from", help="Run this task and everything "
                                           "downstream.")]
Only = Annotated[str | None, typer.Option("--only", help="Run just this task.")]
Until = Annotated[str | None, typer.Option("--until", help="Run up to this task.")]
Force = Annotated[bool, typer.Option("--force", help="Rerun selected tasks even if cached.")]
Watch = Annotated[bool, typer.Option("--watch", help="Follow the job until it ends.")]
_DEFAULT_NODE = DEFAULT_NODE_URL
_FINAL = {"succeeded": ExitCode.OK, "failed": ExitCode.FAILED, "cancelled": ExitCode.FAILED}


def _load(path: Path, as_json: bool) -> JobGraph:
    from coalition.engine.dag import DagError, load_dag
    from coalition.engine.validate import validate_dag

    try:
        return validate_dag(load_dag(path))
    except DagError as exc:
        if as_json:
            typer.echo(json.dumps({"valid": False, "problems": [
                {"path": p.path, "task": p.task, "message": p.message}
                for p in exc.problems]}, indent=2))
        else:
            typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(ExitCode.INPUT) from exc


def _print_job(job: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(job, indent=2))
        return
    from rich.console import Console

    Console().print(_job_table(job))


def _job_table(job: dict[str, Any]) -> Any:
    from rich.table import Table

    table = Table(title=f"job {job['id']} ({job['name']}): {job['state']}"
                  + (f" — {job['error']}" if job.get("error") else ""))
    for col in ("task", "state", "seconds", "error"):
        table.add_column(col)
    for t in job["tasks"]:
        table.add_row(t["name"], t["state"], "" if t["seconds"] is None else
                      f"{t['seconds']:.1f}", t["error"][:80])
    return table


def _metrics_table(points: dict[tuple[str, str, str], tuple[int | None, float]]) -> Any:
    from rich.table import Table

    table = Table(title="metrics (latest)")
    for col in ("task", "party", "metric", "step", "value"):
        table.add_column(col)
    for (task, party, name), (step, value) in sorted(points.items()):
        table.add_row(task, party, name, "" if step is None else str(step), f"{value:.4g}")
    return table


def _watch(client: NodeClient, job_id: str) -> dict[str, Any]:
    """Follow the server-sent events until the job ends; return the final job."""
    from rich.console import Group
    from rich.live import Live
    from rich.progress import BarColumn, Progress, TextColumn

    bar = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}"
                                                                              "/{task.total}"))
    progress = bar.add_task(job_id, total=None)
    job: dict[str, Any] = client.get_job(job_id)
    points: dict[tuple[str, str, str], tuple[int | None, float]] = {}
    done = {"succeeded", "reused", "failed", "cancelled"}

    def render() -> Any:
        bar.update(progress, total=len(job["tasks"]), description=f"{job['name']}: "
                   f"{job['state']}", completed=sum(t["state"] in done for t in job["tasks"]))
        return Group(bar, _job_table(job), _metrics_table(points))

    with Live(render(), refresh_per_second=4, transient=False) as live:
        for event, data in client.job_events(job_id):
            if event == "job":
                job = data
            elif event == "metric":
                points[(data["task"], data["party"], data["name"])] = (data["step"],
                                                                       data["value"])
            else:
                continue
            live.update(render())
    return job


def _finish(client: NodeClient, job: dict[str, Any], *, watch: bool, as_json: bool) -> None:
    if watch and not as_json:
        job = _watch(client, job["id"])
        raise typer.Exit(_FINAL.get(job["state"], ExitCode.FAILED))
    if as_json:
        typer.echo(json.dumps(job, indent=2))
    else:
        typer.echo(f"job {job['id']} ({job['name']}): {job['state']}")


def register(app: typer.Typer) -> None:
    """Add the ``job`` command group to ``app``."""
    group = typer.Typer(help="Job DAGs: validate, run here, or run across nodes.",
                        no_args_is_help=True)
    app.add_typer(group, name="job")
    _register_remote(group)

    @group.command("validate")
    def validate(dag: DagFile, as_json: AsJson = False) -> None:
        """Check a DAG against the component registry; list every problem."""
        graph = _load(dag, as_json)
        if as_json:
            typer.echo(json.dumps({"valid": True, "job": graph.name, "digest": graph.digest(),
                                   "tasks": list(graph.tasks)}, indent=2))
        else:
            typer.echo(f"{graph.name}: valid ({len(graph.tasks)} tasks, "
                       f"{len(graph.parties)} parties)")

    @group.command("run-local")
    def run_local(  # noqa: PLR0917 (typer maps each parameter to an option)
        dag: DagFile,
        start: Annotated[str | None, typer.Option("--from", help="Rerun this task and "
                                                  "everything downstream.")] = None,
        only: Annotated[str | None, typer.Option("--only", help="Rerun just this task.")] = None,
        until: Annotated[str | None, typer.Option("--until", help="Run up to this task.")
                         ] = None,
        workdir: Annotated[Path | None, typer.Option("--workdir", help="Artifact stores "
                           "(default: .coalition-runs/<job> next to the DAG).")] = None,
        force: Annotated[bool, typer.Option("--force", help="Ignore cached outputs.")
                         ] = False,
        as_json: AsJson = False,
    ) -> None:
        """Run the DAG with every party in this process (standalone mode).

        Unchanged upstream tasks are reused from the cache; relative data paths are read
        relative to the DAG file.
        """
        graph = _load(dag, as_json)
        base = dag.resolve().parent
        work = workdir or base / ".coalition-runs" / graph.name

        def show(t: Transition) -> None:
            if t.task is not None and not as_json and t.after != "pending":
                typer.echo(f"{t.task:>20}  {t.after}" + (f"  ({t.reason})" if t.reason and
                                                          t.after == "failed" else ""),
                           err=True)

        from coalition.components import Environment
        from coalition.engine.standalone import StandaloneRunner
        from coalition.engine.states import JobState

        runner = StandaloneRunner(graph, work, env=Environment(lambda ref: base / ref),
                                  on_transition=show)
        try:
            report = runner.run(only=only, start=start, until=until, force=force)
        except ConfigError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(ExitCode.USAGE) from exc
        if as_json:
            typer.echo(json.dumps(report.to_dict() | {"workdir": str(work)}, indent=2))
        else:
            typer.echo(f"job {graph.name}: {report.state.value}; outputs under {work}")
        if report.state is not JobState.SUCCEEDED and report.error is not None:
            raise typer.Exit(exit_code_for(report.error))


def _register_remote(group: typer.Typer) -> None:
    @group.command("submit")
    def submit(  # noqa: PLR0917 (typer maps each parameter to an option)
        dag: DagFile,
        node: NodeUrl = _DEFAULT_NODE,
        token: Token = "",
        site: Annotated[list[str] | None, typer.Option(
            "--site", help="role:name=org — run a party at that organisation (default: the "
                           "organisation named like the party).")] = None,
        start: Start = None, only: Only = None, until: Until = None, force: Force = False,
        timeout: Annotated[float, typer.Option(help="Seconds a party waits for a peer.")
                           ] = 600.0,
        watch: Watch = False,
        as_json: AsJson = False,
    ) -> None:
        """Submit a DAG at this node (the initiator), which proposes it to its partners."""
        from coalition.engine.dag import load_dag

        graph = _load(dag, as_json)
        sites = dict(s.split("=", 1) for s in site or [] if "=" in s)
        if len(sites) != len(site or []):
            typer.echo("error: --site takes role:name=org", err=True)
            raise typer.Exit(ExitCode.USAGE)
        options = {"sites": sites, "only": only, "from": start, "until": until,
                   "force": force, "timeout_s": timeout}
        with node_client(node, token) as client:
            job = client.submit_job(load_dag(dag).to_document(), **options)
            if not as_json:
                typer.echo(f"submitted {graph.name} as job {job['id']}", err=True)
            _finish(client, job, watch=watch, as_json=as_json)

    @group.command("status")
    def status(job_id: JobId, node: NodeUrl = _DEFAULT_NODE, token: Token = "",
               as_json: AsJson = False) -> None:
        """The job's state, each organisation's answer and each task's state."""
        with node_client(node, token) as client:
            job = client.get_job(job_id)
        _print_job(job, as_json)

    @group.command("show")
    def show(job_id: JobId, node: NodeUrl = _DEFAULT_NODE, token: Token = "",
             as_json: AsJson = False) -> None:
        """Everything an approver decides on: every task's variant, and each party's site
        and parameters."""
        with node_client(node, token) as client:
            job = client.get_job(job_id)
        if as_json:
            typer.echo(json.dumps(job, indent=2))
            return
        from rich.console import Console
        from rich.table import Table

        table = Table(title=f"job {job['id']} ({job['name']}) from {job['initiator']}: "
                            f"{job['state']}")
        for col in ("task", "variant", "party", "site", "parameters"):
            table.add_column(col)
        for t in job.get("review") or []:
            for p in t["parties"]:
                table.add_row(t["task"], t["variant"], p["party"], p["site"],
                              json.dumps(p["parameters"], sort_keys=True))
        Console().print(table)

    @group.command("dag")
    def dag(job_id: JobId, node: NodeUrl = _DEFAULT_NODE, token: Token = "",
            out: Annotated[Path | None, typer.Option(
                "--out", help="Write the document to this file (.yaml/.yml or .json) "
                "instead of printing it.")] = None) -> None:
        """The job's DAG document as this node holds it (to edit and ``submit`` again: a
        clone); any job this node initiated or takes part in."""
        import yaml

        with node_client(node, token) as client:
            document = client.get_job(job_id).get("dag") or {}
        as_json_file = out is not None and out.suffix == ".json"
        text = (json.dumps(document, indent=2) + "\n" if as_json_file
                else yaml.safe_dump(document, sort_keys=False, allow_unicode=True))
        if out is None:
            typer.echo(text, nl=False)
        else:
            out.write_text(text, encoding="utf-8")

    @group.command("list")
    def list_jobs(node: NodeUrl = _DEFAULT_NODE, token: Token = "",
                  as_json: AsJson = False) -> None:
        """Jobs this node initiated or takes part in, newest first."""
        with node_client(node, token) as client:
            jobs = client.list_jobs()
        if as_json:
            typer.echo(json.dumps(jobs, indent=2))
        for j in [] if as_json else jobs:
            typer.echo(f"{j['id']}  {j['state']:<17} {j['name']}  (initiator {j['initiator']})")

    @group.command("watch")
    def watch_job(job_id: JobId, node: NodeUrl = _DEFAULT_NODE, token: Token = "") -> None:
        """Follow a job live: task progress and a metrics table, until it ends."""
        with node_client(node, token) as client:
            job = _watch(client, job_id)
        raise typer.Exit(_FINAL.get(job["state"], ExitCode.FAILED))

    @group.command("logs")
    def logs(job_id: JobId, node: NodeUrl = _DEFAULT_NODE, token: Token = "",
             task: Annotated[str | None, typer.Option(help="Only this task.")] = None,
             as_json: AsJson = False) -> None:
        """Scheduler events and this node's workers' output."""
        with node_client(node, token) as client:
            rows = client.job_logs(job_id, task)
        if as_json:
            typer.echo(json.dumps(rows, indent=2))
        for r in [] if as_json else rows:
            where = "/".join(x for x in (r["task"], r["party"]) if x)
            typer.echo(f"{r['at']} {r['level']:<7} {where:<30} {r['message']}")

    @group.command("cancel")
    def cancel(job_id: JobId, node: NodeUrl = _DEFAULT_NODE, token: Token = "",
               reason: Annotated[str, typer.Option(help="Why.")] = "",
               as_json: AsJson = False) -> None:
        """Cancel a job everywhere (from any participating node)."""
        with node_client(node, token) as client:
            job = client.cancel_job(job_id, reason)
        _print_job(job, as_json)

    @group.command("rerun")
    def rerun(  # noqa: PLR0917 (typer maps each parameter to an option)
        job_id: JobId, node: NodeUrl = _DEFAULT_NODE, token: Token = "",
        start: Start = None, only: Only = None, until: Until = None, force: Force = False,
        watch: Watch = False, as_json: AsJson = False,
    ) -> None:
        """Run a job again as a new job; unchanged upstream outputs are reused."""
        with node_client(node, token) as client:
            job = client.rerun_job(job_id, **{"only": only, "from": start, "until": until,
                                              "force": force})
            _finish(client, job, watch=watch, as_json=as_json)

    @group.command("approve")
    def approve(job_id: JobId, node: NodeUrl = _DEFAULT_NODE, token: Token = "",
                reason: Annotated[str, typer.Option(help="A note.")] = "") -> None:
        """Take part in a partner's job that no grant covered."""
        with node_client(node, token) as client:
            job = client.approve_job(job_id, reason)
        typer.echo(f"job {job['id']}: approved here ({job['state']})")

    @group.command("reject")
    def reject(job_id: JobId,
               reason: Annotated[str, typer.Option(help="Why (required).")],
               node: NodeUrl = _DEFAULT_NODE, token: Token = "") -> None:
        """Refuse a partner's job that no grant covered; it fails everywhere."""
        with node_client(node, token) as client:
            job = client.reject_job(job_id, reason)
        typer.echo(f"job {job['id']}: rejected ({job['state']})")

    @group.command("contributions")
    def contributions(job_id: JobId, node: NodeUrl = _DEFAULT_NODE, token: Token = "",
                      task: Annotated[str | None, typer.Option(
                          help="The evaluate task to measure against (default: best AUC).")]
                      = None, as_json: AsJson = False) -> None:
        """Each party's contribution to a finished job, written to the federation log:
        vertical party-level Shapley (ask the label holder's node) or horizontal GTG-Shapley
        per client or SecAgg group (ask the aggregator's node)."""
        with node_client(node, token) as client:
            result = client.job_contributions(job_id, task=task)
        if as_json:
            typer.echo(json.dumps(result, indent=2))
            return
        typer.echo(f"job {result['job']}: {result['method']} on {result['utility']} "
                   f"({result['evaluate_task']})")
        for org, score in result["scores"].items():
            members = result.get("groups", {}).get(org, [org])
            who = org if members == [org] else f"{org} ({', '.join(members)})"
            typer.echo(f"  {who:<20} shapley {score:+.4f}   leave-one-out "
                       f"{result['leave_one_out'][org]:+.4f}")
