"""Contribution measurement (issue 22): Shapley values, leave-one-out and GTG-Shapley.

Pure functions over a *utility* (a callable scoring a coalition or a model); the roles that feed
them (the horizontal aggregator, the vertical label holder) and the log entries that record the
scores are wired elsewhere. See :mod:`.shapley`.
"""

from coalition.protocols.contribution.shapley import (
    MAX_EXACT_PLAYERS,
    RoundUpdates,
    exact_shapley,
    gtg_shapley,
    leave_one_out,
)

__all__ = ["MAX_EXACT_PLAYERS", "RoundUpdates", "exact_shapley", "gtg_shapley", "leave_one_out"]
