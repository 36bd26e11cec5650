"""The component contract: a declarative class with typed parameters, inputs and outputs, the
roles it supports, and one ``run(ctx)``.

A component is what a DAG task names. Its declaration is data, read by the validator, the
registry's JSON Schema (``coalition component describe``) and the web console; its ``run``
is called once per party of a task, with that party's parameters and that party's own input
artifacts, inside a :class:`TaskContext` whose ``comm`` is the protocol
:class:`~coalition.core.Context` shared with the task's other parties.

Components never touch files or the network themselves: the runtime (standalone runner or a
node) resolves data references through :class:`Environment`, loads input artifacts, and
stores the outputs ``run`` returns.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar, TypeVar

from pydantic import ValidationError

from coalition.components.artifacts import (
    Artifact,
    ArtifactKind,
    Dataset,
    Metrics,
    ModelPart,
    Report,
)
from coalition.core.context import Context
from coalition.core.errors import CoalitionError, ConfigError, InputError
from coalition.core.ids import Party, Role
from coalition.core.params import ParamProblem, param_problems
from coalition.core.params import Params as ParamModel
from coalition.crypto.suite import CryptoSuite

__all__ = [
    "Component",
    "Environment",
    "Input",
    "Output",
    "ParamProblem",
    "TaskContext",
    "slots",
]

T = TypeVar("T")
P = TypeVar("P", bound=ParamModel)


def slots(**declared: T) -> Mapping[str, T]:
    """A read-only mapping of declared inputs or outputs, in declaration order."""
    return MappingProxyType(declared)


@dataclass(frozen=True)
class Input:
    """An input slot: its kind, the roles that consume it, and whether it may be left unwired."""

    kind: ArtifactKind
    roles: frozenset[Role]
    optional: bool = False
    doc: str = ""


@dataclass(frozen=True)
class Output:
    """An output slot: its kind and the roles that produce it.

    ``requires`` names an optional input: the output exists only when that input is wired
    (``homo_lr`` scores ``test_data`` into ``predictions`` only when it is given one).
    """

    kind: ArtifactKind
    roles: frozenset[Role]
    requires: str | None = None
    doc: str = ""


def _cwd_resolver(ref: str) -> Path:
    return Path(ref)


@dataclass(frozen=True)
class Environment:
    """What the runtime offers a party's component: how to turn a data reference into a file.

    Standalone mode resolves paths relative to the DAG file; a node resolves the names of
    datasets registered on it.
    """

    resolve_data: Callable[[str], Path] = _cwd_resolver
    #: A host refuses to send partial scores of a linear part with fewer features than this
    #: (the node's ``policy_min_serving_features``; see ``coalition.protocols.linear.predict``).
    policy_min_serving_features: int = 2
    #: A folder the party's node keeps between runs for protocol state (OPRF-PSI's PRF table
    #: and its copy of a partner's table), already scoped by the node to the authenticated
    #: partner organisations of the task; None in standalone runs (nothing is kept).
    state_dir: Path | None = None
    #: The node's federation crypto suite (``crypto_suite``): a linear or split-NN host
    #: refuses to mask its partial scores under a model part of another suite
    #: (``coalition.protocols.linear.predict.check_suite``,
    #: ``SplitNNHost.check_suite``); None in standalone runs.
    crypto_suite: CryptoSuite | None = None


@dataclass
class TaskContext:
    """Everything one party's ``run`` sees."""

    comm: Context
    task: str
    params: Any
    inputs: Mapping[str, Artifact]
    env: Environment = field(default_factory=Environment)

    def params_as(self, cls: type[P]) -> P:
        """The validated parameters, typed: ``ctx.params_as(LinearParams)``.

        A component declares ``Params``; this is the typed view of the instance the runtime
        parsed from it (a mismatch is a programming error, reported as :class:`ConfigError`).
        """
        if not isinstance(self.params, cls):
            raise ConfigError("task parameters are not of the expected model",
                              expected=cls.__name__, got=type(self.params).__name__)
        return self.params

    @property
    def party(self) -> Party:
        """The party running this role."""
        return self.comm.party

    @property
    def role(self) -> Role:
        """The role being run."""
        return self.comm.role

    def _get(self, name: str, cls: type[Any]) -> Any:
        value = self.inputs.get(name)
        if value is None:
            raise InputError("input not wired for this party", input=name, task=self.task,
                             party=str(self.party))
        if not isinstance(value, cls):
            raise InputError("input has the wrong kind", input=name, expected=cls.__name__,
                             got=type(value).__name__)
        return value

    def has(self, name: str) -> bool:
        """Whether input ``name`` was wired for this party."""
        return name in self.inputs

    def dataset(self, name: str) -> Dataset:
        """Input ``name`` as a :class:`Dataset`."""
        out: Dataset = self._get(name, Dataset)
        return out

    def model(self, name: str) -> ModelPart:
        """Input ``name`` as a :class:`ModelPart`."""
        out: ModelPart = self._get(name, ModelPart)
        return out

    def metrics(self, name: str) -> Metrics:
        """Input ``name`` as :class:`Metrics`."""
        out: Metrics = self._get(name, Metrics)
        return out

    def report(self, name: str) -> Report:
        """Input ``name`` as a :class:`Report`."""
        out: Report = self._get(name, Report)
        return out


