"""Checking a DAG against the component registry, into a :class:`JobGraph` ready to run.

Every problem is collected — none stops the check — and reported together in one
:class:`~coalition.engine.dag.DagError`, each with the task and field it is about: unknown
components, roles a component needs but the job lacks, parameters that break a component's
constraints (attributed to the shared, role or party block they came from), unknown or
missing inputs, wiring from unknown tasks or outputs, kind mismatches, outputs not produced
for the roles that consume them, and cycles.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from coalition.components import REGISTRY, Component, Registry
from coalition.core.errors import ConfigError
from coalition.core.ids import Party, Role
from coalition.engine.dag import DagError, DagSpec, Problem, TaskSpec
from coalition.engine.plan import find_cycle, topological_order

__all__ = ["JobGraph", "OutputRef", "TaskNode", "validate_dag"]

_TASK_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")


@dataclass(frozen=True)
class OutputRef:
    """``task.output``."""

    task: str
    output: str

    def __str__(self) -> str:
        return f"{self.task}.{self.output}"


@dataclass(frozen=True)
class TaskNode:
    """A checked task: its component, parties, per-party parameters and wiring."""

    name: str
    spec: TaskSpec
    component: type[Component]
    parties: tuple[Party, ...]
    raw_params: Mapping[Party, Mapping[str, Any]]
    params: Mapping[Party, Any]
    inputs: Mapping[str, OutputRef]

    @property
    def upstream(self) -> frozenset[str]:
        """Tasks this one reads from."""
        return frozenset(ref.task for ref in self.inputs.values())

    def document(self) -> dict[str, Any]:
        """The task's own document (what its cache key covers)."""
        return self.spec.model_dump(mode="json", exclude={"description"})

    def inputs_for(self, party: Party) -> dict[str, OutputRef]:
        """The inputs this party's role consumes."""
        return {n: ref for n, ref in self.inputs.items()
                if party.role in self.component.inputs[n].roles}


