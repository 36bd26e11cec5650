"""``coalition template``: the industry templates (行业样板间) — list, describe, write out, run."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from coalition.cli.common import fail, print_table
from coalition.cli.demo import hold_nodes
from coalition.cli.exit_codes import ExitCode
from coalition.core.errors import CoalitionError

if TYPE_CHECKING:
    from coalition.demo.cluster import Cluster
    from coalition.demo.templates import TemplateRun

__all__ = ["register"]

AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]
Name = Annotated[str, typer.Argument(help="Template name (see `coalition template list`).")]
Customers = Annotated[int | None, typer.Option(
    min=300, help="Customers of the guest organisation (default: the template's).")]
Seed = Annotated[int, typer.Option(help="Seed of the data generator.")]
_SHOWN = ("auc", "ks", "rmse", "accuracy", "groups_reported", "groups_suppressed")


def register(app: typer.Typer) -> None:
    """Add the ``template`` command group to ``app``."""
    group = typer.Typer(help="Industry templates: a DAG, generated data and a page per "
                        "scenario.", no_args_is_help=True)
    app.add_typer(group, name="template")

    @group.command("list")
    def list_(as_json: AsJson = False) -> None:
        """The templates, with their parties and headline metric."""
        from coalition.demo.templates import TEMPLATES

        if as_json:
            typer.echo(json.dumps([t.describe() for t in TEMPLATES.values()], indent=2))
            return
        print_table("templates", ["name", "title", "organisations", "headline (floor)"],
                    [(t.name, t.title, ", ".join(t.parties),
                      f"{t.headline.name} (>= {t.headline.floor})")
                     for t in TEMPLATES.values()])

    @group.command("describe")
    def describe(name: Name, as_json: AsJson = False) -> None:
        """The business question, the parties, who learns what, the headline and the DAG."""
        from coalition.demo.templates import get_template

        try:
            template = get_template(name)
        except CoalitionError as exc:
            raise fail(exc) from exc
        if as_json:
            typer.echo(json.dumps(template.describe() | {"dag": template.dag()}, indent=2))
            return
        info = template.describe()
        typer.echo(f"{template.title}\n\n{template.question}\n")
        for org, what in template.parties.items():
            typer.echo(f"  {org}: {what}")
        typer.echo(f"\nWho learns what: {template.learns}\n")
        typer.echo(f"Headline: {template.headline.name} >= {template.headline.floor} "
                   f"({template.headline.meaning})")
        typer.echo(f"Tasks: {' -> '.join(info['tasks'])}\nGuide: {template.doc}")

    @group.command("init")
    def init(name: Name, directory: Annotated[Path, typer.Argument(help="Folder to write.")],
             customers: Customers = None, seed: Seed = 11) -> None:
        """Write the DAG, generated data and a README into DIRECTORY (then edit and run it
        with `coalition job run-local DIRECTORY/dag.yaml`, or swap in your own data)."""
        from coalition.demo.templates import init_template

        try:
            files = init_template(name, directory, customers=customers, seed=seed)
        except CoalitionError as exc:
            raise fail(exc) from exc
        for what, path in files.items():
            typer.echo(f"{what:>10}  {path}")

    @group.command("run")
    def run(  # noqa: PLR0917 (typer maps each parameter to an option)
        name: Name, customers: Customers = None, seed: Seed = 11,
        standalone: Annotated[bool, typer.Option(
            "--standalone", help="Every party in this process (no nodes).")] = False,
        directory: Annotated[Path | None, typer.Option(
            "--dir", help="Data, runs and node homes (default: a temp dir).")] = None,
        exit_after: Annotated[bool, typer.Option(
            "--exit", help="Stop the nodes when the job ends.")] = False,
        as_json: AsJson = False,
    ) -> None:
        """Generate the data and run the template: across one node process per organisation
        (default; the nodes keep running for the console until Ctrl-C unless --exit) or in
        this process (--standalone). Prints the headline metric against its floor."""
        console = Console(stderr=as_json)
        try:
            if directory is not None:
                result = _run(name, directory, customers, seed, standalone=standalone,
                              hold=not exit_after, console=console)
            else:
                with tempfile.TemporaryDirectory(prefix=f"coalition-{name}-") as tmp:
                    result = _run(name, Path(tmp), customers, seed, standalone=standalone,
                                  hold=not exit_after, console=console)
        except CoalitionError as exc:
            raise fail(exc) from exc
        if as_json:
            typer.echo(json.dumps(result.to_dict()))
        if result.state != "succeeded":
            raise typer.Exit(int(ExitCode.FAILED))


def _run(name: str, root: Path, customers: int | None, seed: int, *, standalone: bool,
         hold: bool, console: Console) -> TemplateRun:
    from coalition.demo.templates import run_template, run_template_on_nodes

    def show(run: TemplateRun) -> None:
        mark = "[green]reached[/]" if run.reached_floor else "[red]below[/]"
        value = "n/a" if run.value is None else f"{run.value:.3f}"
        console.print(f"{run.template} ({run.mode}): job {run.state} in {run.seconds:.1f} s; "
                      f"{run.headline} = {value} ({mark} the floor {run.floor})")
        for task, metrics in run.metrics.items():
            console.print(f"  {task}: " + ", ".join(f"{k} {v:.4f}" for k, v in metrics.items()
                                                   if k in _SHOWN))
        for key, value in run.serving.items():
            console.print(f"  {key}: {value}")
        if run.error:
            console.print(f"[red]error:[/] {run.error}")

    if standalone:
        result = run_template(name, root, customers=customers, seed=seed)
        show(result)
        return result

    def keep_up(nodes: Cluster, result: TemplateRun) -> None:
        show(result)
        if hold and result.state == "succeeded":
            hold_nodes(console, nodes)

    return run_template_on_nodes(name, root, customers=customers, seed=seed,
                                 say=lambda msg: console.print(f"[cyan]{name}[/] {msg}"),
                                 hold=keep_up)
