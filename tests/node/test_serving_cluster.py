"""Publish → deploy → call → undeploy across three real node processes on loopback (bank is
the guest; telco and carmaker each hold half of the host features), driven by the CLI."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from servingkit import (
    GUEST,
    grant_predict,
    reference_scores,
    register_dataset,
    split_breast,
    tables,
    train_lr,
    write_part,
)

pytestmark = pytest.mark.slow

CLI = [sys.executable, str(Path(__file__).with_name("serving_cli_main.py"))]
HOSTS = ("telco", "carmaker")
FAST_ENV = {"COALITION_NODE_ARGON2_TIME_COST": "1", "COALITION_NODE_ARGON2_MEMORY_COST": "8",
            "COALITION_NODE_ARGON2_PARALLELISM": "1"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Node:
    """A node process and an authenticated client of its API."""

    def __init__(self, name: str, home: Path) -> None:
        self.name, self.home = name, home
        api, peer = _free_port(), _free_port()
        out = self.cli("node", "init", str(home), "--name", name, "--api-port", str(api),
                       "--peer-port", str(peer), "--json")
        assert out.returncode == 0, out.stderr
        self.password = json.loads(out.stdout)["admin_password"]
        self.url = f"http://127.0.0.1:{api}"
        self.proc = subprocess.Popen([*CLI, "node", "start", str(home)],
                                     env={**os.environ, **FAST_ENV},
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.client = httpx.Client(base_url=self.url, timeout=60)
        self.token = ""

    @staticmethod
    def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=180,
                              env={**os.environ, **FAST_ENV, **(env or {})}, check=False)

    def wait_up(self) -> None:
        end = time.monotonic() + 90
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited early with {self.proc.returncode}")
            try:
                if self.client.get("/api/v1/node").status_code == 401:
                    break
            except httpx.TransportError:
                time.sleep(0.3)
        r = self.client.post("/api/v1/auth/login",
                             json={"username": "admin", "password": self.password})
        self.token = r.json()["token"]
        self.client.headers["Authorization"] = f"Bearer {self.token}"

    def api(self, method: str, url: str, **kw: Any) -> httpx.Response:
        return self.client.request(method, f"/api/v1{url}", **kw)

    def as_user(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.cli(*args, env={"COALITION_NODE_URL": self.url, "COALITION_TOKEN": self.token})

    def bundle(self) -> str:
        return json.dumps(self.api("GET", "/node/identity").json())


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[dict[str, Node]]:
    nodes: dict[str, Node] = {}
    try:
        for name in (GUEST, *HOSTS):
            nodes[name] = Node(name, tmp_path / name)
        for node in nodes.values():
            node.wait_up()
        yield nodes
    finally:
        for node in nodes.values():
            node.client.close()
            if node.proc.poll() is None:
                node.proc.kill()
                node.proc.wait()


def test_publish_deploy_call_undeploy_across_three_processes(cluster: dict[str, Node],
                                                             fate_data: Path) -> None:
    bank = cluster[GUEST]
    # Hosts pin each other's certificates too: with several linear hosts, each verifies the
    # others' masking keys (issue 16, finding 19); no network path between hosts is needed.
    pairs = [(GUEST, org) for org in HOSTS] + [tuple(HOSTS)]
    for x, y in pairs:
        for a, b in ((cluster[x], cluster[y]), (cluster[y], cluster[x])):
            r = a.api("POST", "/partners/import", json={"bundle": b.bundle()})
            assert r.status_code == 201, r.text
    csvs = split_breast(fate_data, {n: cluster[n].home / "data" for n in cluster}, rows=150)
    t = tables(csvs)
    parts = train_lr(t)
    reference = reference_scores(parts, t)
    # Hosts publish a partner's part file only from the drop folder kept for that partner.
    drops = {org: cluster[org].home / ("data" if org == GUEST else f"partner-parts/{GUEST}")
             for org in parts}
    for folder in drops.values():
        folder.mkdir(parents=True, exist_ok=True)
    files = {org: write_part(p, drops[org] / "lr.msgpack") for org, p in parts.items()}
    register_dataset(bank, "crm", csvs[GUEST], label="y")
    assert bank.api("POST", "/online-sources", json={"name": "crm-online",
                                                     "dataset": "crm"}).status_code == 201
    for org in HOSTS:
        host = cluster[org]
        register_dataset(host, "features", csvs[org])
        assert host.api("POST", "/online-sources", json={"name": "features-online",
                                                         "dataset": "features"}).status_code == 201
        grant_predict(bank, host, "features")

    out = bank.as_user("model", "publish", "credit", "--artifact", str(files[GUEST]),
                       *[f"--host={o}={files[o]}" for o in HOSTS], "--metric", "auc=0.97",
                       "--json")
    assert out.returncode == 0, out.stderr
    assert {p["org"] for p in json.loads(out.stdout)["parties"]} == {GUEST, *HOSTS}
    for org in HOSTS:
        shown = cluster[org].as_user("model", "show", f"{GUEST}:credit", "1", "--json")
        assert json.loads(shown.stdout)["role"] == "host", shown.stderr
    out = bank.as_user("service", "deploy", "scoring", "--model", "credit", "--source",
                       "crm-online", *[f"--host={o}=features-online" for o in HOSTS])
    assert out.returncode == 0, out.stderr

    ids = sorted(reference)[:5]
    out = bank.as_user("service", "call", "scoring", *ids, "--json")
    assert out.returncode == 0, out.stderr
    scores = json.loads(out.stdout)["scores"]
    np.testing.assert_allclose(scores, [reference[i] for i in ids], rtol=0, atol=1e-12)
    r = bank.api("POST", "/predictions", json={"model": "credit", "dataset": "crm",
                                                "hosts": dict.fromkeys(HOSTS, "features"),
                                                "output": "scored"})
    assert r.status_code == 201, r.text
    csv = bank.api("GET", "/predictions/scored/download").text.splitlines()
    offline = {line.split(",")[0]: float(line.split(",")[-1]) for line in csv[1:]}
    np.testing.assert_allclose([offline[i] for i in ids], scores, rtol=0, atol=1e-12)

    # An unauthorised caller is refused.
    r = httpx.post(f"{bank.url}/api/v1/services/scoring/predict", json={"ids": ids})
    assert r.status_code == 401
    # A tampered host part is refused when a service loads it.
    part = (cluster["carmaker"].home / "models" / "_partners" / GUEST / "credit" / "1"
            / "part.msgpack")
    part.write_bytes(part.read_bytes()[:-1] + b"\x00")
    out = bank.as_user("service", "deploy", "scoring2", "--model", "credit", "--source",
                       "crm-online", *[f"--host={o}=features-online" for o in HOSTS])
    assert out.returncode == 3 and "model.tampered" in out.stderr
    out = cluster["carmaker"].as_user("model", "verify", f"{GUEST}:credit", "1")
    assert out.returncode == 3 and "SHA-256" in out.stderr
    # A host that is down gives a typed error, not a hang.
    carmaker = cluster["carmaker"].proc
    carmaker.send_signal(signal.SIGTERM)
    assert carmaker.wait(timeout=30) == 0
    r = bank.api("POST", "/services/scoring/predict", json={"ids": ids})
    assert r.status_code in (502, 504) and r.json()["code"].startswith("peer.")
    assert "carmaker" in r.json()["detail"]

    out = bank.as_user("service", "undeploy", "scoring")
    assert out.returncode == 0, out.stderr
    assert "'telco': True" in out.stdout and "'carmaker': False" in out.stdout
    out = bank.as_user("service", "list", "--json")
    assert json.loads(out.stdout) == []
    metrics = bank.client.get("/metrics").text
    assert 'coalition_service_requests_total{service="scoring"} 2' in metrics
    events = [e["kind"] for e in bank.api("GET", "/audit/events?limit=500").json()]
    assert {"model.published", "service.deployed", "service.undeployed"} <= set(events)

