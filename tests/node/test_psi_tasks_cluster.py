"""PSI as a node service across two real node processes (bank runs the task, telco owns the
partner dataset): a task run now over mTLS, its record, the derived result, and downloads only
with ``datasets.preview``, each audited."""

from __future__ import annotations

import hashlib
import io
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from typer.testing import CliRunner

from coalition.cli.app import app
from coalition.client import NodeClient, RemoteError
from coalition.demo.cluster import Cluster, NodeHandle, start_cluster

pytestmark = pytest.mark.slow

PASSWORD = "correct-horse-battery"
BANK_IDS = [f"p{i:04d}" for i in range(0, 120)]
TELCO_IDS = [f"p{i:04d}" for i in range(60, 200)]
SHARED = sorted(set(BANK_IDS) & set(TELCO_IDS))
BIG_IDS = [f"p{i:04d}" for i in range(40, 5040)]  # the telco's large table for OPRF-PSI
DATA: dict[str, Path] = {}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    root = tmp_path_factory.mktemp("psi")
    data = root / "data"
    data.mkdir()
    pd.DataFrame({"phone": BANK_IDS, "score": range(len(BANK_IDS))}).to_csv(
        data / "bank.csv", index=False)
    pd.DataFrame({"msisdn": TELCO_IDS, "usage": range(len(TELCO_IDS))}).to_csv(
        data / "telco.csv", index=False)
    with start_cluster(root, ("bank", "telco"), data_dirs=[data],
                       fast_password_hashing=True) as made:
        made.register_dataset("bank", "customers", data / "bank.csv", id_column="phone")
        made.register_dataset("telco", "subscribers", data / "telco.csv", id_column="msisdn")
        made.grant("telco", "subscribers", to="bank", kinds=["psi"])
        DATA["big"] = data / "telco_big.csv"
        pd.DataFrame({"msisdn": BIG_IDS, "usage": 1}).to_csv(DATA["big"], index=False)
        made.register_dataset("telco", "all_subscribers", DATA["big"], id_column="msisdn")
        made.grant("telco", "all_subscribers", to="bank", kinds=["psi"])
        for role in ("operator", "data_scientist"):
            made["bank"].call("POST", "/users", json={"username": role, "role": role,
                                                     "password": PASSWORD})
        yield made


def _as(node: NodeHandle, username: str) -> NodeClient:
    client = NodeClient(node.url, timeout=60)
    client.login(username, PASSWORD)
    return client


def _wait(node: NodeHandle, run_id: int, deadline_s: float = 180) -> dict[str, Any]:
    end = time.monotonic() + deadline_s
    while True:
        run: dict[str, Any] = node.call("GET", f"/psi/runs/{run_id}")
        if run["finalised_at"] is not None or time.monotonic() > end:
            return run
        time.sleep(0.5)


