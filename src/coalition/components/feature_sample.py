"""``feature_sample``: random, stratified or class-dependent down- and up-sampling of aligned
rows (issue 19).

Vertical mode, as ``data_split``: the guest draws the sample from a fresh secret 256-bit key
(``secrets``) expanded by ChaCha20 (:mod:`coalition.crypto.prg`; SM4-CTR under the ``sm``
crypto suite, the ``suite`` parameter) and sends each host the sorted
sample positions (with repeats when up-sampling). ``fraction`` below 1 keeps
``round(fraction · n_c)`` rows of each class ``c`` (``stratified``) or of all rows, without
replacement; above 1 it draws that many with replacement. ``class_fractions`` gives a class
its own fraction (down-sample the majority, up-sample the minority: class-dependent
re-balancing, FATE's ``fractions`` per label).

Who learns what. Hosts learn the number of aligned rows and the positions in the sample (with
their multiplicity), never the key, so they cannot replay the draw. Under the same fraction
for every class a row's presence is independent of its label but for per-class rounding, as in
``data_split``. Under class-dependent fractions it is not: a host learns, per row, a
likelihood ratio for its label (down-sampling negatives to ``f₀`` and keeping every positive,
an absent row is a negative and a present one is positive with odds ``1/f₀`` times the prior;
up-sampling, multiplicities say the same), and the class sizes follow from the positions. That
is inherent to sampling rows that hosts must then supply, so it is the label owner's choice:
the label owner's node accepts a job with class-dependent fractions only where it is its own
job or its grant says ``allow_label_sampling`` (``policy.label_sampling``, as SecureBoost's
GOSS). The positions are all that is sent: no label, fraction or key.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from coalition.components.artifacts import Artifact, ArtifactKind, Dataset, Metrics
from coalition.components.base import Component, Input, Output, TaskContext, slots
from coalition.components.registry import register
from coalition.core import MessageKey
from coalition.core.errors import InputError, ProtocolError
from coalition.core.ids import Role
from coalition.crypto.prg import KEY_BYTES, expand_for
from coalition.crypto.suite import CryptoSuite
from coalition.protocols.feature.spec import MAX_SAMPLE_FRACTION, SampleParams, class_key

__all__ = ["SAMPLE_ROWS", "FeatureSample", "SampleParams", "sample_positions"]

SAMPLE_ROWS = MessageKey("fe_sample_rows", "guest -> host: {n_rows, rows: sorted positions}")
_PARTIES = frozenset({Role.GUEST, Role.HOST})
IntArray = NDArray[np.int64]
_MAX_FRACTION = MAX_SAMPLE_FRACTION


def sample_positions(n_rows: int, labels: NDArray[np.float64] | None, fraction: float,
                     key: bytes | None = None, *,
                     class_fractions: Mapping[str, float] | None = None,
                     suite: CryptoSuite | str = CryptoSuite.STANDARD) -> IntArray:
    """Sorted sample positions (repeats where a class's fraction is above 1) from the suite's
    keystream (ChaCha20, or SM4-CTR under ``sm``) of ``key`` (default: a fresh secret key; pass
    one only to reproduce a draw in tests). ``class_fractions`` gives a label class
    (:func:`class_key`) its own fraction."""
    classes = [] if labels is None else list(np.unique(labels))
    groups: list[IntArray] = ([np.arange(n_rows, dtype=np.int64)] if labels is None else
                              [np.flatnonzero(labels == c).astype(np.int64) for c in classes])
    wanted = dict(class_fractions or {})
    unknown = sorted(set(wanted) - {class_key(c) for c in classes})
    if unknown:
        raise InputError("class_fractions names classes the labels do not hold",
                         classes=unknown)
    fractions = ([fraction] if labels is None else
                 [wanted.get(class_key(c), fraction) for c in classes])
    takes = [round(len(g) * f) for g, f in zip(groups, fractions, strict=True)]
    # One stream: the first n_rows words rank rows (without replacement), the rest are draws.
    draws = sum(t for t, f in zip(takes, fractions, strict=True) if f > 1.0)
    words = expand_for(suite)(secrets.token_bytes(KEY_BYTES) if key is None else key,
                              n_rows + draws, 64)
    picks: list[IntArray] = []
    offset = n_rows
    for g, take, f in zip(groups, takes, fractions, strict=True):
        if f <= 1.0:
            picks.append(g[np.argsort(words[g], kind="stable")[:take]])
        else:  # modulo bias below len(g) / 2**64
            picks.append(g[(words[offset:offset + take] % np.uint64(len(g))).astype(np.int64)])
            offset += take
    out = np.sort(np.concatenate(picks)) if picks else np.zeros(0, dtype=np.int64)
    if out.size == 0:
        raise InputError("the sample is empty", rows=n_rows, fraction=fraction)
    return out.astype(np.int64)


@register
class FeatureSample(Component):
    """Random or stratified sample of aligned rows, drawn by the guest."""

    name = "feature_sample"
    version = "1.0.0"
    description = ("Random, stratified or class-dependent down-/up-sampling of aligned rows "
                   "(guest's secret draw).")
    Params = SampleParams
    roles = _PARTIES
    required_roles = frozenset({Role.GUEST})
    inputs = slots(data=Input(ArtifactKind.DATASET, _PARTIES, doc="aligned rows"))
    outputs = slots(
        data=Output(ArtifactKind.DATASET, _PARTIES, doc="the sampled rows"),
        metrics=Output(ArtifactKind.METRICS, _PARTIES, doc="rows before and after"),
    )

    def run(self, ctx: TaskContext) -> Mapping[str, Artifact]:
        """Draw (guest) or receive (host) the positions, then take the rows."""
        p = ctx.params_as(SampleParams)
        data = ctx.dataset("data")
        n = len(data.frame)
        if ctx.role is Role.GUEST:
            rows = sample_positions(n, data.labels() if p.stratified else None, p.fraction,
                                    class_fractions=p.class_fractions, suite=p.suite)
            ctx.comm.send(ctx.comm.hosts, SAMPLE_ROWS, {"n_rows": n, "rows": rows})
        else:
            rows = _received(ctx, data)
        return {"data": data.take(rows),
                "metrics": Metrics({"rows_in": float(n), "rows_out": float(rows.size)})}


def _received(ctx: TaskContext, data: Dataset) -> IntArray:
    msg = ctx.comm.recv(ctx.comm.guest, SAMPLE_ROWS)
    rows = msg.get("rows") if isinstance(msg, dict) else None
    if not isinstance(rows, np.ndarray) or rows.dtype.kind not in "iu" or rows.ndim != 1:
        raise ProtocolError("malformed sample message")
    if msg.get("n_rows") != len(data.frame):
        raise InputError("host rows are not aligned with the guest's (run psi first)",
                         guest=msg.get("n_rows"), host=len(data.frame))
    if rows.size and (rows.min() < 0 or rows.max() >= len(data.frame)
                      or np.any(np.diff(rows) < 0)
                      or rows.size > _MAX_FRACTION * len(data.frame)):
        raise ProtocolError("sample positions out of range or not sorted")
    return rows.astype(np.int64)
