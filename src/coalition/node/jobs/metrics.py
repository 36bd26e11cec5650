"""Job and task counts by state for the node's Prometheus metrics, read at scrape time."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select

from coalition.node.jobs.tables import JobRow, JobTaskRow
from coalition.node.runtime import NodeRuntime

__all__ = ["state_counts"]


def state_counts(rt: NodeRuntime) -> Iterable[tuple[str, str, dict[str, int]]]:
    """``coalition_jobs`` and ``coalition_tasks`` by state (two grouped counts)."""
    with rt.db.session() as db:
        jobs = {state: n for state, n in db.execute(
            select(JobRow.state, func.count()).group_by(JobRow.state))}
        tasks = {state: n for state, n in db.execute(
            select(JobTaskRow.state, func.count()).group_by(JobTaskRow.state))}
    return [("coalition_jobs", "Jobs on this node by state.", jobs),
            ("coalition_tasks", "Tasks of the jobs on this node by state.", tasks)]
