"""Scoring with loaded model parts, split the way online inference splits it.

A host turns its feature rows into a *partial result* (:class:`HostScorer`); the guest combines
its own rows with every host's partial result (:class:`GuestScorer`). Who learns what is the
batch prediction's (``coalition.components.predict``):

* vertical LR / linear regression — a single host sends ``w_h·x_h`` per row; several hosts
  send masked fixed-point values whose masks cancel in the sum (pair keys agreed between the
  hosts, :mod:`.maskkeys`), so the guest learns only ``sum_h w_h·x_h``; the guest adds its own
  partial score and the intercept and applies the link;
* split learning (``hetero_nn``) — each host sends ``α_h·W_h·R`` per row (its bottom
  output times its interactive weights rotated by the guest's secret ``R``), with several
  hosts each column masked between them; the guest adds the parts, applies ``R⁻¹``, adds its
  own part and runs the top model
  (:mod:`coalition.protocols.splitnn`);
* SecureBoost — a host sends one go-left bit per row for every split it owns (bit-packed); the
  guest walks the trees (Cheng et al., IEEE Intelligent Systems 2021);
* horizontal models (``homo_lr``, ``homo_nn``, ``homo_gbdt``) — every party holds the whole
  model; the guest scores alone;
* scorecards — as vertical LR, after each party encodes its own raw rows with the part's WOE
  transform (the host its bin indicators, the guest its WOE); the guest returns points
  (``coalition.protocols.feature.scorecard``), not a probability;
* preprocessing — a published part records its party's fitted column steps
  (``feature_transform``, ``feature_selection``, ``feature_woe``;
  :mod:`coalition.protocols.feature.chain`); each party applies its own to its raw rows
  before scoring (a scorecard's WOE transform is the last step of its chain). Only the party
  that fitted a step holds and applies it; a step that cannot be applied fails the scorer's
  construction (deploy, or a host's bind), never a request;
* single-party models (``local_model``) — the guest's own model; it scores alone.

Hosts learn nothing but the IDs asked for; the guest never sees host features or thresholds.
A host answers unknown IDs with decoy rows (:mod:`.features`), so partial results never say
whether an ID is a member.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from coalition.components import ModelPart
from coalition.components.scorecard import scorecard_part
from coalition.core.errors import InputError, ProtocolError
from coalition.crypto.suite import CryptoSuite
from coalition.protocols.feature.chain import PreprocessChain, decode_text
from coalition.protocols.feature.scorecard import Scaling
from coalition.protocols.horizontal import GlobalModel
from coalition.protocols.horizontal.gbdt import GBDTModel
from coalition.protocols.linear import LinearModelPart
from coalition.protocols.linear.masking import (
    FRAC_BITS,
    decode_sum,
    encode_partial,
    id_masks,
    mac,
    mask,
)
from coalition.protocols.linear.multiclass import OvRModelPart
from coalition.protocols.linear.predict import sigmoid
from coalition.protocols.local import LocalModel
from coalition.protocols.secureboost import SecureBoostGuest, SecureBoostHost
from coalition.protocols.secureboost.objectives import transform
from coalition.protocols.secureboost.predict import host_go_left, node_go_left
from coalition.protocols.secureboost.tree import GUEST_OWNER, Node, walk
from coalition.protocols.splitnn import SplitNNGuest, SplitNNHost

__all__ = ["GuestScorer", "HostScorer", "guest_scorer", "host_scorer"]

Matrix = NDArray[np.float64]
_LINEAR = frozenset({"hetero_lr", "hetero_linr", "hetero_poisson"})
_TREES = frozenset({"hetero_secureboost"})
_HORIZONTAL = frozenset({"homo_lr", "homo_nn"})
_HOMO_TREES = "homo_gbdt"
_SCORECARD = "scorecard"
_SPLIT = "hetero_nn"
_OVR = "hetero_lr_multiclass"


class _Encoder:
    """Raw feature rows (as the online source codes them) to a model's input columns, through
    the part's preprocessing chain (:mod:`coalition.protocols.feature.chain`).

    ``outputs`` are the columns the model reads (None: every column the chain makes).
    Built at deploy, so a step that cannot be applied fails there, not at request time."""

    def __init__(self, chain: PreprocessChain, outputs: list[str] | None) -> None:
        self._chain = chain
        # No outputs is legal: a party whose own columns the model does not use (a feature
        # selection dropped them all) scores with no row of its own.
        self.outputs = list(chain.columns if outputs is None else outputs)
        self.raw_names = chain.raw_columns(self.outputs)
        self.categories = chain.categories(self.raw_names)
        self.imputed = frozenset(chain.imputed(self.raw_names))

    def __call__(self, X: Matrix) -> Matrix:
        if not self.outputs:
            return np.zeros((X.shape[0], 0), dtype=np.float64)
        frame = decode_text(X, self.raw_names, self.categories)
        encoded = self._chain.apply(frame, self.outputs)
        try:
            out: Matrix = encoded.to_numpy(dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise InputError("the preprocessing leaves a text column the model cannot "
                             "read") from exc
        return out


def _chain_of(part: ModelPart) -> PreprocessChain | None:
    """The part's recorded preprocessing, with a scorecard's own WOE transform last."""
    chain = (PreprocessChain.from_record(part.preprocess) if part.preprocess is not None
             else None)
    if part.component != _SCORECARD:
        return chain
    columns, linear, _ = scorecard_part(part.data)
    return (chain or PreprocessChain([], [])).with_step(
        "feature_woe", {"columns": columns}, list(linear.feature_names))


_LOCAL = frozenset({"local_model"})


class HostScorer:
    """A host part: rows in, partial result out. ``feature_names`` None = all source columns."""

    feature_names: list[str] | None = None
    maskable = False  # partial results can be masked between hosts (linear models)
    #: The partial result is a real-valued function of each row's own features (not bits), so
    #: a host refuses parts with fewer features than ``policy_min_serving_features``.
    per_row_value = False
    categories: dict[str, list[str]] | None = None  # text columns, coded by the source

    def info(self) -> dict[str, Any]:
        """What the guest needs to read this host's partial results (sent once, at deploy)."""
        raise NotImplementedError

    def feature_count(self) -> int:
        """How many of the host's raw features the partial result is computed from."""
        return len(self.feature_names or [])

    def partial(self, X: Matrix, ids: list[str], me: str,
                pair_keys: Mapping[str, bytes]) -> dict[str, Any]:
        """The partial result for rows ``X`` of ``ids``; masked with ``pair_keys`` (one per
        co-host, see :mod:`.maskkeys`) where the family supports it and there are any."""
        raise NotImplementedError


