"""The local share of a task: cache keys, dataset resolution, worker processes, reports.

Layout under the node home::

    artifacts/<role>-<name>/<task>/<key>/   each local party's ArtifactStore, shared by all
                                            jobs: keys are content hashes, so a rerun (a new
                                            job) reuses unchanged upstream outputs
    jobs/<job>/keys/<role>-<name>.{key,crt} per-job party key and certificate (:mod:`.certs`)
    jobs/<job>/work/<task>.<role>-<name>.json   the worker's spec (a WorkerSpec)
    jobs/<job>/inputs/<dataset>.parquet     SQL datasets exported for the reader
    state/<role>-<name>/<partners>/         protocol state kept between jobs (OPRF-PSI PRF
                                            tables and copies of partners' tables), one
                                            folder per set of partner organisations

Cache keys stay on this node (they are digests of its data): the initiator only learns, per
party, whether the key hit. A task's worker starts at most once per (job, task, party),
however often ``TaskRun`` is called. What a worker's failure tells the initiator is a typed
code and message only (:mod:`.public`); its output, traceback and exit status stay in this
node's job log.

The worker itself is engine code (:mod:`coalition.engine.worker`): this module supplies what
only the node knows (keys from its database, datasets it resolved, the job's certificates) as
a typed :class:`~coalition.engine.worker.WorkerSpec` and runs ``python -P -m
coalition.engine.worker SPEC``, reading back the worker's typed stdout lines.
"""

from __future__ import annotations

import hashlib
import logging
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from coalition.components import Environment
from coalition.compute import ComputeSpec
from coalition.core.errors import CoalitionError, InputError
from coalition.core.ids import Party
from coalition.engine.plan import task_key
from coalition.engine.store import ArtifactStore
from coalition.engine.validate import JobGraph, TaskNode
from coalition.engine.worker import (
    InputRef,
    MetricLine,
    ResultLine,
    WorkerSpec,
    WorkerTrust,
    parse_line,
    worker_command,
)
from coalition.node.data import reading
from coalition.node.data.datasets import get_dataset
from coalition.node.jobs import repository as repo
from coalition.node.jobs.certs import check_endpoint, job_path, key_paths
from coalition.node.jobs.derived import register_outputs
from coalition.node.jobs.manager import JobManager
from coalition.node.jobs.peer_methods import TASK_REPORT, TaskReportRequest
from coalition.node.jobs.public import public_error
from coalition.node.jobs.tables import JobRow
from coalition.node.jobs.update_log import on_task_done
from coalition.node.logs import log_context
from coalition.node.metrics import metrics_of
from coalition.node.partners.directory import get_partner
from coalition.node.runtime import NodeRuntime
from coalition.transport.tls import cert_fingerprint

__all__ = ["dataset_refs", "launch", "local_parties", "prepare", "state_dir_for", "store_for"]

log = logging.getLogger("coalition.node.jobs")


def store_for(rt: NodeRuntime, party: Party) -> ArtifactStore:
    """The party's artifact store on this node."""
    return ArtifactStore(rt.settings.home / "artifacts" / f"{party.role.value}-{party.name}")


def state_dir_for(rt: NodeRuntime, job: JobRow, node: TaskNode, party: Party) -> Path:
    """Where ``party`` keeps protocol state between jobs with this task's partners.

    Scoped by the *organisations* the job's sites bind the other parties to (checked at
    consent against their certificates), not by party names an initiator chooses: one
    partner's OPRF key and table can never be reached from a job with another partner.
    """
    orgs = sorted({job.sites[str(p)] for p in node.parties if p != party})
    scope = hashlib.sha256("\n".join(orgs).encode()).hexdigest()[:24]
    return rt.settings.home / "state" / f"{party.role.value}-{party.name}" / scope


def local_parties(rt: NodeRuntime, job: JobRow, node: TaskNode) -> list[Party]:
    """The task's parties this node runs."""
    return [p for p in node.parties if job.sites.get(str(p)) == rt.name]


def dataset_refs(node: TaskNode, party: Party) -> list[str]:
    """Names of registered datasets the party's role reads (the ``path`` parameter, which is
    how :mod:`coalition.components.reader` names its table on a node)."""
    path = node.raw_params.get(party, {}).get("path")
    return [path] if isinstance(path, str) else []


def _resolve(rt: NodeRuntime, db: Session, job_id: str, name: str) -> Path:
    row = get_dataset(db, name)
    if row.kind != "sql":
        return Path(row.location)
    out = job_path(rt, job_id, "inputs", f"{name}.parquet")
    if not out.is_file():
        out.parent.mkdir(parents=True, exist_ok=True)
        reading.load_frame(row.kind, row.location, row.table, row.id_column).to_parquet(
            out, index=False)
    return out


