"""Pairwise zero-sum masks between hosts, so the guest sees only the sum of host partial scores.

With hosts ``1..m`` (``m >= 2``), every pair ``(i, j)`` agrees a key ``k_ij`` the guest does not
know: Diffie-Hellman between the two hosts, turned into a 32-byte key with HKDF (RFC 5869) bound
to a context (who, which job or service). Host ``i`` sends the guest

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

* :func:`stream_masks` — batch prediction: fresh keys per run, so the keystream of ``k_ij`` is
  read once, position by position;
* :func:`id_masks` — online serving: long-lived keys, so the mask of a row is a PRF of its ID,
  ``HMAC(k_ij, id)`` truncated to 64 bits (RFC 2104). Asking twice for one ID gives the
  same masked value (nothing new: the partial score did not change); different IDs get
  independent masks, so the guest can never subtract two answers under one mask.

**Crypto suites** (:mod:`coalition.crypto.suite`; :class:`MaskKey` and the mask functions take
``suite``):

============  ==============================  ==========================================
step          ``standard``                    ``sm``
============  ==============================  ==========================================
agreement     X25519 (RFC 7748)               ECDH in the SM2 group (GB/T 32918; the
                                              secret is the ``x``-coordinate of ``[a]B``)
KDF           HKDF-SHA256                     HKDF-SM3 (GB/T 32905)
stream masks  ChaCha20 keystream (RFC 8439)   SM4-CTR keystream (GB/T 32907)
ID masks      HMAC-SHA256                     HMAC-SM3
============  ==============================  ==========================================

The keystreams are :func:`coalition.crypto.prg.expand_for` of the suite. Under ``standard`` every
byte is what it was before suites existed. The SM2 agreement is plain ECDH, not the
authenticated exchange of GB/T 32918.3: who holds which key is bound by the job's mTLS channels
(batch prediction) or by signatures (serving, :mod:`coalition.node.serving.maskkeys`). Public
keys of the two suites differ in length (32 and 33 bytes), so a host on one suite refuses a key
of the other (:class:`CryptoError`).

What remains: the guest learns ``sum_i w_i·x_i`` per row (it needs it to score) and, with a
single host, that host's ``w_h·x_h`` — see ``docs/serving.md`` and the host's
``policy_min_serving_features``. Hosts that collude with the guest can remove their own masks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from numpy.typing import NDArray

from coalition.core.errors import CryptoError, InputError
from coalition.crypto.prg import expand_for
from coalition.crypto.sm.group import ORDER as SM2_ORDER
from coalition.crypto.suite import CryptoSuite, mac, primitives
from coalition.protocols.linear.fixedpoint import Ring, decode, encode

__all__ = ["FRAC_BITS", "MaskKey", "decode_sum", "encode_partial", "id_masks", "mac", "mask",
           "stream_masks"]

#: Fixed-point precision of masked partial scores: resolution 2^-40 ≈ 9.1e-13, range ±2^22.
FRAC_BITS = 40
_SALT = b"coalition/linear/mask/v1"
Suite = CryptoSuite | str


def _is_sm(suite: Suite) -> bool:
    return CryptoSuite(suite) == CryptoSuite.SM


class MaskKey:
    """One host's key-agreement key in ``suite``: X25519, or a scalar of the SM2 group.

    ``secret`` makes the key a function of those bytes (serving rebuilds it after a restart
    from its node key): the X25519 private key itself (32 bytes), or under ``sm`` any string of
    at least 48 bytes, reduced into ``[1, n)`` (bias below ``2^-128``). Without it the key is
    fresh from the operating system's CSPRNG.
    """

    def __init__(self, suite: Suite = CryptoSuite.STANDARD, secret: bytes | None = None) -> None:
        self.suite = CryptoSuite(suite)
        self._x25519: X25519PrivateKey | None = None
        self._scalar = b""
        if not _is_sm(self.suite):
            self._x25519 = (X25519PrivateKey.generate() if secret is None
                            else X25519PrivateKey.from_private_bytes(secret))
            self.public = self._x25519.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
            return
        group = primitives(self.suite).group
        if secret is None:
            self._scalar = group.random_scalar()
        else:
            if len(secret) < 48:
                raise CryptoError("an SM2 mask key needs at least 48 secret bytes")
            value = int.from_bytes(secret, "big") % (SM2_ORDER - 1) + 1
            self._scalar = group.scalar_from_bytes(value.to_bytes(group.SCALAR_BYTES, "big"))
        self.public = group.scalarmult_base(self._scalar)

    def agree(self, peer_public: bytes, context: bytes) -> bytes:
        """The 32-byte pair key with the owner of ``peer_public`` for ``context``:
        ``HKDF(DH(self, peer), salt, info=context)`` with the suite's group and hash.
        :class:`CryptoError` for a public key that is not one of this suite's group."""
        if self._x25519 is not None:
            return _agree_x25519(self._x25519, peer_public, context)
        group = primitives(self.suite).group
        peer = bytes(peer_public) if isinstance(peer_public, (bytes, bytearray)) else b""
        if len(peer) != group.POINT_BYTES:
            raise CryptoError("invalid SM2 public key")
        point = group.scalarmult(self._scalar, peer)  # validates the peer point
        return primitives(self.suite).kdf(point[1:], length=32, info=context, salt=_SALT)


def _agree_x25519(private: X25519PrivateKey, peer_public: bytes, context: bytes) -> bytes:
    """``HKDF-SHA256(X25519(private, peer_public), info=context)``: a 32-byte pair key (the
    ``standard`` suite; :class:`MaskKey` for either)."""
    try:
        secret = private.exchange(X25519PublicKey.from_public_bytes(bytes(peer_public)))
    except ValueError as exc:  # wrong length, or a low-order point (all-zero secret)
        raise CryptoError("invalid X25519 public key") from exc
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=context).derive(secret)


def stream_masks(key: bytes, n: int, suite: Suite = CryptoSuite.STANDARD) -> Ring:
    """``n`` uniform ring elements: the suite's keystream of ``key`` (ChaCha20, or SM4-CTR
    under ``sm``; one use per key)."""
    return expand_for(suite)(key, n, 64)


def id_masks(key: bytes, ids: Sequence[str], suite: Suite = CryptoSuite.STANDARD) -> Ring:
    """One uniform ring element per ID: ``HMAC(key, id)`` with the suite's hash, truncated to
    64 bits."""
    suite = CryptoSuite(suite)
    raw = b"".join(mac(key, i.encode(), suite)[:8] for i in ids)
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
