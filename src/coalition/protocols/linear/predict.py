"""Joint scoring of aligned rows with a trained model (every variant).

Each host computes its partial scores ``w_h·x_h`` (plus the digest of its row IDs, to catch
misalignment); the guest adds its own partial score and the intercept and applies the link
(sigmoid for logistic regression).

Who learns what:

* **several hosts** — the hosts first agree pairwise keys directly with each other (fresh
  X25519 keys per run, over the job's mutually authenticated channels; the guest relays
  nothing) and send the guest only masked fixed-point values whose masks cancel in the sum
  (:mod:`.masking`). The guest learns ``sum_h w_h·x_h`` per row, never one host's part
  (unless all other hosts collude with it).
* **one host** — there is nothing to hide the partial score behind: the guest learns
  ``w_h·x_h`` per row (as in FATE's hetero LR prediction). With a single-feature host that is
  the (standardised, scaled) feature itself, so a host refuses to predict with a part of fewer
  than ``min_features`` features (the node's ``policy_min_serving_features``, default 2).

Hosts learn nothing about the guest's data or the results.
"""

from __future__ import annotations

import numpy as np
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from numpy.typing import NDArray

from coalition.core import Context, MessageKey
from coalition.core.errors import AuthError, InputError, ProtocolError
from coalition.core.ids import Party
from coalition.protocols.linear.artifact import LinearModelPart
from coalition.protocols.linear.data import PartyTable, ids_digest
from coalition.protocols.linear.masking import (
    agree,
    decode_sum,
    encode_partial,
    mask,
    public_bytes,
    stream_masks,
)

__all__ = ["MASK_KEY", "MIN_FEATURES", "PARTIAL_SCORE", "TooFewFeatures", "check_min_features",
           "predict_guest", "predict_host", "sigmoid"]

PARTIAL_SCORE = MessageKey("partial_score",
                           "host -> guest: {digest, score (n,)} (one host) or "
                           "{digest, masked (n,) uint64} (several hosts)")
MASK_KEY = MessageKey("partial_mask_key", "host -> host: X25519 public key (32 bytes)")
#: The default of ``policy_min_serving_features``.
MIN_FEATURES = 2


class TooFewFeatures(AuthError):
    """A node's policy refuses to reveal partial scores of a part with too few features."""

    code = "policy.min_serving_features"


def check_min_features(part: LinearModelPart, min_features: int) -> None:
    """Refuse (:class:`TooFewFeatures`) a part with fewer than ``min_features`` features."""
    if len(part.weights) < min_features:
        raise TooFewFeatures("this node's policy refuses to serve a model part with fewer "
                             "features than its minimum", features=len(part.weights),
                             minimum=min_features)


def sigmoid(z: NDArray[np.float64]) -> NDArray[np.float64]:
    """Numerically stable logistic function."""
    out: NDArray[np.float64] = np.exp(-np.logaddexp(0.0, -z))
    return out


def _pair_context(a: Party, b: Party, digest: bytes) -> bytes:
    lo, hi = sorted((str(a), str(b)))
    return b"coalition/linear/predict|" + lo.encode() + b"|" + hi.encode() + b"|" + digest


def predict_host(ctx: Context, model: LinearModelPart, table: PartyTable, *,
                 min_features: int = MIN_FEATURES) -> None:
    """Send this host's partial scores to the guest: in the clear when it is the only host,
    else masked with pair keys agreed with the other hosts (see the module docstring)."""
    check_min_features(model, min_features)
    digest = ids_digest(table.ids)
    score = model.partial_score(table.features)
    others = [h for h in ctx.hosts if h != ctx.party]
    if not others:
        ctx.send(ctx.guest, PARTIAL_SCORE, {"digest": digest, "score": score})
        return
    key = X25519PrivateKey.generate()
    ctx.send(others, MASK_KEY, public_bytes(key))
    masks = {}
    for peer in others:
        pub = ctx.recv(peer, MASK_KEY)
        if not isinstance(pub, bytes):
            raise ProtocolError("malformed mask key", host=str(peer))
        masks[str(peer)] = stream_masks(agree(key, pub, _pair_context(ctx.party, peer, digest)),
                                        len(score))
    masked = mask(str(ctx.party), encode_partial(score), masks)
    ctx.send(ctx.guest, PARTIAL_SCORE, {"digest": digest, "masked": masked})


def predict_guest(ctx: Context, model: LinearModelPart, table: PartyTable
                  ) -> NDArray[np.float64]:
    """Probabilities (logistic) or predicted values (linear) for the guest's rows."""
    total = model.partial_score(table.features) + (model.intercept or 0.0)
    digest = ids_digest(table.ids)
    field = "score" if len(ctx.hosts) == 1 else "masked"
    parts = []
    for host in ctx.hosts:
        msg = ctx.recv(host, PARTIAL_SCORE)
        if not isinstance(msg, dict) or not isinstance(msg.get(field), np.ndarray):
            raise ProtocolError("malformed partial score", host=str(host))
        if msg.get("digest") != digest or msg[field].shape != total.shape:
            raise InputError("host rows are not aligned with the guest's", host=str(host))
        parts.append(msg[field])
    if len(parts) == 1:
        total = total + parts[0].astype(np.float64)
    elif parts:
        total = total + decode_sum([p.astype(np.uint64) for p in parts])
    if model.task == "poisson":
        rate: NDArray[np.float64] = np.exp(total)  # per unit of exposure
        return rate
    return sigmoid(total) if model.task == "logistic" else total
