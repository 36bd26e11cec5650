"""PIR as a node service across two real node processes over mTLS: telco publishes a table from
a registered dataset, bank queries it (one ID, and a batch from a file through the CLI),
answers come back in query order; every batch is recorded on both sides by count and mode;
an exhausted quota is refused on both sides and stays exhausted across a restart of telco,
until a new epoch starts it afresh."""

from __future__ import annotations

import io
import json
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

PHONES = [f"1391234{i:04d}" for i in range(300)]
RISK = {p: i % 7 for i, p in enumerate(PHONES)}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    root = tmp_path_factory.mktemp("pir")
    data = root / "data"
    data.mkdir()
    pd.DataFrame({"msisdn": PHONES, "risk": [RISK[p] for p in PHONES],
                  "tag": [f"t{i % 3}" for i in range(len(PHONES))],
                  "secret": [f"s{i}" for i in range(len(PHONES))]}).to_csv(
        data / "telco.csv", index=False)
    with start_cluster(root, ("bank", "telco"), data_dirs=[data],
                       fast_password_hashing=True) as made:
        made.register_dataset("telco", "subscribers", data / "telco.csv", id_column="msisdn")
        made.grant("telco", "subscribers", to="bank", kinds=["pir"])
        yield made


def _cli(node: NodeHandle, *args: str) -> str:
    result = CliRunner().invoke(app, [*args, "--node", node.url, "--token", node.token])
    assert result.exit_code == 0, result.output
    return result.output


def _records(node: NodeHandle, side: str, **params: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = node.call("GET", "/pir/batches",
                                            params={"side": side, **params})
    return found


def test_publish_query_one_and_a_file_with_records_on_both_sides(cluster: Cluster,
                                                                 tmp_path: Path) -> None:
    bank, telco = cluster["bank"], cluster["telco"]
    published = json.loads(_cli(
        telco, "pir", "service", "publish", "risk", "--dataset", "subscribers",
        "--id-column", "msisdn", "--columns", "risk,tag", "--mode", "download",
        "--mode", "bucketed", "--quota", "1000", "--json"))
    assert published["rows"] == len(PHONES) and published["modes"] == ["download", "bucketed"]

    one = bank.call("POST", "/pir/query", json={"partner": "telco", "service": "risk",
                                                "ids": [PHONES[10]], "mode": "download"})
    assert one["rows"] == [{"id": PHONES[10], "found": True, "risk": str(RISK[PHONES[10]]),
                            "tag": "t1"}]
    assert (one["batch"]["queries"], one["batch"]["padded"]) == (1, 16)

    asked = [PHONES[250], "13000000000", PHONES[3], PHONES[250], *PHONES[100:136]]
    ids = tmp_path / "ids.csv"
    pd.DataFrame({"name": ["x"] * len(asked), "phone": asked}).to_csv(ids, index=False)
    out = tmp_path / "answers.csv"
    _cli(bank, "pir", "service", "query", "telco", "risk", "--ids", str(ids), "--column",
         "phone", "--out", str(out))  # the service's first mode: download
    answers = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert answers["id"].tolist() == asked
    assert answers["found"].tolist() == ["True", "False", *["True"] * (len(asked) - 2)]
    assert answers["risk"].tolist()[:3] == [str(RISK[PHONES[250]]), "", str(RISK[PHONES[3]])]
    assert list(answers.columns) == ["id", "found", "risk", "tag"]
    # The same file in bucketed mode, as Parquet.
    with NodeClient(bank.url, token=bank.token, timeout=120) as client:
        parquet = client.pir_query_file("telco", "risk", ids.read_bytes(), column="phone",
                                        mode="bucketed", columns=["risk"], fmt="parquet")
    frame = pd.read_parquet(io.BytesIO(parquet))
    assert frame["id"].tolist() == asked and list(frame.columns) == ["id", "found", "risk"]
    assert frame["found"].tolist() == answers["found"].map({"True": True, "False": False}).tolist()

    asked_by_bank = _records(bank, "consumer", service="risk")
    assert [(b["mode"], b["queries"], b["padded"], b["found"], b["state"])
            for b in reversed(asked_by_bank)] == [
        ("download", 1, 16, 1, "ok"), ("download", 40, 64, 39, "ok"),
        ("bucketed", 40, 64, 39, "ok")]
    seen_by_telco = _records(telco, "provider", partner="bank")
    assert [(b["mode"], b["queries"], b["padded"], b["found"], b["state"])
            for b in reversed(seen_by_telco)] == [
        ("download", None, 16, None, "ok"), ("download", None, 64, None, "ok"),
        ("bucketed", None, 64, None, "ok")]
    # The second download-mode batch fetched only the (empty) delta of the cached table.
    assert asked_by_bank[1]["bytes_received"] < asked_by_bank[2]["bytes_received"] / 2
    # Records and audit events hold counts, never an ID.
    for node in (bank, telco):
        events = node.call("GET", "/audit/events", params={"kind": "pir.batch"})
        text = json.dumps([events, _records(node, "consumer"), _records(node, "provider")])
        assert len(events) >= 3 and not any(p in text for p in asked)
    listed = _cli(bank, "pir", "service", "records", "--side", "consumer", "--json")
    assert len(json.loads(listed)) == 3
    for node, side in ((bank, "consumer"), (telco, "provider")):
        metrics = httpx.get(f"{node.url}/metrics", timeout=30,
                            headers={"Authorization": f"Bearer {node.token}"}).text
        assert (f'coalition_pir_batches_total{{side="{side}",mode="download",state="ok"}} 2'
                in metrics)


def test_quota_exhaustion_is_refused_on_both_sides_and_survives_restart(
        cluster: Cluster) -> None:
    bank, telco = cluster["bank"], cluster["telco"]
    usage = telco.call("GET", "/pir/services/risk/usage")
    used = sum(u["used"] for u in usage)
    _cli(telco, "pir", "service", "quota", "risk", "--partner", "bank", "--max-queries",
         str(used + 16))
    query = {"partner": "telco", "service": "risk", "ids": PHONES[:20]}  # pads to 32
    for attempt in ("before", "after restart"):
        with pytest.raises(RemoteError) as refused:
            bank.call("POST", "/pir/query", json=query)
        assert refused.value.status == 429, attempt
        assert refused.value.code == "pir.quota_exceeded", attempt
        if attempt == "before":
            cluster.stop("telco")
            telco = cluster.restart("telco")
    assert [b["code"] for b in _records(bank, "consumer", state="refused")] == [
        "pir.quota_exceeded"] * 2
    assert [b["code"] for b in _records(telco, "provider", state="refused")] == [
        "pir.quota_exceeded"] * 2
    assert sum(u["used"] for u in telco.call("GET", "/pir/services/risk/usage")) == used
    # What is left still answers; a new epoch counts afresh.
    fits = bank.call("POST", "/pir/query", json={**query, "ids": PHONES[:2]})
    assert [r["found"] for r in fits["rows"]] == [True, True]
    rebuilt = json.loads(_cli(telco, "pir", "service", "rebuild", "risk", "--rotate", "--json"))
    assert rebuilt["epoch"] != fits["batch"]["epoch"]
    again = bank.call("POST", "/pir/query", json=query)
    assert again["batch"]["epoch"] == rebuilt["epoch"] and len(again["rows"]) == 20