def test_psi_task_runs_records_and_downloads_with_permission(cluster: Cluster) -> None:
    bank = cluster["bank"]
    task = bank.call("POST", "/psi/tasks", json={
        "name": "match-subscribers", "dataset": "customers", "key_column": "phone",
        "partner": "telco", "partner_dataset": "subscribers", "partner_key_column": "msisdn",
        "protocol": "kkrt"})
    started = bank.call("POST", f"/psi/tasks/{task['name']}/run")
    run = _wait(bank, started["id"])
    assert run["state"] == "succeeded", run
    assert run["protocol"] == "kkrt" and run["started_by"] == "user:admin"
    assert run["input_rows"] == len(BANK_IDS)
    assert run["intersection_size"] == len(SHARED)
    assert run["wire_bytes"] is not None and run["wire_bytes"] > 0
    assert run["wall_s"] is not None and run["wall_s"] > 0
    expected = hashlib.sha256("".join(f"{i}\n" for i in SHARED).encode()).hexdigest()
    assert run["result_hash"] == expected
    # The result is a derived dataset on bank (its own columns only).
    derived = bank.call("GET", f"/datasets/{run['result_dataset']}")
    assert derived["row_count"] == len(SHARED) and derived["id_column"] == "phone"
    listed = bank.call("GET", "/psi/runs", params={"task": task["name"], "state": "succeeded"})
    assert [r["id"] for r in listed] == [run["id"]]

    # Preview and download: a data scientist may, an operator and an auditor may not.
    with _as(bank, "data_scientist") as ds:
        rows = ds.request("GET", f"/psi/runs/{run['id']}/preview", params={"limit": 5})["rows"]
        assert len(rows) == 5 and set(rows[0]) == {"phone", "score"}
    headers = {"Authorization": f"Bearer {_token(bank, 'data_scientist')}"}
    csv = httpx.get(f"{bank.url}/api/v1/psi/runs/{run['id']}/download", headers=headers,
                    params={"format": "csv"}, timeout=60)
    assert csv.status_code == 200, csv.text
    assert sorted(pd.read_csv(io.StringIO(csv.text), dtype=str)["phone"]) == SHARED
    parquet = httpx.get(f"{bank.url}/api/v1/psi/runs/{run['id']}/download", headers=headers,
                        params={"format": "parquet"}, timeout=60)
    assert sorted(pd.read_parquet(io.BytesIO(parquet.content))["phone"]) == SHARED
    with _as(bank, "operator") as operator:
        for path in ("preview", "download"):
            with pytest.raises(RemoteError) as denied:
                operator.request("GET", f"/psi/runs/{run['id']}/{path}")
            assert denied.value.status == 403
    events = bank.call("GET", "/audit/events", params={"kind": "psi.result_downloaded"})
    downloads = [e for e in events if e["subject"] == f"psi_run:{run['id']}"]
    assert sorted(e["details"]["format"] for e in downloads) == ["csv", "parquet"]
    assert {e["actor"] for e in downloads} == {"user:data_scientist"}
    assert all(e["details"]["rows"] == len(SHARED) for e in downloads)
    finalised = bank.call("GET", "/audit/events", params={"kind": "psi.run_finalised"})
    assert [e["subject"] for e in finalised].count(f"psi_run:{run['id']}") == 1
    metrics = httpx.get(f"{bank.url}/metrics", timeout=30,
                        headers={"Authorization": f"Bearer {bank.token}"}).text
    assert 'coalition_psi_runs_total{protocol="kkrt",state="succeeded"} 1' in metrics
    assert f"coalition_psi_intersection_rows_total {len(SHARED)}" in metrics


def _token(node: NodeHandle, username: str) -> str:
    with NodeClient(node.url, timeout=60) as client:
        return client.login(username, PASSWORD)


def test_operator_cli_saves_runs_lists_and_downloads(cluster: Cluster, tmp_path: Path) -> None:
    bank = cluster["bank"]
    ds = ["--node", bank.url, "--token", _token(bank, "data_scientist")]
    runner = CliRunner()

    def cli(*args: str) -> str:
        result = runner.invoke(app, [*args, *ds])
        assert result.exit_code == 0, result.output
        return result.output

    cli("psi", "task", "create", "cli-match", "--dataset", "customers", "--key", "phone",
        "--partner", "telco", "--partner-dataset", "subscribers", "--partner-key", "msisdn",
        "--protocol", "ecdh")
    record = json.loads(cli("psi", "task", "run", "cli-match", "--wait", "--json"))
    assert record["state"] == "succeeded" and record["protocol"] == "ecdh"
    assert record["intersection_size"] == len(SHARED)
    runs = json.loads(cli("psi", "task", "runs", "--task", "cli-match", "--json"))
    assert [r["id"] for r in runs] == [record["id"]]
    out = tmp_path / "matched.parquet"
    cli("psi", "task", "download", str(record["id"]), "--format", "parquet", "--out", str(out))
    assert sorted(pd.read_parquet(out)["phone"]) == SHARED


def _scheduled(node: NodeHandle, schedule_id: int) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = node.call("GET", "/psi/runs",
                                           params={"task": "match-subscribers"})
    return [r for r in runs if r["started_by"] == f"schedule:{schedule_id}"]


