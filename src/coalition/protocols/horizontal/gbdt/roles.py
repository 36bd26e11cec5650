"""Aggregator and client roles of horizontal histogram GBDT.

Every sum below goes through the job-long SecAgg session of
:mod:`coalition.protocols.horizontal.secagg.session` (fast path; the full Bonawitz et al.
protocol when a client drops), one secure sum per step, each step's masks separated by its
index. Steps: ``range`` and ``sketch`` (bin edges, :mod:`.binning`), then per tree one ``hist``
step per level: each client bins its rows, routes them down the tree so far, computes the
logloss gradients ``p − y`` and hessians ``p(1 − p)`` of its rows and sends the masked
``(g, h, count)`` histogram of every open node; the aggregator picks the splits on the sum.

Who learns what:

* **the aggregator** learns, summed over the clients of each step: the row and positive
  counts, each feature's coarse range and fine histogram (:mod:`.binning`), and per tree node
  the gradient, hessian and row-count histograms. It never receives a client's own
  histogram, row or label (recorded-wire test);
* **clients** learn the bin edges, the base score and every tree (thresholds, leaf values);
  these are the published model;
* nobody learns which client holds which rows or values.

With ``dp_noise_multiplier`` every client adds its share of Gaussian noise to every vector
before masking, and the aggregator reports the (ε, δ) row-level DP of the whole training
(:mod:`.privacy`).

Semi-honest aggregator, as SecAgg's fast path assumes. A client must take part in every step
(its rows are in the model); one that drops is left out of the sums from then on.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from coalition.core import ConfigError, Context, InputError, Party, ProtocolError
from coalition.protocols.horizontal.collect import gather_until, send_each
from coalition.protocols.horizontal.dp import gaussian_noise
from coalition.protocols.horizontal.gbdt import binning
from coalition.protocols.horizontal.gbdt.privacy import StepAccountant, sensitivity
from coalition.protocols.horizontal.gbdt.spec import REPLY, STEP, GBDTParams
from coalition.protocols.horizontal.gbdt.trees import GBDTModel, Tree, best_split
from coalition.protocols.horizontal.secagg.quantize import decode, encode
from coalition.protocols.horizontal.secagg.session import (
    ClientSession,
    ServerSession,
    fallback_signal,
)

__all__ = ["run_gbdt_client", "run_gbdt_server"]

Floats = NDArray[np.float64]


class _SecureSteps:
    """The aggregator's sequence of secure sums, each under ``step/i``."""

    def __init__(self, ctx: Context, clients: list[Party], params: GBDTParams) -> None:
        self.ctx, self.clients, self.params = ctx.sub("step"), clients, params
        self.session = ServerSession(1, params.secagg, params.client_timeout)
        self.session.setup(ctx.sub("secagg_setup"), clients)
        self.index, self.resumed = 0, False
        self.accountant = None if params.dp_noise_multiplier is None else StepAccountant(
            params.dp_noise_multiplier, params.dp_delta, len(clients))

    def _send_ctx(self) -> Context:
        sctx = self.ctx.sub(str(self.index))
        return sctx.sub("resumed") if self.resumed else sctx

    def sum(self, payload: dict[str, Any], length: int) -> Floats:
        """Send ``payload`` to every client and return the secure sum of their vectors."""
        sctx = self.ctx.sub(str(self.index))
        plan = self.session.plan(self.clients)
        if not plan:
            raise ProtocolError("horizontal GBDT needs two clients with SecAgg keys")
        send_each(self._send_ctx(), {c: payload | {"secagg": plan.get(c)} for c in self.clients},
                  STEP)
        replies = gather_until(sctx, self.clients, REPLY, self.params.client_timeout)
        self.session.learn(replies)
        self.session.length = length
        result, arrived = self.session.collect(plan, replies)
        self.resumed = False
        self.index += 1
        if result is None and len(arrived) >= 2:
            send_each(self.ctx.sub(str(self.index)),
                      {c: fallback_signal(c in arrived) for c in self.clients}, STEP)
            self.resumed = True
            result = self.session.fallback(sctx.sub("fallback"), arrived)
        if result is None:
            raise ProtocolError("secure sum failed: too few clients answered", step=self.index)
        if self.accountant is not None:
            self.accountant.step(len(result.participants))
        sa = self.params.secagg
        return decode(result.total, sa.frac_bits, sa.modulus_bits)

    def finish(self, payload: dict[str, Any]) -> None:
        """The last instruction (no sum)."""
        send_each(self._send_ctx(), dict.fromkeys(self.clients, payload), STEP)


