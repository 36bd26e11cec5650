"""Reports (curves, tables, confusion matrices) that this node's own parties stored for a job.

A report stays with the party that computed it (``evaluate`` runs at the label owner); this
reads only this node's artifact stores, under the cache keys this node recorded for the job's
tasks, so a user of this node sees exactly what its parties made and nothing of a partner's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from coalition.components.artifacts import ArtifactKind, Report
from coalition.core.errors import CoalitionError
from coalition.core.ids import Party
from coalition.node.jobs import repository as repo
from coalition.node.jobs.local import store_for
from coalition.node.runtime import NodeRuntime

__all__ = ["LocalReport", "local_reports"]


@dataclass(frozen=True)
class LocalReport:
    """One stored report output of one local party's task."""

    task: str
    party: str
    output: str
    content: dict[str, Any]


def _finite(value: Any) -> Any:
    """JSON has no NaN or infinity (an empty lift bucket, an undefined precision): null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def local_reports(rt: NodeRuntime, job_id: str) -> list[LocalReport]:
    """Every report output this node's parties stored for ``job_id`` (``not_found`` for an
    unknown job); a task not run here, or not finished, has none."""
    keys = repo.read(rt, lambda db: (repo.get_job(db, job_id),
                                     [(t.task, dict(t.keys)) for t in repo.tasks(db, job_id)])[1])
    out: list[LocalReport] = []
    for task, by_party in keys:
        for party_text, key in sorted(by_party.items()):
            store = store_for(rt, Party.parse(party_text))
            if not store.has(task, key):
                continue
            for name, entry in store.manifest(task, key).items():
                if entry.kind is not ArtifactKind.REPORT:
                    continue
                try:
                    artifact = store.load(task, key, name)
                except CoalitionError:
                    continue  # a damaged entry shows as absent; the job log has the cause
                if isinstance(artifact, Report):
                    out.append(LocalReport(task, party_text, name, _finite(artifact.content)))
    return out