def _wait_scheduled(node: NodeHandle, schedule_id: int, count: int,
                    deadline_s: float = 120) -> list[dict[str, Any]]:
    end = time.monotonic() + deadline_s
    while True:
        done = [r for r in _scheduled(node, schedule_id) if r["finalised_at"] is not None]
        if len(done) >= count or time.monotonic() > end:
            return done
        time.sleep(0.5)


def test_schedule_runs_again_after_a_restart(cluster: Cluster) -> None:
    bank = cluster["bank"]
    result = CliRunner().invoke(app, ["psi", "task", "schedule", "match-subscribers",
                                      "* * * * * */6", "--json",  # every 6 s (seconds last)
                                      "--node", bank.url, "--token", bank.token])
    assert result.exit_code == 0, result.output
    schedule = json.loads(result.output)
    first = _wait_scheduled(bank, schedule["id"], 1)
    assert first and first[0]["state"] == "succeeded"
    cluster.stop("bank")
    bank = cluster.restart("bank")
    listed = bank.call("GET", "/psi/schedules")
    assert [s["id"] for s in listed] == [schedule["id"]]
    before = {r["id"] for r in _scheduled(bank, schedule["id"])}
    end = time.monotonic() + 120
    while time.monotonic() < end:  # the loop resumed from the stored due time
        new = [r for r in _scheduled(bank, schedule["id"])
               if r["id"] not in before and r["finalised_at"] is not None]
        if new:
            break
        time.sleep(0.5)
    assert new and new[0]["state"] == "succeeded"
    assert new[0]["result_hash"] == first[0]["result_hash"]  # same sets, same intersection
    bank.call("DELETE", f"/psi/schedules/{schedule['id']}")
    assert bank.call("GET", "/psi/schedules") == []


def test_periodic_oprf_psi_sends_only_the_delta_on_the_scheduled_run(cluster: Cluster) -> None:
    """Run now (the full PRF table crosses), the telco's table changes, then the schedule's
    run sends only the added values and tombstones: fewer bytes, the right intersection."""
    bank = cluster["bank"]
    bank.call("POST", "/psi/tasks", json={
        "name": "unbalanced", "dataset": "customers", "key_column": "phone",
        "partner": "telco", "partner_dataset": "all_subscribers",
        "partner_key_column": "msisdn", "protocol": "oprf"})
    first = _wait(bank, bank.call("POST", "/psi/tasks/unbalanced/run")["id"])
    assert first["state"] == "succeeded", first
    assert first["intersection_size"] == len(set(BANK_IDS) & set(BIG_IDS))
    changed = [i for i in BIG_IDS if i not in {"p0050", "p0051"}] + ["p0001", "p0002"]
    pd.DataFrame({"msisdn": changed, "usage": 1}).to_csv(DATA["big"], index=False)
    schedule = bank.call("POST", "/psi/tasks/unbalanced/schedules",
                         json={"cron": "* * * * * */5"})

    def scheduled() -> list[dict[str, Any]]:
        runs: list[dict[str, Any]] = bank.call("GET", "/psi/runs",
                                               params={"task": "unbalanced"})
        return sorted((r for r in runs if r["started_by"] == f"schedule:{schedule['id']}"),
                      key=lambda r: r["id"])

    end = time.monotonic() + 120
    try:
        while not scheduled() and time.monotonic() < end:
            time.sleep(0.5)
    finally:  # one scheduled run is enough (a later one would reuse its cached outputs)
        bank.call("DELETE", f"/psi/schedules/{schedule['id']}")
    second = _wait(bank, scheduled()[0]["id"])
    assert second["state"] == "succeeded", second
    assert second["intersection_size"] == len(set(BANK_IDS) & set(changed))
    # the first run carried the telco's 5,000 12-byte PRF values; the delta carries four
    assert first["wire_bytes"] - second["wire_bytes"] > 5000 * 12 - 1000
