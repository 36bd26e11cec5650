"""Aggregator role of horizontal FL (the job's arbiter): sample clients, collect, aggregate.

Leakage: the aggregator sees each client's validation metrics and row counts, and — in plain
mode — each sampled client's model update and training row count. With SecAgg it sees only the
sum of the weighted updates and of the weights of the clients that finished the round. It never
sees rows. With DP, what it publishes (the global model) is (ε, δ)-DP at client level.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from coalition.core import ConfigError, Context, Party, ProtocolError
from coalition.crypto.suite import digest_alg
from coalition.protocols.horizontal.artifact import GlobalModel, RoundRecord
from coalition.protocols.horizontal.collect import gather_until, send_each
from coalition.protocols.horizontal.contribution import (
    ContributionLog,
    check_contribution,
    groups_of,
    model_digest,
)
from coalition.protocols.horizontal.dp import PrivacyAccountant, clip, gaussian_noise
from coalition.protocols.horizontal.models.base import Model
from coalition.protocols.horizontal.secagg.full import SecureSum
from coalition.protocols.horizontal.secagg.quantize import decode
from coalition.protocols.horizontal.secagg.session import ServerSession, fallback_signal
from coalition.protocols.horizontal.spec import (
    FINAL,
    FINAL_REPORT,
    REPLY,
    ROUND,
    TASK_EVALUATE,
    TASK_FIT,
    HorizontalParams,
)
from coalition.protocols.horizontal.strategies.base import Strategy
from coalition.protocols.horizontal.weights import ParamLayout, Vector

__all__ = ["average_metrics", "run_aggregator"]


def average_metrics(reports: Iterable[Any]) -> dict[str, float]:
    """Validation metrics averaged over clients, weighted by their validation rows; malformed
    reports are skipped."""
    sums: dict[str, float] = {}
    counts: dict[str, float] = {}
    for rep in reports:
        if not isinstance(rep, dict) or not isinstance(rep.get("metrics"), dict):
            continue
        n = rep.get("num_val")
        if not isinstance(n, int) or n <= 0:
            continue
        for name, value in rep["metrics"].items():
            if isinstance(name, str) and isinstance(value, int | float) and math.isfinite(value):
                sums[name] = sums.get(name, 0.0) + n * float(value)
                counts[name] = counts.get(name, 0.0) + n
    return {k: sums[k] / counts[k] for k in sorted(sums)}


def _check(params: HorizontalParams, strategy: Strategy, clients: Sequence[Party]) -> int:
    if not clients:
        raise ConfigError("horizontal FL needs at least one client")
    per_round = min(params.clients_per_round or len(clients), len(clients))
    if params.min_clients > per_round:
        raise ConfigError("min_clients exceeds the clients sampled per round",
                          min_clients=params.min_clients, per_round=per_round)
    if params.secagg is not None and not strategy.secure_aggregatable:
        raise ConfigError("this strategy needs individual updates and cannot run under SecAgg",
                          strategy=strategy.name)
    if params.dp is not None:
        if not strategy.secure_aggregatable:
            raise ConfigError("DP noise is calibrated for mean aggregation", strategy=strategy.name)
        if params.dp.noise == "client" and params.secagg is None:
            raise ConfigError("client-side DP noise protects the sum only under SecAgg; "
                              "use noise='server' without SecAgg")
    check_contribution(params, len(clients))
    return per_round


PlayerUpdates = dict[str, tuple[Vector, float]]


def _by_group(per_client: PlayerUpdates, groups: dict[str, list[str]]) -> PlayerUpdates | None:
    """Each group's weighted-mean update and total weight; ``None`` if a member is missing."""
    out: PlayerUpdates = {}
    for name, members in groups.items():
        if any(m not in per_client for m in members):
            return None
        weight = sum(per_client[m][1] for m in members)
        delta = sum(per_client[m][1] * per_client[m][0] for m in members)
        out[name] = (np.asarray(delta, dtype=np.float64) / weight, weight)
    return out


