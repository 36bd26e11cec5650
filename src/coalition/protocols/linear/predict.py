"""Joint scoring of aligned rows with a trained model (every variant).

Each host sends the guest only its partial scores ``w_h·x_h`` (plus the digest of its row IDs,
to catch misalignment); the guest adds its own partial score and the intercept and applies the
link (sigmoid for logistic regression). Who learns what: the guest learns the hosts' partial
scores per row (as in FATE's hetero LR prediction); hosts learn nothing.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from coalition.core import Context, MessageKey
from coalition.core.errors import InputError, ProtocolError
from coalition.protocols.linear.artifact import LinearModelPart
from coalition.protocols.linear.data import PartyTable, ids_digest

__all__ = ["PARTIAL_SCORE", "predict_guest", "predict_host", "sigmoid"]

PARTIAL_SCORE = MessageKey("partial_score", "host -> guest: {digest, score (n,)}")


def sigmoid(z: NDArray[np.float64]) -> NDArray[np.float64]:
    """Numerically stable logistic function."""
    out: NDArray[np.float64] = np.exp(-np.logaddexp(0.0, -z))
    return out


def predict_host(ctx: Context, model: LinearModelPart, table: PartyTable) -> None:
    """Send this host's partial scores to the guest."""
    ctx.send(ctx.guest, PARTIAL_SCORE, {"digest": ids_digest(table.ids),
                                        "score": model.partial_score(table.features)})


def predict_guest(ctx: Context, model: LinearModelPart, table: PartyTable
                  ) -> NDArray[np.float64]:
    """Probabilities (logistic) or predicted values (linear) for the guest's rows."""
    total = model.partial_score(table.features) + (model.intercept or 0.0)
    digest = ids_digest(table.ids)
    for host in ctx.hosts:
        msg = ctx.recv(host, PARTIAL_SCORE)
        if not isinstance(msg, dict) or not isinstance(msg.get("score"), np.ndarray):
            raise ProtocolError("malformed partial score", host=str(host))
        if msg.get("digest") != digest or msg["score"].shape != total.shape:
            raise InputError("host rows are not aligned with the guest's", host=str(host))
        total = total + msg["score"].astype(np.float64)
    return sigmoid(total) if model.task == "logistic" else total