def _upstream_keys(db: Session, job_id: str, node: TaskNode, party: Party) -> dict[str, str]:
    keys: dict[str, str] = {}
    for ref in node.inputs_for(party).values():
        key = repo.get_task(db, job_id, ref.task).keys.get(str(party))
        if key is None:
            raise InputError("upstream task has no output for this party", task=ref.task,
                             party=str(party))
        keys[ref.task] = key
    return keys


def prepare(rt: NodeRuntime, job: JobRow, graph: JobGraph, task: str) -> dict[str, bool]:
    """Compute and record each local party's cache key; return whether each one hits."""
    node = graph.tasks[task]
    with rt.db.session() as db:
        keys: dict[str, str] = {}
        for party in local_parties(rt, job, node):
            ups = _upstream_keys(db, job.id, node, party)
            store = store_for(rt, party)
            digests = {slot: store.manifest(ref.task, ups[ref.task])[ref.output].digest
                       for slot, ref in node.inputs_for(party).items()}
            env = Environment(lambda name: _resolve(rt, db, job.id, name))
            fingerprint = node.component.fingerprint(node.params[party], env)
            keys[str(party)] = task_key(node.component.name, node.component.version,
                                        node.document(), digests, fingerprint)

    def record(db: Session) -> None:
        row = repo.get_task(db, job.id, task)
        row.keys = {**row.keys, **keys}

    repo.write(rt, record)
    return {p: store_for(rt, Party.parse(p)).has(task, k) for p, k in keys.items()}


def _spec(rt: NodeRuntime, db: Session, job: JobRow, node: TaskNode, party: Party
          ) -> WorkerSpec:
    ups = _upstream_keys(db, job.id, node, party)
    inputs = {slot: InputRef(task=ref.task, key=ups[ref.task], output=ref.output)
              for slot, ref in node.inputs_for(party).items()}
    org_certs: dict[str, str] = {}
    for p in node.parties:
        org = job.sites[str(p)]
        org_certs[str(p)] = (rt.identity.cert_pem.decode() if org == rt.name
                             else get_partner(db, org).certificate_pem)
    endpoints = job.endpoints
    for name, org_pem in org_certs.items():  # pins only certificates bound to this very job
        check_endpoint(Party.parse(name), endpoints[name]["cert_pem"].encode(),
                       org_pem.encode(), job.id)
    key_file, cert_file = key_paths(rt, job.id, party)
    port = endpoints[str(party)]["address"].rpartition(":")[2]
    return WorkerSpec(
        job=job.id, task=node.name, party=str(party), dag=job.dag,
        key=repo.get_task(db, job.id, node.name).keys[str(party)], inputs=inputs,
        store=store_for(rt, party).root,
        datasets={n: _resolve(rt, db, job.id, n) for n in dataset_refs(node, party)},
        listen=f"{rt.settings.peer_host}:{port}",
        peers={str(p): endpoints[str(p)]["address"] for p in node.parties if p != party},
        key_file=key_file, cert_file=cert_file,
        trust=WorkerTrust(roots_pem="".join(sorted(set(org_certs.values()))),
                          pins={p: _fingerprint(endpoints[p]["cert_pem"]) for p in org_certs},
                          peer_roots=org_certs),
        timeout=job.timeout_s, parent_pid=os.getpid(),
        policy_min_serving_features=rt.settings.policy_min_serving_features,
        crypto_suite=rt.settings.crypto_suite,
        state_dir=state_dir_for(rt, job, node, party),
        compute=ComputeSpec(backend=rt.settings.compute_backend,
                            workers=rt.settings.compute_workers,
                            ray_address=rt.settings.compute_ray_address),
    )


def _fingerprint(pem: str) -> str:
    return cert_fingerprint(pem.encode())


def launch(rt: NodeRuntime, manager: JobManager, job: JobRow, graph: JobGraph,
           task: str) -> list[str]:
    """Start a worker for each local party of ``task`` (one thread watches each), once per
    (job, task, party): a repeated call starts nothing and returns the same parties."""
    node = graph.tasks[task]
    parties = local_parties(rt, job, node)
    for party in parties:
        if manager.claim(job.id, task, str(party)):
            manager.spawn(f"{job.id}-{task}-{party}", _run_worker, rt, manager, job, node,
                          party)
    return [str(p) for p in parties]


def _run_worker(rt: NodeRuntime, manager: JobManager, job: JobRow, node: TaskNode,
                party: Party) -> None:
    with log_context(job=job.id, task=node.name):
        _run_worker_in_context(rt, manager, job, node, party)


