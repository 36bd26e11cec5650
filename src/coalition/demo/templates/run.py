"""Write a template out (``init``) and run it, standalone or across node processes."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from coalition.components import Environment
from coalition.components.artifacts import Dataset, Metrics, Report
from coalition.core.ids import Party
from coalition.demo.templates.catalog import Template, get_template
from coalition.engine.dag import parse_dag
from coalition.engine.standalone import StandaloneRunner
from coalition.engine.states import JobState, Transition
from coalition.engine.validate import validate_dag

__all__ = ["REPORTED", "TemplateRun", "init_template", "run_template"]

#: Components whose metrics a run reports besides the headline (by task).
REPORTED = frozenset({"evaluate", "feature_groupby"})


@dataclass
class TemplateRun:
    """The outcome of one run: job state, the headline against its floor, every metric."""

    template: str
    mode: str
    state: str
    headline: str
    value: float | None
    floor: float
    seconds: float
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    error: str | None = None
    workdir: str = ""
    serving: dict[str, Any] = field(default_factory=dict)  # after the job (nodes only)

    @property
    def reached_floor(self) -> bool:
        """Whether the job succeeded and the headline reached the documented floor."""
        return self.state == JobState.SUCCEEDED.value and self.value is not None and \
            self.value >= self.floor

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (``coalition template run --json``)."""
        return {"template": self.template, "mode": self.mode, "state": self.state,
                "headline": {"metric": self.headline, "value": self.value,
                             "floor": self.floor, "reached_floor": self.reached_floor},
                "seconds": round(self.seconds, 2), "metrics": self.metrics,
                "serving": self.serving, "error": self.error, "workdir": self.workdir}


def init_template(name: str, folder: Path, *, customers: int | None = None,
                  seed: int = 11) -> dict[str, Path]:
    """Write ``dag.yaml``, the generated ``data/*.csv`` and a README into ``folder``.

    The DAG reads ``data/<organisation>.csv`` relative to itself, so ``coalition job run-local
    folder/dag.yaml`` runs it; swap in real data by replacing those files (same ID column)."""
    template = get_template(name)
    folder.mkdir(parents=True, exist_ok=True)
    dag = folder / "dag.yaml"
    dag.write_text(template.dag_text(), encoding="utf-8")
    files = template.generate(folder / "data", customers or template.default_customers, seed)
    readme = folder / "README.md"
    readme.write_text(_readme(template), encoding="utf-8")
    return {"dag": dag, "readme": readme, **files}


def _readme(t: Template) -> str:
    parties = "\n".join(f"- **{org}** — {what}" for org, what in t.parties.items())
    return (f"# {t.title}\n\n{t.question}\n\n## Parties\n\n{parties}\n\n## Who learns what\n\n"
            f"{t.learns}\n\n## Headline\n\n`{t.headline.name}`: {t.headline.meaning}; the "
            f"generated data reaches at least {t.headline.floor}.\n\n## Run\n\n"
            "    coalition job run-local dag.yaml\n\nSee the project's "
            f"`{t.doc}` for the walkthrough and how to swap in real data.\n")


def run_template(name: str, workdir: Path, *, customers: int | None = None, seed: int = 11,
                 on_transition: Callable[[Transition], None] | None = None) -> TemplateRun:
    """Generate the data under ``workdir`` and run the template standalone (one process)."""
    template = get_template(name)
    files = init_template(name, workdir, customers=customers, seed=seed)
    graph = validate_dag(parse_dag(yaml.safe_load(files["dag"].read_text("utf-8"))))
    runner = StandaloneRunner(graph, workdir / "runs", on_transition=on_transition,
                              env=Environment(lambda ref: workdir / ref))
    t0 = time.perf_counter()
    outcome = runner.run()
    seconds = time.perf_counter() - t0
    run = TemplateRun(name, "standalone", outcome.state.value, template.headline.name, None,
                      template.headline.floor, seconds, workdir=str(workdir),
                      error=None if outcome.error is None else str(outcome.error))
    if outcome.state is JobState.SUCCEEDED:
        guest = _guest(graph.parties)
        for task in graph.tasks.values():
            if task.component.name in REPORTED:
                metrics = runner.output(task.name, guest, "metrics")
                if isinstance(metrics, Metrics):
                    run.metrics[task.name] = dict(metrics.values)
        _write_result(runner, template.headline.task, guest, workdir / "result.csv")
        found = runner.output(template.headline.task, guest, template.headline.output)
        if isinstance(found, Report):
            run.value = template.headline.read(found.content)
        elif isinstance(found, Metrics):
            run.value = template.headline.read(found.values)
    return run


def _write_result(runner: StandaloneRunner, task: str, guest: Party, path: Path) -> None:
    """The guest's ``data`` output of the headline task, if it has one, as ``result.csv``."""
    node = runner.graph.tasks[task]
    if "data" in node.component.outputs and guest in node.parties:
        data = runner.output(task, guest, "data")
        if isinstance(data, Dataset):
            data.frame.to_csv(path, index=False)


def _guest(parties: tuple[Party, ...]) -> Party:
    return next(p for p in parties if p.role.value == "guest")
