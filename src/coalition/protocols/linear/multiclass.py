"""Multiclass vertical logistic regression: one-vs-rest over the binary protocols.

For ``K`` classes the parties run the chosen binary variant (``ss``, ``he-arbiter`` or
``he-guest``) ``K`` times, each under its own namespace (``ovr/<k>``), the guest's labels
turned into ``y == class_k`` (Rifkin & Klautau, "In defense of one-vs-all classification",
JMLR 2004; FATE 2.x's multiclass hetero LR). Prediction scores each class jointly and
normalises ``σ(z_k) / Σ_j σ(z_j)``; the predicted label is the most probable class.

Who learns what: per binary model, exactly what that variant reveals (``docs/linear.md``);
in addition the guest announces ``K`` to every party (schema-level: the hosts and the arbiter
need it to run ``K`` trainings) and never the class values, which stay in the guest's part.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from coalition.core import Context, MessageKey, Role
from coalition.core.errors import InputError, ProtocolError
from coalition.protocols.linear.artifact import LinearModelPart
from coalition.protocols.linear.data import PartyTable
from coalition.protocols.linear.predict import MIN_FEATURES, predict_guest, predict_host
from coalition.protocols.linear.roles import coordinator, data_role
from coalition.protocols.linear.spec import LinearParams

__all__ = ["ARTIFACT_KIND", "CLASS_COUNT", "OvRModelPart", "fit_ovr", "predict_ovr_guest",
           "predict_ovr_host"]

ARTIFACT_KIND = "coalition.linear.ovr/1"
CLASS_COUNT = MessageKey("ovr_class_count", "guest -> all: int, the number of classes K")
#: More classes than this is a label column that is not categorical.
MAX_CLASSES = 100


@dataclass
class OvRModelPart:
    """One party's ``K`` binary parts; the guest's also holds the class values."""

    parts: list[LinearModelPart]
    classes: list[float] | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def to_artifact(self) -> dict[str, Any]:
        """Plain-value form, safe to store and sign."""
        return {"kind": ARTIFACT_KIND, "classes": self.classes,
                "parts": [p.to_artifact() for p in self.parts], "meta": dict(self.meta)}

    @classmethod
    def from_artifact(cls, raw: dict[str, Any]) -> OvRModelPart:
        """Rebuild from :meth:`to_artifact` output."""
        if raw.get("kind") != ARTIFACT_KIND or not isinstance(raw.get("parts"), list):
            raise InputError("not a one-vs-rest model part", kind=raw.get("kind"))
        classes = raw.get("classes")
        parts = [LinearModelPart.from_artifact(p) for p in raw["parts"]]
        if classes is not None and len(classes) != len(parts):
            raise InputError("class values and binary parts differ in number")
        return cls(parts, None if classes is None else [float(c) for c in classes],
                   dict(raw.get("meta", {})))


def _class_count(ctx: Context) -> int:
    k = ctx.recv(ctx.guest, CLASS_COUNT)
    if not isinstance(k, int) or not 2 <= k <= MAX_CLASSES:
        raise ProtocolError("malformed class count")
    return k


def fit_ovr(ctx: Context, params: LinearParams, table: PartyTable | None) -> OvRModelPart | None:
    """Train ``K`` binary models; the guest and hosts get their part, the arbiter ``None``."""
    role = ctx.party.role
    if role is Role.GUEST:
        if table is None or table.labels is None:
            raise InputError("the guest's table needs a label column")
        classes = sorted({float(v) for v in table.labels.tolist()})
        if not 2 <= len(classes) <= MAX_CLASSES:
            raise InputError("multiclass LR needs between 2 and 100 classes",
                             classes=len(classes))
        ctx.send(ctx.peers(), CLASS_COUNT, len(classes))
        parts = []
        for k, kctx in ctx.sub("ovr").iter(len(classes)):
            binary = PartyTable(table.ids, table.features, table.feature_names,
                                (table.labels == classes[k]).astype(np.float64))
            parts.append(data_role(params, role).fit(kctx, binary).model_)
        return OvRModelPart(parts, classes)
    count = _class_count(ctx)
    if role is Role.ARBITER:
        for _, kctx in ctx.sub("ovr").iter(count):
            coordinator(params).fit(kctx)
        return None
    if table is None:
        raise InputError("a host needs its table")
    return OvRModelPart([data_role(params, role).fit(kctx, table).model_
                         for _, kctx in ctx.sub("ovr").iter(count)])


def predict_ovr_guest(ctx: Context, model: OvRModelPart, table: PartyTable
                      ) -> NDArray[np.float64]:
    """``(rows, K)`` class probabilities, scored jointly class by class."""
    ctx.send(ctx.hosts, CLASS_COUNT, len(model.parts))
    scores = np.column_stack([predict_guest(kctx, part, table) for (_, kctx), part
                              in zip(ctx.sub("ovr").iter(len(model.parts)), model.parts,
                                     strict=True)])
    total = scores.sum(axis=1, keepdims=True)
    out: NDArray[np.float64] = scores / np.where(total > 0, total, 1.0)
    return out


def predict_ovr_host(ctx: Context, model: OvRModelPart, table: PartyTable, *,
                     min_features: int = MIN_FEATURES) -> None:
    """Take part in scoring each class."""
    if _class_count(ctx) != len(model.parts):
        raise ProtocolError("the guest scores a different number of classes")
    for (_, kctx), part in zip(ctx.sub("ovr").iter(len(model.parts)), model.parts, strict=True):
        predict_host(kctx, part, table, min_features=min_features)
