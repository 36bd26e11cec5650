"""SecureBoost guest: holds labels and the HE key (OU or Paillier), grows the trees, keeps leaf weights.

Cheng et al., "SecureBoost: A Lossless Federated Learning Framework", IEEE Intelligent
Systems 36(6), 2021. What the guest learns: each host candidate's left-child (G, H) sums and
hence its gain, but not its feature or threshold (hosts shuffle candidates with a fresh
permutation per node); the go-left side of every row at the nodes a host won (the instance
space partition, as in the paper); the number of candidates each host offers per node. It
never receives host feature values or thresholds. What it sends: the public key, packed
encryptions of (g, h) under ``he_scheme``, node membership of rows, and each host its own winning
candidate indices. Leaf weights, gains and labels stay here.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from coalition.core import Context, InputError, ProtocolError
from coalition.crypto import he
from coalition.protocols.secureboost.artifact import guest_artifact, load_guest
from coalition.protocols.secureboost.binning import BinMapper
from coalition.protocols.secureboost.objectives import (
    gradients,
    init_score,
    loss,
    transform,
    validate_labels,
)
from coalition.protocols.secureboost.packing import GHPacker
from coalition.protocols.secureboost.predict import guest_leaves, node_go_left, unpack_bits
from coalition.protocols.secureboost.prefetch import ZeroPrefetcher
from coalition.protocols.secureboost.sampling import RowSampler, sample_rows, sample_size
from coalition.protocols.secureboost.spec import (
    GRADIENTS,
    HISTOGRAMS,
    NODES,
    PUBLIC_KEY,
    SETUP,
    SPLITS,
    VALID_BITS,
    WINNERS,
    SecureBoostParams,
)
from coalition.protocols.secureboost.splitting import Best, best_candidate, own_candidates
from coalition.protocols.secureboost.tree import GUEST_OWNER, Node, Tree, left_child, walk

__all__ = ["SecureBoostGuest"]

FloatArray = np.ndarray[Any, np.dtype[np.float64]]
IntArray = np.ndarray[Any, np.dtype[np.int64]]


class SecureBoostGuest:
    """The guest role. ``fit`` trains with every host in ``ctx.hosts``; ``predict`` infers."""

    def __init__(self, params: SecureBoostParams) -> None:
        self.params = params
        self.trees_: list[Tree] = []
        self.init_score_: FloatArray = np.zeros(1)
        self.best_iteration_: int | None = None
        self.valid_loss_: list[float] = []
        self.tree_seconds_: list[float] = []
        self._gain: dict[str, float] = {}
        self._count: dict[str, int] = {}
        self._sk: he.PrivateKey | None = None

    # -- training -------------------------------------------------------------------------
    def fit(self, ctx: Context, X: np.ndarray[Any, Any], y: np.ndarray[Any, Any],
            X_valid: np.ndarray[Any, Any] | None = None,
            y_valid: np.ndarray[Any, Any] | None = None) -> SecureBoostGuest:
        """Train on the guest's columns ``X`` and labels ``y`` with the hosts' columns."""
        p = self.params
        yv = validate_labels(p.objective, y, p.num_class)
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[0] != yv.size:
            raise InputError("X must be 2-D with one row per label", rows=X.shape[0], labels=yv.size)
        if (X_valid is None) != (y_valid is None):
            raise InputError("X_valid and y_valid go together")
        if p.early_stopping_rounds and X_valid is None:
            raise InputError("early stopping needs a validation set")
        self._mapper = BinMapper.fit(X, p.max_bin)
        self._bins = self._mapper.transform(X)
        Xv = None if X_valid is None else np.asarray(X_valid, dtype=np.float64)
        yvv = None if y_valid is None else validate_labels(p.objective, y_valid, p.num_class)
        pk, self._sk = he.generate_keypair(p.he_scheme, p.key_bits,
                                           allow_insecure=p.allow_insecure_key)
        ctx.send(ctx.hosts, PUBLIC_KEY, pk)
        ctx.send(ctx.hosts, SETUP, {"params": p.wire_subset(), "n_rows": int(yv.size),
                                    "n_valid": 0 if Xv is None else int(Xv.shape[0])})
        # Row sampling keys its own stream from secrets; the job's ``seed`` is public (ignored).
        self._sampling = RowSampler(p.suite)
        self.init_score_ = init_score(p.objective, yv, p.num_class)
        score = np.tile(self.init_score_, (yv.size, 1))
        vscore = None if Xv is None else np.tile(self.init_score_, (Xv.shape[0], 1))
        self._gain, self._count = {}, {}
        trees: list[Tree] = []
        tctx = ctx.sub("tree")
        self._prefetch = ZeroPrefetcher(self._key(), ctx.executor)
        try:
            best_round = self._boost(ctx, tctx, yv=yv, score=score, trees=trees, Xv=Xv,
                                     yvv=yvv, vscore=vscore)
        finally:
            self._prefetch.close()
            del self._prefetch  # holds a thread: a fitted model stays picklable
            self._sk = None  # one key per training run; inference needs no decryption
        kept_rounds = best_round + 1 if p.early_stopping_rounds else len(trees) // p.trees_per_round
        self.best_iteration_ = best_round if Xv is not None else None
        self.trees_ = trees[: kept_rounds * p.trees_per_round]
        tctx.sub(str(len(trees))).send(ctx.hosts, GRADIENTS,
                                       {"stop": True, "n_trees": len(self.trees_)})
        return self

    def _boost(self, ctx: Context, tctx: Context, *, yv: FloatArray, score: FloatArray,
               trees: list[Tree], Xv: FloatArray | None, yvv: FloatArray | None,
               vscore: FloatArray | None) -> int:
        """Boosting rounds; returns the best validation round (or the last round)."""
        p = self.params
        best_loss, best_round = np.inf, 0
        last = p.num_trees * p.trees_per_round - 1
        for rnd in range(p.num_trees):
            g, h = gradients(p.objective, yv, score)
            for k in range(p.trees_per_round):
                t, started = len(trees), time.perf_counter()
                tree, pos = self._grow(tctx.sub(str(t)), g[:, k], h[:, k], k,
                                       prefetch=t < last)
                weights = np.zeros(2 ** (p.max_depth + 1))
                for nid, node in tree.nodes.items():
                    weights[nid] = node.weight
                score[:, k] += weights[pos]
                if Xv is not None and vscore is not None:
                    vpos = self._valid_leaves(tctx.sub(str(t)), tree, Xv)
                    vscore[:, k] += weights[vpos]
                trees.append(tree)
                self.tree_seconds_.append(time.perf_counter() - started)
            if Xv is not None and vscore is not None and yvv is not None:
                vl = loss(p.objective, yvv, vscore)
                self.valid_loss_.append(vl)
                ctx.log_metric("valid_loss", vl, step=rnd)
                if vl < best_loss - 1e-12:
                    best_loss, best_round = vl, rnd
                elif p.early_stopping_rounds and rnd - best_round >= p.early_stopping_rounds:
                    break
            else:
                best_round = rnd
            ctx.log_metric("train_loss", loss(p.objective, yv, score), step=rnd)
        return best_round

    def _grow(self, tctx: Context, g: FloatArray, h: FloatArray, klass: int, *,
              prefetch: bool) -> tuple[Tree, IntArray]:
        p, sk, n = self.params, self._key(), g.size
        words = self._sampling.next_words(n)
        rows, mult = sample_rows(p, g, words)
        gs, hs = g[rows] * mult, h[rows] * mult
        packer = GHPacker.fit(gs, hs, capacity_bits=he.packing_bits(sk.public_key),
                              precision_bits=p.precision_bits)
        enc = self._prefetch.encrypt(packer.encode_rows(gs, hs),
                                     prefetch=sample_size(p, n) if prefetch else 0)
        tctx.send(tctx.hosts, GRADIENTS, {"stop": False, "rows": rows, "enc": enc,
                                          "slot_bits": packer.slot_bits, "slots": packer.slots})
        gf, hf, sampled = np.zeros(n), np.zeros(n), np.zeros(n, dtype=np.bool_)
        gf[rows], hf[rows], sampled[rows] = gs, hs, True
        tree, pos = Tree(klass=klass), np.zeros(n, dtype=np.int64)
        active = [0] if self._splittable(hf[sampled]) else []
        for depth, lctx in tctx.sub("level").iter(p.max_depth):
            lctx.send(lctx.hosts, NODES, {"nodes": active, "pos": pos})
            if not active:
                break
            members = {nid: np.nonzero((pos == nid) & sampled)[0] for nid in active}
            best = self._best_splits(lctx, packer, members, gf, hf)
            for host in lctx.hosts:
                lctx.send(host, WINNERS, {nid: b.index for nid, b in best.items()
                                          if b.owner == host.name})
            go_left = {nid: self._own_split(tree, nid, b.index, pos)
                       for nid, b in best.items() if b.owner == GUEST_OWNER}
            for host in lctx.hosts:
                for nid_raw, bits in lctx.recv(host, SPLITS).items():
                    nid = int(nid_raw)
                    if nid not in best or best[nid].owner != host.name:
                        raise ProtocolError("host answered for a node it did not win", node=nid)
                    go_left[nid] = unpack_bits(bits, int((pos == nid).sum()))
            active = []
            for nid, b in best.items():
                if nid not in go_left:
                    raise ProtocolError("no split decision for a won node", node=nid)
                self._record(tree, nid, b)
                here = np.nonzero(pos == nid)[0]
                lc = left_child(nid)
                pos[here] = np.where(go_left[nid], lc, lc + 1)
                if depth + 1 < p.max_depth:
                    active += [c for c in (lc, lc + 1)
                               if self._splittable(hf[(pos == c) & sampled])]
        for nid, node in tree.nodes.items():
            if node.is_leaf:
                in_leaf = (pos == nid) & sampled
                node.weight = float(-p.learning_rate * gf[in_leaf].sum()
                                    / (hf[in_leaf].sum() + p.reg_lambda))
        return tree, pos

    def _key(self) -> he.PrivateKey:
        if self._sk is None:
            raise ProtocolError("no key: fit has not started")
        return self._sk

    def _splittable(self, h_node: FloatArray) -> bool:
        p = self.params
        return bool(h_node.size >= 2 * p.min_samples_leaf
                    and h_node.sum() >= 2 * p.min_child_weight)

    def _best_splits(self, lctx: Context, packer: GHPacker, members: dict[int, IntArray],
                     gf: FloatArray, hf: FloatArray) -> dict[int, Best]:
        p, mb = self.params, self._mapper.missing_bin
        nodes = list(members)
        totals = {nid: (float(gf[r].sum()), float(hf[r].sum())) for nid, r in members.items()}
        found: dict[int, Best] = {}
        self._own: dict[int, tuple[IntArray, IntArray, Any]] = {}
        for nid, r in members.items():
            feats, bb, ml, GL, HL = own_candidates(self._bins[r], gf[r], hf[r], mb,
                                                   p.min_samples_leaf)
            self._own[nid] = (feats, bb, ml)
            i, gain = best_candidate(GL, HL, *totals[nid], p)
            if i is not None:
                found[nid] = Best(gain, GUEST_OWNER, i)
        for host in lctx.hosts:
            msg = lctx.recv(host, HISTOGRAMS)
            counts = [int(c) for c in msg["counts"]]
            if [int(x) for x in msg["nodes"]] != nodes or min(counts, default=0) < 0:
                raise ProtocolError("host histograms do not match the active nodes",
                                    host=str(host))
            total = sum(counts)
            values: Any = (self._key().decrypt_signed_int(msg["packed"], executor=lctx.executor)
                           if total else [])
            if total and len(values) * packer.slots < total:
                raise ProtocolError("host sent fewer packed sums than announced", host=str(host))
            GL_all, HL_all = packer.decode_packed(values, total)
            offset = 0
            for nid, c in zip(nodes, counts, strict=True):
                GL, HL = GL_all[offset:offset + c], HL_all[offset:offset + c]
                offset += c
                i, gain = best_candidate(GL, HL, *totals[nid], p)
                if i is not None and (nid not in found or gain > found[nid].gain):
                    found[nid] = Best(gain, host.name, i)
        return found

    def _own_split(self, tree: Tree, nid: int, index: int, pos: IntArray) -> np.ndarray[Any, Any]:
        feats, bb, ml = self._own[nid]
        f, b, miss_left = int(feats[index]), int(bb[index]), bool(ml[index])
        node = tree.nodes[nid]
        node.feature, node.default_left = f, miss_left
        node.threshold = self._mapper.threshold(f, b)
        col = self._bins[pos == nid, f]
        return np.where(col == self._mapper.missing_bin, miss_left, col <= b)

    def _record(self, tree: Tree, nid: int, best: Best) -> None:
        node = tree.nodes[nid]
        node.is_leaf, node.owner, node.gain = False, best.owner, best.gain
        lc = left_child(nid)
        tree.nodes[lc], tree.nodes[lc + 1] = Node(lc), Node(lc + 1)
        key = f"guest:f{node.feature}" if best.owner == GUEST_OWNER else f"host:{best.owner}"
        self._count[key] = self._count.get(key, 0) + 1
        self._gain[key] = self._gain.get(key, 0.0) + best.gain

    def _valid_leaves(self, tctx: Context, tree: Tree, Xv: FloatArray) -> IntArray:
        bits: dict[tuple[str, int], np.ndarray[Any, Any]] = {}
        for host in tctx.hosts:
            for nid, packed in tctx.recv(host, VALID_BITS).items():
                bits[(host.name, int(nid))] = unpack_bits(packed, Xv.shape[0])

        def go_left(_t: int, node: Node) -> np.ndarray[Any, Any]:
            if node.owner == GUEST_OWNER:
                return node_go_left(node, Xv)
            return bits[(node.owner, node.id)]

        leaves: IntArray = walk([tree], Xv.shape[0], go_left)[:, 0]
        return leaves

    # -- inference --------------------------------------------------------------------------
    def predict_raw(self, ctx: Context, X: np.ndarray[Any, Any]) -> FloatArray:
        """Margins ``(rows, k)``; every host must run ``SecureBoostHost.predict`` on the rows."""
        leaves = guest_leaves(ctx, self.trees_, X)
        score = np.tile(self.init_score_, (leaves.shape[0], 1))
        for t, tree in enumerate(self.trees_):
            w = np.zeros(2 ** (self.params.max_depth + 1))
            for nid, node in tree.nodes.items():
                w[nid] = node.weight
            score[:, tree.klass] += w[leaves[:, t]]
        return score

    def predict(self, ctx: Context, X: np.ndarray[Any, Any]) -> FloatArray:
        """Positive-class probability, class probabilities, or regression values."""
        return transform(self.params.objective, self.predict_raw(ctx, X))

    def feature_importance(self) -> dict[str, dict[str, float]]:
        """Split count and total gain per guest feature (``guest:f<i>``) and per host."""
        return {"split": {k: float(v) for k, v in sorted(self._count.items())},
                "gain": dict(sorted(self._gain.items()))}

    # -- artifacts --------------------------------------------------------------------------
    def to_artifact(self) -> dict[str, Any]:
        """The guest's model part (no host thresholds: those never reached the guest)."""
        return guest_artifact(self.params, self.init_score_, self.trees_,
                              {"importance": self.feature_importance()})

    @classmethod
    def from_artifact(cls, data: dict[str, Any]) -> SecureBoostGuest:
        """Rebuild a guest model part for inference."""
        params, init, trees = load_guest(data)
        model = cls(params)
        model.init_score_, model.trees_ = init, trees
        imp = data.get("importance", {})
        model._count = {k: int(v) for k, v in imp.get("split", {}).items()}
        model._gain = {k: float(v) for k, v in imp.get("gain", {}).items()}
        return model

