"""Client role of horizontal FL: evaluate the global model, train locally, send the update.

Leakage: the client's rows never leave it. Per round it sends its validation metrics and
validation row count, and — if sampled — either its model update and training row count in the
clear (plain mode) or only a masked share of the secure sum (SecAgg). With DP the update is
clipped (and, with ``noise="client"``, noised) before it leaves.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from coalition.core import ConfigError, Context, Party, ProtocolError
from coalition.protocols.horizontal.artifact import GlobalModel
from coalition.protocols.horizontal.dp import clip, gaussian_noise
from coalition.protocols.horizontal.models.base import Model, TrainConfig
from coalition.protocols.horizontal.secagg.quantize import encode
from coalition.protocols.horizontal.secagg.session import ClientSession
from coalition.protocols.horizontal.spec import (
    FINAL,
    FINAL_REPORT,
    REPLY,
    ROUND,
    TASK_EVALUATE,
    TASK_FIT,
    HorizontalParams,
    LocalData,
)
from coalition.protocols.horizontal.weights import ParamLayout, Vector, Weights

__all__ = ["ClientResult", "run_client"]


@dataclass
class ClientResult:
    """The final global model as this client received it, and its local metrics of it."""

    model: GlobalModel
    rounds_trained: int


def _evaluate(model: Model, data: LocalData) -> dict[str, float]:
    if data.x_val is None or data.y_val is None:
        return {}
    return {k: float(v) for k, v in model.evaluate(data.x_val, data.y_val).items()}


def _parse_round(msg: Any) -> tuple[str, Weights, float, Any]:
    try:
        task, weights, mu = msg["task"], msg["weights"], float(msg["proximal_mu"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ProtocolError("malformed round instruction") from exc
    if task not in (TASK_FIT, TASK_EVALUATE) or not isinstance(weights, dict) or mu < 0:
        raise ProtocolError("malformed round instruction", task=task)
    return task, weights, mu, msg.get("secagg")


def _local_rng(params: HorizontalParams, party: Party, round_no: int) -> np.random.Generator:
    # Reproducible per (job seed, client, round): shuffling is not a secret.
    tag = int.from_bytes(hashlib.sha256(str(party).encode()).digest()[:8], "big")
    return np.random.default_rng([params.seed, round_no, tag])


def _privatise(delta: Vector, params: HorizontalParams, sampled: int) -> Vector:
    dp = params.dp
    if dp is None:
        return delta
    out = clip(delta, dp.clip_norm)
    if dp.noise == "client":
        out = out + gaussian_noise(out.size, dp.noise_multiplier * dp.clip_norm / math.sqrt(sampled))
    return out


def _train(model: Model, data: LocalData, params: HorizontalParams, start_weights: Weights, *,
           mu: float, rng: np.random.Generator) -> tuple[Vector, float]:
    """Local epochs from ``start_weights``: the update ``w_local − w_global`` and the loss."""
    layout = ParamLayout.of(start_weights)
    start = layout.flatten(start_weights)
    config = TrainConfig(params.local_epochs, params.batch_size, params.learning_rate, mu)
    loss = model.fit(data.x, data.y, config, rng)
    out: Vector = layout.flatten(model.get_weights()) - start
    return out, loss


def _quantise(delta: Vector, params: HorizontalParams, weight: int,
              population: int) -> NDArray[np.uint64]:
    """The secure-sum input: the fixed-point update scaled by ``weight``, then ``weight``."""
    sa = params.secagg
    if sa is None:
        raise ConfigError("quantisation needs a secagg configuration")
    return np.concatenate([
        encode(delta, sa.frac_bits, sa.modulus_bits, scale=weight, max_summands=population),
        encode(np.ones(1), sa.frac_bits, sa.modulus_bits, scale=weight, max_summands=population),
    ])


def _min_peers(params: HorizontalParams) -> int:
    """Neighbours a fitting client insists on: its contribution group less itself (capped by
    SecAgg+'s degree), so the aggregator cannot sum a smaller group than the job announced."""
    if params.contribution is None or params.secagg is None:
        return 1
    need, degree = params.contribution.group_size - 1, params.secagg.neighbours
    return max(1, need if degree is None else min(need, degree))


def run_client(ctx: Context, model: Model, data: LocalData, params: HorizontalParams) -> ClientResult:
    """Take part in every round the aggregator (the job's arbiter) runs."""
    aggregator = ctx.arbiter
    if aggregator is None:
        raise ConfigError("horizontal FL needs an aggregator (arbiter party)")
    population = len(ctx.peers()) - 1
    sampled = min(params.clients_per_round or population, population)
    weight = 1 if params.dp is not None else data.num_samples
    trained = 0
    session = None
    if params.secagg is not None:
        session = ClientSession(str(ctx.party), ctx.namespace, params.secagg.modulus_bits,
                                params.secagg.suite)
        session.join(ctx.sub("secagg_setup"), aggregator)
    previous = None
    for r, rctx in ctx.sub("round").iter(params.rounds):
        raw = rctx.recv(aggregator, ROUND) if session is None else \
            session.instruction(rctx, ROUND, aggregator, previous)
        task, incoming, mu, secagg = _parse_round(raw)
        model.set_weights(incoming)
        reply: dict[str, Any] = {"metrics": _evaluate(model, data), "num_val": data.num_val}
        for name, value in reply["metrics"].items():
            rctx.log_metric(f"val_{name}", value, step=r)
        vector = None
        if task == TASK_FIT:
            delta, loss = _train(model, data, params, incoming, mu=mu,
                                 rng=_local_rng(params, ctx.party, r))
            rctx.log_metric("train_loss", loss, step=r)
            delta = _privatise(delta, params, sampled)
            trained += 1
            if session is None:
                reply |= {"update": ParamLayout.of(incoming).unflatten(delta),
                          "num_samples": weight}
            else:
                vector = _quantise(delta, params, weight, population)
        if session is not None:
            reply["secagg"] = session.reply(r, secagg, vector, min_peers=_min_peers(params))
        rctx.send(aggregator, REPLY, reply)
        previous = rctx
    final = ctx.recv(aggregator, FINAL) if session is None else \
        session.instruction(ctx, FINAL, aggregator, previous)
    if not isinstance(final, dict) or not isinstance(final.get("weights"), dict):
        raise ProtocolError("malformed final model")
    model.set_weights(final["weights"])
    metrics = _evaluate(model, data)
    ctx.send(aggregator, FINAL_REPORT, {"metrics": metrics, "num_val": data.num_val})
    return ClientResult(GlobalModel(model.describe(), model.get_weights(), [], metrics), trained)