class Component(ABC):
    """Base of every component; subclasses declare the class attributes and ``run``.

    ``version`` is semantic (``1.2.0``); the registry keys components by ``name:major``, so a
    breaking change to parameters, inputs or outputs takes a new major version.
    """

    name: ClassVar[str]
    version: ClassVar[str]
    description: ClassVar[str]
    #: The parameter model: a :class:`coalition.core.Params` subclass (frozen, unknown keys
    #: refused, every field described); the registry refuses anything else.
    Params: ClassVar[type[ParamModel]]
    roles: ClassVar[frozenset[Role]]
    required_roles: ClassVar[frozenset[Role]]
    inputs: ClassVar[Mapping[str, Input]] = MappingProxyType({})
    outputs: ClassVar[Mapping[str, Output]] = MappingProxyType({})

    @classmethod
    def major(cls) -> int:
        """The major version: the part of the version the registry keys on."""
        return int(cls.version.split(".", 1)[0])

    @classmethod
    def ref(cls) -> str:
        """``name:major``."""
        return f"{cls.name}:{cls.major()}"

    @classmethod
    def family(cls) -> str:
        """The component family recorded in model parts (``hetero_lr``, ...)."""
        return cls.name

    @classmethod
    def default_roles(cls, raw_params: Mapping[str, Any]) -> frozenset[Role]:
        """Roles that take part when the task does not list ``roles`` (may read params)."""
        return cls.roles

    @classmethod
    def roles_needed(cls, raw_params: Mapping[str, Any]) -> frozenset[Role]:
        """Roles without which the task cannot run (may read params)."""
        return cls.required_roles

    @classmethod
    def check_params(cls, raw: Mapping[str, Any]) -> tuple[Any, list[ParamProblem]]:
        """Validate one party's parameters: ``(params, [])`` or ``(None, problems)``."""
        try:
            return cls.Params.model_validate(dict(raw)), []
        except ValidationError as exc:
            return None, param_problems(exc)
        except CoalitionError as exc:  # a validator that builds a value raising ConfigError
            return None, [ParamProblem("", exc.message)]

    @classmethod
    def check_role(cls, role: Role, params: Any) -> list[ParamProblem]:
        """Role-specific constraints on valid parameters (say, only the guest has labels)."""
        return []

    @classmethod
    def parse_params(cls, raw: Mapping[str, Any]) -> Any:
        """Validated parameters, or one :class:`ConfigError` listing every problem."""
        params, problems = cls.check_params(raw)
        if problems:
            raise ConfigError("invalid component parameters", component=cls.ref(),
                              problems=[str(p) for p in problems],
                              fields=sorted({f for p in problems for f in (p.field, *p.related)
                                             if f}))
        return params

    @classmethod
    def fingerprint(cls, params: Any, env: Environment) -> str:
        """A digest of the local data this party reads (empty when it reads none).

        Part of the task's cache key: a source file that changed must not hit the cache.
        """
        return ""

    @classmethod
    def describe(cls) -> dict[str, Any]:
        """The declaration as JSON: parameters as JSON Schema, inputs, outputs, roles."""
        return {
            "name": cls.name,
            "version": cls.version,
            "ref": cls.ref(),
            "description": cls.description,
            "roles": sorted(r.value for r in cls.roles),
            "required_roles": sorted(r.value for r in cls.required_roles),
            "inputs": {n: {"kind": i.kind.value, "roles": sorted(r.value for r in i.roles),
                           "optional": i.optional, "description": i.doc}
                       for n, i in cls.inputs.items()},
            "outputs": {n: {"kind": o.kind.value, "roles": sorted(r.value for r in o.roles),
                            "requires": o.requires, "description": o.doc}
                        for n, o in cls.outputs.items()},
            "parameters": cls.Params.model_json_schema(),
        }

    @abstractmethod
    def run(self, ctx: TaskContext) -> Mapping[str, Artifact]:
        """Do this party's part of the task; return its outputs by name."""
