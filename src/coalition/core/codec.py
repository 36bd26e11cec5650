"""The wire codec: msgpack with an explicit allow-list of types. Never pickle.

Allowed values: ``None``, ``bool``, ``int`` (any size; beyond 64 bits as a big-integer
extension), ``float``, ``str``, ``bytes``, lists/tuples (decoded as lists), dicts with ``str``
or ``int`` keys, numpy scalars (decoded as Python scalars), numpy arrays of bool, integer,
float, complex or fixed-width string dtypes (never ``object`` or structured dtypes), and the
types other packages register with :func:`register_extension` (for example ``coalition.crypto``
registers Paillier public keys and ciphertext arrays, so ``core`` never imports ``crypto``).

Anything else — including subclasses of registered types that were not registered themselves
— is refused with :class:`~coalition.core.errors.CodecError`, as are payloads larger than
the size limit on either side.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgpack
import numpy as np

from coalition.core.errors import CodecError

__all__ = ["DEFAULT_MAX_BYTES", "decode", "encode", "register_extension"]

DEFAULT_MAX_BYTES = 2 * 1024**3  # 2 GiB: larger payloads must be chunked by the protocol

_EXT_NDARRAY = 1
_EXT_BIGINT = 2
_FIRST_USER_CODE = 16
_ALLOWED_DTYPE_KINDS = frozenset("biufcSU")
_INT64_MIN, _UINT64_MAX = -(2**63), 2**64 - 1


@dataclass(frozen=True)
class _Extension:
    code: int
    cls: type
    to_wire: Callable[[Any], Any]
    from_wire: Callable[[Any], Any]


_by_type: dict[type, _Extension] = {}
_by_code: dict[int, _Extension] = {}


def register_extension(
    code: int,
    cls: type,
    to_wire: Callable[[Any], Any],
    from_wire: Callable[[Any], Any],
) -> None:
    """Allow instances of exactly ``cls`` on the wire.

    ``to_wire`` turns an instance into a value this codec already allows (a dict of arrays and
    ints, say); ``from_wire`` rebuilds the instance from that value and must validate it.
    Codes from 16 to 127 are free for registration; registering the same (code, cls) twice is a
    no-op, anything else that collides is an error.
    """
    if not _FIRST_USER_CODE <= code <= 127:
        raise CodecError("extension code must be in 16..127", code=code)
    existing = _by_code.get(code)
    if existing is not None:
        if existing.cls is cls:
            return
        raise CodecError("extension code already registered", code=code,
                         registered=existing.cls.__qualname__)
    ext = _Extension(code, cls, to_wire, from_wire)
    _by_code[code] = ext
    _by_type[cls] = ext


def _check_array(arr: np.ndarray[Any, Any]) -> None:
    if arr.dtype.kind not in _ALLOWED_DTYPE_KINDS or arr.dtype.fields is not None:
        raise CodecError("numpy dtype not allowed on the wire", dtype=str(arr.dtype))


class _BigInt:
    """Marks an int beyond msgpack's 64-bit range for the big-integer extension."""

    __slots__ = ("value",)

    def __init__(self, value: int) -> None:
        self.value = value


def _default(obj: Any, max_bytes: int) -> msgpack.ExtType:
    if type(obj) is _BigInt:
        return msgpack.ExtType(_EXT_BIGINT, _bigint_to_bytes(obj.value))
    if type(obj) is np.ndarray:
        _check_array(obj)
        body = np.ascontiguousarray(obj)
        header = msgpack.packb([obj.dtype.str, list(obj.shape)])
        return msgpack.ExtType(_EXT_NDARRAY, header + body.tobytes())
    ext = _by_type.get(type(obj))
    if ext is None:
        raise CodecError("type not allowed on the wire", type=type(obj).__qualname__)
    return msgpack.ExtType(ext.code, _pack(ext.to_wire(obj), max_bytes))