def run_gbdt_server(ctx: Context, n_features: int, params: GBDTParams) -> GBDTModel:
    """The aggregator (the job's arbiter; every other party is a client): agree the bins, grow
    ``n_trees`` trees on securely summed histograms, send the model to every client."""
    clients = ctx.peers()
    if len(clients) < 2:
        raise ConfigError("horizontal GBDT needs at least two clients (secure aggregation)")
    f, cells, bins = n_features, params.sketch_cells, params.max_bins
    steps = _SecureSteps(ctx, clients, params)
    noisy = params.dp_noise_multiplier is not None
    first = steps.sum({"kind": "range"}, 2 + f * binning.RANGE_CELLS)
    n_rows, n_pos = first[0], first[1]
    if noisy:  # noisy counts: keep the base rate inside (0, 1)
        n_pos = min(max(n_pos, 0.5), n_rows - 0.5)
    if n_rows < 1 or not 0 < n_pos < n_rows:
        raise InputError("horizontal GBDT needs rows of both classes")
    noise = None if params.dp_noise_multiplier is None else \
        params.dp_noise_multiplier * sensitivity("range", f)
    lo, hi = binning.range_from_counts(first[2:].reshape(f, binning.RANGE_CELLS), noise)
    sketch = steps.sum({"kind": "sketch", "lo": lo.tolist(), "hi": hi.tolist()}, f * cells)
    edges = binning.edges_from_sketch(sketch.reshape(f, cells), lo, hi, bins, noisy=noisy)
    base = math.log(n_pos / (n_rows - n_pos))
    ctx.log_metric("rows", float(round(n_rows)))
    trees: list[Tree] = []
    for t in range(params.n_trees):
        tree = Tree(params.max_depth)
        active: list[int] = [0]
        splits: list[list[int]] = []
        for depth in range(params.max_depth):
            if not active:
                break
            payload: dict[str, Any] = {"kind": "hist", "active": active, "splits": splits,
                                       "tree": trees[-1].to_dict() if depth == 0 and trees
                                       else None}
            if t == 0 and depth == 0:
                payload |= {"edges": [e.tolist() for e in edges], "base": base}
            hist = steps.sum(payload, len(active) * f * bins * 3)
            hist = hist.reshape(len(active), f, bins, 3)
            if noisy:  # hessians and counts are never negative
                hist[..., 1:] = np.maximum(hist[..., 1:], 0.0)
            active, splits = _grow(tree, active, hist, edges, params, last=depth + 1 ==
                                   params.max_depth)
        trees.append(tree)
        ctx.log_metric("trees", float(t + 1), step=t)
    model = GBDTModel(f, base, trees, [e.tolist() for e in edges])
    if steps.accountant is not None:
        model.metrics = {"epsilon": steps.accountant.epsilon(), "delta": params.dp_delta}
        ctx.log_metric("epsilon", model.metrics["epsilon"])
    steps.finish({"kind": "final", "model": model.to_artifact()})
    return model


def _leaf(tree: Tree, node: int, g: float, h: float, params: GBDTParams) -> None:
    tree.feature[node] = -1
    tree.value[node] = -params.learning_rate * g / (max(h, 0.0) + params.l2)


