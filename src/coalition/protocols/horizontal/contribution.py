"""Each client's contribution to a horizontal job, measured by the aggregator from the
per-round updates it already holds: GTG-Shapley (Liu et al., "GTG-Shapley: Efficient and
Accurate Participant Contribution Evaluation in Federated Learning", ACM TIST 13(4), 2022) and
per-round leave-one-out, both over :class:`~coalition.protocols.contribution.RoundUpdates`.

**Players.** Without SecAgg the aggregator sees each client's update, and each client (or each
group of ``group_size`` clients) is a player. With SecAgg it sees only sums, so the clients are
split into fixed *contribution groups* (a public, seeded shuffle; a remainder smaller than
``group_size`` joins the last full group), and each group is masked as its own secure sum: the
fast path names only the group's members as neighbours, so the masks cancel within each group
and the aggregator learns each group's sum. The round's model update is the sum of the group
sums, unchanged.

**What that reveals (with SecAgg).** Plain SecAgg reveals one sum per round, over all
sampled clients (at least the threshold ``⌊f·n⌋ + 1`` of them after dropouts). With
contribution groups the aggregator learns, per round, the weighted update sum and the total
weight (row count) of *every group* — sums over ``group_size`` clients (at least the SecAgg
threshold of the group, ``⌊f·g⌋ + 1 ≥ 2``), not over all of them. A group of one would be that
client's own update, so ``group_size`` below 2 — the threshold of the smallest group SecAgg
can run — is refused with SecAgg on; the job's parameters carry ``contribution_group_size``, so
every client sees it before consenting, and each client refuses a round message naming fewer
neighbours than its group needs (:meth:`ClientSession.reply`'s ``min_peers``). Utilities are
computed on the aggregator's own validation rows; a client learns nothing more than before.

**Rounds measured.** Only rounds in which every player's (group's) update arrived through the
fast path: a round that fell back to the full protocol (a dropout) or was below quorum is
skipped and counted in ``rounds_skipped``. GTG reconstructs a coalition's model as the previous
global model plus the weighted mean of its updates (FedAvg), whatever the job's strategy.

**Inputs recorded.** ``inputs`` holds SHA-256 digests of every measured round's global model
and of each player's update (float64 little-endian bytes), so a score in the federation log
names exactly what it was computed from; the digests reveal nothing about the updates.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from coalition.core import ConfigError
from coalition.crypto.suite import CryptoSuite, digest_alg, hexdigest
from coalition.protocols.contribution import RoundUpdates, gtg_shapley
from coalition.protocols.horizontal.spec import ContributionConfig, HorizontalParams

__all__ = ["ContributionLog", "check_contribution", "groups_of", "min_group_size",
           "model_digest"]

Vector = NDArray[np.float64]


def min_group_size(params: HorizontalParams) -> int:
    """Fewest clients a contribution group may hold: 2 under SecAgg (a group of one reveals
    that client's update; 2 is the SecAgg threshold ``⌊f·g⌋ + 1`` of the smallest group), 1
    without it (the aggregator sees each update anyway)."""
    return 1 if params.secagg is None else 2


def check_contribution(params: HorizontalParams, clients: int) -> None:
    """Refuse a contribution measurement that would reveal more than documented, or that
    cannot be measured (client sampling changes the players every round)."""
    cfg = params.contribution
    if cfg is None:
        return
    if cfg.group_size < min_group_size(params):
        raise ConfigError("contribution groups below the SecAgg threshold would reveal single "
                          "updates", group_size=cfg.group_size, minimum=min_group_size(params))
    if params.clients_per_round is not None and params.clients_per_round < clients:
        raise ConfigError("contribution needs every client in every round (no sampling)")
    if clients < 2 * cfg.group_size and params.secagg is not None:
        raise ConfigError("contribution under SecAgg needs at least two groups",
                          clients=clients, group_size=cfg.group_size)


def groups_of(clients: Sequence[str], size: int, seed: int) -> dict[str, list[str]]:
    """Fixed groups ``{"g0": [...], ...}`` of ``size`` clients (a remainder joins the last full
    group); a public shuffle seeded by the job, so the groups are the same every round."""
    ordered = sorted(clients)  # independent of the order the caller lists them in
    order = [ordered[i] for i in np.random.default_rng(seed).permutation(len(ordered))]
    count = max(1, len(order) // size)
    groups: dict[str, list[str]] = {f"g{i}": sorted(order[i * size:(i + 1) * size])
                                    for i in range(count)}
    groups[f"g{count - 1}"] = sorted([*groups[f"g{count - 1}"], *order[count * size:]])
    if size == 1:  # one client per player: name the player after the client
        return {members[0]: members for members in groups.values()}
    return groups


def model_digest(vector: Vector, suite: CryptoSuite | str = CryptoSuite.STANDARD) -> str:
    """The suite's hash (SHA-256, or SM3 under ``sm``) of a weight vector as float64
    little-endian bytes (log entries, scores)."""
    return hexdigest(np.ascontiguousarray(vector, dtype="<f8").tobytes(), suite)


class ContributionLog:
    """The measured rounds of one job, then the scores (see the module docstring)."""

    def __init__(self, config: ContributionConfig, groups: Mapping[str, Sequence[str]],
                 suite: CryptoSuite | str = CryptoSuite.STANDARD) -> None:
        self.config = config
        self.suite = CryptoSuite(suite)
        self.groups = {g: list(m) for g, m in groups.items()}
        self.rounds: list[RoundUpdates] = []
        self.skipped = 0

    def add(self, before: Vector, updates: Mapping[str, tuple[Vector, float]] | None) -> None:
        """One round: ``updates[group] = (weighted-mean delta, total weight)``, or ``None``
        when the round could not be measured."""
        if updates is None or set(updates) != set(self.groups) or \
                any(w <= 0 for _, w in updates.values()):
            self.skipped += 1
            return
        self.rounds.append(RoundUpdates(
            before.copy(), {g: d.copy() for g, (d, _) in updates.items()},
            {g: float(w) for g, (_, w) in updates.items()}))

    def scores(self, utility: Callable[[Vector], float]) -> dict[str, Any]:
        """GTG-Shapley and leave-one-out per player, summed over the measured rounds, with the
        digests of their inputs; ``measured: 0`` when no round could be measured."""
        players = sorted(self.groups)
        out: dict[str, Any] = {
            "method": "horizontal.gtg_shapley",
            "utility": "neg_loss" if self.config.utility == "loss" else self.config.utility,
            "groups": self.groups, "rounds_measured": len(self.rounds),
            "rounds_skipped": self.skipped, "gtg": dict.fromkeys(players, 0.0),
            "leave_one_out": dict.fromkeys(players, 0.0),
            "inputs": {"rounds": [
                {"before_sha256": model_digest(r.before, self.suite),
                 "updates_sha256": {p: model_digest(r.updates[p], self.suite) for p in players},
                 "weights": {p: r.weights[p] for p in players}} for r in self.rounds]},
        }
        if digest_alg(self.suite) != "sha256":  # standard reports keep their exact bytes
            out["inputs"]["digest_alg"] = digest_alg(self.suite)
        if not self.rounds:
            return out
        out["gtg"] = gtg_shapley(self.rounds, utility, eps=self.config.eps,
                                 max_permutations=self.config.max_permutations)
        loo = dict.fromkeys(players, 0.0)
        for rnd in self.rounds:
            everyone = frozenset(players)
            full = utility(rnd.submodel(everyone))
            for p in players:
                loo[p] += full - utility(rnd.submodel(everyone - {p}))
        out["leave_one_out"] = loo
        return out
