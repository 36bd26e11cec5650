"""Whether this node takes part in a proposed job: grants over every dataset it would read,
and this node's privacy policy (:mod:`coalition.engine.policy`).

For each party the job sites here and each task where that party reads a registered dataset
(:func:`~.local.dataset_refs`), the *initiating* organisation needs an approved, unexpired
grant (:func:`coalition.node.partners.grants.check_grant`) on that dataset for the read itself and for
every component kind the data flows into at this party (the reading task's downstream tasks
in which the party takes part). A read alone (``reader``) is a use too: it makes a derived
copy and reports row and column counts, so any approved grant on the dataset must cover it.
The answer is:

* ``rejected`` — the initiator runs no party of its job; a dataset it reads here is missing
  or not shared with the initiator (one answer for both, naming no dataset, so a proposal
  cannot probe which names exist); the job breaks the privacy policy (the reason names the
  rules, never data); or a grant the initiator asked for was rejected or revoked and nothing
  covers the use;
* ``accepted`` — every use is covered (or the initiator is this node: owners need no grant)
  and the policy holds;
* ``waiting_approval`` — otherwise: a person with ``jobs.approve`` decides.

Nothing here reads data: only the dataset, share and grant tables and the node settings.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from coalition.core.errors import AuthError, NotFoundError
from coalition.engine.plan import descendants
from coalition.engine.policy import check
from coalition.engine.validate import JobGraph
from coalition.node.data.datasets import get_dataset, visible_to
from coalition.node.jobs.local import dataset_refs
from coalition.node.jobs.privacy import policy_for
from coalition.node.partners.directory import get_partner
from coalition.node.partners.grants import GrantStatus, check_grant, effective_status
from coalition.node.partners.tables import Grant
from coalition.node.settings import NodeSettings

__all__ = ["READ", "Verdict", "required_uses", "verdict"]

#: The kind every read needs; any approved grant on the dataset covers it.
READ = "reader"


@dataclass(frozen=True)
class Verdict:
    """The node's answer to a proposal."""

    status: str
    reason: str


def required_uses(graph: JobGraph, sites: dict[str, str], org: str) -> dict[str, set[str]]:
    """``{dataset: component kinds}`` the job makes of this organisation's datasets (the read
    itself included, as ``reader``)."""
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
                uses.setdefault(dataset, set()).update(kinds | {READ})
    return uses


def _refused(db: Session, partner: str, dataset: str) -> Grant | None:
    partner_id, dataset_id = get_partner(db, partner).id, get_dataset(db, dataset).id
    rows = db.scalars(select(Grant).where(Grant.partner_id == partner_id,
                                          Grant.dataset_id == dataset_id)
                      .order_by(Grant.id.desc())).all()
    bad = (GrantStatus.REJECTED, GrantStatus.REVOKED)
    return next((g for g in rows if effective_status(g) in bad), None)


def _covering(db: Session, partner: str, dataset: str, kind: str) -> Grant | None:
    """The grant covering one use, or ``None``."""
    try:
        return check_grant(db, partner, dataset, kind)
    except AuthError:
        if kind != READ:
            return None
    partner_id, dataset_id = get_partner(db, partner).id, get_dataset(db, dataset).id
    rows = db.scalars(select(Grant).where(Grant.partner_id == partner_id,
                                          Grant.dataset_id == dataset_id)).all()
    return next((g for g in rows if effective_status(g) == GrantStatus.APPROVED), None)


def _policy(db: Session, settings: NodeSettings, graph: JobGraph, sites: dict[str, str], *,
            org: str, grants: list[Grant | None]) -> Verdict | None:
    violations = check(graph, sites, policy_for(db, settings, graph, sites, org=org,
                                                grants=grants))
    if not violations:
        return None
    return Verdict("rejected", "privacy policy: " + "; ".join(str(v) for v in violations))


def verdict(db: Session, graph: JobGraph, sites: dict[str, str], org: str,  # noqa: PLR0917
            initiator: str, settings: NodeSettings) -> Verdict:
    """Decide (see the module docstring)."""
    if initiator not in sites.values():
        return Verdict("rejected", "the initiator must run at least one party of its job")
    uses = required_uses(graph, sites, org)
    if initiator == org:
        for dataset in uses:
            try:
                get_dataset(db, dataset)
            except NotFoundError:
                return Verdict("rejected", f"dataset {dataset!r} is not registered at {org}")
        return _policy(db, settings, graph, sites, org=org, grants=[]) or Verdict("accepted", "own data")
    shared = {d.name for d in visible_to(db, get_partner(db, initiator))} if uses else set()
    if any(dataset not in shared for dataset in uses):
        # the same answer for a missing and an unshared dataset, naming neither
        return Verdict("rejected", f"the job reads data at {org} that is not shared with "
                       f"{initiator}")
    covering = {(d, k): _covering(db, initiator, d, k) for d, kinds in uses.items()
                for k in kinds}
    refused = _policy(db, settings, graph, sites, org=org,
                      grants=list(covering.values()))
    if refused is not None:
        return refused
    missing = sorted(f"{d}:{k}" for (d, k), g in covering.items() if g is None)
    for dataset in sorted({m.partition(":")[0] for m in missing}):
        bad = _refused(db, initiator, dataset)
        if bad is not None:
            return Verdict("rejected", f"grant {bad.id} on dataset {dataset!r} is "
                           f"{effective_status(bad)}: {bad.reason or 'no reason'}")
    if missing:
        return Verdict("waiting_approval", "no grant covers " + ", ".join(missing))
    return Verdict("accepted", "grants cover every use")
