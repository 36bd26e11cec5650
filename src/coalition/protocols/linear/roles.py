"""One table from (protocol, role) to the estimator that plays it: what a component calls.

``protocol: ss | he-arbiter | he-guest`` selects the variant; the arbiter's estimator is the
dealer (``ss``) or the key holder (``he-arbiter``). ``he-guest`` has no arbiter role.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from coalition.core import Role
from coalition.core.errors import ConfigError
from coalition.protocols.linear.he_arbiter import HEArbiter
from coalition.protocols.linear.he_guest import HEGuest
from coalition.protocols.linear.he_host import HEHost
from coalition.protocols.linear.spec import LinearParams
from coalition.protocols.linear.ss_dealer import SSDealer
from coalition.protocols.linear.ss_guest import SSGuest
from coalition.protocols.linear.ss_host import SSHost

__all__ = ["ESTIMATORS", "estimator_for"]

ESTIMATORS: Mapping[tuple[str, Role], type[Any]] = {
    ("ss", Role.GUEST): SSGuest,
    ("ss", Role.HOST): SSHost,
    ("ss", Role.ARBITER): SSDealer,
    ("he-arbiter", Role.GUEST): HEGuest,
    ("he-arbiter", Role.HOST): HEHost,
    ("he-arbiter", Role.ARBITER): HEArbiter,
    ("he-guest", Role.GUEST): HEGuest,
    ("he-guest", Role.HOST): HEHost,
}


def estimator_for(params: Mapping[str, Any] | LinearParams, role: Role) -> Any:
    """A fresh estimator for ``role`` under ``params.protocol``; ``fit(ctx[, table])``."""
    p = LinearParams.parse(params)
    cls = ESTIMATORS.get((p.protocol, role))
    if cls is None:
        raise ConfigError("this role takes no part in the protocol", protocol=p.protocol,
                          role=role.value)
    return cls(p)
