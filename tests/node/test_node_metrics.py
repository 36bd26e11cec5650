"""/metrics: serving families plus the node's (jobs and tasks by state, workers, peer calls)
from the real peer endpoint; JSON log lines carry the job and task ids."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from nodekit import NodeEnv, make_env
from prometheus_client.parser import text_string_to_metric_families

from coalition.node.auth.permissions import UserRole
from coalition.node.jobs import repository as repo
from coalition.node.logs import JsonFormatter, log_context
from coalition.node.peer import PeerEndpoint


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[NodeEnv, NodeEnv, PeerEndpoint]]:
    bank, telco = make_env(tmp_path / "bank", "bank"), make_env(tmp_path / "telco", "telco")
    endpoint = PeerEndpoint(telco.rt).start()
    yield bank, telco, endpoint
    endpoint.stop(0)
    bank.close()
    telco.close()


def _samples(env: NodeEnv) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    r = env.client.get("/metrics", headers=env.auth(UserRole.AUDITOR))
    assert r.status_code == 200, r.text
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(r.text) for s in family.samples}


def test_metrics_count_jobs_tasks_and_peer_calls(
        pair: tuple[NodeEnv, NodeEnv, PeerEndpoint]) -> None:
    bank, telco, endpoint = pair
    for a, b, address in ((telco, bank, "127.0.0.1:1"), (bank, telco, f"127.0.0.1:{endpoint.port}")):
        bundle = json.dumps(b.client.get("/api/v1/node/identity", headers=b.auth()).json())
        r = a.client.post("/api/v1/partners/import", headers=a.auth(UserRole.OPERATOR),
                          json={"bundle": bundle, "address": address})
        assert r.status_code == 201, r.text
    r = bank.client.post("/api/v1/partners/telco/health", headers=bank.auth(UserRole.OPERATOR))
    assert r.status_code == 200 and r.json()["ok"], r.text
    with bank.rt.db.session() as db:
        repo.create_job(db, job_id="j-m", name="m", initiator="bank", dag={}, sites={},
                        selection={}, timeout_s=60.0, created_by="admin", rerun_of=None,
                        task_names=["a", "b"], orgs={"bank": ["guest"]})

    out, into = _samples(bank), _samples(telco)
    assert out[("coalition_jobs", (("state", "pending"),))] == 1
    assert out[("coalition_tasks", (("state", "pending"),))] == 2
    assert out[("coalition_worker_processes", ())] == 0
    calls = {k: v for k, v in out.items() if k[0] == "coalition_peer_calls_total"}
    assert list(calls.values()) == [1] and dict(next(iter(calls))[1])["direction"] == "out"
    assert dict(next(iter(calls))[1])["outcome"] == "ok"
    assert out[("coalition_peer_bytes_total", (("direction", "received"),))] > 0
    served = {dict(k[1])["method"]: v for k, v in into.items()
              if k[0] == "coalition_peer_calls_total" and dict(k[1])["direction"] == "in"}
    assert served == {dict(next(iter(calls))[1])["method"]: 1}


def test_json_log_lines_carry_job_and_task_ids() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("bank"))
    logger = logging.getLogger("coalition.test.logs")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        with log_context(job="j-1"), log_context(task="psi"):
            logger.warning("task %s finished", "psi")
        logger.warning("outside")
    finally:
        logger.removeHandler(handler)
    inside, outside = (json.loads(line) for line in stream.getvalue().splitlines())
    assert inside["job_id"] == "j-1" and inside["task"] == "psi"
    assert inside["message"] == "task psi finished" and inside["node"] == "bank"
    assert "job_id" not in outside and outside["level"] == "WARNING"
