"""The methods a node answers: declared methods bound to handlers, plus the access guards.

Feature packages register into a registry at composition (:mod:`coalition.node.composition`):
``registry.register(METHOD, handler)`` for their methods and ``registry.guard(kind, check)`` for
the :class:`~.method.Access`/:class:`~.method.Requirement` kinds they own (the jobs feature
owns the job kinds). This package imports no feature, and no feature imports the endpoint.

:meth:`PeerRegistry.dispatch` is the one path of a call, for the endpoint and for a node's
calls to itself alike: look the method up, validate the request (typed ``input.invalid``),
run the guards of its declared access and requirement, run the handler, serialise the response.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from coalition.core.errors import (
    CoalitionError,
    CodecError,
    ConfigError,
    InputError,
    NotFoundError,
)
from coalition.node.peer.method import (
    Access,
    Handler,
    PeerMethod,
    PeerRequest,
    PeerResponse,
    Requirement,
)
from coalition.node.runtime import NodeRuntime

__all__ = ["Guard", "PeerMethodUnknown", "PeerRegistry", "invalid_input"]

Guard = Callable[[NodeRuntime, str, Any], None]
"""``guard(rt, caller, request)``: returns, or raises a typed error (usually ``AuthError``)."""
_OPEN = frozenset({Access.PARTNER, Requirement.NONE})  # checked by the endpoint itself


class PeerMethodUnknown(NotFoundError):
    """The partner does not answer a method of this name (misspelt, or an older node)."""

    code = "peer.unknown_method"


def invalid_input(exc: ValidationError) -> CoalitionError:
    """A request that did not validate, as a typed error naming fields, never values."""
    errors = exc.errors(include_input=False, include_url=False, include_context=False)
    if any(e["type"] == "json_invalid" for e in errors):
        return CodecError("payload is not a JSON object")
    parts = [f"{'.'.join(str(p) for p in e['loc']) or 'payload'}: {e['msg']}" for e in errors[:3]]
    return InputError("invalid request: " + "; ".join(parts))



@dataclass(frozen=True)
class _Bound:
    method: PeerMethod[Any, Any]
    handler: Handler


class PeerRegistry:
    """Declared methods with their handlers; build one per node (or a subset in tests)."""

    def __init__(self) -> None:
        self._bound: dict[str, _Bound] = {}
        self._guards: dict[Access | Requirement, Guard] = {}

    def register(self, method: PeerMethod[Any, Any], handler: Handler) -> None:
        """Bind ``handler`` to ``method``; a name bound twice is a :class:`ConfigError`."""
        if method.name in self._bound:
            raise ConfigError("peer method registered twice", method=method.name)
        self._bound[method.name] = _Bound(method, handler)

    def guard(self, kind: Access | Requirement, check: Guard) -> None:
        """The check behind an access or requirement kind (one per kind)."""
        if kind in _OPEN or kind in self._guards:
            raise ConfigError("guard registered twice or for an open kind", kind=str(kind))
        self._guards[kind] = check

    def check(self) -> None:
        """Every registered method's access and requirement has a guard (else ConfigError)."""
        for bound in self._bound.values():
            for kind in (bound.method.access, bound.method.requires):
                if kind not in _OPEN and kind not in self._guards:
                    raise ConfigError("no guard for a declared peer access or requirement",
                                      method=bound.method.name, kind=str(kind))

    def __iter__(self) -> Iterator[PeerMethod[Any, Any]]:
        return (b.method for b in self._bound.values())

    def __contains__(self, name: object) -> bool:
        return name in self._bound

    def method(self, name: str) -> PeerMethod[Any, Any]:
        """The declaration bound under ``name`` (:class:`PeerMethodUnknown` if none)."""
        bound = self._bound.get(name)
        if bound is None:
            raise PeerMethodUnknown("no such peer method", method=name[:64])
        return bound.method

    def handler(self, method: PeerMethod[Any, Any]) -> Handler:
        """The handler bound to ``method`` (to build a registry with a subset of methods)."""
        return self._bound[self.method(method.name).name].handler

    def dispatch(self, rt: NodeRuntime, caller: str, name: str, raw: bytes) -> bytes:
        """Answer one call of ``caller`` (an authenticated partner, or this node)."""
        bound = self._bound.get(name)
        if bound is None:
            raise PeerMethodUnknown("no such peer method", method=name[:64])
        method = bound.method
        try:
            request: PeerRequest = method.request.model_validate_json(raw or b"{}")
        except ValidationError as exc:
            raise invalid_input(exc) from None
        for kind in (method.access, method.requires):
            guard = self._guards.get(kind)
            if guard is not None:
                guard(rt, caller, request)
        response = bound.handler(rt, caller, request)
        if not isinstance(response, method.response):
            raise TypeError(f"handler of {method.name} returned {type(response).__name__}")
        return _dump(response)


def _dump(response: PeerResponse) -> bytes:
    return response.model_dump_json().encode()
