"""Pairwise zero-sum masks between hosts, so the guest sees only the sum of host partial scores.

With hosts ``1..m`` (``m >= 2``), every pair ``(i, j)`` agrees a key ``k_ij`` the guest does not
know: X25519 (RFC 7748) between the two hosts, turned into a 32-byte key with HKDF-SHA256
(RFC 5869) bound to a context (who, which job or service). Host ``i`` sends the guest

    y_i = enc(w_i·x_i) + sum_{j > i} PRG(k_ij) - sum_{j < i} PRG(k_ij)   (mod 2^64)

where ``enc`` is fixed-point with :data:`FRAC_BITS` fractional bits (two's complement). The
masks cancel in ``sum_i y_i``, so the guest decodes exactly the fixed-point sum of the partial
scores; each ``y_i`` alone (and every proper subset of them) is uniformly distributed over
``Z_2^64`` given the guest's view, as long as one pair of hosts in the subset's complement is
honest (Bonawitz et al., "Practical Secure Aggregation for Privacy-Preserving Machine
Learning", CCS 2017, §4 — the same pairwise-mask construction as
:mod:`coalition.protocols.horizontal.secagg`, without dropout recovery: a host that does not
answer fails the request).

Two PRGs, one per use:

* :func:`stream_masks` — batch prediction: fresh X25519 keys per run, so the ChaCha20
  (RFC 8439) keystream of ``k_ij`` is read once, position by position;
* :func:`id_masks` — online serving: long-lived keys, so the mask of a row is a PRF of its ID,
  ``HMAC-SHA256(k_ij, id)`` truncated to 64 bits (RFC 2104). Asking twice for one ID gives the
  same masked value (nothing new: the partial score did not change); different IDs get
  independent masks, so the guest can never subtract two answers under one mask.

What remains: the guest learns ``sum_i w_i·x_i`` per row (it needs it to score) and, with a
single host, that host's ``w_h·x_h`` — see ``docs/serving.md`` and the host's
``policy_min_serving_features``. Hosts that collude with the guest can remove their own masks.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence

import numpy as np
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from numpy.typing import NDArray

from coalition.core.errors import CryptoError, InputError
from coalition.protocols.linear.fixedpoint import Ring, decode, encode

__all__ = ["FRAC_BITS", "agree", "decode_sum", "encode_partial", "id_masks", "mask",
           "public_bytes", "stream_masks"]

#: Fixed-point precision of masked partial scores: resolution 2^-40 ≈ 9.1e-13, range ±2^22.
FRAC_BITS = 40
_NONCE = bytes(16)  # each key expands exactly one stream, so a fixed nonce is safe


def public_bytes(key: X25519PrivateKey) -> bytes:
    """The raw 32-byte public key."""
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def agree(private: X25519PrivateKey, peer_public: bytes, context: bytes) -> bytes:
    """``HKDF-SHA256(X25519(private, peer_public), info=context)``: a 32-byte pair key."""
    try:
        secret = private.exchange(X25519PublicKey.from_public_bytes(bytes(peer_public)))
    except ValueError as exc:  # wrong length, or a low-order point (all-zero secret)
        raise CryptoError("invalid X25519 public key") from exc
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"coalition/linear/mask/v1",
                info=context).derive(secret)


def stream_masks(key: bytes, n: int) -> Ring:
    """``n`` uniform ring elements: the ChaCha20 keystream of ``key`` (one use per key)."""
    enc = Cipher(algorithms.ChaCha20(key, _NONCE), mode=None).encryptor()
    return np.frombuffer(enc.update(bytes(8 * n)), dtype="<u8").astype(np.uint64)


def id_masks(key: bytes, ids: Sequence[str]) -> Ring:
    """One uniform ring element per ID: ``HMAC-SHA256(key, id)`` truncated to 64 bits."""
    raw = b"".join(hmac.new(key, i.encode(), hashlib.sha256).digest()[:8] for i in ids)
    return np.frombuffer(raw, dtype="<u8").astype(np.uint64)


def encode_partial(scores: NDArray[np.float64]) -> Ring:
    """Fixed-point encoding of partial scores (refuses NaN and out-of-range values)."""
    return encode(scores, FRAC_BITS)


def mask(me: str, values: Ring, masks: Mapping[str, Ring]) -> Ring:
    """``values`` plus the pair masks with every other host ``j`` (``masks[j]``): added when
    ``me < j``, subtracted otherwise, so all hosts' masks cancel in the sum."""
    out = np.asarray(values, dtype=np.uint64).copy()
    with np.errstate(over="ignore"):
        for peer, m in masks.items():
            if peer == me:
                raise InputError("a host cannot mask with itself")
            if m.shape != out.shape:
                raise InputError("mask and partial scores differ in length")
            out = out + m if me < peer else out - m
    return out


def decode_sum(masked: Sequence[Ring]) -> NDArray[np.float64]:
    """The sum of every host's masked values, decoded (the masks cancel)."""
    if not masked:
        raise InputError("no masked partial scores to add")
    total = np.zeros_like(np.asarray(masked[0], dtype=np.uint64))
    with np.errstate(over="ignore"):
        for m in masked:
            total = total + np.asarray(m, dtype=np.uint64)
    return decode(total, FRAC_BITS)
