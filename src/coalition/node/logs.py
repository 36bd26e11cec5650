"""The node's log lines: plain text or one JSON object per line, with job and task ids.

``log_format: json`` in the node settings (``COALITION_NODE_LOG_FORMAT=json``) makes
``coalition node start`` write lines a log pipeline can index without parsing::

    {"ts": "2026-12-04T12:00:00.123Z", "level": "INFO", "logger": "coalition.node.jobs",
     "message": "task psi finished: ok", "node": "bank", "job_id": "j-…", "task": "psi"}

``job_id`` and ``task`` come from :func:`log_context`, which the job code enters around the
work of one job (the scheduler) or one task party (the worker supervisor), so every line
logged inside it, by any module, carries them. A message never holds data values (the
existing rule for logs); exceptions add ``exc_type`` and the formatted ``exc`` text.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["JsonFormatter", "configure_logging", "log_context"]

_JOB: contextvars.ContextVar[str | None] = contextvars.ContextVar("coalition_job", default=None)
_TASK: contextvars.ContextVar[str | None] = contextvars.ContextVar("coalition_task", default=None)


@contextmanager
def log_context(*, job: str | None = None, task: str | None = None) -> Iterator[None]:
    """Lines logged inside carry ``job_id`` (and ``task``) in JSON mode."""
    tokens = [(_JOB, _JOB.set(job)) if job is not None else None,
              (_TASK, _TASK.set(task)) if task is not None else None]
    try:
        yield
    finally:
        for entry in reversed(tokens):
            if entry is not None:
                entry[0].reset(entry[1])


class JsonFormatter(logging.Formatter):
    """One JSON object per record (UTC timestamps, the job context, the node's name)."""

    def __init__(self, node: str = "") -> None:
        super().__init__()
        self._node = node

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON line."""
        at = dt.datetime.fromtimestamp(record.created, dt.UTC)
        out: dict[str, object] = {
            "ts": at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname, "logger": record.name, "message": record.getMessage(),
        }
        if self._node:
            out["node"] = self._node
        job, task = _JOB.get(), _TASK.get()
        if job is not None:
            out["job_id"] = job
        if task is not None:
            out["task"] = task
        if record.exc_info and record.exc_info[0] is not None:
            out["exc_type"] = record.exc_info[0].__name__
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


class _TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        job, task = _JOB.get(), _TASK.get()
        if job is None:
            return line
        return f"{line} [job={job}{f' task={task}' if task else ''}]"


def configure_logging(fmt: str = "text", level: str = "INFO", node: str = "") -> None:
    """Route the root logger to stderr in ``fmt`` (``text`` or ``json``) at ``level``."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter(node) if fmt == "json"
                         else _TextFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
