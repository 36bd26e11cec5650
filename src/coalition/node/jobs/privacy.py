"""The node's :class:`~coalition.engine.policy.PrivacyPolicy` for a job, from its own records.

Thresholds come from :class:`~coalition.node.settings.NodeSettings`
(``policy_min_he_batch_factor``, ``policy_min_client_orgs``); the allowances and restrictions
from the terms of the initiator's grants that cover the job's uses of this node's datasets
(all of them must allow an allowance; a use no grant covers allows nothing); feature counts
from the schema of this node's registered datasets. Nothing here trusts the proposal beyond
the DAG and sites being checked.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from coalition.core.errors import ConfigError, NotFoundError
from coalition.engine.dag import parse_dag
from coalition.engine.policy import GrantTerms, PrivacyPolicy, variant_of
from coalition.engine.validate import JobGraph, validate_dag
from coalition.node.data.datasets import get_dataset
from coalition.node.jobs.local import dataset_refs
from coalition.node.partners.tables import Grant
from coalition.node.settings import NodeSettings

__all__ = ["feature_counts", "policy_for", "review", "submit_policy"]


def review(document: dict[str, Any], sites: Mapping[str, str]) -> list[dict[str, Any]]:
    """What an approver must see: per task, the component variant and every party's site and
    effective parameters (shared, role and party blocks merged)."""
    try:
        graph = validate_dag(parse_dag(document))
    except ConfigError:
        return []  # rows hold validated documents; one from an older registry may not be
    return [{"task": name, "component": node.component.ref(), "variant": variant_of(node),
             "parties": [{"party": str(p), "site": sites.get(str(p), ""),
                          "parameters": dict(node.raw_params.get(p, {}))}
                         for p in node.parties]}
            for name, node in graph.tasks.items()]


def submit_policy(db: Session, settings: NodeSettings, graph: JobGraph,
                  sites: Mapping[str, str], org: str) -> PrivacyPolicy:
    """The job-wide rules only (the initiator's fail-fast check at submit; allowances are
    each data owner's to give, from its grants, so they are checked there)."""
    return PrivacyPolicy(he_batch_factor=settings.policy_min_he_batch_factor,
                         min_client_orgs=settings.policy_min_client_orgs,
                         feature_counts=feature_counts(db, graph, sites, org),
                         crypto_suite=settings.crypto_suite)


def feature_counts(db: Session, graph: JobGraph, sites: Mapping[str, str], org: str
                   ) -> dict[str, int]:
    """Features each party sited at ``org`` reads (the widest of its reads), from the schema
    of the registered dataset and the reader's ``columns``."""
    counts: dict[str, int] = {}
    for node in graph.tasks.values():
        for party in node.parties:
            if sites.get(str(party)) != org:
                continue
            for name in dataset_refs(node, party):
                try:
                    row = get_dataset(db, name)
                except NotFoundError:
                    continue
                raw = node.raw_params.get(party, {})
                chosen = raw.get("columns")
                label = raw.get("label_column") or row.label_column
                width = len(chosen) if isinstance(chosen, list) else sum(
                    1 for c in row.columns if c.get("name") not in (row.id_column, label))
                counts[str(party)] = max(counts.get(str(party), 0), width)
    return counts


def policy_for(db: Session, settings: NodeSettings, graph: JobGraph, sites: Mapping[str, str], *,
               org: str, grants: list[Grant | None]) -> PrivacyPolicy:
    """The policy ``org`` applies to the job; ``grants`` cover its uses (``None``: a use no
    grant covers; an empty list with ``org`` as initiator: its own data)."""
    terms = GrantTerms.own_data() if not grants else GrantTerms(
        allow_guest_dealer=True, allow_label_sampling=True, allow_ou_lr=True)
    for grant in grants:
        terms = terms.combine(GrantTerms() if grant is None
                              else GrantTerms.model_validate(grant.terms or {}))
    return PrivacyPolicy(he_batch_factor=settings.policy_min_he_batch_factor,
                         min_client_orgs=settings.policy_min_client_orgs, owner=org,
                         terms=terms, feature_counts=feature_counts(db, graph, sites, org),
                         crypto_suite=settings.crypto_suite)