class _LinearHost(HostScorer):
    maskable = True
    per_row_value = True

    def __init__(self, part: LinearModelPart,
                 suite: CryptoSuite = CryptoSuite.STANDARD) -> None:
        self._part = part
        self._suite = suite
        self.feature_names = list(part.feature_names)

    def info(self) -> dict[str, Any]:
        return {"kind": "linear"}

    def partial(self, X: Matrix, ids: list[str], me: str,
                pair_keys: Mapping[str, bytes]) -> dict[str, Any]:
        scores = self._part.partial_score(X)
        if not pair_keys:
            return {"scores": scores.tolist()}
        masks = {org: id_masks(key, ids, self._suite) for org, key in pair_keys.items()}
        return {"masked": mask(me, encode_partial(scores), masks).tolist()}


class _OvRHost(HostScorer):
    """Multiclass one-vs-rest: one linear partial per class. Between co-hosts each class is
    masked under its own key derived from the pair key, so no two classes share a mask (equal
    masks would cancel in a difference of two classes' masked partials)."""

    maskable = True
    per_row_value = True

    def __init__(self, model: OvRModelPart, suite: CryptoSuite = CryptoSuite.STANDARD) -> None:
        self._suite = suite
        self._classes = [_LinearHost(p, suite) for p in model.parts]
        names = [c.feature_names for c in self._classes]
        if any(n != names[0] for n in names):
            raise InputError("the classes' host parts read different columns")
        self.feature_names = names[0]

    def info(self) -> dict[str, Any]:
        return {"kind": "ovr", "classes": len(self._classes)}

    def partial(self, X: Matrix, ids: list[str], me: str,
                pair_keys: Mapping[str, bytes]) -> dict[str, Any]:
        return {"classes": [
            c.partial(X, ids, me, {org: _class_key(key, k, self._suite)
                                   for org, key in pair_keys.items()})
            for k, c in enumerate(self._classes)]}


def _class_key(pair_key: bytes, k: int, suite: CryptoSuite = CryptoSuite.STANDARD) -> bytes:
    """Class ``k``'s masking key: HMAC of the pair key (RFC 2104) with the suite's hash
    (SHA-256, or SM3 under ``sm``), domain-separated."""
    return mac(pair_key, f"coalition/serving/ovr/{k}".encode(), suite)


