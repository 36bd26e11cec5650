"""Joint scoring of aligned rows with a trained model (every variant).

Each host computes its partial scores ``w_h·x_h`` (plus the digest of its row IDs, to catch
misalignment); the guest adds its own partial score and the intercept and applies the link
(sigmoid for logistic regression).

Who learns what:

* **several hosts** — the hosts first agree pairwise keys directly with each other (fresh
  keys per run in the crypto suite the model part was trained under — X25519, or SM2 under
  ``sm`` — over the job's mutually authenticated channels; the guest relays
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
from numpy.typing import NDArray

from coalition.core import Context, MessageKey
from coalition.core.errors import AuthError, InputError, ProtocolError
from coalition.core.ids import Party
from coalition.crypto.suite import CryptoSuite
from coalition.protocols.linear.artifact import LinearModelPart
from coalition.protocols.linear.data import PartyTable, ids_digest
from coalition.protocols.linear.masking import (
    MaskKey,
    decode_sum,
    encode_partial,
    mask,
    stream_masks,
)

__all__ = ["MASK_KEY", "MIN_FEATURES", "PARTIAL_SCORE", "PartSuiteRefused", "TooFewFeatures",
           "check_min_features", "check_suite", "predict_guest", "predict_host", "sigmoid"]

PARTIAL_SCORE = MessageKey("partial_score",
                           "host -> guest: {digest, score (n,)} (one host) or "
                           "{digest, masked (n,) uint64} (several hosts)")
MASK_KEY = MessageKey("partial_mask_key", "host -> host: X25519 public key (32 bytes), or "
                      "a compressed SM2 point (33 bytes) under the sm suite")
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


class PartSuiteRefused(AuthError):
    """A node refuses to mask partial scores under a crypto suite other than its federation's."""

    code = "policy.crypto_suite"


def check_suite(part: LinearModelPart, suite: CryptoSuite | str | None) -> None:
    """Refuse (:class:`PartSuiteRefused`) a part trained under another suite than ``suite``
    (the node's ``crypto_suite``; None: no node, nothing to check)."""
    if suite is not None and part.suite != CryptoSuite(suite):
        raise PartSuiteRefused("this node's federation runs another crypto suite than the one "
                               "the model part was trained under", part_suite=part.suite.value,
                               node_suite=CryptoSuite(suite).value)


def sigmoid(z: NDArray[np.float64]) -> NDArray[np.float64]:
    """Numerically stable logistic function."""
    out: NDArray[np.float64] = np.exp(-np.logaddexp(0.0, -z))
    return out


def _pair_context(a: Party, b: Party, digest: bytes) -> bytes:
    lo, hi = sorted((str(a), str(b)))
    return b"coalition/linear/predict|" + lo.encode() + b"|" + hi.encode() + b"|" + digest


def predict_host(ctx: Context, model: LinearModelPart, table: PartyTable, *,
                 min_features: int = MIN_FEATURES,
                 suite: CryptoSuite | str | None = None) -> None:
    """Send this host's partial scores to the guest: in the clear when it is the only host,
    else masked with pair keys agreed with the other hosts under the part's crypto suite (see
    the module docstring). ``suite`` is the node's: a part of another suite is refused before
    anything is sent."""
    check_min_features(model, min_features)
    check_suite(model, suite)
    digest = ids_digest(table.ids, model.suite)
    score = model.partial_score(table.features)
    others = [h for h in ctx.hosts if h != ctx.party]
    if not others:
        ctx.send(ctx.guest, PARTIAL_SCORE, {"digest": digest, "score": score})
        return
    suite = model.suite
    key = MaskKey(suite)
    ctx.send(others, MASK_KEY, key.public)
    masks = {}
    for peer in others:
        pub = ctx.recv(peer, MASK_KEY)
        if not isinstance(pub, bytes):
            raise ProtocolError("malformed mask key", host=str(peer))
        masks[str(peer)] = stream_masks(key.agree(pub, _pair_context(ctx.party, peer, digest)),
                                        len(score), suite)
    masked = mask(str(ctx.party), encode_partial(score), masks)
    ctx.send(ctx.guest, PARTIAL_SCORE, {"digest": digest, "masked": masked})


def predict_guest(ctx: Context, model: LinearModelPart, table: PartyTable
                  ) -> NDArray[np.float64]:
    """Probabilities (logistic) or predicted values (linear) for the guest's rows."""
    total = model.partial_score(table.features) + (model.intercept or 0.0)
    digest = ids_digest(table.ids, model.suite)
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
