"""SM2 digital signatures (GB/T 32918.2-2016, GM/T 0003.2-2012).

The signed value is ``e = SM3(Z_A || M)`` where ``Z_A`` binds the signer's identity and the
curve (§5.5): ``Z_A = SM3(ENTL_A || ID_A || a || b || x_G || y_G || x_A || y_A)``, ``ENTL_A``
the bit length of ``ID_A`` on two bytes. Without an agreed identity the default
``1234567812345678`` of GM/T 0009-2012 §10 is used. Signatures are ``r || s``, two 32-byte
big-endian integers (64 bytes); :meth:`Sm2VerifyKey.verify` raises :class:`CryptoError` on any
invalid signature and never returns ``False``.

Point arithmetic is libcrypto's (:mod:`.curve`); the nonce ``k`` comes from ``secrets``. The
standard's Annex A example (curve, key, nonce ``k``, ``Z_A``, ``e``, ``r``, ``s``) is checked in
``tests/crypto/test_sm.py``.
"""

from __future__ import annotations

from coalition.core.errors import CryptoError, InputError
from coalition.crypto.sm.curve import SCALAR_BYTES, SM2, Sm2Curve
from coalition.crypto.sm.sm3 import sm3

__all__ = ["DEFAULT_USER_ID", "SIGNATURE_BYTES", "Sm2SigningKey", "Sm2VerifyKey", "user_digest"]

DEFAULT_USER_ID = b"1234567812345678"
SIGNATURE_BYTES = 2 * SCALAR_BYTES


def user_digest(
    public_key: bytes, user_id: bytes = DEFAULT_USER_ID, curve: Sm2Curve = SM2
) -> bytes:
    """``Z_A`` of GB/T 32918.2 §5.5 for the compressed public key ``public_key``."""
    if len(user_id) >= 8192:
        raise InputError("SM2 user identity longer than 8191 bytes")
    x_a, y_a = curve.affine(public_key)
    fields = (curve.a, curve.b, curve.gx, curve.gy, x_a, y_a)
    return sm3(
        (8 * len(user_id)).to_bytes(2, "big"),
        user_id,
        *(value.to_bytes(SCALAR_BYTES, "big") for value in fields),
    )


class Sm2VerifyKey:
    """An SM2 public key: verifies signatures; holds no secret."""

    def __init__(self, public_key: bytes, curve: Sm2Curve = SM2) -> None:
        if not curve.is_valid_point(public_key):
            raise CryptoError("not an SM2 public key")
        self.curve = curve
        self.encoded = bytes(public_key)

    def digest(self, message: bytes, user_id: bytes = DEFAULT_USER_ID) -> int:
        """``e = SM3(Z_A || M)`` as an integer (§6.1 steps A1–A2)."""
        return int.from_bytes(sm3(user_digest(self.encoded, user_id, self.curve), message), "big")

    def verify(self, signature: bytes, message: bytes, user_id: bytes = DEFAULT_USER_ID) -> None:
        """Check ``signature`` on ``message`` (§7.1); :class:`CryptoError` if it does not hold."""
        n = self.curve.n
        if len(signature) != SIGNATURE_BYTES:
            raise CryptoError("SM2 signature has the wrong length")
        r = int.from_bytes(signature[:SCALAR_BYTES], "big")
        s = int.from_bytes(signature[SCALAR_BYTES:], "big")
        t = (r + s) % n
        if not (0 < r < n and 0 < s < n and t != 0):
            raise CryptoError("SM2 signature out of range")
        e = self.digest(message, user_id)
        try:
            x1, _ = self.curve.affine(self.curve.double_scalarmult(s, t, self.encoded))
        except CryptoError as exc:
            raise CryptoError("SM2 signature does not verify") from exc
        if (e + x1) % n != r:
            raise CryptoError("SM2 signature does not verify")


class Sm2SigningKey:
    """An SM2 private key ``d`` in ``[1, n - 1)`` (§6.1 requires ``1 + d`` invertible)."""

    def __init__(self, secret: int, curve: Sm2Curve = SM2) -> None:
        if not 0 < secret < curve.n - 1:
            raise InputError("SM2 private key out of range")
        self.curve = curve
        self._secret = secret
        self.verify_key = Sm2VerifyKey(curve.scalarmult_base(secret), curve)

    @classmethod
    def generate(cls, curve: Sm2Curve = SM2) -> Sm2SigningKey:
        """A fresh random key."""
        while True:
            secret = curve.random_scalar()
            if secret < curve.n - 1:
                return cls(secret, curve)

    def to_bytes(self) -> bytes:
        """The 32-byte big-endian private key (secret: store it encrypted)."""
        return self._secret.to_bytes(SCALAR_BYTES, "big")

    @classmethod
    def from_bytes(cls, data: bytes, curve: Sm2Curve = SM2) -> Sm2SigningKey:
        """The key :meth:`to_bytes` wrote."""
        if len(data) != SCALAR_BYTES:
            raise InputError("SM2 private keys are 32 bytes")
        return cls(int.from_bytes(data, "big"), curve)

    def sign(self, message: bytes, user_id: bytes = DEFAULT_USER_ID) -> bytes:
        """``r || s`` over ``message`` (§6.1) with a fresh random nonce."""
        while True:
            signature = self._sign_with_nonce(message, self.curve.random_scalar(), user_id)
            if signature is not None:
                return signature

    def _sign_with_nonce(self, message: bytes, k: int, user_id: bytes) -> bytes | None:
        """§6.1 steps A3–A7 with nonce ``k``; ``None`` when ``k`` must be redrawn."""
        n, d = self.curve.n, self._secret
        e = self.verify_key.digest(message, user_id)
        x1, _ = self.curve.affine(self.curve.scalarmult_base(k))
        r = (e + x1) % n
        if r == 0 or r + k == n:
            return None
        s = pow(1 + d, -1, n) * (k - r * d) % n
        if s == 0:
            return None
        return r.to_bytes(SCALAR_BYTES, "big") + s.to_bytes(SCALAR_BYTES, "big")
