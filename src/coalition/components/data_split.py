"""``data_split``: split aligned rows into train and test sets, stratified by label, by ratio.

Vertical mode (after PSI, every party holds the same rows in the same order): the guest, who
holds the labels, draws the split — within each class independently when ``stratified`` —
and sends each host the positions of the test rows. Who learns what: hosts learn which aligned
rows are test rows. Stratification draws the same fraction from every class, so a row's
membership says nothing about its label beyond rounding of per-class counts; no label, feature
or count per class crosses the wire.

Horizontal mode: each party splits its own rows locally (stratified by its own labels);
nothing is sent.

The split is drawn from ``seed`` (a public, agreed parameter: the partition is not a secret).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field

from coalition.components.artifacts import Artifact, ArtifactKind, Dataset, Metrics
from coalition.components.base import Component, Input, Output, TaskContext, slots
from coalition.components.registry import register
from coalition.core import MessageKey
from coalition.core.errors import InputError, ProtocolError
from coalition.core.ids import Role

__all__ = ["TEST_ROWS", "DataSplit", "SplitParams", "split_positions"]

TEST_ROWS = MessageKey("test_rows", "guest -> host: {n_rows, test: sorted positions}")

_PARTIES = frozenset({Role.GUEST, Role.HOST})
IntArray = NDArray[np.int64]


class SplitParams(BaseModel):
    """Test fraction, stratification, seed and mode."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    test_size: float = Field(0.3, gt=0.0, lt=1.0, description="fraction of rows held out")
    stratified: bool = Field(True, description="same fraction from every class (needs labels)")
    seed: int = Field(0, ge=0, description="public seed of the split")
    mode: Literal["vertical", "horizontal"] = "vertical"


def split_positions(n_rows: int, labels: NDArray[np.float64] | None, test_size: float,
                    seed: int) -> IntArray:
    """Sorted test-row positions: ``round(test_size * n)`` per class (or overall)."""
    rng = np.random.default_rng(seed)
    groups: list[IntArray] = ([np.arange(n_rows, dtype=np.int64)] if labels is None else
                              [np.flatnonzero(labels == c).astype(np.int64)
                               for c in np.unique(labels)])
    test = [rng.permutation(g)[: round(len(g) * test_size)] for g in groups]
    out = np.sort(np.concatenate(test)) if test else np.zeros(0, dtype=np.int64)
    if out.size in (0, n_rows):
        raise InputError("split leaves the train or the test set empty", rows=n_rows,
                         test_size=test_size)
    return out.astype(np.int64)


def _own_labels(data: Dataset, p: SplitParams) -> NDArray[np.float64] | None:
    if not p.stratified:
        return None
    if data.label_column is None:
        raise InputError("stratified split needs a label column at the party that draws it")
    return data.labels()


def _guest(ctx: TaskContext, data: Dataset, p: SplitParams) -> IntArray:
    test = split_positions(len(data.frame), _own_labels(data, p), p.test_size, p.seed)
    ctx.comm.send(ctx.comm.hosts, TEST_ROWS, {"n_rows": len(data.frame), "test": test})
    return test


def _host(ctx: TaskContext, data: Dataset, p: SplitParams) -> IntArray:
    msg = ctx.comm.recv(ctx.comm.guest, TEST_ROWS)
    if not isinstance(msg, dict) or not isinstance(msg.get("test"), np.ndarray):
        raise ProtocolError("malformed split message")
    if msg.get("n_rows") != len(data.frame):
        raise InputError("host rows are not aligned with the guest's (run psi first)",
                         guest=msg.get("n_rows"), host=len(data.frame))
    test: IntArray = msg["test"].astype(np.int64)
    if test.size and (test.min() < 0 or test.max() >= len(data.frame)
                      or np.any(np.diff(test) <= 0)):
        raise ProtocolError("test positions out of range or not strictly increasing")
    return test


def _local(ctx: TaskContext, data: Dataset, p: SplitParams) -> IntArray:
    return split_positions(len(data.frame), _own_labels(data, p), p.test_size, p.seed)


_VERTICAL: dict[Role, Callable[[TaskContext, Dataset, SplitParams], IntArray]] = {
    Role.GUEST: _guest, Role.HOST: _host}


@register
class DataSplit(Component):
    """Train/test split of aligned (vertical) or local (horizontal) rows."""

    name = "data_split"
    version = "1.0.0"
    description = "Split rows into train and test by ratio, stratified by the guest's labels."
    Params = SplitParams
    roles = _PARTIES
    required_roles = frozenset({Role.GUEST})
    inputs = slots(data=Input(ArtifactKind.DATASET, _PARTIES, doc="aligned rows"))
    outputs = slots(
        train=Output(ArtifactKind.DATASET, _PARTIES, doc="training rows"),
        test=Output(ArtifactKind.DATASET, _PARTIES, doc="held-out rows"),
        metrics=Output(ArtifactKind.METRICS, _PARTIES, doc="row counts"),
    )

    @classmethod
    def roles_needed(cls, raw_params: Mapping[str, Any]) -> frozenset[Role]:
        """Vertical splits are drawn by the guest; horizontal ones by anyone."""
        return cls.required_roles if raw_params.get("mode", "vertical") == "vertical" \
            else frozenset()

    def run(self, ctx: TaskContext) -> Mapping[str, Artifact]:
        """Draw or receive the test positions, then cut the table."""
        p: SplitParams = ctx.params
        data = ctx.dataset("data")
        draw = _VERTICAL[ctx.role] if p.mode == "vertical" else _local
        test = draw(ctx, data, p)
        train = np.setdiff1d(np.arange(len(data.frame), dtype=np.int64), test)
        return {"train": data.take(train), "test": data.take(test),
                "metrics": Metrics({"train_rows": float(train.size),
                                    "test_rows": float(test.size)})}
