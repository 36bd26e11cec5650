"""Whether this node takes part in a proposed job: grants over every dataset it would read.

For each party the job sites here and each task where that party reads a registered dataset
(:func:`~.local.dataset_refs`), the *initiating* organisation needs an approved, unexpired
grant (:func:`coalition.node.grants.check_grant`) on that dataset for every component kind
the data flows into at this party: the reading task's downstream tasks in which the party
takes part (``reader`` itself is a local read, not a use). The answer is:

* ``accepted`` — every use is covered (or the initiator is this node: owners need no grant);
* ``rejected`` — a dataset is missing, or a grant the initiator asked for was rejected or
  revoked and nothing covers the use;
* ``waiting_approval`` — otherwise: a person with ``jobs.approve`` decides.

Nothing here reads data: only the dataset and grant tables.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from coalition.core.errors import AuthError, NotFoundError
from coalition.engine.plan import descendants
from coalition.engine.validate import JobGraph
from coalition.node.datasets import get_dataset
from coalition.node.db.models import Grant
from coalition.node.grants import GrantStatus, check_grant, effective_status
from coalition.node.jobs.local import dataset_refs
from coalition.node.partners import get_partner

__all__ = ["Verdict", "required_uses", "verdict"]

_LOCAL_ONLY = {"reader"}


@dataclass(frozen=True)
class Verdict:
    """The node's answer to a proposal."""

    status: str
    reason: str


def required_uses(graph: JobGraph, sites: dict[str, str], org: str) -> dict[str, set[str]]:
    """``{dataset: component kinds}`` the job makes of this organisation's datasets."""
    deps = graph.deps()
    uses: dict[str, set[str]] = {}
    for name, node in graph.tasks.items():
        for party in node.parties:
            if sites.get(str(party)) != org:
                continue
            for dataset in dataset_refs(node, party):
                kinds = {graph.tasks[t].component.name
                         for t in {name} | descendants(deps, [name])
                         if party in graph.tasks[t].parties}
                uses.setdefault(dataset, set()).update(kinds - _LOCAL_ONLY)
    return uses


def _refused(db: Session, partner: str, dataset: str) -> Grant | None:
    partner_id, dataset_id = get_partner(db, partner).id, get_dataset(db, dataset).id
    rows = db.scalars(select(Grant).where(Grant.partner_id == partner_id,
                                          Grant.dataset_id == dataset_id)
                      .order_by(Grant.id.desc())).all()
    bad = (GrantStatus.REJECTED, GrantStatus.REVOKED)
    return next((g for g in rows if effective_status(g) in bad), None)


def verdict(db: Session, graph: JobGraph, sites: dict[str, str], org: str,
            initiator: str) -> Verdict:
    """Decide (see the module docstring)."""
    uses = required_uses(graph, sites, org)
    for dataset in uses:
        try:
            get_dataset(db, dataset)
        except NotFoundError:
            return Verdict("rejected", f"dataset {dataset!r} is not registered at {org}")
    if initiator == org:
        return Verdict("accepted", "own data")
    missing: list[str] = []
    for dataset, kinds in sorted(uses.items()):
        for kind in sorted(kinds):
            try:
                check_grant(db, initiator, dataset, kind)
            except AuthError:
                missing.append(f"{dataset}:{kind}")
        if any(m.startswith(f"{dataset}:") for m in missing):
            refused = _refused(db, initiator, dataset)
            if refused is not None:
                return Verdict("rejected", f"grant {refused.id} on dataset {dataset!r} is "
                               f"{effective_status(refused)}: {refused.reason or 'no reason'}")
    if missing:
        return Verdict("waiting_approval", "no grant covers " + ", ".join(missing))
    return Verdict("accepted", "grants cover every use")