def _bigint_to_bytes(value: int) -> bytes:
    sign = b"\x01" if value < 0 else b"\x00"
    mag = abs(value)
    return sign + mag.to_bytes((mag.bit_length() + 7) // 8 or 1, "big")


def _bigint_from_bytes(data: bytes) -> int:
    if len(data) < 2 or data[0] not in (0, 1):
        raise CodecError("corrupt big integer")
    mag = int.from_bytes(data[1:], "big")
    return -mag if data[0] == 1 else mag


def _pack(value: Any, max_bytes: int) -> bytes:
    try:
        out: bytes = msgpack.packb(
            _normalise(value), default=lambda o: _default(o, max_bytes), use_bin_type=True, strict_types=True
        )
    except CodecError:
        raise
    except (TypeError, ValueError, OverflowError) as exc:
        raise CodecError("value cannot be encoded", reason=str(exc)) from exc
    if len(out) > max_bytes:
        raise CodecError("payload exceeds the size limit", size=len(out), limit=max_bytes)
    return out


def _ext_hook(code: int, data: bytes, max_bytes: int) -> Any:
    if code == _EXT_NDARRAY:
        return _array_from_bytes(data)
    if code == _EXT_BIGINT:
        return _bigint_from_bytes(data)
    ext = _by_code.get(code)
    if ext is None:
        raise CodecError("unknown extension type on the wire", code=code)
    try:
        return ext.from_wire(_unpack(data, max_bytes))
    except CodecError:
        raise
    except (TypeError, ValueError, KeyError) as exc:
        raise CodecError("corrupt extension payload", type=ext.cls.__qualname__,
                         reason=str(exc)) from exc


def _array_from_bytes(data: bytes) -> np.ndarray[Any, Any]:
    unpacker = msgpack.Unpacker(use_list=True, raw=False, max_buffer_size=len(data))
    unpacker.feed(data)
    try:
        dtype_str, shape = next(unpacker)
        offset = unpacker.tell()
        dtype = np.dtype(dtype_str)
    except (StopIteration, ValueError, TypeError) as exc:
        raise CodecError("corrupt array header") from exc
    if dtype.kind not in _ALLOWED_DTYPE_KINDS or dtype.fields is not None:
        raise CodecError("numpy dtype not allowed on the wire", dtype=dtype_str)
    if not isinstance(shape, list) or not all(isinstance(s, int) and s >= 0 for s in shape):
        raise CodecError("corrupt array shape")
    count = int(np.prod(shape, dtype=np.int64)) if shape else 1
    if count * dtype.itemsize != len(data) - offset:
        raise CodecError("array body does not match its header", shape=shape, dtype=dtype_str)
    return np.frombuffer(data, dtype=dtype, offset=offset).reshape(shape).copy()


def _unpack(data: bytes, max_bytes: int) -> Any:
    try:
        return msgpack.unpackb(
            data,
            ext_hook=lambda code, body: _ext_hook(code, body, max_bytes),
            raw=False,
            strict_map_key=False,
        )
    except CodecError:
        raise
    except (ValueError, TypeError, msgpack.ExtraData, msgpack.FormatError,
            msgpack.StackError) as exc:
        raise CodecError("corrupt payload", reason=str(exc)) from exc


def encode(value: Any, *, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """Serialise an allowed value; raise :class:`CodecError` for anything else."""
    return _pack(value, max_bytes)


def decode(data: bytes | memoryview, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Any:
    """Deserialise a payload produced by :func:`encode` (by any party: validate everything)."""
    if len(data) > max_bytes:
        raise CodecError("payload exceeds the size limit", size=len(data), limit=max_bytes)
    return _unpack(bytes(data), max_bytes)


def _normalise(value: Any) -> Any:
    """Map allowed Python/numpy values onto what msgpack packs with ``strict_types``."""
    kind = type(value)
    if kind is list or kind is tuple:
        return [_normalise(v) for v in value]
    if kind is dict:
        out: dict[Any, Any] = {}
        for k, v in value.items():
            if type(k) not in (str, int):
                raise CodecError("dict keys must be str or int", key_type=type(k).__qualname__)
            out[k] = _normalise(v)
        return out
    if kind is int:
        return value if _INT64_MIN <= value <= _UINT64_MAX else _BigInt(value)
    if isinstance(value, np.generic) and kind is not np.ndarray:
        if value.dtype.kind not in _ALLOWED_DTYPE_KINDS:
            raise CodecError("numpy scalar type not allowed", dtype=str(value.dtype))
        return _normalise(value.item())
    return value