class _Round:
    """Turns the answers of one round into a combined update (plain or secure)."""

    def __init__(self, params: HorizontalParams, strategy: Strategy, layout: ParamLayout) -> None:
        self.params, self.strategy, self.layout = params, strategy, layout

    def plain(self, replies: dict[Party, Any], fitters: list[Party]
              ) -> tuple[Vector | None, list[Party], PlayerUpdates]:
        """The combined update, who is in it, and each client's (update, weight)."""
        rows, weights, who = [], [], []
        for party in fitters:
            rep = replies[party]
            try:
                delta = self.layout.flatten(rep["update"])
                n = rep["num_samples"]
            except (ProtocolError, KeyError, TypeError):
                continue  # a malformed update drops that client from the round
            if not isinstance(n, int) or n <= 0:
                continue
            if self.params.dp is not None:
                delta, n = clip(delta, self.params.dp.clip_norm), 1
            rows.append(delta)
            weights.append(float(n))
            who.append(party)
        if not rows:
            return None, [], {}
        combined = self.strategy.combine(np.stack(rows), np.asarray(weights))
        each = {str(p): (d, w) for p, d, w in zip(who, rows, weights, strict=True)}
        return self._server_noise(combined, len(rows)), who, each

    def secure(self, result: SecureSum | None) -> tuple[Vector | None, list[Party]]:
        sa = self.params.secagg
        if sa is None or result is None:
            return None, []
        sums = decode(result.total, sa.frac_bits, sa.modulus_bits)
        if sums[-1] <= 0:
            return None, []
        combined: Vector = sums[:-1] / sums[-1]
        return self._server_noise(combined, len(result.participants)), result.participants

    def groups(self, sums: dict[str, Any] | None) -> PlayerUpdates | None:
        """Each contribution group's mean update and weight from its secure sum."""
        sa = self.params.secagg
        if sa is None or sums is None:
            return None
        out: PlayerUpdates = {}
        for name, total in sums.items():
            decoded = decode(total, sa.frac_bits, sa.modulus_bits)
            if decoded[-1] <= 0:
                return None
            out[name] = (decoded[:-1] / decoded[-1], float(decoded[-1]))
        return out

    def _server_noise(self, mean: Vector, count: int) -> Vector:
        dp = self.params.dp
        if dp is None or dp.noise != "server":
            return mean
        out: Vector = mean + gaussian_noise(mean.size, dp.noise_multiplier * dp.clip_norm) / count
        return out


def _instruction(fit: bool, weights: dict[str, Any], mu: float,
                 secagg: dict[str, Any] | None) -> dict[str, Any]:
    msg = {"task": TASK_FIT if fit else TASK_EVALUATE, "weights": weights, "proximal_mu": mu}
    return msg if secagg is None else {**msg, "secagg": secagg}


def _utility(model: Model, layout: ParamLayout, validation: tuple[Any, Any],
             metric: str) -> Callable[[Vector], float]:
    """A weight vector's score on the aggregator's validation rows (higher is better): the
    negative validation loss, or the accuracy."""
    def score(vec: Vector) -> float:
        model.set_weights(layout.unflatten(vec))
        metrics = model.evaluate(*validation)
        return float(-metrics["loss"] if metric == "loss" else metrics[metric])
    return score


