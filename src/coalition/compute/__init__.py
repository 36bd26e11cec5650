"""Parallel map over chunks inside one party: a local process pool by default, Ray when
configured (:class:`RayExecutor`, the ``coalition[ray]`` extra).

Nothing here crosses a trust boundary: work items stay inside the party (its own machines or
its own Ray cluster), so the executors may use pickle. :class:`ComputeSpec` is the one setting
that chooses (a node's ``compute_*`` settings, a worker's spec); :func:`make_executor` builds it.
"""

from coalition.compute.chunks import chunk_slices
from coalition.compute.config import ComputeSpec, make_executor
from coalition.compute.pool import ProcessExecutor, default_executor
from coalition.compute.ray_executor import RayExecutor

__all__ = ["ComputeSpec", "ProcessExecutor", "RayExecutor", "chunk_slices", "default_executor",
           "make_executor"]