def _grow(tree: Tree, active: list[int], hist: Floats, edges: list[Floats],
          params: GBDTParams, *, last: bool) -> tuple[list[int], list[list[int]]]:
    """Split (or close) each open node; return the next level's open nodes and the splits."""
    nxt: list[int] = []
    splits: list[list[int]] = []
    bins = hist.shape[2]
    sizes = np.array([len(e) for e in edges])  # feature f has sizes[f] + 1 bins
    hist[:, np.arange(bins)[None, :] > sizes[:, None]] = 0.0  # bins that do not exist
    allowed = np.arange(bins - 1)[None, :] < sizes[:, None]
    for pos, node in enumerate(active):
        h = hist[pos]
        split = best_split(h, params.l2, params.min_samples_leaf, params.min_child_weight,
                           allowed)
        if split is None:
            # each feature's bins sum to the node's totals: their mean averages out DP noise
            g, hh = h[:, :, 0].sum(axis=1).mean(), h[:, :, 1].sum(axis=1).mean()
            _leaf(tree, node, float(g), float(hh), params)
            continue
        tree.feature[node] = split.feature
        tree.bin_index[node] = split.bin_index
        tree.threshold[node] = float(edges[split.feature][split.bin_index])
        left, right = 2 * node + 1, 2 * node + 2
        splits.append([node, split.feature, split.bin_index])
        if last:
            _leaf(tree, left, *split.left, params)
            _leaf(tree, right, *split.right, params)
        else:
            nxt += [left, right]
    return nxt, splits


class _ClientState:
    """One client's rows as the trees see them: bins, node of each row, raw scores."""

    def __init__(self, x: Floats, y: NDArray[Any], params: GBDTParams) -> None:
        self.x, self.y, self.params = x, y.astype(np.float64), params
        self.bins: NDArray[np.int64] | None = None
        self.score = np.zeros(len(y))
        self.node = np.zeros(len(y), dtype=np.int64)
        self.edges: list[Floats] = []

    def range(self, _msg: dict[str, Any]) -> Floats:
        counts = binning.range_counts(self.x).ravel()
        return np.concatenate([[float(len(self.y)), float(self.y.sum())], counts])

    def sketch(self, msg: dict[str, Any]) -> Floats:
        f = self.x.shape[1]
        lo, hi = _floats(msg.get("lo"), f), _floats(msg.get("hi"), f)
        return binning.sketch_counts(self.x, lo, hi, self.params.sketch_cells).ravel()

    def hist(self, msg: dict[str, Any]) -> Floats:
        f, bins = self.x.shape[1], self.params.max_bins
        if "edges" in msg:
            self._start(msg)
        if self.bins is None:
            raise ProtocolError("histogram step before the bin edges")
        if isinstance(msg.get("tree"), dict):
            self.score += Tree.from_dict(msg["tree"], f).predict(self.x)
        if not msg.get("splits"):  # a new tree: every row at the root
            self.node[:] = 0
        for node, feat, b in _splits(msg.get("splits"), f, bins):
            if node >= 2 ** self.params.max_depth - 1:
                raise ProtocolError("malformed splits")
            at = self.node == node
            self.node[at] = 2 * node + np.where(self.bins[at, feat] <= b, 1, 2)
        active = msg.get("active")
        size = 2 ** (self.params.max_depth + 1)
        if not isinstance(active, list) or not active \
                or not all(isinstance(a, int) and 0 <= a < size for a in active):
            raise ProtocolError("malformed histogram step")
        pos = np.full(size, -1, dtype=np.int64)
        pos[np.asarray(active, dtype=np.int64)] = np.arange(len(active))
        p = 1.0 / (1.0 + np.exp(-self.score))
        grad, hess = p - self.y, p * (1.0 - p)
        where = pos[self.node]
        rows = where >= 0
        key = ((where[rows, None] * f + np.arange(f)) * bins + self.bins[rows]).ravel()
        length = len(active) * f * bins
        out = np.zeros((length, 3))
        for k, w in enumerate((grad[rows], hess[rows], np.ones(int(rows.sum())))):
            out[:, k] = np.bincount(key, weights=np.repeat(w, f), minlength=length)
        flat: Floats = out.ravel()
        return flat

    def _start(self, msg: dict[str, Any]) -> None:
        f, bins = self.x.shape[1], self.params.max_bins
        edges = msg["edges"]
        if not isinstance(edges, list) or len(edges) != f:
            raise ProtocolError("malformed bin edges")
        self.edges = [_floats(e, None) for e in edges]
        if any(e.size >= bins or (np.diff(e) <= 0).any() for e in self.edges):
            raise ProtocolError("malformed bin edges")
        self.bins = binning.bin_rows(self.x, self.edges)
        self.score[:] = float(msg.get("base", 0.0))