def _run_worker_in_context(rt: NodeRuntime, manager: JobManager, job: JobRow, node: TaskNode,
                           party: Party) -> None:
    t0 = time.monotonic()
    outcome: dict[str, Any] = {"ok": False, "error": "", "code": ""}
    log.info("task %s: worker of %s starting", node.name, party)
    try:
        outcome = _supervise(rt, manager, job, node, party)
        if outcome["ok"]:
            def register(db: Session) -> list[str]:
                return register_outputs(
                    db, job.id, node.name, party, store=store_for(rt, party),
                    key=repo.get_task(db, job.id, node.name).keys[str(party)])

            for name in repo.write(rt, register):
                repo.log(rt, job.id, f"registered derived dataset {name}", task=node.name,
                         party=str(party))
            key = repo.read(rt, lambda db: repo.get_task(db, job.id, node.name).keys[str(party)])
            on_task_done(rt, job, node.name, party, store=store_for(rt, party), key=key)
    except Exception as exc:
        repo.log(rt, job.id, f"worker of {party} failed: {type(exc).__name__}: {exc}",
                 level="error", task=node.name, party=str(party))
        code, message = public_error(exc)
        outcome = {"ok": False, "error": message, "code": code}
    seconds = time.monotonic() - t0
    component = node.component.name
    metrics = metrics_of(rt)
    metrics.task_runs.labels(component, "ok" if outcome["ok"] else "error").inc()
    metrics.task_seconds.labels(component).observe(seconds)
    log.info("task %s: worker of %s finished: %s", node.name, party,
             "ok" if outcome["ok"] else outcome.get("code") or "error")
    report = TaskReportRequest.model_validate(
        {"job_id": job.id, "task": node.name, "party": str(party), **outcome,
         "seconds": seconds, "metrics": outcome.pop("metrics", [])}, strict=False)
    if job.initiator != rt.name:  # the initiator files it when the report arrives
        repo.log(rt, job.id, repo.report_line(str(party), report.ok, report.error or ""),
                 level="info" if report.ok else "error", task=node.name, party=str(party))
    try:
        rt.peers.call(job.initiator, TASK_REPORT, report)
    except CoalitionError as exc:
        repo.log(rt, job.id, f"could not report to the initiator: {exc}", level="error",
                 task=node.name, party=str(party))


def _supervise(rt: NodeRuntime, manager: JobManager, job: JobRow, node: TaskNode,
               party: Party) -> dict[str, Any]:
    spec = repo.read(rt, lambda db: _spec(rt, db, job, node, party))
    path = job_path(rt, job.id, "work", f"{node.name}.{party.role.value}-{party.name}.json")
    spec.write(path)
    # The worker imports the engine, components and transport only (never this package).
    proc = subprocess.Popen(
        worker_command(path),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    if not manager.track(job.id, node.name, str(party), proc):
        proc.wait()
        return {"ok": False, "error": "the job was stopped", "code": "job.cancelled"}
    gauges = metrics_of(rt)
    gauges.workers.inc()
    result: ResultLine | None = None
    metrics: list[dict[str, Any]] = []
    code = -1
    try:
        for line in proc.stdout or ():
            msg = parse_line(line)
            if isinstance(msg, MetricLine):
                point = {"name": msg.metric, "value": msg.value, "step": msg.step}
                metrics.append(point)
                _metric(rt, job.id, node.name, str(party), point)
            elif isinstance(msg, ResultLine):
                result = msg
            elif line.strip():
                repo.log(rt, job.id, line.rstrip(), task=node.name, party=str(party))
        code = proc.wait()
    finally:
        if proc.stdout is not None:
            proc.stdout.close()
        manager.untrack(job.id, node.name, str(party))
        gauges.workers.dec()
        gauges.worker_exits.labels("ok" if code == 0 else "died" if code < 0 else "error").inc()
    if result is not None:
        gauges.transport_bytes.labels("sent").inc(result.bytes_sent)
        gauges.transport_bytes.labels("received").inc(result.bytes_received)
        if result.result == "error" and result.code.startswith("peer."):
            gauges.transport_errors.labels(result.code[:64]).inc()
    if result is not None and result.result == "ok" and code == 0:
        return {"ok": True, "error": "", "code": "", "metrics": metrics}
    if result is not None and result.result == "error":
        return {"ok": False, "error": result.error[:2000], "code": result.code[:64],
                "metrics": metrics}
    why = (f"killed by {signal.Signals(-code).name}" if code < 0 else f"exited with {code}")
    # The last output line may quote data: it is in the local log (above), never sent.
    return {"ok": False, "error": f"worker process of {party} {why}",
            "code": "job.worker_died", "metrics": metrics}


def _metric(rt: NodeRuntime, job_id: str, task: str, party: str, point: dict[str, Any]) -> None:
    repo.write(rt, lambda db: repo.add_metric(db, job_id, task, party, name=point["name"],
                                              value=point["value"], step=point["step"]))

