"""SecureBoost host: bins its features, answers with encrypted, shuffled split candidates.

What the host learns: the guest's public key; per tree, which rows are sampled and the node of
every row at each level (SecureBoost's instance spaces, Cheng et al. §4); which of its own
shuffled candidates won a node. What it never receives: labels, gradients or hessians in
plaintext (they arrive packed and encrypted under the guest's Paillier or OU key), the guest's
features or thresholds, gains, leaf weights. What it sends: per node, encrypted left-child sums of its candidates in
an order shuffled with a fresh secret permutation and packed several per ciphertext (so the
guest learns each candidate's gain but not its feature or threshold), and, for the nodes it
won, the go-left bit of each row of that node. Thresholds never leave this party.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from coalition.core import Context, Executor, ProtocolError
from coalition.crypto import he
from coalition.crypto.prg import Stream, purpose_info
from coalition.protocols.secureboost import cipher
from coalition.protocols.secureboost import histogram as hist
from coalition.protocols.secureboost.artifact import host_artifact, load_host
from coalition.protocols.secureboost.binning import BinMapper
from coalition.protocols.secureboost.packing import GHPacker
from coalition.protocols.secureboost.predict import (
    HostSplit,
    host_go_left,
    host_predict,
    pack_bits,
)
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
from coalition.protocols.secureboost.tree import candidate_table

__all__ = ["SecureBoostHost"]

SHUFFLE_SALT = b"coalition/secureboost/candidates/v1"

IntArray = np.ndarray[Any, np.dtype[np.int64]]
_TABLE_WARMUP = 32


@dataclass
class _NodeCandidates:
    feats: IntArray
    bins: IntArray
    missing_left: np.ndarray[Any, np.dtype[np.bool_]]


@dataclass
class _TreeState:
    cts: Any  # object array of ciphertexts (sampled rows only are meaningful)
    sampled: np.ndarray[Any, np.dtype[np.bool_]]
    slot_bits: int
    slots: int
    prev_hist: dict[int, Any] = field(default_factory=dict)


class SecureBoostHost:
    """The host role: ``fit`` trains with the guest, ``predict`` serves the guest's walk."""

    def __init__(self, params: SecureBoostParams) -> None:
        self.params = params
        self.splits_: dict[tuple[int, int], HostSplit] = {}
        self.n_trees_ = 0
        # Candidates are shuffled per node by the suite's CSPRNG, keyed from secrets.
        self._shuffle = Stream(secrets.token_bytes(32), SHUFFLE_SALT, params.suite)
        self._shuffles = 0

    # -- training -------------------------------------------------------------------------
    def fit(self, ctx: Context, X: np.ndarray[Any, Any],
            X_valid: np.ndarray[Any, Any] | None = None) -> SecureBoostHost:
        """Train with the guest on this host's columns ``X`` (rows aligned with the guest)."""
        self._mapper = BinMapper.fit(X, self.params.max_bin)
        self._bins = self._mapper.transform(X)
        X_valid_arr = None if X_valid is None else np.asarray(X_valid, dtype=np.float64)
        pk = ctx.recv(ctx.guest, PUBLIC_KEY)
        if not he.is_public_key(pk, self.params.he_scheme) or pk.bits != self.params.key_bits:
            raise ProtocolError("the guest's public key is not of the agreed scheme and size",
                                scheme=self.params.he_scheme,
                                expected_bits=self.params.key_bits)
        self._pk: he.PublicKey = pk
        # A batch this size makes the key build its fixed-base table once, so every later
        # re-randomisation of a few packed ciphertexts costs table look-ups, not full powmods.
        self._pk.encrypt_int(np.zeros(_TABLE_WARMUP, dtype=np.int64))
        setup = ctx.recv(ctx.guest, SETUP)
        if setup["params"] != self.params.wire_subset():
            raise ProtocolError("guest and host SecureBoost parameters differ",
                                guest=setup["params"], host=self.params.wire_subset())
        if setup["n_rows"] != X.shape[0] or setup["n_valid"] != (
                0 if X_valid_arr is None else X_valid_arr.shape[0]):
            raise ProtocolError("row counts differ between guest and host",
                                guest=setup["n_rows"], host=X.shape[0])
        trees = ctx.sub("tree")
        t = 0
        while True:
            tctx = trees.sub(str(t))
            msg = tctx.recv(ctx.guest, GRADIENTS)
            if msg["stop"]:
                self.n_trees_ = int(msg["n_trees"])
                break
            self._fit_tree(tctx, t, msg)
            if X_valid_arr is not None:
                mine = [(t, nid) for (tt, nid) in self.splits_ if tt == t]
                bits = host_go_left({k: self.splits_[k] for k in mine}, X_valid_arr)
                tctx.send(ctx.guest, VALID_BITS, {nid: pack_bits(bits[(t, nid)]) for _, nid in mine})
            t += 1
        self.splits_ = {k: v for k, v in self.splits_.items() if k[0] < self.n_trees_}
        return self

    def _fit_tree(self, tctx: Context, t: int, msg: dict[str, Any]) -> None:
        n = self._bins.shape[0]
        rows = np.asarray(msg["rows"], dtype=np.int64)
        raw = cipher.raw(msg["enc"], self._pk)
        if rows.size != raw.size or rows.size == 0 or (
                rows.min() < 0 or rows.max() >= n or np.unique(rows).size != rows.size):
            raise ProtocolError("gradient message does not match the training rows")
        cts = np.empty(n, dtype=object)
        cts[rows] = raw
        sampled = np.zeros(n, dtype=np.bool_)
        sampled[rows] = True
        state = _TreeState(cts, sampled, int(msg["slot_bits"]), int(msg["slots"]))
        # The slots are what the guest reads; held to the honest width for this many rows at
        # the agreed precision, a hostile guest's packed values (2^r per row) show at most
        # slot_bits - 1 rows per candidate sum instead of a whole plaintext's worth.
        honest = GHPacker.layout(rows.size, self.params.precision_bits,
                                 he.packing_bits(self._pk))
        if (state.slot_bits, state.slots) != honest:
            raise ProtocolError("packing announced by the guest is not the one its row count "
                                "and precision give", slot_bits=state.slot_bits,
                                expected=honest[0])
        for depth, lctx in tctx.sub("level").iter(self.params.max_depth):
            nodes_msg = lctx.recv(tctx.guest, NODES)
            nodes = [int(x) for x in nodes_msg["nodes"]]
            if not nodes:
                break
            pos = np.asarray(nodes_msg["pos"], dtype=np.int64)
            first = (1 << depth) - 1
            if pos.shape != (n,) or len(set(nodes)) != len(nodes) or not all(
                    first <= nid < 2 * first + 1 for nid in nodes):
                raise ProtocolError("node ids or positions do not fit this level", depth=depth)
            self._level(lctx, t, state, nodes, pos)

    def _permutation(self, n: int) -> np.ndarray[Any, np.dtype[np.intp]]:
        """A fresh uniform permutation of ``n`` candidates: the order of ``n`` secret 64-bit
        words of the next stream (ties at 2^-64 per pair break by position)."""
        self._shuffles += 1
        words = self._shuffle.words(purpose_info(b"candidates", self._shuffles), n)
        return np.argsort(words, kind="stable")

    def _level(self, lctx: Context, t: int, st: _TreeState, nodes: list[int],
               pos: IntArray) -> None:
        nsq = self._pk.ciphertext_modulus
        mb = self._mapper.missing_bin
        members = {nid: np.nonzero((pos == nid) & st.sampled)[0] for nid in nodes}
        hists = self._level_histograms(st, nodes, members, lctx.executor)
        all_sums, counts, table = [], [], {}
        for nid in nodes:
            cnt = self._counts(members[nid])
            feats, bins, mleft = candidate_table(cnt, mb, self.params.min_samples_leaf)
            perm = self._permutation(feats.size)
            cand = _NodeCandidates(feats[perm], bins[perm], mleft[perm])
            table[nid] = cand
            all_sums.append(hist.candidate_sums(hists[nid], cand.feats, cand.bins,
                                                missing_left=cand.missing_left,
                                                missing_bin=mb, nsq=nsq))
            counts.append(int(feats.size))
        st.prev_hist = hists
        sums = np.concatenate(all_sums) if all_sums else np.empty(0, dtype=object)
        packed = (hist.pack(sums, st.slot_bits, st.slots, nsq, lctx.executor) if sums.size
                  else np.empty(0, dtype=object))
        lctx.send(lctx.guest, HISTOGRAMS, {
            "nodes": nodes, "counts": counts,
            "packed": cipher.wrap_masked(self._pk, packed, lctx.executor)})
        won = lctx.recv(lctx.guest, WINNERS)
        out = {}
        for nid_raw, idx_raw in won.items():
            nid, idx = int(nid_raw), int(idx_raw)
            if nid not in table or not 0 <= idx < table[nid].feats.size:
                raise ProtocolError("guest chose an unknown candidate", node=nid)
            cand = table[nid]
            f, b = int(cand.feats[idx]), int(cand.bins[idx])
            split = HostSplit(f, self._mapper.threshold(f, b), bool(cand.missing_left[idx]))
            self.splits_[(t, nid)] = split
            here = np.nonzero(pos == nid)[0]
            col = self._bins[here, f]
            left = np.where(col == mb, split.default_left, col <= b)
            out[nid] = pack_bits(left)
        lctx.send(lctx.guest, SPLITS, out)

    def _level_histograms(self, st: _TreeState, nodes: list[int], members: dict[int, IntArray],
                          executor: Executor) -> dict[int, Any]:
        """Build each pair's smaller child directly, derive its sibling from the parent."""
        nsq, n_cols = self._pk.ciphertext_modulus, self._mapper.max_bin + 1
        out: dict[int, Any] = {}
        active = set(nodes)
        for nid in nodes:
            if nid in out:
                continue
            sib = nid + 1 if nid % 2 == 1 else nid - 1
            parent = (nid - 1) // 2
            if nid > 0 and sib in active and parent in st.prev_hist:
                small, big = sorted((nid, sib), key=lambda x: (members[x].size, x))
                out[small] = hist.node_histogram(st.cts, members[small], self._bins, n_cols, nsq,
                                                 executor=executor)
                out[big] = hist.subtract(st.prev_hist[parent], out[small], nsq)
            else:
                out[nid] = hist.node_histogram(st.cts, members[nid], self._bins, n_cols, nsq,
                                               executor=executor)
        return out

    def _counts(self, rows: IntArray) -> IntArray:
        n_feat, n_cols = self._bins.shape[1], self._mapper.max_bin + 1
        gids = (self._bins[rows].astype(np.int64) + np.arange(n_feat) * n_cols).ravel()
        return np.bincount(gids, minlength=n_feat * n_cols).reshape(n_feat, n_cols)

    # -- inference --------------------------------------------------------------------------
    def predict(self, ctx: Context, X: np.ndarray[Any, Any]) -> None:
        """Send the guest the go-left bits of this host's splits for every row of ``X``."""
        host_predict(ctx, self.splits_, np.asarray(X, dtype=np.float64))

    def feature_importance(self) -> dict[int, int]:
        """Split count per local feature index (gains stay with the guest)."""
        out: dict[int, int] = {}
        for s in self.splits_.values():
            out[s.feature] = out.get(s.feature, 0) + 1
        return out

    # -- artifacts --------------------------------------------------------------------------
    def to_artifact(self) -> dict[str, Any]:
        """The host's model part: its split thresholds keyed by (tree, node)."""
        return host_artifact(self.params, self.splits_, self.n_trees_)

    @classmethod
    def from_artifact(cls, data: dict[str, Any]) -> SecureBoostHost:
        """Rebuild a host model part for inference."""
        params, splits, n_trees = load_host(data)
        model = cls(params)
        model.splits_, model.n_trees_ = splits, n_trees
        return model
