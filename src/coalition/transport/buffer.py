"""Assemble a chunked payload into ONE ``bytes`` object, without a second full-size copy.

Joining a list of chunks holds the payload twice at its peak (chunks + result), and filling a
``bytearray`` then calling ``bytes()`` does too. On CPython this module instead allocates the
final ``bytes`` object up front with ``PyBytes_FromStringAndSize(NULL, size)`` and copies each
chunk into it as it arrives — the pattern the C API documents for exactly this purpose (a bytes
object "just created" this way may be filled before anyone else sees it). The object is only
handed out once every byte was written. Other interpreters fall back to ``bytearray``.
"""

from __future__ import annotations

import ctypes
import sys

from coalition.core.errors import PeerError

__all__ = ["PayloadBuffer"]

_CPYTHON = sys.implementation.name == "cpython"
if _CPYTHON:
    _new_bytes = ctypes.pythonapi.PyBytes_FromStringAndSize
    _new_bytes.restype = ctypes.py_object
    _new_bytes.argtypes = (ctypes.c_void_p, ctypes.c_ssize_t)
    _bytes_data = ctypes.pythonapi.PyBytes_AsString
    _bytes_data.restype = ctypes.c_void_p
    _bytes_data.argtypes = (ctypes.py_object,)


class PayloadBuffer:
    """Exactly ``size`` bytes, written in order by :meth:`write`, read once by :meth:`result`."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._filled = 0
        self._bytes: bytes | None = None
        self._array: bytearray | None = None
        if _CPYTHON and size > 0:
            self._bytes = _new_bytes(None, size)
            self._addr: int = _bytes_data(self._bytes)
        else:
            self._array = bytearray(size)

    def write(self, chunk: bytes) -> None:
        """Append ``chunk``; overflowing ``size`` is a :class:`PeerError`."""
        end = self._filled + len(chunk)
        if end > self.size:
            raise PeerError("payload longer than its envelope announced", size=self.size)
        if self._bytes is not None:
            ctypes.memmove(self._addr + self._filled, chunk, len(chunk))
        elif self._array is not None:
            self._array[self._filled:end] = chunk
        self._filled = end

    def result(self) -> bytes:
        """The complete payload; fewer bytes than announced is a :class:`PeerError`."""
        if self._filled != self.size:
            raise PeerError("payload shorter than its envelope announced", size=self.size,
                            received=self._filled)
        out, self._bytes = self._bytes, None
        if out is None:
            out = bytes(self._array or b"")
            self._array = None
        return out
