"""The DAG language: one schema, written as YAML or JSON (or built with :mod:`.sdk`).

::

    version: 1
    name: credit_risk
    parties:                      # by role; names are unique within a role
      guest: [bank]
      host: [telco]
      arbiter: [coordinator]      # optional
    tasks:
      read:
        component: reader         # name (highest major) or name:major
        parameters: {id_column: phone}          # shared by every party of the task
        role_parameters:                        # per role, over the shared ones
          guest: {label_column: default}
        party_parameters:                       # per party (role:name), over the role's
          guest:bank: {path: data/bank.csv}
          host:telco: {path: data/telco.csv}
      align:
        component: psi
        inputs: {data: read.data}               # input <- upstream_task.output
      evaluate:
        component: evaluate
        roles: [guest]                          # optional: which roles take part

Every party of a role named in ``roles`` (default: the component's) takes part; each reads its
inputs from its own outputs of the upstream task. This module parses and prints documents;
:mod:`.validate` checks them against the component registry.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from coalition.core.errors import ConfigError
from coalition.core.ids import Role

__all__ = [
    "DagError",
    "DagSpec",
    "Problem",
    "TaskSpec",
    "dump_dag",
    "load_dag",
    "parse_dag",
]


@dataclass(frozen=True)
class Problem:
    """One validation error: where (``tasks.train.parameters.epochs``) and what."""

    path: str
    message: str

    @property
    def task(self) -> str | None:
        """The task the problem is in, if any."""
        parts = self.path.split(".")
        return parts[1] if len(parts) > 1 and parts[0] == "tasks" else None

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class DagError(ConfigError):
    """A DAG document is invalid; ``problems`` lists every error found, each with its path."""

    code = "dag.invalid"

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"invalid job DAG ({len(problems)} problem"
                         f"{'s' if len(problems) != 1 else ''}):\n  "
                         + "\n  ".join(str(p) for p in problems))
        self.problems = problems

    def __str__(self) -> str:
        return self.message

    def to_problem(self) -> dict[str, Any]:
        """RFC 9457 body with the problems as ``errors``."""
        return {**super().to_problem(),
                "errors": [{"path": p.path, "message": p.message} for p in self.problems]}


class TaskSpec(BaseModel):
    """One task: a component, its parameters, and where its inputs come from."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    component: str = Field(min_length=1, description="name or name:major")
    description: str = ""
    roles: list[Role] | None = Field(None, description="roles that take part (default: all "
                                                       "the component supports)")
    parameters: dict[str, Any] = Field(default_factory=dict)
    role_parameters: dict[Role, dict[str, Any]] = Field(default_factory=dict)
    party_parameters: dict[str, dict[str, Any]] = Field(default_factory=dict)
    inputs: dict[str, str] = Field(default_factory=dict, description="input: task.output")


class DagSpec(BaseModel):
    """A whole job."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: Literal[1] = 1
    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    parties: dict[Role, list[str]]
    tasks: dict[str, TaskSpec]
    ledger_operator: Literal["initiator", "arbiter"] = Field("initiator", description=(
        "whose node operates the federation log this job's records go to: the initiator's "
        "or the arbiter's (docs/ledger.md)"))

    @model_validator(mode="after")
    def _arbiter_operates_only_with_an_arbiter(self) -> DagSpec:
        if self.ledger_operator == "arbiter" and not self.parties.get(Role.ARBITER):
            raise ValueError("ledger_operator: arbiter needs an arbiter party")
        return self

    def to_document(self) -> dict[str, Any]:
        """The canonical plain form (what YAML/JSON files and the SDK compile to)."""
        doc = {"version": self.version,
               **self.model_dump(mode="json", exclude_defaults=True, exclude={"tasks"})}
        doc["tasks"] = {name: task.model_dump(mode="json", exclude_defaults=True)
                        for name, task in self.tasks.items()}
        return doc


def _loc(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(p) for p in loc) or "(document)"


def parse_dag(document: Mapping[str, Any]) -> DagSpec:
    """A :class:`DagSpec` from a plain document; :class:`DagError` lists every schema error."""
    if not isinstance(document, Mapping):
        raise DagError([Problem("(document)", "a DAG document must be a mapping")])
    try:
        return DagSpec.model_validate(dict(document))
    except ValidationError as exc:
        raise DagError([Problem(_loc(e["loc"]), e["msg"]) for e in exc.errors()]) from exc


def load_dag(source: str | Path) -> DagSpec:
    """Read a DAG from a ``.yaml``/``.yml``/``.json`` file, or from YAML/JSON text."""
    if isinstance(source, Path):
        try:
            text = source.read_text(encoding="utf-8")
        except OSError as exc:
            raise DagError([Problem("(document)", f"cannot read {source}: {exc}")]) from exc
    else:
        text = source
    try:
        document = yaml.safe_load(text)  # YAML is a superset of JSON
    except yaml.YAMLError as exc:
        raise DagError([Problem("(document)", f"not valid YAML/JSON: {exc}")]) from exc
    return parse_dag(document)


def dump_dag(spec: DagSpec, fmt: Literal["yaml", "json"] = "yaml") -> str:
    """The canonical document as YAML or JSON text."""
    doc = spec.to_document()
    if fmt == "json":
        return json.dumps(doc, indent=2)
    return yaml.safe_dump(doc, sort_keys=False)
