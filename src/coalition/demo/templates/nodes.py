"""Run a template across node processes: one node per organisation, as ``coalition demo``.

Each organisation gets its own node (SQLite, certificates, data folder) on loopback; the
generated tables are registered on their owners' nodes, every host shares its table with the
guest and approves a grant for exactly the component kinds the DAG runs on it, and the job is
submitted at the guest's node, which follows it to the end. Parties talk over gRPC with mTLS.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from coalition.core.errors import PeerError
from coalition.demo.cluster import Cluster, cluster
from coalition.demo.templates.catalog import get_template
from coalition.demo.templates.run import REPORTED, TemplateRun, init_template
from coalition.demo.templates.serve import AFTER, Deployment

__all__ = ["run_template_on_nodes"]

Say = Callable[[str], None]
_FINAL = {"succeeded", "failed", "cancelled"}
_UNGRANTED = {"reader", "evaluate"}  # reading one's own table, evaluating one's own scores


def run_template_on_nodes(name: str, root: Path, *, customers: int | None = None,
                          seed: int = 11, say: Say | None = None, timeout_s: float = 1800.0,
                          hold: Callable[[Cluster, TemplateRun], None] | None = None,
                          nodes: Cluster | None = None) -> TemplateRun:
    """Generate the data under ``root``, start the nodes, run the job and what its operators
    do after it (:mod:`.serve`: publish, deploy, score), stop the nodes.

    ``hold`` is called with the running nodes and the result before they stop (the CLI keeps
    them up for the console until Ctrl-C). ``nodes``: run on these running nodes instead
    (they must include the template's organisations and have ``root`` in their data
    folders); they are left running. Datasets are named ``<template>_<organisation>``, so
    several templates can share nodes."""
    tell: Say = say or (lambda _msg: None)
    template = get_template(name)
    files = init_template(name, root, customers=customers, seed=seed)
    dag = template.dag()
    orgs = [org for names in dag["parties"].values() for org in names]
    if nodes is not None:
        return _run_on(nodes, name, dag=dag, files=files, tell=tell, timeout_s=timeout_s,
                       root=root, hold=hold)
    tell(f"starting {', '.join(orgs)} as node processes on loopback")
    with cluster(root / "nodes", orgs, data_dirs=[files["dag"].parent / "data"],
                 fast_password_hashing=True) as started:
        return _run_on(started, name, dag=dag, files=files, tell=tell, timeout_s=timeout_s,
                       root=root, hold=hold)


def _run_on(nodes: Cluster, name: str, *, dag: dict[str, Any], files: dict[str, Path],
            tell: Say, timeout_s: float, root: Path,
            hold: Callable[[Cluster, TemplateRun], None] | None) -> TemplateRun:
    guest = dag["parties"]["guest"][0]
    job_dag, datasets = _register(nodes, name, dag, files=files, guest=guest, tell=tell)
    run, job_id = _follow(nodes, name, job_dag, guest, tell=tell, timeout_s=timeout_s,
                          root=root)
    after = AFTER.get(name)
    if after is not None and run.state == "succeeded":
        run.serving = after(Deployment(nodes, job_id, files, datasets, tell))
    if hold is not None:
        hold(nodes, run)
    return run


def _register(nodes: Cluster, name: str, dag: dict[str, Any], *, files: dict[str, Path],
              guest: str, tell: Say) -> tuple[dict[str, Any], dict[str, str]]:
    """Register each party's table on its node, grant the guest, point the DAG at datasets
    (returned with each organisation's dataset name)."""
    job = copy.deepcopy(dag)
    names: dict[str, str] = {}
    for task in job["tasks"].values():
        if task["component"] != "reader":
            continue
        for site, site_params in task.get("party_parameters", {}).items():
            role, org = site.split(":", 1)
            params = {**task.get("parameters", {}),
                      **task.get("role_parameters", {}).get(role, {}), **site_params}
            names[org] = f"{name}_{org}"
            nodes.register_dataset(org, names[org], files[org],
                                   id_column=params.get("id_column", "id"),
                                   label_column=params.get("label_column"))
            site_params["path"] = names[org]  # a registered dataset name on that node
            tell(f"{org}: registered its table as dataset '{names[org]}'")
    for org in job["parties"].get("host", []):
        kinds = sorted({t["component"] for t in job["tasks"].values()} - _UNGRANTED)
        nodes.grant(org, names[org], to=guest, kinds=kinds)
        tell(f"{org}: granted {guest}'s jobs: {', '.join(kinds)}")
    return job, names


def _follow(nodes: Cluster, name: str, dag: dict[str, Any], guest: str, *, tell: Say,
            timeout_s: float, root: Path) -> tuple[TemplateRun, str]:
    template = get_template(name)
    started = time.monotonic()
    with nodes[guest].client() as api:
        job = api.submit_job(dag, timeout_s=timeout_s)
        tell(f"submitted job {job['id']} at {guest}")
        seen: dict[str, str] = {}
        while job["state"] not in _FINAL:
            if time.monotonic() - started > timeout_s + 120:
                raise PeerError("the template's job did not finish in time", job=job["id"])
            time.sleep(0.5)
            job = api.get_job(job["id"])
            for task in job["tasks"]:
                if seen.get(task["name"]) != task["state"]:
                    seen[task["name"]] = task["state"]
                    if task["state"] in ("succeeded", "failed"):
                        tell(f"{task['name']:<14} {task['state']}")
        run = TemplateRun(name, "nodes", job["state"], template.headline.name, None,
                          template.headline.floor, time.monotonic() - started,
                          error=job.get("error") or None, workdir=str(root))
        if job["state"] == "succeeded":
            headline = template.headline
            own: dict[str, float] = {}
            for m in api.job_metrics(job["id"]):
                if not m["party"].endswith(f":{guest}"):
                    continue
                if m["task"] == headline.task:
                    own[m["name"]] = float(m["value"])
                if dag["tasks"].get(m["task"], {}).get("component") in REPORTED:
                    run.metrics.setdefault(m["task"], {})[m["name"]] = float(m["value"])
            if headline.output == "metrics" and own:
                run.value = headline.read(own)
            for r in api.job_reports(job["id"]):
                if headline.output == "report" and r["task"] == headline.task \
                        and r["output"] == "report":
                    run.value = headline.read(r["report"])
    return run, str(job["id"])
