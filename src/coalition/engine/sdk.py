"""Build a job DAG in Python; it compiles to the same document as the YAML/JSON form.

::

    job = Pipeline("credit_risk").parties(guest="bank", host=["telco"], arbiter="coordinator")
    read = job.task("read", "reader", id_column="phone")
    read.for_role("guest", label_column="default")
    read.for_party("guest:bank", path="data/bank.csv").for_party("host:telco", path="...")
    align = job.task("align", "psi", data=read.out("data"))   # keyword = input or parameter
    ...
    graph = job.validate()        # JobGraph, or DagError listing every problem
    text = job.to_yaml()          # the same document a hand-written YAML file parses to
    report = job.run_local(Path("runs"))          # every party in this process
    with NodeClient.from_env() as node:           # or across nodes, from a node's API
        submitted = job.submit(node)

A keyword whose value is an :class:`OutputHandle` wires an input; any other keyword is a shared
parameter. Nothing is checked until :meth:`Pipeline.compile` / :meth:`Pipeline.validate`, which
run the same validator as YAML files.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coalition.components import REGISTRY, Environment, Registry
from coalition.core.errors import ConfigError
from coalition.core.ids import Role
from coalition.engine.dag import DagSpec, dump_dag, parse_dag
from coalition.engine.standalone import RunReport, StandaloneRunner
from coalition.engine.validate import JobGraph, validate_dag

if TYPE_CHECKING:
    from coalition.client import NodeClient
    from coalition.engine.states import Transition

__all__ = ["OutputHandle", "Pipeline", "TaskBuilder"]


@dataclass(frozen=True)
class OutputHandle:
    """A reference to ``task.output``, passed to another task as an input."""

    task: str
    output: str

    def __str__(self) -> str:
        return f"{self.task}.{self.output}"


@dataclass
class TaskBuilder:
    """One task being built; methods return ``self`` so calls chain."""

    name: str
    component: str
    parameters: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, str] = field(default_factory=dict)
    role_parameters: dict[str, dict[str, Any]] = field(default_factory=dict)
    party_parameters: dict[str, dict[str, Any]] = field(default_factory=dict)
    roles: list[str] | None = None
    description: str = ""

    def out(self, output: str) -> OutputHandle:
        """A handle on output ``output`` of this task, to wire into another task."""
        return OutputHandle(self.name, output)

    def set(self, **values: Any) -> TaskBuilder:
        """Shared parameters, or inputs for :class:`OutputHandle` values."""
        for key, value in values.items():
            if isinstance(value, OutputHandle):
                self.inputs[key] = str(value)
            else:
                self.parameters[key] = value
        return self

    def for_role(self, role: str | Role, **params: Any) -> TaskBuilder:
        """Parameters for every party of ``role`` (over the shared ones)."""
        self.role_parameters.setdefault(Role(role).value, {}).update(params)
        return self

    def for_party(self, party: str, **params: Any) -> TaskBuilder:
        """Parameters for one party, ``role:name`` (over its role's)."""
        self.party_parameters.setdefault(party, {}).update(params)
        return self

    def only(self, *roles: str | Role) -> TaskBuilder:
        """Restrict the task to these roles."""
        self.roles = [Role(r).value for r in roles]
        return self

    def document(self) -> dict[str, Any]:
        """The task's plain form."""
        doc: dict[str, Any] = {"component": self.component}
        for key, value in (("description", self.description), ("roles", self.roles),
                           ("parameters", self.parameters),
                           ("role_parameters", self.role_parameters),
                           ("party_parameters", self.party_parameters),
                           ("inputs", self.inputs)):
            if value:
                doc[key] = value
        return doc


class Pipeline:
    """A job under construction."""

    def __init__(self, name: str, description: str = "") -> None:
        self.name = name
        self.description = description
        self._parties: dict[str, list[str]] = {}
        self._tasks: dict[str, TaskBuilder] = {}

    def parties(self, **by_role: str | list[str]) -> Pipeline:
        """``parties(guest="bank", host=["telco", "retailer"], arbiter="coordinator")``."""
        for role, names in by_role.items():
            self._parties[Role(role).value] = [names] if isinstance(names, str) else list(names)
        return self

    def task(self, name: str, component: str, *, description: str = "",
             **values: Any) -> TaskBuilder:
        """Add a task; keywords are parameters or (as :class:`OutputHandle`) inputs."""
        if name in self._tasks:
            raise ConfigError("task defined twice", task=name)
        builder = TaskBuilder(name, component, description=description).set(**values)
        self._tasks[name] = builder
        return builder

    def document(self) -> dict[str, Any]:
        """The plain document, unchecked."""
        doc: dict[str, Any] = {"version": 1, "name": self.name}
        if self.description:
            doc["description"] = self.description
        doc["parties"] = self._parties
        doc["tasks"] = {n: t.document() for n, t in self._tasks.items()}
        return doc

    def compile(self) -> DagSpec:
        """The schema-checked :class:`DagSpec` (:class:`DagError` if the schema is broken)."""
        return parse_dag(self.document())

    def validate(self, registry: Registry = REGISTRY) -> JobGraph:
        """Full validation against the component registry."""
        return validate_dag(self.compile(), registry)

    def to_yaml(self) -> str:
        """The canonical YAML document."""
        return dump_dag(self.compile(), "yaml")

    def to_json(self) -> str:
        """The canonical JSON document."""
        return dump_dag(self.compile(), "json")

    def run_local(self, workdir: Path, *, data_root: Path | None = None,
                  only: str | None = None, start: str | None = None, until: str | None = None,
                  force: bool = False,
                  on_transition: Callable[[Transition], None] | None = None) -> RunReport:
        """Validate, then run the job with every party in this process (standalone mode, as
        ``coalition job run-local``): artifacts under ``workdir``, unchanged upstream tasks
        reused from its cache, data paths relative to ``data_root`` (default: the current
        folder). ``only``/``start``/``until`` select tasks as in :mod:`.plan`.

        Returns the :class:`RunReport`; a failed task is reported there, not raised.
        """
        root = data_root or Path.cwd()
        runner = StandaloneRunner(self.validate(), workdir,
                                  env=Environment(lambda ref: root / ref),
                                  on_transition=on_transition)
        return runner.run(only=only, start=start, until=until, force=force)

    def submit(self, client: NodeClient, *, sites: Mapping[str, str] | None = None,
               only: str | None = None, start: str | None = None, until: str | None = None,
               force: bool = False, timeout_s: float | None = None) -> dict[str, Any]:
        """Validate here, then submit the job at ``client``'s node (the initiator), which
        proposes it to its partners; returns the job as the API shows it (``id``, ``state``).

        ``sites`` maps ``role:name`` to the organisation that runs that party.
        """
        self.validate()
        options: dict[str, Any] = {"sites": dict(sites or {}), "only": only, "from": start,
                                   "until": until, "force": force}
        if timeout_s is not None:
            options["timeout_s"] = timeout_s
        job: dict[str, Any] = client.submit_job(self.document(), **options)
        return job
