"""Vertical (hetero) logistic and linear regression.

Variants, selected by ``LinearParams.protocol`` (see ``docs/linear.md`` for their security
assumptions side by side):

* ``ss`` — additive secret sharing over Z_2^64 with dealer-made Beaver triples
  (``ss_guest``, ``ss_host``, ``ss_dealer``);
* ``he-arbiter`` / ``he-guest`` — Paillier, the arbiter or the guest holding the key.

Every variant ends with each party holding only its own weights (the guest also the intercept)
in a :class:`LinearModelPart`; :mod:`.predict` scores aligned rows jointly. The roles are typed
(:class:`DataRole` for guest and hosts, :class:`CoordinatorRole` for the arbiter; see
:mod:`.roles`), built by :func:`data_role` / :func:`coordinator`.
"""

from coalition.protocols.linear.artifact import LinearModelPart
from coalition.protocols.linear.data import PartyTable, Standardizer, load_party_csv
from coalition.protocols.linear.he_arbiter import HEArbiter
from coalition.protocols.linear.he_guest import HEGuest
from coalition.protocols.linear.he_host import HEHost
from coalition.protocols.linear.predict import predict_guest, predict_host
from coalition.protocols.linear.roles import (
    CoordinatorRole,
    DataRole,
    TrainingHistory,
    coordinator,
    data_role,
    estimator_for,
)
from coalition.protocols.linear.spec import MIN_HE_BATCH_FACTOR, LinearParams
from coalition.protocols.linear.ss_dealer import SSDealer
from coalition.protocols.linear.ss_guest import SSGuest
from coalition.protocols.linear.ss_host import SSHost

__all__ = [
    "MIN_HE_BATCH_FACTOR",
    "CoordinatorRole",
    "DataRole",
    "HEArbiter",
    "HEGuest",
    "HEHost",
    "LinearModelPart",
    "LinearParams",
    "PartyTable",
    "SSDealer",
    "SSGuest",
    "SSHost",
    "Standardizer",
    "TrainingHistory",
    "coordinator",
    "data_role",
    "estimator_for",
    "load_party_csv",
    "predict_guest",
    "predict_host",
]