@dataclass(frozen=True)
class JobGraph:
    """A validated job: parties and tasks in topological order."""

    spec: DagSpec
    parties: tuple[Party, ...]
    tasks: Mapping[str, TaskNode]

    @property
    def name(self) -> str:
        """The job's name."""
        return self.spec.name

    def deps(self) -> dict[str, frozenset[str]]:
        """``{task: upstream tasks}``."""
        return {n: t.upstream for n, t in self.tasks.items()}

    def digest(self) -> str:
        """SHA-256 of the canonical document: the DAG hash recorded with models."""
        body = json.dumps(self.spec.to_document(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(body.encode()).hexdigest()


def _parties(spec: DagSpec, out: list[Problem]) -> list[Party]:
    parties: list[Party] = []
    for role, names in spec.parties.items():
        if len(set(names)) != len(names):
            out.append(Problem(f"parties.{role.value}", "party names repeat within the role"))
        for i, name in enumerate(names):
            try:
                parties.append(Party(role, name))
            except ConfigError as exc:
                out.append(Problem(f"parties.{role.value}.{i}", exc.message))
    if not any(p.role is Role.GUEST for p in parties):
        out.append(Problem("parties.guest", "a job needs a guest (the initiator)"))
    if sum(p.role is Role.ARBITER for p in parties) > 1:
        out.append(Problem("parties.arbiter", "at most one arbiter"))
    return sorted(set(parties))


def _participants(name: str, task: TaskSpec, cls: type[Component], parties: list[Party],
                  out: list[Problem]) -> tuple[Party, ...]:
    path = f"tasks.{name}"
    if task.roles is not None:
        extra = set(task.roles) - cls.roles
        if extra:
            out.append(Problem(f"{path}.roles", f"{cls.name} does not support role(s) "
                               f"{sorted(r.value for r in extra)}"))
        roles = set(task.roles) & cls.roles
    else:
        roles = set(cls.default_roles(task.parameters))
    chosen = tuple(p for p in parties if p.role in roles)
    missing = cls.roles_needed(task.parameters) - {p.role for p in chosen}
    if missing:
        out.append(Problem(f"{path}.roles", f"{cls.name} needs role(s) "
                           f"{sorted(r.value for r in missing)}, which the job lacks"
                           + (" or the task excludes" if task.roles is not None else "")))
    elif not chosen:
        out.append(Problem(f"{path}.roles", "no party of the job takes part in this task"))
    return chosen


def _params(name: str, task: TaskSpec, cls: type[Component], chosen: tuple[Party, ...],
            out: list[Problem]) -> tuple[dict[Party, dict[str, Any]], dict[Party, Any]]:
    path = f"tasks.{name}"
    roles = {p.role for p in chosen}
    for role in task.role_parameters:
        if role not in roles:
            out.append(Problem(f"{path}.role_parameters.{role.value}",
                               "no party of this role takes part in the task"))
    by_name = {str(p): p for p in chosen}
    for key in task.party_parameters:
        if key not in by_name:
            out.append(Problem(f"{path}.party_parameters.{key}",
                               f"not a party of this task; expected one of {sorted(by_name)}"))
    raw: dict[Party, dict[str, Any]] = {}
    parsed: dict[Party, Any] = {}
    seen: set[Problem] = set()
    for party in chosen:
        layers = [("parameters", task.parameters),
                  (f"role_parameters.{party.role.value}",
                   task.role_parameters.get(party.role, {})),
                  (f"party_parameters.{party}", task.party_parameters.get(str(party), {}))]
        merged: dict[str, Any] = {}
        origin: dict[str, str] = {}
        for block, values in layers:
            merged.update(values)
            origin.update(dict.fromkeys(values, block))
        raw[party] = merged
        value, problems = cls.check_params(merged)
        if value is not None:
            problems = cls.check_role(party.role, value)
        # A whole-set error (cross-field constraint) points at the most specific block.
        specific = next((b for b, v in reversed(layers) if v), "parameters")
        for prob in problems:
            head = prob.field.split(".", 1)[0]
            block = origin.get(head, "parameters") if prob.field else specific
            where = f"{path}.{block}" + (f".{prob.field}" if prob.field else "")
            msg = prob.message if head in origin or not prob.field else \
                f"{prob.message} (for {party})"
            p = Problem(where, msg)
            if p not in seen:
                seen.add(p)
                out.append(p)
        if value is not None:
            parsed[party] = value
    return raw, parsed


def _wiring(name: str, task: TaskSpec, cls: type[Component], chosen: tuple[Party, ...], *,
            specs: Mapping[str, TaskSpec], nodes: Mapping[str, tuple[type[Component], set[Role]]],
            out: list[Problem]) -> dict[str, OutputRef]:
    path = f"tasks.{name}.inputs"
    roles = {p.role for p in chosen}
    refs: dict[str, OutputRef] = {}
    for slot, ref_text in task.inputs.items():
        where = f"{path}.{slot}"
        decl = cls.inputs.get(slot)
        if decl is None:
            out.append(Problem(where, f"{cls.name} has no input '{slot}'; inputs: "
                               f"{sorted(cls.inputs)}"))
            continue
        up_name, dot, output = ref_text.partition(".")
        if not dot or not up_name or not output:
            out.append(Problem(where, f"'{ref_text}' must be written task.output"))
            continue
        if up_name not in specs:
            out.append(Problem(where, f"unknown task '{up_name}'"))
            continue
        refs[slot] = OutputRef(up_name, output)
        if up_name not in nodes:
            continue  # the upstream task has its own problem
        up_cls, up_roles = nodes[up_name]
        produced = up_cls.outputs.get(output)
        if produced is None:
            out.append(Problem(where, f"task '{up_name}' ({up_cls.name}) has no output "
                               f"'{output}'; outputs: {sorted(up_cls.outputs)}"))
            continue
        if produced.kind is not decl.kind:
            out.append(Problem(where, f"type mismatch: input '{slot}' takes a "
                               f"{decl.kind.value}, '{ref_text}' is a {produced.kind.value}"))
        if produced.requires and produced.requires not in specs[up_name].inputs:
            out.append(Problem(where, f"'{ref_text}' exists only when task '{up_name}' "
                               f"is given input '{produced.requires}'"))
        lacking = (roles & decl.roles) - (up_roles & produced.roles)
        if lacking:
            out.append(Problem(where, f"'{ref_text}' is not produced for role(s) "
                               f"{sorted(r.value for r in lacking)}, which consume it here"))
    for slot, decl in cls.inputs.items():
        if not decl.optional and slot not in task.inputs and roles & decl.roles:
            out.append(Problem(f"{path}.{slot}", "required input is not wired"))
    return refs


def validate_dag(spec: DagSpec, registry: Registry = REGISTRY) -> JobGraph:
    """Check ``spec``; return the :class:`JobGraph` or raise :class:`DagError` with every
    problem."""
    out: list[Problem] = []
    parties = _parties(spec, out)
    if not spec.tasks:
        out.append(Problem("tasks", "a job needs at least one task"))
    classes: dict[str, type[Component]] = {}
    chosen: dict[str, tuple[Party, ...]] = {}
    for name, task in spec.tasks.items():
        if not _TASK_NAME.fullmatch(name):
            out.append(Problem(f"tasks.{name}", "task names are letters, digits, _ and -, "
                               "starting with a letter (at most 64)"))
        cls = registry.lookup(task.component)
        if cls is None:
            out.append(Problem(f"tasks.{name}.component", f"unknown component "
                               f"'{task.component}'; known: {registry.refs()}"))
            continue
        classes[name] = cls
        chosen[name] = _participants(name, task, cls, parties, out)
    nodes = {n: (c, {p.role for p in chosen[n]}) for n, c in classes.items()}
    built: dict[str, TaskNode] = {}
    for name, cls in classes.items():
        task = spec.tasks[name]
        raw, parsed = _params(name, task, cls, chosen[name], out)
        refs = _wiring(name, task, cls, chosen[name], specs=spec.tasks, nodes=nodes, out=out)
        built[name] = TaskNode(name, task, cls, chosen[name], raw, parsed, refs)
    deps = {n: [ref.partition(".")[0] for ref in t.inputs.values()]
            for n, t in spec.tasks.items()}
    cycle = find_cycle(deps)
    if cycle:
        out.append(Problem(f"tasks.{cycle[0]}.inputs", "cycle: " + " -> ".join(cycle)))
    if out:
        raise DagError(out)
    return JobGraph(spec, tuple(parties), {n: built[n] for n in topological_order(deps)})
