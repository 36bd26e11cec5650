"""Parallel map over chunks inside one party: a local process pool by default.

A Ray-backed executor can later implement the same :class:`~coalition.core.Executor`
interface. Nothing here crosses a trust boundary: work items stay inside the party, so the
process pool may use pickle.
"""

from coalition.compute.chunks import chunk_slices
from coalition.compute.pool import ProcessExecutor, default_executor

__all__ = ["ProcessExecutor", "chunk_slices", "default_executor"]
