"""The Chinese national (国密, "guomi") algorithms: SM2, SM3 and SM4.

* :mod:`.sm3` — the SM3 hash (GB/T 32905-2016), HMAC-SM3, HKDF-SM3 and RFC 9380's
  ``expand_message_xmd`` over SM3, all through ``cryptography`` (OpenSSL);
* :mod:`.sm4` — SM4 (GB/T 32907-2016) in GCM mode (RFC 8998) as an AEAD, through ``cryptography``;
* :mod:`.curve` — the SM2 elliptic curve (GB/T 32918.5-2017) over OpenSSL's libcrypto: points,
  scalars, scalar multiplication, validation of every peer point;
* :mod:`.signature` — SM2 signatures with the ``Z_A`` user-identity digest (GB/T 32918.2-2016);
* :mod:`.hash_to_curve` — hash-to-curve for SM2 with RFC 9380's simplified SWU map, suite
  ``SM2_XMD:SM3_SSWU_RO_``.
"""

from coalition.crypto.sm.curve import SM2, Sm2Curve
from coalition.crypto.sm.hash_to_curve import SUITE_ID, hash_to_curve
from coalition.crypto.sm.signature import DEFAULT_USER_ID, Sm2SigningKey, Sm2VerifyKey
from coalition.crypto.sm.sm3 import expand_message_xmd_sm3, hkdf_sm3, hmac_sm3, sm3
from coalition.crypto.sm.sm4 import Sm4Gcm

__all__ = [
    "DEFAULT_USER_ID",
    "SM2",
    "SUITE_ID",
    "Sm2Curve",
    "Sm2SigningKey",
    "Sm2VerifyKey",
    "Sm4Gcm",
    "expand_message_xmd_sm3",
    "hash_to_curve",
    "hkdf_sm3",
    "hmac_sm3",
    "sm3",
]
