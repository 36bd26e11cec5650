"""ctypes bindings to the few EC functions of the system's OpenSSL 3 libcrypto that SM2 needs.

``cryptography`` exposes SM3 and SM4 but no SM2 curve arithmetic, so points are multiplied by
libcrypto's ``EC_POINT_mul`` (a constant-time Montgomery ladder for a single secret scalar) and
never by Python integers. Debian's and most distributions' OpenSSL 3 builds include SM2
(``NID_sm2``); a build without it fails here with :class:`CryptoError`, not later.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache

from coalition.core.errors import CryptoError

__all__ = ["NID_SM2", "POINT_COMPRESSED", "POINT_UNCOMPRESSED", "libcrypto"]

NID_SM2 = 1172
POINT_COMPRESSED = 2
POINT_UNCOMPRESSED = 4

_P = ctypes.c_void_p
_SIGNATURES: dict[str, tuple[type | None, list[type]]] = {
    "EC_GROUP_new_by_curve_name": (_P, [ctypes.c_int]),
    "EC_GROUP_new_curve_GFp": (_P, [_P, _P, _P, _P]),
    "EC_GROUP_set_generator": (ctypes.c_int, [_P, _P, _P, _P]),
    "EC_GROUP_free": (None, [_P]),
    "EC_POINT_new": (_P, [_P]),
    "EC_POINT_free": (None, [_P]),
    "EC_POINT_mul": (ctypes.c_int, [_P, _P, _P, _P, _P, _P]),
    "EC_POINT_add": (ctypes.c_int, [_P, _P, _P, _P, _P]),
    "EC_POINT_oct2point": (ctypes.c_int, [_P, _P, ctypes.c_char_p, ctypes.c_size_t, _P]),
    "EC_POINT_point2oct": (
        ctypes.c_size_t,
        [_P, _P, ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t, _P],
    ),
    "EC_POINT_is_at_infinity": (ctypes.c_int, [_P, _P]),
    "BN_bin2bn": (_P, [ctypes.c_char_p, ctypes.c_int, _P]),
    "BN_clear_free": (None, [_P]),
    "BN_CTX_new": (_P, []),
    "BN_CTX_free": (None, [_P]),
}


@cache
def libcrypto() -> ctypes.CDLL:
    """The loaded libcrypto with argument and result types set; :class:`CryptoError` if absent."""
    name = ctypes.util.find_library("crypto") or "libcrypto.so.3"
    try:
        lib = ctypes.CDLL(name)
    except OSError as exc:
        raise CryptoError("OpenSSL libcrypto (needed for SM2) is not installed") from exc
    for function, (restype, argtypes) in _SIGNATURES.items():
        try:
            fn = getattr(lib, function)
        except AttributeError as exc:
            raise CryptoError("the installed libcrypto lacks the EC functions SM2 needs") from exc
        fn.restype = restype
        fn.argtypes = argtypes
    return lib
