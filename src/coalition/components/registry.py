"""The one component registry, keyed ``name:major``.

Components register themselves with the :func:`register` decorator when their module is
imported; ``coalition.components`` imports every built-in, so importing the package is enough
(no hand-kept loader list). A DAG names a component as ``name:major`` or just ``name`` (the
highest major registered).
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

from coalition.components.base import Component
from coalition.core.errors import ConfigError, NotFoundError
from coalition.core.params import Params

__all__ = ["REGISTRY", "Registry", "register"]

C = TypeVar("C", bound=type[Component])

_NAME = re.compile(r"[a-z][a-z0-9_]*")
_VERSION = re.compile(r"\d+\.\d+\.\d+")


class Registry:
    """Components by ``name:major``."""

    def __init__(self) -> None:
        self._by_ref: dict[str, type[Component]] = {}

    def register(self, cls: C) -> C:
        """Add ``cls`` (usable as a class decorator); a second class under the same key fails."""
        if not _NAME.fullmatch(getattr(cls, "name", "")):
            raise ConfigError("component name must be lower_snake_case", component=repr(cls))
        if not _VERSION.fullmatch(getattr(cls, "version", "")):
            raise ConfigError("component version must be MAJOR.MINOR.PATCH", component=cls.name)
        params = getattr(cls, "Params", None)
        if not (isinstance(params, type) and issubclass(params, Params)):
            raise ConfigError("component parameters must be a coalition.core.Params model",
                              component=cls.name)
        if not cls.required_roles <= cls.roles:
            raise ConfigError("required roles must be among the supported roles",
                              component=cls.name)
        for out in cls.outputs.values():
            if out.requires is not None and (out.requires not in cls.inputs
                                             or not cls.inputs[out.requires].optional):
                raise ConfigError("an output may only require an optional input",
                                  component=cls.name, requires=out.requires)
        ref = cls.ref()
        existing = self._by_ref.get(ref)
        if existing is not None and existing is not cls:
            raise ConfigError("component already registered", ref=ref)
        self._by_ref[ref] = cls
        return cls

    def lookup(self, ref: str) -> type[Component] | None:
        """The component for ``name:major`` or ``name`` (highest major), or ``None``."""
        name, sep, major = ref.partition(":")
        if sep:
            return self._by_ref.get(f"{name}:{major}")
        majors = [c for c in self._by_ref.values() if c.name == name]
        return max(majors, key=lambda c: c.major()) if majors else None

    def get(self, ref: str) -> type[Component]:
        """Like :meth:`lookup`, but :class:`NotFoundError` when unknown."""
        cls = self.lookup(ref)
        if cls is None:
            raise NotFoundError("unknown component", ref=ref, known=self.refs())
        return cls

    def refs(self) -> list[str]:
        """Every registered ``name:major``, sorted."""
        return sorted(self._by_ref)

    def components(self) -> list[type[Component]]:
        """Every registered component, sorted by ref."""
        return [self._by_ref[r] for r in self.refs()]

    def describe(self, ref: str) -> dict[str, Any]:
        """JSON Schema-bearing description of one component."""
        return self.get(ref).describe()


REGISTRY = Registry()


def register(cls: C) -> C:
    """Register ``cls`` in the default :data:`REGISTRY`."""
    return REGISTRY.register(cls)