class _TreeHost(HostScorer):
    def __init__(self, model: SecureBoostHost) -> None:
        self._splits = model.splits_
        self._keys = sorted(self._splits)

    def info(self) -> dict[str, Any]:
        return {"kind": "tree", "keys": [list(k) for k in self._keys]}

    def partial(self, X: Matrix, ids: list[str], me: str,
                pair_keys: Mapping[str, bytes]) -> dict[str, Any]:
        bits = host_go_left(self._splits, X)
        matrix = (np.stack([bits[k] for k in self._keys]) if self._keys
                  else np.zeros((0, X.shape[0]), dtype=np.bool_))
        packed = np.packbits(matrix, axis=1)
        return {"bits": base64.b64encode(packed.tobytes()).decode()}


class _SplitHost(HostScorer):
    """Split learning: ``α_h·W_h·R`` per row; with co-hosts each of the ``k`` columns masked
    under its own key derived from the pair key (as the classes of :class:`_OvRHost`), so the
    guest decodes only the hosts' sum."""

    maskable = True
    per_row_value = True

    def __init__(self, model: SplitNNHost, suite: CryptoSuite = CryptoSuite.STANDARD) -> None:
        self._model = model
        self._suite = suite

    def feature_count(self) -> int:
        return self._model.feature_count()

    def info(self) -> dict[str, Any]:
        return {"kind": "split_nn"}

    def partial(self, X: Matrix, ids: list[str], me: str,
                pair_keys: Mapping[str, bytes]) -> dict[str, Any]:
        rotated = self._model.partial(X)
        if not pair_keys:
            return {"rotated": rotated.tolist()}
        return {"masked_columns": [
            mask(me, encode_partial(rotated[:, c]), {
                org: id_masks(_column_key(key, c, self._suite), ids, self._suite)
                for org, key in pair_keys.items()}
                 ).tolist() for c in range(rotated.shape[1])]}


def _column_key(pair_key: bytes, c: int, suite: CryptoSuite = CryptoSuite.STANDARD) -> bytes:
    """Column ``c``'s masking key: HMAC of the pair key (RFC 2104) with the suite's hash
    (SHA-256, or SM3 under ``sm``), domain-separated."""
    return mac(pair_key, f"coalition/serving/split-nn/{c}".encode(), suite)


class _ChainedHost(HostScorer):
    """A host part behind its preprocessing: raw rows in, the inner part's partial out."""

    def __init__(self, inner: HostScorer, chain: PreprocessChain) -> None:
        self._inner = inner
        self._encode = _Encoder(chain, inner.feature_names)
        self.maskable = inner.maskable
        self.per_row_value = inner.per_row_value
        self.feature_names = self._encode.raw_names
        self.categories = self._encode.categories

    def info(self) -> dict[str, Any]:
        return self._inner.info()

    def partial(self, X: Matrix, ids: list[str], me: str,
                pair_keys: Mapping[str, bytes]) -> dict[str, Any]:
        return self._inner.partial(self._encode(X), ids, me, pair_keys)


def host_scorer(part: ModelPart, suite: CryptoSuite | str = CryptoSuite.STANDARD) -> HostScorer:
    """The host-side scorer of a host part, behind its preprocessing chain if it has one
    (:class:`~coalition.protocols.feature.chain.UnservableStep` if that cannot be applied).
    ``suite`` (the node's) gives the primitives of masks between co-hosts."""
    suite = CryptoSuite(suite)
    inner: HostScorer
    if part.component == _SCORECARD:
        inner = _LinearHost(scorecard_part(part.data)[1], suite)
    elif part.component in _LINEAR:
        inner = _LinearHost(LinearModelPart.from_artifact(part.data), suite)
    elif part.component in _TREES:
        inner = _TreeHost(SecureBoostHost.from_artifact(part.data))
    elif part.component == _SPLIT:
        inner = _SplitHost(SplitNNHost.from_artifact(part.data), suite)
    elif part.component == _OVR:
        inner = _OvRHost(OvRModelPart.from_artifact(part.data), suite)
    else:
        raise InputError("this model family cannot be served by a host",
                         component=part.component)
    chain = _chain_of(part)
    return inner if chain is None else _ChainedHost(inner, chain)


