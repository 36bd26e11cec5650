"""``data_split``: split aligned rows into train and test sets, stratified by label, by ratio.

Vertical mode (after PSI, every party holds the same rows in the same order): the guest, who
holds the labels, draws the split — within each class independently when ``stratified`` —
from a fresh secret 256-bit key (``secrets``) expanded by ChaCha20 (:mod:`coalition.crypto.prg`;
SM4-CTR under the ``sm`` crypto suite, the ``suite`` parameter), and sends each host the
positions of the test rows.

Who learns what. Hosts learn the number of aligned rows and which rows are test rows — that is
all the message holds. They do not learn the key, so they cannot replay the per-class draws:
under a uniformly random stratified split a row's membership is independent of its label except
for per-class rounding, and the test-set size ``Σ_c round(test_size · n_c)`` (up to one row per
class away from ``round(test_size · n)``) is the only trace of the class counts. The guest
learns nothing from hosts. The partition is not reproducible from the job parameters; the
``seed`` parameter is accepted so existing jobs parse, and ignored.

Why the key is secret (security finding 4): with a public seed, the permutation of a class of
``n_c`` rows depends only on the seed and ``n_c``, so a host that enumerates ``n_c``, replays the
draws and keeps the labellings consistent with the positions it received recovers the class
counts and a large share of the labels with certainty (``tests/security/test_proto_data_split.py``).

Horizontal mode: each party splits its own rows locally (stratified by its own labels), from
its own secret key; nothing is sent.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from pydantic import Field

from coalition.components.artifacts import Artifact, ArtifactKind, Dataset, Metrics
from coalition.components.base import Component, Input, Output, TaskContext, slots
from coalition.components.registry import register
from coalition.core import MessageKey
from coalition.core.errors import InputError, ProtocolError
from coalition.core.ids import Role
from coalition.core.params import Params
from coalition.crypto.prg import KEY_BYTES, expand_for
from coalition.crypto.suite import CryptoSuite

__all__ = ["TEST_ROWS", "DataSplit", "SplitParams", "split_positions"]

TEST_ROWS = MessageKey("test_rows", "guest -> host: {n_rows, test: sorted positions}")

_PARTIES = frozenset({Role.GUEST, Role.HOST})
IntArray = NDArray[np.int64]


class SplitParams(Params):
    """Test fraction, stratification, seed and mode."""

    params_of = "data split"

    test_size: float = Field(0.3, gt=0.0, lt=1.0, description="fraction of rows held out")
    stratified: bool = Field(True, description="same fraction from every class (needs labels)")
    seed: int | None = Field(None, ge=0, description=(
        "ignored: the label holder draws the split from a secret CSPRNG key (a public seed "
        "let hosts replay the draws and recover labels); accepted so existing jobs parse"))
    mode: Literal["vertical", "horizontal"] = "vertical"
    suite: CryptoSuite = Field(CryptoSuite.STANDARD, description=(
        "crypto suite of the draw's PRG: standard (ChaCha20) or sm (SM4-CTR); set by the "
        "federation"))


def split_positions(n_rows: int, labels: NDArray[np.float64] | None, test_size: float,
                    key: bytes | None = None,
                    suite: CryptoSuite | str = CryptoSuite.STANDARD) -> IntArray:
    """Sorted test-row positions: ``round(test_size * n)`` per class (or overall).

    Each row gets a 64-bit word of the suite's keystream (ChaCha20, or SM4-CTR under ``sm``) of
    ``key`` (default: a fresh secret key from ``secrets``; pass one only to reproduce a split in
    tests); within each class the rows with the smallest words are the test rows — a uniformly
    random subset of the class.
    """
    words = expand_for(suite)(secrets.token_bytes(KEY_BYTES) if key is None else key,
                              n_rows, 64)
    groups: list[IntArray] = ([np.arange(n_rows, dtype=np.int64)] if labels is None else
                              [np.flatnonzero(labels == c).astype(np.int64)
                               for c in np.unique(labels)])
    test = [g[np.argsort(words[g], kind="stable")[: round(len(g) * test_size)]]
            for g in groups]
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
    test = split_positions(len(data.frame), _own_labels(data, p), p.test_size, suite=p.suite)
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
    return split_positions(len(data.frame), _own_labels(data, p), p.test_size, suite=p.suite)


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
