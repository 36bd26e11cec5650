"""Message keys of the Paillier variants (``he-arbiter``, ``he-guest``).

The *key holder* is the arbiter (``he-arbiter``) or the guest (``he-guest``); the
*coordinator* (loss, convergence verdicts) is the same party. Ciphertexts travel as
:class:`~coalition.crypto.paillier.EncryptedArray`; decrypted masked gradients travel as lists
of Python ints (raw plaintexts mod n).
"""

from __future__ import annotations

from coalition.core import MessageKey

__all__ = [
    "CROSS",
    "ENC_D",
    "ENC_KU",
    "ENC_LOSS_AUX",
    "ENC_Q",
    "ENC_V",
    "ENC_XG",
    "EPOCH_LOSS",
    "MASKED_GRAD",
    "PUBKEY",
    "UNMASKED_RAW",
    "VERDICT",
    "WEIGHT_DIFF",
    "ZEROS",
]

PUBKEY = MessageKey("he_pubkey", "key holder -> all: PaillierPublicKey")
ENC_KU = MessageKey("he_enc_ku", "host -> guest (he-arbiter) or other hosts (he-guest): [[k u_h]]")
ENC_Q = MessageKey("he_enc_q", "host -> guest (he-arbiter): [[sum(u_h^2) * c]], loss term")
ENC_D = MessageKey("he_enc_d", "guest -> hosts (he-arbiter): [[d]] residual of the batch")
ENC_V = MessageKey("he_enc_v", "guest -> hosts (he-guest): [[k u_g + c - y]]")
ENC_XG = MessageKey("he_enc_xg", "guest -> hosts[0] (he-guest), once: [[X_g]]")
ENC_LOSS_AUX = MessageKey("he_enc_a", "guest -> hosts[0] (he-guest): [[a]] loss coefficients")
CROSS = MessageKey("he_cross", "hosts -> hosts[0] -> guest (he-guest): [[X_g^T k u_H]], loss")
MASKED_GRAD = MessageKey("he_masked_grad", "owner -> key holder: [[g + M]]")
UNMASKED_RAW = MessageKey("he_raw", "key holder -> owner: decrypted g + M (ints mod n)")
EPOCH_LOSS = MessageKey("he_epoch_loss", "guest -> arbiter, per epoch: [[loss sum]]")
WEIGHT_DIFF = MessageKey("he_weight_diff", "party -> coordinator, per epoch: |dw_p|^2")
VERDICT = MessageKey("he_verdict", "coordinator -> all, per epoch: {keep, loss}")
ZEROS = MessageKey("he_zeros", "arbiter -> each host (he-arbiter), a batch ahead: [[0]] per row")
