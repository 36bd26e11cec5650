"""deploy/: what can be checked without a Docker engine (none on these machines).

The compose file parses and names only settings, ports and the health route the node really
has; the image's entry point and command are the ones this test runs (``coalition node start
HOME``) and its health check passes against that running node; the Grafana dashboard queries
only metric families a node exports.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from coalition.node.api.health import HEALTH_PATH
from coalition.node.settings import NodeSettings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
FIELDS = set(NodeSettings.model_fields)
API_PORT = NodeSettings.model_fields["api_port"].default
PEER_PORT = NodeSettings.model_fields["peer_port"].default


def _dockerfile() -> dict[str, Any]:
    """The final stage's instructions (continuation lines joined)."""
    text = (DEPLOY / "Dockerfile").read_text().replace("\\\n", " ")
    final = text.split("\nFROM ")[-1]
    out: dict[str, Any] = {"ENV": {}, "EXPOSE": []}
    for line in final.splitlines():
        word, _, rest = line.strip().partition(" ")
        if word == "ENV":
            out["ENV"].update(dict(shlex.split(p)[0].split("=", 1) for p in rest.split()))
        elif word == "EXPOSE":
            out["EXPOSE"] += [int(p) for p in rest.split()]
        elif word in ("ENTRYPOINT", "CMD", "USER"):
            out[word] = json.loads(rest) if rest.startswith("[") else rest
        elif word == "HEALTHCHECK":
            out[word] = json.loads(rest[rest.index("CMD") + 3:].strip())
    return out


def _compose() -> dict[str, Any]:
    return dict(yaml.safe_load((DEPLOY / "compose.yaml").read_text()))


def _node_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: svc for name, svc in compose["services"].items()
            if svc.get("image", "").startswith("coalition-node")}


def test_image_runs_the_node_as_a_non_root_user_on_its_real_ports() -> None:
    image = _dockerfile()
    assert image["USER"] not in ("", "root", "0")
    assert sorted(image["EXPOSE"]) == sorted([API_PORT, PEER_PORT])
    assert image["ENTRYPOINT"] == ["coalition"]
    assert image["CMD"][:2] == ["node", "start"]
    for key in image["ENV"]:
        if key.startswith("COALITION_NODE_"):
            assert key.removeprefix("COALITION_NODE_").lower() in FIELDS, key
    assert f"127.0.0.1:{API_PORT}{HEALTH_PATH}" in " ".join(image["HEALTHCHECK"])


def test_compose_names_three_nodes_with_real_settings_ports_and_volumes() -> None:
    compose, image = _compose(), _dockerfile()
    nodes = _node_services(compose)
    assert set(nodes) == {"bank", "telco", "carmaker"}
    home = image["CMD"][-1]
    published: list[int] = []
    for name, svc in nodes.items():
        assert svc["command"] == image["CMD"]
        env = svc["environment"]
        for key in env:
            assert key.removeprefix("COALITION_NODE_").lower() in FIELDS, f"{name}: {key}"
        assert env["COALITION_NODE_PEER_ADDRESS"] == f"{name}:{PEER_PORT}"
        inside = sorted(int(p.rsplit(":", 1)[1]) for p in svc["ports"])
        assert inside == sorted([API_PORT, PEER_PORT]), name
        published += [int(p.split(":")[0]) for p in svc["ports"]]
        mounts = [v.split(":")[1] for v in svc["volumes"]]
        assert any(home.startswith(m) for m in mounts), f"{name}: home not on a volume"
        for key in ("COALITION_NODE_AUDIT_KEY_FILE", "COALITION_NODE_AUDIT_CHECKPOINT_FILE"):
            assert any(env[key].startswith(m) and not home.startswith(m) for m in mounts)
        for volume in svc["volumes"]:
            assert volume.split(":")[0] in compose["volumes"]
    assert len(published) == len(set(published))
    assert "postgresql+psycopg://" in nodes["bank"]["environment"]["COALITION_NODE_DATABASE_URL"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _families(text: str) -> set[str]:
    names: set[str] = set()
    for family in text_string_to_metric_families(text):
        names |= {family.name + s for s in ("", "_total", "_bucket", "_sum", "_count")}
    return names


def test_the_image_command_starts_a_node_that_passes_the_health_check(tmp_path: Path) -> None:
    """Run ENTRYPOINT + CMD (the home moved here) with the image's ENV, then its HEALTHCHECK;
    scrape the node's /metrics for the dashboard's families; stop it as Docker would."""
    image = _dockerfile()
    coalition = str(Path(sys.executable).parent / "coalition")
    home = tmp_path / "node"
    env = {k: v for k, v in os.environ.items() if not k.startswith("COALITION_")}
    init = subprocess.run([coalition, "node", "init", str(home), "--name", "bank", "--json"],
                          check=True, env=env, capture_output=True, text=True, timeout=120)
    password = json.loads(init.stdout)["admin_password"]
    api = _free_port()
    env |= image["ENV"] | {"COALITION_NODE_API_PORT": str(api),
                           "COALITION_NODE_PEER_PORT": str(_free_port())}
    command = [coalition, *image["CMD"][:-1], str(home)]
    check = [sys.executable if a == "python" else a.replace(str(API_PORT), str(api))
             for a in image["HEALTHCHECK"]]
    node = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline, healthy = time.monotonic() + 90, False
        while time.monotonic() < deadline and node.poll() is None and not healthy:
            healthy = subprocess.run(check, capture_output=True, check=False).returncode == 0
            time.sleep(0.3)
        assert healthy, "the HEALTHCHECK never passed"
        with httpx.Client(base_url=f"http://127.0.0.1:{api}", timeout=30) as http:
            assert http.get(HEALTH_PATH).json() == {"status": "ok"}
            token = http.post("/api/v1/auth/login", json={"username": "admin",
                                                          "password": password}).json()["token"]
            scrape = http.get("/metrics", headers={"Authorization": f"Bearer {token}"})
        assert scrape.status_code == 200
    finally:
        node.send_signal(signal.SIGTERM)
        _, err = node.communicate(timeout=60)
    assert node.returncode == 0
    lines = [json.loads(line) for line in err.decode().splitlines() if line.startswith("{")]
    assert lines and all({"ts", "level", "logger", "message", "node"} <= set(x) for x in lines)

    dashboard = json.loads((DEPLOY / "grafana" / "coalition-node.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    used = {m for e in exprs for m in re.findall(r"\bcoalition_\w+", e)}
    exported = _families(scrape.text)
    assert used and used <= exported, used - exported


def test_prometheus_scrapes_every_node_of_the_compose_file() -> None:
    prometheus = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    targets = {t for job in prometheus["scrape_configs"] for c in job["static_configs"]
               for t in c["targets"]}
    assert targets == {f"{n}:{API_PORT}" for n in _node_services(_compose())}


@pytest.fixture(autouse=True)
def _no_network_settings_leak(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("COALITION_NODE_"):
            monkeypatch.delenv(key)