class GuestScorer:
    """The guest part: its rows plus every host's partial result in, scores out."""

    feature_names: list[str] | None = None
    vertical: bool = True
    categories: dict[str, list[str]] | None = None  # text columns, coded by the source
    imputed: frozenset[str] = frozenset()  # raw columns whose missing values are filled
    class_values: list[float] | None = None  # multiclass: the label value of each column

    def attach(self, infos: Mapping[str, dict[str, Any]], owners: Mapping[str, str]) -> None:
        """Remember each host's :meth:`HostScorer.info`; ``owners`` maps a training party
        name to its organisation."""

    def combine(self, X: Matrix, partials: Mapping[str, dict[str, Any]]) -> Matrix:
        """Scores for the rows (1-D; 2-D ``(rows, classes)`` for multiclass)."""
        raise NotImplementedError


class _LinearGuest(GuestScorer):
    def __init__(self, part: LinearModelPart) -> None:
        self._part = part
        self.feature_names = list(part.feature_names)

    def combine(self, X: Matrix, partials: Mapping[str, dict[str, Any]]) -> Matrix:
        total = self._total(X, partials)
        if self._part.task == "poisson":
            rate: Matrix = np.exp(total)
            return rate
        out: Matrix = sigmoid(total) if self._part.task == "logistic" else total
        return out

    def _total(self, X: Matrix, partials: Mapping[str, dict[str, Any]]) -> Matrix:
        """The linear predictor: own partial score, intercept and the hosts' partials."""
        n = X.shape[0]
        total = (self._part.partial_score(X) if self.feature_names else np.zeros(n)) + (
            self._part.intercept or 0.0)
        masked = []
        for org in sorted(partials):
            reply = partials[org]
            if "masked" in reply:
                try:
                    values = np.array(reply["masked"], dtype=np.uint64)
                except (TypeError, ValueError, OverflowError) as exc:
                    raise ProtocolError("host sent malformed masked scores", host=org) from exc
                if values.shape != (n,):
                    raise ProtocolError("host sent partial scores of the wrong shape", host=org)
                masked.append(values)
                continue
            scores = np.asarray(reply.get("scores"), dtype=np.float64)
            if scores.shape != (n,):
                raise ProtocolError("host sent partial scores of the wrong shape", host=org)
            total = total + scores
        if masked:
            if len(masked) < 2:
                raise ProtocolError("a masked partial score came without its co-hosts'")
            total = total + decode_sum(masked)
        return total


class _ScorecardGuest(_LinearGuest):
    """Points: ``offset - factor · logit`` over the guest's and the hosts' encoded rows (the
    WOE transform is the last step of the part's chain, :func:`_chain_of`)."""

    def __init__(self, linear: LinearModelPart, scaling: Scaling) -> None:
        super().__init__(linear)
        self._scaling = scaling

    def combine(self, X: Matrix, partials: Mapping[str, dict[str, Any]]) -> Matrix:
        return self._scaling.score(self._total(X, partials))


class _ChainedGuest(GuestScorer):
    """A guest part behind its preprocessing: raw rows in, the inner part's scores out."""

    def __init__(self, inner: GuestScorer, chain: PreprocessChain) -> None:
        self._inner = inner
        self._encode = _Encoder(chain, inner.feature_names)
        self.vertical = inner.vertical
        self.class_values = inner.class_values
        self.feature_names = self._encode.raw_names
        self.categories = self._encode.categories
        self.imputed = self._encode.imputed

    def attach(self, infos: Mapping[str, dict[str, Any]], owners: Mapping[str, str]) -> None:
        self._inner.attach(infos, owners)

    def combine(self, X: Matrix, partials: Mapping[str, dict[str, Any]]) -> Matrix:
        return self._inner.combine(self._encode(X), partials)


