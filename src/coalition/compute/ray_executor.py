"""Ray executor: a party's heavy maps on a local Ray or on a Ray cluster.

Ray (https://docs.ray.io) is the distributed engine; this module only adapts it to
:class:`~coalition.core.Executor`. ``address=None`` starts a local Ray with ``num_cpus=workers``
in this process (``ray.init``); ``address="ray://head:10001"`` (Ray Client) or ``"auto"`` joins
an existing cluster, whose CPUs then bound the parallelism. A Ray already initialised in this
process (by another executor or by the caller) is reused and left running.

Chunking: callers already split their work into about ``workers`` chunks
(:func:`~coalition.compute.chunk_slices`), so each chunk is one Ray task and its arguments
cross once. When a caller passes many small items, :meth:`RayExecutor.map` groups them into at
most ``workers × chunks_per_worker`` batches, so the per-task overhead (a few hundred µs
locally, a network round trip on a cluster) and the serialisation of ``fn`` (put in the object
store once per map) do not eat the gain.

Trust: Ray serialises with pickle, which is fine *inside one party* — the cluster must belong
to the organisation whose data it processes (the work items can hold its raw features). That
is why the address comes from the node's own settings only, never from a job document a
partner wrote.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from coalition.compute.chunks import chunk_slices
from coalition.core.errors import ComputeError, ConfigError

__all__ = ["RayExecutor"]

T = TypeVar("T")
R = TypeVar("R")

_init_lock = threading.Lock()


def _run_batch(fn: Callable[[Any], Any], batch: list[Any]) -> list[Any]:
    return [fn(x) for x in batch]


def _init_with_one_retry(ray: Any, kwargs: dict[str, Any]) -> None:
    """``ray.init`` once more after a failed start, then a typed error.

    A local head can fail to come up on a loaded machine (its GCS server never reports a port);
    the half-started processes are this process's children, so they are stopped and reaped
    before the retry, and nothing is left running behind a failure.
    """
    try:
        ray.init(**kwargs)
        return
    except Exception as exc:  # Ray raises RuntimeError, ConnectionError, ...
        _stop_leftovers(ray)
        first = exc
    try:
        ray.init(**kwargs)
    except Exception as exc:
        _stop_leftovers(ray)
        raise ComputeError(f"Ray did not start: {type(exc).__name__}",
                           first=type(first).__name__) from exc


def _stop_leftovers(ray: Any) -> None:
    """Stop what a failed ``ray.init`` left: its global state and child processes."""
    import psutil  # noqa: PLC0415 - a dependency of ray, present when ray is

    with contextlib.suppress(Exception):  # best effort: the start already failed
        ray.shutdown()
    children = psutil.Process().children(recursive=True)
    leftovers = [c for c in children if "ray" in " ".join(_cmdline(c)).lower()]
    for child in leftovers:
        try:
            child.kill()
        except psutil.Error:
            continue
    psutil.wait_procs(leftovers, timeout=10)


def _cmdline(process: Any) -> list[str]:
    import psutil  # noqa: PLC0415 - a dependency of ray, present when ray is

    try:
        return list(process.cmdline())
    except psutil.Error:  # it may have exited already
        return []


class RayExecutor:
    """Maps over items as Ray tasks, in order (see the module docstring)."""

    def __init__(self, workers: int | None = None, *, address: str | None = None,
                 chunks_per_worker: int = 1, object_store_mb: int = 256) -> None:
        if workers is not None and workers < 1:
            raise ConfigError("Ray workers must be at least 1", workers=workers)
        self._requested = workers
        self._address = address
        self._chunks_per_worker = max(1, chunks_per_worker)
        self._object_store_mb = object_store_mb
        self._started_here = False
        self._remote: Any = None
        self._workers: int | None = workers if address is None else None

    @staticmethod
    def _ray() -> Any:
        try:
            import ray  # noqa: PLC0415 - optional extra: coalition[ray]
        except ImportError as exc:
            raise ConfigError("the Ray executor needs the ray extra: pip install "
                              "'coalition[ray]'") from exc
        return ray

    def _connect(self) -> Any:
        ray = self._ray()
        with _init_lock:
            if not ray.is_initialized():
                kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                          "configure_logging": False}
                if self._address is None:
                    kwargs |= {"num_cpus": self._requested or 1,
                               "object_store_memory": self._object_store_mb * 1024 * 1024}
                else:
                    kwargs["address"] = self._address
                _init_with_one_retry(ray, kwargs)
                self._started_here = True
            if self._remote is None:
                self._remote = ray.remote(num_cpus=1)(_run_batch)
            if self._workers is None:
                cpus = int(ray.cluster_resources().get("CPU", 1))
                self._workers = max(1, min(cpus, self._requested or cpus))
        return ray

    @property
    def workers(self) -> int:
        """Chunks that run at once: ``workers``, or the cluster's CPUs when joining one."""
        if self._workers is None:
            self._connect()
        return self._workers or 1

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """``[fn(x) for x in items]`` as Ray tasks, in order; one item runs inline."""
        if len(items) <= 1:
            return [fn(x) for x in items]
        ray = self._connect()
        batches = chunk_slices(len(items), self.workers * self._chunks_per_worker)
        fn_ref = ray.put(fn)
        refs = [self._remote.remote(fn_ref, list(items[s])) for s in batches]
        out: list[R] = []
        for part in ray.get(refs):
            out.extend(part)
        return out

    def shutdown(self) -> None:
        """Stop the local Ray this executor started (a joined cluster keeps running)."""
        if self._started_here:
            self._ray().shutdown()
            self._started_here = False
            self._remote = None
            if self._address is not None:
                self._workers = None
