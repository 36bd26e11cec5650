"""Poisson regression with exposure on secret shares (``task: poisson``, ``protocol: ss``).

The log-link model ``E(y) = μ = exposure·exp(w·x)`` runs in the SS trainer (:mod:`.engine`)
with three changes per mini-batch ``B``:

1. ``η = X_B·w + log(exposure)``: the Beaver product as for LR, then the guest adds its
   encoded log-exposures to its own share, locally: exposures never leave the guest;
2. ``μ = exp(η)`` by the secure exponential (:mod:`.exp`, CrypTen's limit approximation,
   ``n = 8`` Beaver squarings); the residual ``d = μ − y`` (the guest subtracts its counts
   from its share) feeds the same Beaver gradient ``X_B^T·d``, so training minimises the
   Poisson deviance (its gradient is ``X^T(μ − y)``);
3. for the deviance, ``Σμ`` (each party sums its shares) and ``Σ y·η`` by an inner-product
   Beaver triple (``y`` as the guest's share, 0 as party 1's: open ``y − A`` and ``η − B``).

**Deviance and guard.** Per epoch party 1 sends the guest its share of ``2·(Σμ − Σy·η)``; the
guest opens it, adds its own ``2·Σ(y·log y − y)`` and gets the mean Poisson deviance
``D = (2/n)·Σ(μ − y·log μ + y·log y − y)`` (the loss it reports, and what early stopping
uses). It judges ``D`` as the SS-LR guard does (non-finite, negative, a thousand times the first
epoch's: :mod:`..guard`) and against a ceiling that no sane model can pass: with every ``η``
in the exponential's range ``[EXP_LOW, EXP_HIGH]``, a row contributes at most
``2·(μ_max + y·(|EXP_LOW| + log⁺y))``, ``μ_max = e^EXP_HIGH`` plus the fixed-point allowance.
A wrapped ring or a failed truncation (a score outside the range, :mod:`.exp`) puts an error of
about ``2^36`` or more into one ``μ``; that passes the ceiling (or turns ``D`` negative) for
any table of fewer than about ``10^7`` rows, so it stops the job with
:class:`~coalition.protocols.linear.guard.TrainingDivergedError` (``model.diverged``) instead
of a silently wrong model. The guest sends party 1 its verdict (keep training, or why not)
every epoch: the ceiling needs the counts, which only the guest holds. Party 1 accepts only
the guard's own reasons (:data:`VERDICT_REASONS`), so a hostile guest cannot put its own text
into the host's error and logs (``tests/security/test_ss_poisson_verdict.py``).

**Who learns what.** Everything opened during a batch is masked by a fresh uniform ring element
(``X − U`` once, ``w − V``, ``d − V'``, ``y − A``, ``η − B``, and ``v_k − A_k`` per squaring).
The guest learns the epoch's mean deviance (as the HE variant's guest does); party 1 (the first
host) learns only the keep bit, not the deviance. Counts, exposures, ``η`` and ``μ`` never leave
their shares; at the end each party learns only its own weights (the guest also the intercept).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from coalition.protocols.linear.guard import REASONS, divergence
from coalition.protocols.linear.spec import LinearParams
from coalition.protocols.linear.ss.exp import EPS_ABS, EPS_REL, EXP_HIGH, EXP_LOW, EXP_SQUARINGS

__all__ = ["VERDICT_REASONS", "DevianceReference", "exp_squarings"]

_CEILING = ("deviance beyond what any score in the exponential's range gives "
            "(fixed-point overflow: lower the learning rate or clip the features)")
#: Why a guest may stop training; party 1 refuses any other text (it would echo it).
VERDICT_REASONS = REASONS | {_CEILING}


def exp_squarings(params: LinearParams) -> int:
    """Squarings of the secure exponential per batch: :data:`EXP_SQUARINGS` for Poisson."""
    return EXP_SQUARINGS if params.task == "poisson" else 0


@dataclass(frozen=True)
class DevianceReference:
    """The guest's private constants for the deviance: ``2·Σ(y·log y − y)`` and the ceiling."""

    const: float
    ceiling: float
    rows: int

    @classmethod
    def of(cls, counts: NDArray[np.float64]) -> DevianceReference:
        """From the guest's counts ``y`` (non-negative)."""
        y = np.asarray(counts, dtype=np.float64)
        log_y = np.log(np.where(y > 0, y, 1.0))
        mu_max = math.exp(EXP_HIGH) * (1.0 + EPS_REL) + EPS_ABS
        per_row = 2.0 * (mu_max + y * (abs(EXP_LOW) + np.maximum(log_y, 0.0)))
        return cls(const=float(2.0 * np.sum(y * log_y - y)),
                   ceiling=float(np.mean(per_row)), rows=len(y))

    def judge(self, opened: float, history: Sequence[float]) -> tuple[float, str | None]:
        """Mean deviance from the opened ``2·(Σμ − Σy·η)`` of an epoch, and why it shows
        divergence (``None``: sane)."""
        loss = (opened + self.const) / self.rows
        reason = divergence(loss, history)
        if reason is None and loss > self.ceiling:
            reason = _CEILING
        return loss, reason