class _TreeGuest(GuestScorer):
    def __init__(self, model: SecureBoostGuest) -> None:
        self._model = model
        self._keys: dict[str, list[tuple[int, int]]] = {}
        self._owners: dict[str, str] = {}
        depth = model.params.max_depth
        self._weights = []
        for tree in model.trees_:
            w = np.zeros(2 ** (depth + 1))
            for nid, node in tree.nodes.items():
                w[nid] = node.weight
            self._weights.append(w)

    def attach(self, infos: Mapping[str, dict[str, Any]], owners: Mapping[str, str]) -> None:
        self._keys = {org: [(int(t), int(n)) for t, n in info.get("keys", [])]
                      for org, info in infos.items()}
        self._owners = dict(owners)
        used = {n.owner for tree in self._model.trees_ for n in tree.split_nodes()}
        unknown = sorted(used - {GUEST_OWNER} - set(self._owners))
        if unknown:
            raise InputError("the trees use splits of parties that are not deployed",
                             parties=unknown)

    def combine(self, X: Matrix, partials: Mapping[str, dict[str, Any]]) -> Matrix:
        n = X.shape[0]
        bits: dict[tuple[str, int, int], NDArray[np.bool_]] = {}
        for org, reply in partials.items():
            keys = self._keys.get(org, [])
            if not keys:
                continue
            try:
                raw = np.frombuffer(base64.b64decode(str(reply.get("bits", ""))), dtype=np.uint8)
                matrix = np.unpackbits(raw.reshape(len(keys), -1), axis=1, count=n)
            except ValueError as exc:
                raise ProtocolError("host sent malformed split bits", host=org) from exc
            for (t, nid), row in zip(keys, matrix, strict=True):
                bits[(org, t, nid)] = row.astype(np.bool_)

        def go_left(t: int, node: Node) -> NDArray[np.bool_]:
            if node.owner == GUEST_OWNER:
                return node_go_left(node, X)
            found = bits.get((self._owners.get(node.owner, node.owner), t, node.id))
            if found is None:
                raise ProtocolError("a host sent no decision for its split", host=node.owner)
            return found

        leaves = walk(self._model.trees_, n, go_left)
        score = np.tile(self._model.init_score_, (n, 1))
        for t, tree in enumerate(self._model.trees_):
            score[:, tree.klass] += self._weights[t][leaves[:, t]]
        out: Matrix = transform(self._model.params.objective, score)
        return out


class _SplitGuest(GuestScorer):
    """Split learning: the hosts' ``α_h·W_h·R`` (masked per column with several), summed and
    unrotated with ``R⁻¹`` (recorded per host by its party name in the training job)."""

    def __init__(self, model: SplitNNGuest) -> None:
        self._model = model
        self._party_of: dict[str, str] = {}  # organisation -> party name in training

    def attach(self, infos: Mapping[str, dict[str, Any]], owners: Mapping[str, str]) -> None:
        names = self._model.host_names()
        if names == ["*"]:  # a part stored before several hosts: its one host
            if len(infos) != 1:
                raise InputError("this split-learning model is served with exactly one host",
                                 hosts=len(infos))
            self._party_of = {org: "*" for org in infos}
            return
        orgs = {name: owners.get(name, name) for name in names}
        if sorted(orgs.values()) != sorted(infos):
            raise InputError("a split-learning model is served with exactly its training "
                             "hosts", hosts=names)
        self._party_of = {org: name for name, org in orgs.items()}

    def combine(self, X: Matrix, partials: Mapping[str, dict[str, Any]]) -> Matrix:
        if any("masked_columns" in reply for reply in partials.values()):
            return self._combine_masked(X, partials)
        parts = {}
        for org, reply in partials.items():
            try:
                part = np.asarray(reply.get("rotated"), dtype=np.float64)
            except (TypeError, ValueError) as exc:
                raise ProtocolError("host sent a malformed split-NN part", host=org) from exc
            if org not in self._party_of or \
                    part.shape != (X.shape[0], self._model.params.interactive_units) \
                    or not np.all(np.isfinite(part)):
                raise ProtocolError("host sent a malformed split-NN part", host=org)
            parts[self._party_of[org]] = part
        return self._model.combine(X, parts)

    def _combine_masked(self, X: Matrix, partials: Mapping[str, dict[str, Any]]) -> Matrix:
        """Several hosts: each column's masked values add up to the hosts' sum."""
        k, masked = self._model.params.interactive_units, []
        for org, reply in partials.items():
            try:
                columns = np.array(reply.get("masked_columns"), dtype=np.uint64)
            except (TypeError, ValueError, OverflowError) as exc:
                raise ProtocolError("host sent a malformed split-NN part", host=org) from exc
            if org not in self._party_of or columns.shape != (k, X.shape[0]):
                raise ProtocolError("host sent a malformed split-NN part", host=org)
            masked.append(columns.T.copy())
        if len(masked) < 2:
            raise ProtocolError("a masked split-NN part came without its co-hosts'")
        return self._model.combine_masked(X, masked, [self._party_of[o] for o in partials],
                                          frac=FRAC_BITS)


