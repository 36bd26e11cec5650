"""Three real node processes on loopback: created and started with the CLI, connected through
the API with exported bundles, health-checked over mutual TLS, stopped with SIGTERM."""

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

import grpc
import httpx
import pytest

from coalition.node.identity import create_identity, tls_name
from coalition.node.peer import SERVICE

pytestmark = pytest.mark.slow

CLI = [sys.executable, str(Path(__file__).with_name("cli_main.py"))]
NAMES = ("bank", "telco", "carmaker")
FAST_ENV = {"COALITION_NODE_ARGON2_TIME_COST": "1", "COALITION_NODE_ARGON2_MEMORY_COST": "8",
            "COALITION_NODE_ARGON2_PARALLELISM": "1"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **FAST_ENV}, check=False)


def _wait_up(url: str, proc: subprocess.Popen[bytes], deadline_s: float = 60) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"node exited early with {proc.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code == 401:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError(f"node at {url} did not come up")


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[dict[str, dict[str, object]]]:
    nodes: dict[str, dict[str, object]] = {}
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for name in NAMES:
            api, peer = _free_port(), _free_port()
            home = tmp_path / name
            out = _cli("node", "init", str(home), "--name", name, "--api-port", str(api),
                       "--peer-port", str(peer), "--json")
            assert out.returncode == 0, out.stderr
            info = json.loads(out.stdout)
            proc = subprocess.Popen([*CLI, "node", "start", str(home)], env={**os.environ, **FAST_ENV},
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            procs.append(proc)
            nodes[name] = {"home": home, "url": f"http://127.0.0.1:{api}", "proc": proc,
                           "password": info["admin_password"], "fingerprint": info["fingerprint"]}
        for node in nodes.values():
            _wait_up(f"{node['url']}/api/v1/node", node["proc"])  # type: ignore[arg-type]
        yield nodes
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def test_three_nodes_connect_and_check_health(cluster: dict[str, dict[str, object]]) -> None:
    clients = {}
    for name, node in cluster.items():
        client = httpx.Client(base_url=str(node["url"]), timeout=30)
        token = client.post("/api/v1/auth/login", json={
            "username": "admin", "password": node["password"]}).json()["token"]
        client.headers["Authorization"] = f"Bearer {token}"
        clients[name] = client
    bundles = {}
    for name, node in cluster.items():
        out = _cli("node", "export-identity", str(node["home"]))
        assert out.returncode == 0, out.stderr
        bundles[name] = out.stdout
        assert json.loads(out.stdout)["fingerprint"] == node["fingerprint"]
    for name, client in clients.items():
        for other in NAMES:
            if other != name:
                r = client.post("/api/v1/partners/import", json={"bundle": bundles[other]})
                assert r.status_code == 201, r.text
    for name, client in clients.items():
        for other in NAMES:
            if other == name:
                continue
            h = client.post(f"/api/v1/partners/{other}/health").json()
            assert h["ok"], h
            assert h["remote_name"] == other and h["seen_as"] == name

    # A certificate no node registered is refused at the TLS handshake.
    stranger = create_identity(Path(str(cluster["bank"]["home"])).parent / "stranger", "stranger")
    bank = json.loads(bundles["bank"])
    creds = grpc.ssl_channel_credentials(root_certificates=bank["certificate_pem"].encode(),
                                         private_key=stranger.key_pem,
                                         certificate_chain=stranger.cert_pem)
    options = [("grpc.ssl_target_name_override", tls_name("bank"))]
    with grpc.secure_channel(bank["address"], creds, options=options) as ch, \
            pytest.raises(grpc.RpcError) as refused:
        ch.unary_unary(f"/{SERVICE}/Health")(b"{}", timeout=10)
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE

    for client in clients.values():
        client.close()
    # SIGTERM is a clean shutdown, and every audit trail verifies.
    for node in cluster.values():
        proc = node["proc"]
        assert isinstance(proc, subprocess.Popen)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    for node in cluster.values():
        out = _cli("audit", "verify", str(node["home"]), "--json")
        assert out.returncode == 0, out.stdout + out.stderr
        assert json.loads(out.stdout)["checked"] >= 6
