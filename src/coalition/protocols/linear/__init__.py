"""Vertical (hetero) logistic and linear regression.

Variants, selected by ``LinearParams.protocol``, one subpackage each (see ``docs/linear.md``
for their security assumptions side by side):

* :mod:`.ss` (``ss``) — additive secret sharing over Z_2^64 with dealer-made Beaver triples;
* :mod:`.he` (``he-arbiter`` / ``he-guest``) — Paillier, the arbiter or the guest holding the key.

What every variant shares stays here: the parameters (:mod:`.spec`), the party's table
(:mod:`.data`), batching, the column layout, fixed-point encoding, optimisers, the artifact
and joint prediction.

Every variant ends with each party holding only its own weights (the guest also the intercept)
in a :class:`LinearModelPart`; :mod:`.predict` scores aligned rows jointly. The roles are typed
(:class:`DataRole` for guest and hosts, :class:`CoordinatorRole` for the arbiter; see
:mod:`.roles`), built by :func:`data_role` / :func:`coordinator`.
"""

from coalition.protocols.linear.artifact import LinearModelPart
from coalition.protocols.linear.data import PartyTable, Standardizer, load_party_csv
from coalition.protocols.linear.he import HEArbiter, HEGuest, HEHost
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
from coalition.protocols.linear.ss import SSDealer, SSGuest, SSHost

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