class _OvRGuest(GuestScorer):
    """Multiclass one-vs-rest: each class scored as its binary model is, then normalised
    ``σ(z_k) / Σ_j σ(z_j)`` as :func:`~coalition.protocols.linear.multiclass.predict_ovr_guest`
    does; ``(rows, K)`` out."""

    def __init__(self, model: OvRModelPart) -> None:
        self._classes = [_LinearGuest(p) for p in model.parts]
        self.class_values = model.classes
        self.feature_names = self._classes[0].feature_names

    def attach(self, infos: Mapping[str, dict[str, Any]], owners: Mapping[str, str]) -> None:
        for org, info in infos.items():
            if info.get("kind") != "ovr" or info.get("classes") != len(self._classes):
                raise ProtocolError("a host serves a different number of classes", host=org)

    def combine(self, X: Matrix, partials: Mapping[str, dict[str, Any]]) -> Matrix:
        per_class: list[dict[str, dict[str, Any]]] = [{} for _ in self._classes]
        for org, reply in partials.items():
            classes = reply.get("classes")
            if not isinstance(classes, list) or len(classes) != len(self._classes) or \
                    not all(isinstance(c, dict) for c in classes):
                raise ProtocolError("host sent malformed class partials", host=org)
            for k, c in enumerate(classes):
                per_class[k][org] = c
        scores = np.column_stack([g.combine(X, p) for g, p in zip(
            self._classes, per_class, strict=True)])
        total = scores.sum(axis=1, keepdims=True)
        out: Matrix = scores / np.where(total > 0, total, 1.0)
        return out


class _HorizontalGuest(GuestScorer):
    vertical = False

    def __init__(self, model: GlobalModel) -> None:
        self._model = model.build()

    def combine(self, X: Matrix, partials: Mapping[str, dict[str, Any]]) -> Matrix:
        probs = np.asarray(self._model.predict_proba(X), dtype=np.float64)  # type: ignore[attr-defined]
        out: Matrix = probs[:, 1] if probs.ndim == 2 and probs.shape[1] == 2 else probs
        return out


class _HomoTreesGuest(GuestScorer):
    """Horizontal GBDT: the whole ensemble is the guest's; it scores alone."""

    vertical = False

    def __init__(self, model: GBDTModel) -> None:
        self._model = model

    def combine(self, X: Matrix, partials: Mapping[str, dict[str, Any]]) -> Matrix:
        return self._model.predict_proba(X)


class _LocalGuest(GuestScorer):
    """A single-party model: the guest scores alone on its own columns."""

    vertical = False

    def __init__(self, model: LocalModel) -> None:
        self._model = model
        self.feature_names = list(model.feature_names)

    def combine(self, X: Matrix, partials: Mapping[str, dict[str, Any]]) -> Matrix:
        return self._model.predict(X)


def _plain_guest(part: ModelPart) -> GuestScorer:
    if part.component in _HORIZONTAL:
        return _HorizontalGuest(GlobalModel.from_artifact(part.data))
    if part.component == _HOMO_TREES:
        return _HomoTreesGuest(GBDTModel.from_artifact(part.data))
    if part.component in _LOCAL:
        return _LocalGuest(LocalModel.from_artifact(part.data))
    if part.role.value != "guest":
        raise InputError("only the guest's part of a vertical model can be deployed",
                         role=part.role.value)
    if part.component in _LINEAR:
        return _LinearGuest(LinearModelPart.from_artifact(part.data))
    if part.component == _SCORECARD:
        _, linear, scaling = scorecard_part(part.data)
        return _ScorecardGuest(linear, scaling)
    if part.component in _TREES:
        return _TreeGuest(SecureBoostGuest.from_artifact(part.data))
    if part.component == _SPLIT:
        return _SplitGuest(SplitNNGuest.from_artifact(part.data))
    if part.component == _OVR:
        return _OvRGuest(OvRModelPart.from_artifact(part.data))
    raise InputError("this model family cannot be served", component=part.component)


def guest_scorer(part: ModelPart) -> GuestScorer:
    """The guest-side scorer of a guest part (or of any party's horizontal model), behind its
    preprocessing chain if it has one (:class:`~coalition.protocols.feature.chain.
    UnservableStep` if that cannot be applied: raised at deploy)."""
    inner = _plain_guest(part)
    chain = _chain_of(part)
    return inner if chain is None else _ChainedGuest(inner, chain)
