"""Message keys and wire shapes of the secret-shared (``protocol: ss``) variant.

Computing parties: party 0 is the guest, party 1 the first host (``ctx.hosts[0]``); further
hosts are input/output parties that secret-share their features between the two. The dealer is
the arbiter, or the guest itself when the job has no arbiter (see ``dealer``).
All ring values are ``uint64`` arrays (Z_2^64).
"""

from __future__ import annotations

from coalition.core import MessageKey

__all__ = [
    "CORRECTIONS",
    "INPUT_MASKED",
    "INPUT_SEED",
    "OPEN_D",
    "OPEN_DW",
    "OPEN_EXP",
    "OPEN_STATS",
    "OPEN_W",
    "OPEN_X",
    "OPEN_Z",
    "OPEN_Z2",
    "PROCEED",
    "SEED",
    "VERDICT",
    "WEIGHT_SHARE",
]

SEED = MessageKey("ss_seed", "dealer -> computing party: int, 128-bit seed of its shares")
CORRECTIONS = MessageKey(
    "ss_corrections", "dealer -> party 1, per epoch: list of {z, zt, s} per batch, + {dw}")
PROCEED = MessageKey("ss_proceed", "guest -> arbiter dealer, per epoch: bool, keep training")
INPUT_SEED = MessageKey("ss_input_seed", "extra host -> party 1: seed of its share R of X_k")
INPUT_MASKED = MessageKey("ss_input_masked", "extra host -> party 0: X_k - R (uint64)")
OPEN_X = MessageKey("ss_open_x", "party <-> party, once: share of E = X - U (n x D)")
OPEN_W = MessageKey("ss_open_w", "party <-> party, per batch: share of F = w - V (D)")
OPEN_D = MessageKey("ss_open_d",
                    "party <-> party, per batch: [share of d - V' (B), share of s - A (B)]; "
                    "poisson: [share of mu - y - V', share of y - A, share of eta - B] (B each)")
OPEN_Z = MessageKey("ss_open_z", "party <-> party, per batch (poly3): share of z - A_s (B)")
OPEN_Z2 = MessageKey("ss_open_z2", "party <-> party, per batch (poly3): share of z^2 - B_s (B)")
OPEN_DW = MessageKey("ss_open_dw", "party <-> party, per epoch: share of dw - A_w (D)")
OPEN_STATS = MessageKey("ss_open_stats",
                        "party <-> party, per epoch: shares of [sum s^2, |dw|^2] (2,); "
                        "poisson: party 1 -> guest only, [2(sum mu - sum y.eta), |dw|^2]")
OPEN_EXP = MessageKey("ss_open_exp",
                      "party <-> party, per batch and exp squaring (poisson): share of v - A_k")
VERDICT = MessageKey("ss_verdict", "guest -> party 1, per epoch (poisson): "
                     "[keep training: bool, why it diverged: str | None]")
WEIGHT_SHARE = MessageKey("ss_weight_share",
                          "computing party -> owner, at the end: its share of the owner's w")
