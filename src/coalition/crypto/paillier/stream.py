"""``X.T @ [[d]]`` over ``[[d]]`` that arrives in row segments, for pipelined protocols.

A party that receives ``[[d]]`` in segments (HE-LR's streamed batch, ``protocols/linear/he``)
starts each segment's bucket multi-exponentiations on its executor as soon as that segment is
added, and keeps receiving while they run: its products overlap the transfer of, and the
partner's work on, the next segment. The exponents are the ones
:meth:`~coalition.crypto.paillier.additive.AdditiveArray.xt_dot` would use for the whole ``X``
(one fixed-point precision for the whole matrix), every product is a product of the same
ciphertexts, and the plaintext result is the same integer: the stream is exact, not an
approximation. Each segment is cut into ``max(1, workers // segments)`` row chunks, so with as
many segments as workers the process pool runs as many tasks of the same size as one
``xt_dot`` call would, and costs the same CPU.

Executors with a ``submit(fn, item) -> Future`` (:class:`~coalition.compute.ProcessExecutor`)
start a chunk at once; with any other executor :meth:`add` maps the segment's chunks and
returns when they are done (Ray: in parallel; a serial executor: inline): no overlap, the
same result.
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any, Generic, TypeVar

import numpy as np

from coalition.compute import chunk_slices
from coalition.core import Executor
from coalition.core.errors import InputError
from coalition.crypto.paillier.additive import AdditiveArray
from coalition.crypto.paillier.elementwise import objects
from coalition.crypto.paillier.encoding import (
    DEFAULT_MUL_PRECISION,
    is_integer_valued,
    scaled_exponents,
)
from coalition.crypto.paillier.multiexp import XtDotTask, xt_dot_chunk
from coalition.crypto.paillier.reductions import XT_MIN_ROWS

__all__ = ["XtDotStream"]

A = TypeVar("A", bound=AdditiveArray[Any])


class XtDotStream(Generic[A]):
    """``X.T @ [[d]]`` accumulated from the segments of ``[[d]]`` as they are added.

    ``X`` is the plaintext ``(N, F)`` matrix; :meth:`add` takes the ciphertexts of rows
    ``start … start + len(segment)``; :meth:`result` waits for every product, checks every row
    was added exactly once, and returns the ``(F,)`` array ``xt_dot`` would.
    """

    def __init__(self, X: Any, *, segments: int, precision: int = DEFAULT_MUL_PRECISION,
                 executor: Executor | None = None) -> None:
        mat = np.asarray(X)
        if mat.ndim != 2 or segments < 1:
            raise InputError("XtDotStream needs X of shape (N, F) and segments >= 1",
                             x_shape=mat.shape, segments=segments)
        self._bits = 0 if is_integer_valued(mat) else precision
        self._K = scaled_exponents(mat, self._bits)
        self._executor = executor
        workers = executor.workers if executor is not None else 1
        self._chunks = max(1, workers // segments)
        self._covered = np.zeros(mat.shape[0], dtype=bool)
        self._parts: list[Future[list[Any]]] = []
        self._first: A | None = None
        self._masked = True

    def add(self, start: int, segment: A) -> None:
        """Start the products of ``segment``, the ciphertexts of rows ``start …``."""
        if segment.ndim != 1 or not 0 <= start <= start + len(segment) <= len(self._covered):
            raise InputError("segment does not fit the rows of X", start=start,
                             shape=segment.shape, rows=len(self._covered))
        rows = slice(start, start + len(segment))
        if self._covered[rows].any():
            raise InputError("segment overlaps rows already added", start=start)
        if self._first is None:
            self._first = segment
        else:
            self._first._same_key(segment)
            if segment.scale_bits != self._first.scale_bits:
                raise InputError("segments of one stream must share a scale")
        self._covered[rows] = True
        self._masked = self._masked and segment.is_masked
        n2 = int(segment._modulus)  # same package: the array's ring
        cs = segment._c.tolist()
        tasks = [XtDotTask(n2, cs[s], self._K[start + (s.start or 0):start + (s.stop or 0)])
                 for s in chunk_slices(len(cs), self._chunks, min_size=XT_MIN_ROWS)
                 or [slice(0, 0)]]
        submit = getattr(self._executor, "submit", None)
        if submit is not None:
            self._parts.extend(submit(xt_dot_chunk, task) for task in tasks)
            return
        # no early start: this segment's chunks in parallel now (Ray), or inline
        ex = self._executor
        for part in (ex.map(xt_dot_chunk, tasks) if ex is not None and len(tasks) > 1
                     else [xt_dot_chunk(t) for t in tasks]):
            done: Future[list[Any]] = Future()
            done.set_result(part)
            self._parts.append(done)

    def result(self) -> A:
        """``X.T @ [[d]]`` once every row has been added (waits for the running products)."""
        first = self._first
        if first is None or not self._covered.all():
            raise InputError("XtDotStream.result before every row was added",
                             missing=int((~self._covered).sum()))
        parts = [f.result() for f in self._parts]
        n2 = first._modulus
        cols: list[Any] = []
        for j in range(self._K.shape[1]):
            acc = None
            for part in parts:
                c = part[j]
                if c is not None:
                    acc = c if acc is None else acc * c % n2
            cols.append(acc)
        filled = first._fill(cols, self._masked)
        return first._like(objects(filled, (self._K.shape[1],)),
                           scale=first.scale_bits + self._bits, masked=self._masked)
