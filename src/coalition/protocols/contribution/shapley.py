"""Shapley-value contribution of federation parties.

* :func:`exact_shapley` — the Shapley value (Shapley 1953) by enumerating all ``2**n``
  coalitions: ``φ_i = Σ_{S ⊆ N∖{i}} |S|!(n−|S|−1)!/n! · (v(S ∪ {i}) − v(S))``. Exact, and
  meant for party-level vertical FL (at most :data:`MAX_EXACT_PLAYERS` parties): the label holder
  evaluates ``v(S)`` on its validation set by retraining or by masking the feature groups of the
  parties outside ``S``; the cost is ``2**n`` utility evaluations (64 for six parties).
* :func:`leave_one_out` — ``v(N) − v(N∖{i})``: ``n + 1`` evaluations; cheap, but two parties
  that duplicate each other both get ≈ 0.
* :func:`gtg_shapley` — GTG-Shapley (Liu, Yu, Meng, Lu, Zhao, Cui, Yang: "GTG-Shapley: Efficient
  and Accurate Participant Contribution Evaluation in Federated Learning", ACM TIST 13(4), 2022):
  per-round Shapley values of horizontal FL clients from the updates the aggregator already
  holds, reconstructing the sub-model of a coalition ``S`` as the previous global model plus the
  weighted average of ``S``'s updates (no retraining), with guided truncated Monte Carlo
  sampling: a round whose global model barely moved is skipped (between-round truncation), a
  permutation stops once its prefix is within ``eps`` of the full model (within-round
  truncation), and permutations start with each client in turn (guided sampling).

Properties: exact Shapley satisfies efficiency (``Σ φ_i = v(N) − v(∅)``), symmetry (two parties
with equal marginal contributions get equal values) and the null-player property (a free-rider
whose presence never changes ``v`` gets 0); GTG-Shapley approximates them.

Who learns what: GTG-Shapley needs each client's update (or, with SecAgg, each *group's* sum):
the aggregator evaluates sub-models and learns per-coalition utilities. With SecAgg the
aggregator only sees sums, so contributions are measured over SecAgg groups — it learns each
group's aggregate update (more than plain SecAgg over all clients reveals: a group of one is no
protection at all), and groups must be large enough for the federation's policy. Vertical
Shapley reveals per-coalition validation scores to the label holder only.
"""

from __future__ import annotations

import itertools
import math
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from coalition.core.errors import ConfigError

__all__ = ["MAX_EXACT_PLAYERS", "RoundUpdates", "exact_shapley", "gtg_shapley", "leave_one_out"]

MAX_EXACT_PLAYERS = 10
"""Exact enumeration above this many players (1,024 coalitions) is refused."""

Coalition = frozenset[str]
Utility = Callable[[Coalition], float]


def _check_players(players: Sequence[str]) -> None:
    if len(set(players)) != len(players) or not players:
        raise ConfigError("players must be a non-empty list of distinct names")


def exact_shapley(players: Sequence[str], value: Utility) -> dict[str, float]:
    """Exact Shapley values of ``players`` under ``value`` (``2**n`` evaluations, cached)."""
    _check_players(players)
    n = len(players)
    if n > MAX_EXACT_PLAYERS:
        raise ConfigError("too many players for exact Shapley", players=n, limit=MAX_EXACT_PLAYERS)
    v = {
        frozenset(s): float(value(frozenset(s)))
        for size in range(n + 1)
        for s in itertools.combinations(players, size)
    }
    weight = [math.factorial(k) * math.factorial(n - k - 1) / math.factorial(n) for k in range(n)]
    phi: dict[str, float] = {}
    for p in players:
        others = [q for q in players if q != p]
        phi[p] = sum(
            weight[k] * (v[frozenset(s) | {p}] - v[frozenset(s)])
            for k in range(n)
            for s in itertools.combinations(others, k)
        )
    return phi


def leave_one_out(players: Sequence[str], value: Utility) -> dict[str, float]:
    """``v(N) − v(N∖{i})`` for every player (``n + 1`` evaluations)."""
    _check_players(players)
    everyone = frozenset(players)
    full = float(value(everyone))
    return {p: full - float(value(everyone - {p})) for p in players}


@dataclass(frozen=True)
class RoundUpdates:
    """One horizontal-FL round as the aggregator saw it.

    ``before`` is the global model the round started from; ``updates[c]`` is client (or SecAgg
    group) ``c``'s model delta and ``weights[c]`` its aggregation weight (e.g. its sample count).
    """

    before: NDArray[np.float64]
    updates: Mapping[str, NDArray[np.float64]]
    weights: Mapping[str, float]

    def submodel(self, coalition: Coalition) -> NDArray[np.float64]:
        """``before`` plus the weighted mean of ``coalition``'s updates (``before`` if empty)."""
        if not coalition:
            return self.before
        total = sum(self.weights[c] for c in coalition)
        delta = sum(self.weights[c] * self.updates[c] for c in sorted(coalition))
        return self.before + np.asarray(delta, dtype=np.float64) / total


def gtg_shapley(
    rounds: Sequence[RoundUpdates],
    utility: Callable[[NDArray[np.float64]], float],
    *,
    eps: float = 1e-3,
    max_permutations: int = 50,
    convergence: float = 0.01,
) -> dict[str, float]:
    """GTG-Shapley: the sum over rounds of each client's estimated per-round Shapley value.

    ``utility`` scores a model vector on the aggregator's validation data (higher is better).
    ``eps`` is the truncation threshold of both between-round and within-round truncation;
    sampling stops after ``max_permutations`` permutations per round, or earlier once the mean
    relative change of the estimates over the last ``n`` permutations falls below
    ``convergence``. Permutations come from a CSPRNG (``secrets``).
    """
    if not rounds:
        raise ConfigError("GTG-Shapley needs at least one round")
    players = sorted(rounds[0].updates)
    _check_players(players)
    rng = secrets.SystemRandom()
    total = dict.fromkeys(players, 0.0)
    n = len(players)
    for rnd in rounds:
        if sorted(rnd.updates) != players:
            raise ConfigError("every round must hold the same clients")
        cache: dict[Coalition, float] = {}

        def v(
            s: Coalition, rnd: RoundUpdates = rnd, cache: dict[Coalition, float] = cache
        ) -> float:
            if s not in cache:
                cache[s] = float(utility(rnd.submodel(s)))
            return cache[s]

        everyone = frozenset(players)
        v_full, v_empty = v(everyone), v(frozenset())
        if abs(v_full - v_empty) < eps:
            continue  # between-round truncation: this round changed (almost) nothing
        sums = dict.fromkeys(players, 0.0)
        history: list[dict[str, float]] = []
        for k in range(max_permutations):
            rest = [p for p in players if p != players[k % n]]
            rng.shuffle(rest)
            order = [players[k % n], *rest]  # guided: each client leads in turn
            prefix: Coalition = frozenset()
            previous = v_empty
            for p in order:
                if abs(v_full - previous) < eps:
                    break  # within-round truncation: later marginals are ~0
                prefix = prefix | {p}
                current = v(prefix)
                sums[p] += current - previous
                previous = current
            estimate = {p: sums[p] / (k + 1) for p in players}
            history.append(estimate)
            if k + 1 >= 2 * n and _converged(history[-n - 1], estimate, convergence):
                break
        for p in players:
            total[p] += history[-1][p]
    return total


def _converged(old: Mapping[str, float], new: Mapping[str, float], tolerance: float) -> bool:
    change = sum(abs(new[p] - old[p]) / (abs(new[p]) + 1e-12) for p in new) / len(new)
    return change < tolerance
