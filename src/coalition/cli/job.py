"""``coalition job validate|run-local``: check a DAG file, or run it all in this process."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from coalition.cli.exit_codes import ExitCode
from coalition.core.errors import CoalitionError, ConfigError, InputError

if TYPE_CHECKING:
    from coalition.engine.states import Transition
    from coalition.engine.validate import JobGraph

__all__ = ["register"]

DagFile = Annotated[Path, typer.Argument(help="DAG file (.yaml, .yml or .json).")]
AsJson = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


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


def _exit_code(exc: CoalitionError) -> ExitCode:
    cause = getattr(exc, "error", exc)
    return ExitCode.INPUT if isinstance(cause, ConfigError | InputError) else ExitCode.FAILED


def register(app: typer.Typer) -> None:
    """Add the ``job`` command group to ``app``."""
    group = typer.Typer(help="Job DAGs: validate and run.", no_args_is_help=True)
    app.add_typer(group, name="job")

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
            raise typer.Exit(_exit_code(report.error))
