"""The roles of every linear variant as typed interfaces, and the table a component calls.

``protocol: ss | he-arbiter | he-guest`` selects the variant. Each variant plays two kinds of
role, declared here as :class:`typing.Protocol` s so callers are checked by mypy instead of
probing attributes:

* :class:`DataRole` — the guest or a host: trains on its own aligned table and ends with its
  own :class:`LinearModelPart` (``model_``) and what it learned while training (``history_``);
* :class:`CoordinatorRole` — the arbiter: the Beaver-triple dealer (``ss``) or the key holder
  (``he-arbiter``); it holds no data and ends with no model. ``he-guest`` has no arbiter role.

:func:`data_role` and :func:`coordinator` build the estimator of a role;
:func:`estimator_for` is the same lookup for code that only knows a role at run time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from coalition.core import Context, Role
from coalition.core.errors import ConfigError
from coalition.protocols.linear.artifact import LinearModelPart
from coalition.protocols.linear.data import PartyTable
from coalition.protocols.linear.he import HEArbiter, HEGuest, HEHost
from coalition.protocols.linear.spec import LinearParams
from coalition.protocols.linear.ss import SSDealer, SSGuest, SSHost

__all__ = [
    "COORDINATORS",
    "DATA_ROLES",
    "CoordinatorRole",
    "DataRole",
    "TrainingHistory",
    "coordinator",
    "data_role",
    "estimator_for",
]


class TrainingHistory(Protocol):
    """What a data party learned while training (the loss only where it is computed)."""

    @property
    def loss(self) -> Sequence[float]:
        """Training loss per epoch (empty where this party does not learn it)."""
        ...

    @property
    def epochs(self) -> int:
        """Epochs run."""
        ...

    @property
    def converged(self) -> bool:
        """Whether early stopping ended training before the last epoch."""
        ...


class DataRole(Protocol):
    """The guest or a host of any variant: ``fit(ctx, table)``, then ``model_``/``history_``."""

    @property
    def model_(self) -> LinearModelPart:
        """The weights this party owns (the guest: also the intercept); set by :meth:`fit`."""
        ...

    @property
    def history_(self) -> TrainingHistory:
        """Loss and epochs as this party saw them; set by :meth:`fit`."""
        ...

    def fit(self, ctx: Context, table: PartyTable) -> DataRole:
        """Train jointly with the other parties on this party's aligned table; returns self."""
        ...


class CoordinatorRole(Protocol):
    """The arbiter of ``ss`` (dealer) or ``he-arbiter`` (key holder): ``fit(ctx)``, no data."""

    def fit(self, ctx: Context) -> CoordinatorRole:
        """Serve the parties until training ends; returns self."""
        ...


DATA_ROLES: Mapping[tuple[str, Role], Callable[[LinearParams], DataRole]] = {
    ("ss", Role.GUEST): SSGuest,
    ("ss", Role.HOST): SSHost,
    ("he-arbiter", Role.GUEST): HEGuest,
    ("he-arbiter", Role.HOST): HEHost,
    ("he-guest", Role.GUEST): HEGuest,
    ("he-guest", Role.HOST): HEHost,
}

COORDINATORS: Mapping[str, Callable[[LinearParams], CoordinatorRole]] = {
    "ss": SSDealer,
    "he-arbiter": HEArbiter,
}


def data_role(params: Mapping[str, Any] | LinearParams, role: Role) -> DataRole:
    """A fresh estimator for the guest or a host under ``params.protocol``."""
    p = LinearParams.parse(params)
    make = DATA_ROLES.get((p.protocol, role))
    if make is None:
        raise ConfigError("this role holds no data in the protocol", protocol=p.protocol,
                          role=role.value)
    return make(p)


def coordinator(params: Mapping[str, Any] | LinearParams) -> CoordinatorRole:
    """A fresh estimator for the arbiter under ``params.protocol``."""
    p = LinearParams.parse(params)
    make = COORDINATORS.get(p.protocol)
    if make is None:
        raise ConfigError("this role takes no part in the protocol", protocol=p.protocol,
                          role=Role.ARBITER.value)
    return make(p)


def estimator_for(params: Mapping[str, Any] | LinearParams,
                  role: Role) -> DataRole | CoordinatorRole:
    """The estimator of ``role`` (:func:`coordinator` for the arbiter, else :func:`data_role`)."""
    return coordinator(params) if role is Role.ARBITER else data_role(params, role)