def _floats(value: Any, n: int | None) -> Floats:
    try:
        out = np.asarray(value, dtype=np.float64).ravel()
    except (TypeError, ValueError) as exc:
        raise ProtocolError("malformed numbers in a GBDT step") from exc
    if (n is not None and out.size != n) or not np.isfinite(out).all():
        raise ProtocolError("malformed numbers in a GBDT step")
    return out


def _splits(value: Any, f: int, bins: int) -> list[tuple[int, int, int]]:
    if value is None:
        return []
    try:
        out = [(int(a), int(b), int(c)) for a, b, c in value]
    except (TypeError, ValueError) as exc:
        raise ProtocolError("malformed splits") from exc
    if any(not (a >= 0 and 0 <= b < f and 0 <= c < bins) for a, b, c in out):
        raise ProtocolError("malformed splits")
    return out


def run_gbdt_client(ctx: Context, x: Floats, y: NDArray[Any], params: GBDTParams) -> GBDTModel:
    """Take part in every step the aggregator (the job's arbiter) runs; return the model."""
    server = ctx.arbiter
    if server is None:
        raise ConfigError("horizontal GBDT needs an aggregator (arbiter party)")
    if x.ndim != 2 or y.shape != (x.shape[0],) or not np.isin(y, (0, 1)).all():
        raise InputError("horizontal GBDT needs 2-d features and 0/1 labels of the same rows")
    if not np.isfinite(x).all():
        raise InputError("features contain NaN or infinity")
    state = _ClientState(np.asarray(x, dtype=np.float64), y, params)
    sa = params.secagg
    session = ClientSession(str(ctx.party), ctx.namespace, sa.modulus_bits, sa.suite)
    session.join(ctx.sub("secagg_setup"), server)
    handlers: dict[str, Callable[[dict[str, Any]], Floats]] = {
        "range": state.range, "sketch": state.sketch, "hist": state.hist}
    steps, previous = ctx.sub("step"), None
    population = len(ctx.peers()) - 1
    for i in range(1_000_000):
        sctx = steps.sub(str(i))
        msg = session.instruction(sctx, STEP, server, previous)
        if not isinstance(msg, dict) or msg.get("kind") not in (*handlers, "final"):
            raise ProtocolError("malformed GBDT step", step=i)
        if msg["kind"] == "final":
            return GBDTModel.from_artifact(msg.get("model", {}))
        vector = handlers[msg["kind"]](msg)
        if params.dp_noise_multiplier is not None:  # this client's share of the step's noise
            std = params.dp_noise_multiplier * sensitivity(msg["kind"], x.shape[1])
            vector = vector + gaussian_noise(vector.size, std / math.sqrt(population))
        encoded = encode(vector, sa.frac_bits, sa.modulus_bits, max_summands=population) \
            if msg.get("secagg") is not None else None
        sctx.send(server, REPLY, {"secagg": session.reply(i, msg.get("secagg"), encoded)})
        previous = sctx
    raise ProtocolError("too many GBDT steps")
