"""Divergence guard: a training loss that cannot be right stops the job with a typed error.

Both linear variants minimise a loss that is never negative (the Taylor logistic loss
``log 2 − yz/2 + z²/8`` has its minimum ``log 2 − 1/2 > 0``; the squared error is ≥ 0), so
a loss that is non-finite, negative, or a thousand times the first epoch's is a diverging
optimiser (learning rate too high for the data's scale) or a wrapped 64-bit fixed-point ring
(``protocol: ss``: values beyond ``2^(63 − 2·frac_bits)`` wrap and show up as a negative or
huge loss). Either way the model is garbage, and the job must fail instead of reporting
``succeeded``. With ``sigmoid: poly3`` the Taylor loss of the scores is still the monitor (it
grows with the scores, so it explodes when they leave the cubic's range); ``task: poisson``
reports the mean Poisson deviance, also never negative. The check runs where the loss is opened (the SS computing parties, the HE
coordinator) and needs nothing but that loss, so it adds no leakage.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from coalition.core.errors import CoalitionError

__all__ = ["EXPLODE_FACTOR", "REASONS", "TrainingDivergedError", "check_loss", "divergence"]

#: A loss this many times the first epoch's counts as exploding.
EXPLODE_FACTOR = 1e3
#: Fixed-point rounding may push a near-zero loss a little below zero; more than this is a wrap.
NEGATIVE_SLACK = 1e-6

_NON_FINITE = "non-finite loss"
_NEGATIVE = "negative loss (fixed-point overflow: scale the features or lower frac_bits)"
_EXPLODING = "exploding loss (lower the learning rate or scale the features)"
#: Every reason :func:`divergence` gives.
REASONS = frozenset({_NON_FINITE, _NEGATIVE, _EXPLODING})


class TrainingDivergedError(CoalitionError):
    """Training diverged (non-finite, negative or exploding loss, or a fixed-point wrap)."""

    code = "model.diverged"
    http_status = 422


def divergence(loss: float, history: Sequence[float]) -> str | None:
    """Why ``loss`` (this epoch's, after ``history``) shows divergence, or None if it is sane."""
    if not math.isfinite(loss):
        return _NON_FINITE
    if loss < -NEGATIVE_SLACK:
        return _NEGATIVE
    if history and loss > EXPLODE_FACTOR * max(history[0], NEGATIVE_SLACK):
        return _EXPLODING
    return None


def check_loss(loss: float, history: Sequence[float], epoch: int) -> None:
    """Raise :class:`TrainingDivergedError` if ``loss`` shows divergence."""
    reason = divergence(loss, history)
    if reason is not None:
        raise TrainingDivergedError(f"training diverged at epoch {epoch}: {reason}",
                                    epoch=epoch, reason=reason)
