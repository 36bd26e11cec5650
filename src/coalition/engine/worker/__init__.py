"""A worker process: one party's role of one task, run as ``python -P -m
coalition.engine.worker SPEC`` by whoever launches it (a node, for jobs across nodes).

* :mod:`.spec` — the contract: :class:`WorkerSpec` (what the launcher writes) and the stdout
  lines the worker answers with (:class:`MetricLine`, :class:`ResultLine`, :func:`parse_line`);
* :mod:`.process` — the worker itself (:func:`~.process.main`, :func:`~.process.execute`).

Importing this package loads only the contract (pydantic and :mod:`coalition.core`), so a
launcher does not pay for the components and the transport the worker process imports.
"""

from coalition.engine.worker.spec import (
    INTERNAL_CODE,
    INTERNAL_MESSAGE,
    MAX_MESSAGE,
    InputRef,
    MetricLine,
    PartyId,
    ResultLine,
    WorkerSpec,
    WorkerTrust,
    parse_line,
    worker_command,
)

__all__ = [
    "INTERNAL_CODE",
    "INTERNAL_MESSAGE",
    "MAX_MESSAGE",
    "InputRef",
    "MetricLine",
    "PartyId",
    "ResultLine",
    "WorkerSpec",
    "WorkerTrust",
    "parse_line",
    "worker_command",
]