def run_aggregator(ctx: Context, model: Model, strategy: Strategy,
                   params: HorizontalParams, *,
                   validation: tuple[Any, Any] | None = None) -> GlobalModel:
    """Run ``params.rounds`` rounds with every non-arbiter party as a client; return the model.

    ``model`` supplies the initial weights and the architecture description. With
    ``params.contribution`` and the aggregator's own ``validation`` rows ``(x, y)``, each
    client's (group's) contribution is measured from the round updates
    (:mod:`.contribution`) and returned in ``GlobalModel.contributions``.
    """
    clients = ctx.peers()
    per_round = _check(params, strategy, clients)
    layout = ParamLayout.of(model.get_weights())
    vec = layout.flatten(model.get_weights())
    sampler = np.random.default_rng(params.seed)  # sampling is public, not secret
    samples = [{clients[i] for i in sampler.choice(len(clients), per_round, replace=False)}
               for _ in range(params.rounds)]
    accountant = PrivacyAccountant(params.dp, per_round, len(clients)) if params.dp else None
    rounds = _Round(params, strategy, layout)
    session = None
    if params.secagg is not None:  # mask keys, once per job
        session = ServerSession(layout.size + 1, params.secagg, params.client_timeout)
        session.setup(ctx.sub("secagg_setup"), clients)
    history: list[RoundRecord] = []
    alg = digest_alg(params.suite)  # recorded with each round's digest under sm only
    tracker, groups = None, None
    if params.contribution is not None and validation is not None:
        groups = groups_of([str(c) for c in clients], params.contribution.group_size,
                           params.seed)
        tracker = ContributionLog(params.contribution, groups, params.suite)
    round_ctxs = [rctx for _, rctx in ctx.sub("round").iter(params.rounds)]
    resumed = False  # a fallback signal took the key of the next instruction
    for r, rctx in enumerate(round_ctxs):
        chosen = samples[r]
        plan: dict[Party, Any] = {}
        if session is not None:
            grouped = session.plan_groups(chosen, groups) if groups is not None else None
            plan = grouped if grouped is not None else session.plan(chosen)
        fit = chosen if session is None else set(plan)
        current = layout.unflatten(vec)
        send_each(rctx.sub("resumed") if resumed else rctx,
                  {c: _instruction(c in fit, current, strategy.proximal_mu, plan.get(c))
                   for c in clients}, ROUND)
        replies = gather_until(rctx, clients, REPLY, params.client_timeout)
        metrics = average_metrics(replies.values())
        for name, value in metrics.items():
            ctx.log_metric(f"val_{name}", value, step=r)
        resumed = False
        measured: PlayerUpdates | None = None
        if session is None:
            update, participants, each = rounds.plain(replies, [c for c in clients
                                                                if c in fit and c in replies])
            measured = _by_group(each, groups) if groups is not None else None
        else:
            session.learn(replies)
            result, arrived = session.collect(plan, replies)
            if result is not None and groups is not None:
                measured = rounds.groups(session.group_sums(plan, replies, groups))
            if result is None and len(arrived) >= 2:
                # tell every client before anything else, then re-run with the survivors
                after = (round_ctxs[r + 1], ROUND) if r + 1 < params.rounds else (ctx, FINAL)
                send_each(after[0], {c: fallback_signal(c in arrived) for c in clients},
                          after[1])
                resumed = True
                result = session.fallback(rctx.sub("fallback"), arrived)
            update, participants = rounds.secure(result)
        applied = update is not None and len(participants) >= params.min_clients
        if tracker is not None:
            tracker.add(vec, measured if applied else None)
        if applied and update is not None:
            candidate = strategy.apply(vec, update)
            applied = bool(np.isfinite(candidate).all())
            vec = candidate if applied else vec
        # a round that formed no sum released nothing; any sum formed is charged, applied or not
        epsilon = None if accountant is None else \
            accountant.step(len(participants)) if update is not None else accountant.epsilon()
        if epsilon is not None:
            ctx.log_metric("epsilon", epsilon, step=r)
        ctx.log_metric("participants", float(len(participants)), step=r)
        history.append(RoundRecord(r, sorted(str(c) for c in chosen),
                                   [str(p) for p in participants], applied, metrics, epsilon,
                                   model_digest(vec, params.suite),
                                   None if alg == "sha256" else alg))
    final = layout.unflatten(vec)
    send_each(ctx.sub("resumed") if resumed else ctx, {c: {"weights": final} for c in clients},
              FINAL)
    final_metrics = average_metrics(gather_until(ctx, clients, FINAL_REPORT,
                                                 params.client_timeout).values())
    for name, value in final_metrics.items():
        ctx.log_metric(f"val_{name}", value, step=params.rounds)
    scores = None
    if tracker is not None and validation is not None:
        scores = tracker.scores(_utility(model, layout, validation, tracker.config.utility))
    return GlobalModel(model.describe(), final, history, final_metrics, scores)
