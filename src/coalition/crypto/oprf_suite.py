"""The blinded OPRF of each crypto suite behind one interface (``standard``: edwards25519 and
SHA-512; ``sm``: SM2 and SM3 — both :mod:`coalition.crypto.oprf`, bound to the suite).

Both follow RFC 9497's OPRF mode 0x00 (blind, evaluate, finalize); see their modules for the
deviations from the RFC's named suites. A protocol asks :func:`oprf_for` for its suite's OPRF and
never imports a curve. Keys are opaque 32-byte secrets that stay with the server; elements are
``(n, element_bytes)`` ``uint8`` arrays; every function that receives elements validates them as
group elements before a scalar touches them. Large batches are split over an executor.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np
import numpy.typing as npt

from coalition.compute.chunks import chunk_slices
from coalition.core.context import Executor
from coalition.core.errors import CryptoError
from coalition.crypto import oprf as std
from coalition.crypto.suite import CryptoSuite, primitives

__all__ = ["Blinded", "OprfSuite", "oprf_for"]

U8 = npt.NDArray[np.uint8]
_MIN_SPLIT = 256  # below this a process round trip costs more than the scalar multiplications


# Chunk functions of crypto.oprf bound to a suite with functools.partial (picklable, so an
# executor can ship them); the suite's group checks every received element.


def _key(suite: str) -> bytes:
    return std.OprfServerKey.generate(suite).to_bytes()


def _blind_chunk(suite: str, xs: Sequence[bytes]) -> tuple[list[bytes], U8]:
    state, arr = std.blind(xs, suite=suite)
    return list(state.blinds), arr


def _evaluate_chunk(suite: str, args: tuple[bytes, U8]) -> U8:
    key, points = args
    return std.OprfServerKey(key, suite).evaluate(points)


def _evaluate_direct_chunk(suite: str, args: tuple[bytes, Sequence[bytes]]) -> list[bytes]:
    return std.evaluate_direct_chunk((*args, suite))


def _unblind_chunk(suite: str, args: tuple[Sequence[bytes], U8, Sequence[bytes]]) -> list[bytes]:
    primitives(suite).group.validate_points(args[1])
    return std.unblind_chunk((*args, suite))


@dataclass(frozen=True)
class Blinded:
    """The client's secret side of one blinded batch: its inputs and their blinds."""

    inputs: tuple[bytes, ...]
    blinds: tuple[bytes, ...]

    def __repr__(self) -> str:
        return f"Blinded(n={len(self.inputs)})"


@dataclass(frozen=True)
class OprfSuite:
    """One suite's OPRF: chunk functions (module-level, so executors can ship them)."""

    name: CryptoSuite
    element_bytes: int
    output_bytes: int
    generate_key: Callable[[], bytes]
    blind_chunk: Callable[[Sequence[bytes]], tuple[list[bytes], U8]]
    evaluate_chunk: Callable[[tuple[bytes, U8]], U8]
    evaluate_direct_chunk: Callable[[tuple[bytes, Sequence[bytes]]], list[bytes]]
    unblind_chunk: Callable[[tuple[Sequence[bytes], U8, Sequence[bytes]]], list[bytes]]

    def _slices(self, n: int, executor: Executor | None) -> list[slice] | None:
        if executor is None or executor.workers == 1 or n < _MIN_SPLIT:
            return None
        return chunk_slices(n, executor.workers * 2, min_size=_MIN_SPLIT // 2)

    def blind(self, inputs: Sequence[bytes],
              executor: Executor | None = None) -> tuple[Blinded, U8]:
        """Client: blind each input with a fresh scalar; send the array, keep the state."""
        xs = [bytes(x) for x in inputs]
        slices = self._slices(len(xs), executor)
        parts = ([self.blind_chunk(xs)] if slices is None or executor is None
                 else executor.map(self.blind_chunk, [xs[sl] for sl in slices]))
        blinds = tuple(b for p in parts for b in p[0])
        arr = (np.concatenate([p[1] for p in parts]) if parts
               else np.zeros((0, self.element_bytes), dtype=np.uint8))
        return Blinded(tuple(xs), blinds), arr

    def evaluate(self, key: bytes, blinded: U8, executor: Executor | None = None) -> U8:
        """Server: ``[k]B`` for each received element (validated first)."""
        arr = self._check(blinded)
        slices = self._slices(arr.shape[0], executor)
        if slices is None or executor is None:
            return self.evaluate_chunk((key, arr))
        return np.concatenate(executor.map(self.evaluate_chunk, [(key, arr[sl]) for sl in slices]))

    def evaluate_direct(self, key: bytes, inputs: Sequence[bytes],
                        executor: Executor | None = None) -> list[bytes]:
        """Server: ``F(k, x)`` for its own inputs."""
        xs = [bytes(x) for x in inputs]
        slices = self._slices(len(xs), executor)
        if slices is None or executor is None:
            return self.evaluate_direct_chunk((key, xs))
        parts = executor.map(self.evaluate_direct_chunk, [(key, xs[sl]) for sl in slices])
        return [y for part in parts for y in part]

    def unblind(self, state: Blinded, evaluated: U8,
                executor: Executor | None = None) -> list[bytes]:
        """Client: check, unblind and finalize the server's answer: ``F(k, x)`` per input."""
        arr = self._check(evaluated)
        if arr.shape[0] != len(state.inputs):
            raise CryptoError("server returned a different number of elements",
                              expected=len(state.inputs), got=int(arr.shape[0]))
        slices = self._slices(arr.shape[0], executor)
        if slices is None or executor is None:
            return self.unblind_chunk((state.inputs, arr, state.blinds))
        parts = executor.map(self.unblind_chunk, [(state.inputs[sl], arr[sl], state.blinds[sl])
                                                  for sl in slices])
        return [y for part in parts for y in part]

    def _check(self, values: U8) -> U8:
        if (not isinstance(values, np.ndarray) or values.dtype != np.uint8 or values.ndim != 2
                or values.shape[1] != self.element_bytes):
            raise CryptoError("OPRF elements have the wrong shape",
                              expected_width=self.element_bytes)
        return values


def _suite(suite: CryptoSuite) -> OprfSuite:
    name = suite.value
    return OprfSuite(
        name=suite, element_bytes=std.point_bytes(name), output_bytes=std.output_bytes(name),
        generate_key=partial(_key, name), blind_chunk=partial(_blind_chunk, name),
        evaluate_chunk=partial(_evaluate_chunk, name),
        evaluate_direct_chunk=partial(_evaluate_direct_chunk, name),
        unblind_chunk=partial(_unblind_chunk, name))


_SUITES = {suite: _suite(suite) for suite in CryptoSuite}


def oprf_for(suite: CryptoSuite | str) -> OprfSuite:
    """The OPRF of ``suite`` (:class:`~coalition.core.errors.ConfigError` for an unknown one)."""
    return _SUITES[primitives(suite).name]
