"""Who operates the federation log a job's records go to, and the witness's check of it.

A job's DAG names the operator (``ledger_operator``): its initiator's node (the default —
every party has the initiator as a partner) or its arbiter's node (a coordinator that every
party already trusts to run the protocol). :func:`operator_of` reads it from a job's DAG and
sites; :func:`configured_operators` reads it from *this node's own* job records, which is what
a witness checks a log against: entries of a job shown by any other organisation are refused
(:func:`coalition.node.ledger.service.cosign`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from coalition.node.db.base import Base

__all__ = ["configured_operators", "operator_of"]


def operator_of(dag: Mapping[str, Any] | None, sites: Mapping[str, str] | None,
                initiator: str) -> str:
    """The organisation operating the log of a job with this DAG, sites and initiator."""
    if dag and sites and dag.get("ledger_operator") == "arbiter":
        for name in dag.get("parties", {}).get("arbiter", []):
            org = sites.get(f"arbiter:{name}")
            if isinstance(org, str) and org:
                return org
    return initiator


def configured_operators(db: Session, job_ids: Iterable[str]) -> dict[str, str]:
    """``{job: operator}`` for the jobs among ``job_ids`` this node holds records of."""
    wanted = sorted({j for j in job_ids if j})
    # the jobs feature's table, read through the shared metadata: the ledger sits below jobs
    jobs = Base.metadata.tables.get("jobs")
    if not wanted or jobs is None:
        return {}
    rows = db.execute(select(jobs.c.id, jobs.c.dag, jobs.c.sites, jobs.c.initiator)
                      .where(jobs.c.id.in_(wanted)))
    return {r.id: operator_of(r.dag, r.sites, r.initiator) for r in rows}
