"""Three-element verification as a node service between two node runtimes over their real
mTLS peer endpoints: the telco publishes from a registered dataset, the bank verifies a batch
through the API and the CLI (from a CSV file), both sides record the batch by count only, the
quota refuses on both sides, and a rebuild starts a new epoch."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from nodekit import NodeEnv, app_client, make_env
from typer.testing import CliRunner

from coalition.cli import common
from coalition.cli.app import app
from coalition.client import NodeClient
from coalition.node.partners.directory import get_partner
from coalition.node.partners.grants import decide, request_grant
from coalition.node.peer import PeerEndpoint

TELCO_ROWS = [("+86 138-0013-8000", "Zhang San", "110105194912310021"),
              ("139-0013-9000", "李四", "11010519491231002X"),
              ("137 0013 7000", "Wang Wu", "320102198001010011")]
CASES = [
    (("13800138000", "zhang  san", "110105194912310021"), (True, True, True)),
    (("13800138000", "Zhang Si", "110105194912310021"), (True, False, True)),
    (("13800138000", "Zhang San", "110105194912310099"), (True, True, False)),
    (("13800138000", "Li Si", "0"), (True, False, False)),
    (("15000000000", "Zhang San", "110105194912310021"), (False, False, False)),
    (("13900139000", "李四", "11010519491231002x"), (True, True, True)),
]
UNKNOWN_PHONE = "15000000000"


@dataclass
class Pair:
    bank: NodeEnv
    telco: NodeEnv
    endpoints: list[PeerEndpoint]
    data: Path

    def close(self) -> None:
        for e in self.endpoints:
            e.stop(0)
        self.bank.close()
        self.telco.close()


def _connect(a: NodeEnv, b: NodeEnv, b_endpoint: PeerEndpoint) -> None:
    identity = b.client.get("/api/v1/node/identity", headers=b.auth()).json()
    r = a.client.post("/api/v1/partners/import", headers=a.auth(), json={
        "bundle": json.dumps(identity), "address": f"127.0.0.1:{b_endpoint.port}"})
    assert r.status_code == 201, r.text


def _make_pair(root: Path, **settings: str) -> Pair:
    data = root / "data"
    data.mkdir()
    pd.DataFrame(TELCO_ROWS, columns=["msisdn", "holder", "cert_no"]).to_csv(
        data / "subscribers.csv", index=False)
    telco = make_env(root / "telco", "telco", data_dirs=[data], **settings)
    bank = make_env(root / "bank", "bank", **settings)
    endpoints = [PeerEndpoint(bank.rt).start(), PeerEndpoint(telco.rt).start()]
    _connect(bank, telco, endpoints[1])
    _connect(telco, bank, endpoints[0])
    r = telco.client.post("/api/v1/datasets", headers=telco.auth(), json={
        "name": "subscribers", "kind": "csv", "id_column": "cert_no",
        "location": str(data / "subscribers.csv")})
    assert r.status_code == 201, r.text
    assert telco.client.put("/api/v1/datasets/subscribers/partners/bank",
                            headers=telco.auth()).status_code == 200
    with telco.rt.db.session() as db:
        grant = request_grant(db, get_partner(db, "bank"), "subscribers", purpose="kyc",
                              component_kinds=["verify3"],
                              valid_until=dt.datetime.now(dt.UTC) + dt.timedelta(days=30))
        decide(db, "user:admin", grant.id, True, "kyc checks")
    return Pair(bank, telco, endpoints, data)


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    made = _make_pair(tmp_path_factory.mktemp("verify3"))
    yield made
    made.close()


def _publish(pair: Pair, name: str, quota: int | None) -> dict[str, object]:
    r = pair.telco.client.post("/api/v1/verify3/services", headers=pair.telco.auth(), json={
        "name": name, "dataset": "subscribers", "phone_column": "msisdn",
        "name_column": "holder", "id_number_column": "cert_no", "phone_country": "86",
        "quota": quota})
    assert r.status_code == 201, r.text
    out: dict[str, object] = r.json()
    return out


def test_batch_verified_and_recorded_by_count_on_both_sides(pair: Pair) -> None:
    made = _publish(pair, "kyc", None)
    assert made["rows"] == 3 and made["suite"] == "standard"
    r = pair.bank.client.post("/api/v1/verify3/query", headers=pair.bank.auth(), json={
        "partner": "telco", "service": "kyc", "triples": [list(c[0]) for c in CASES]})
    assert r.status_code == 200, r.text
    got = [(f["phone_found"], f["name_match"], f["id_match"]) for f in r.json()["results"]]
    assert got == [c[1] for c in CASES]
    queried = pair.bank.client.get("/api/v1/verify3/batches", headers=pair.bank.auth()).json()
    served = pair.telco.client.get("/api/v1/verify3/batches?side=served",
                                   headers=pair.telco.auth()).json()
    assert [(b["side"], b["triples"], b["elements"]) for b in queried] == [("queried", 6, 48)]
    assert [(b["side"], b["partner"], b["triples"], b["elements"]) for b in served] == [
        ("served", "bank", None, 48)]
    # the telco's records and audit trail hold counts, never a phone it was asked about
    audit = pair.telco.client.get("/api/v1/audit/events?limit=1000", headers=pair.telco.auth()).text
    assert "verify3.batch" in audit and UNKNOWN_PHONE not in audit
    assert UNKNOWN_PHONE not in json.dumps(served)


def test_cli_publishes_and_queries_from_a_file(pair: Pair, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    by_url = {"http://bank": pair.bank, "http://telco": pair.telco}

    def connect(node: str, token: str) -> NodeClient:
        return app_client(by_url[node].rt, token)

    monkeypatch.setattr(common, "connect", connect)

    def cli(org: str, *args: str) -> str:
        env = by_url[f"http://{org}"]
        result = CliRunner().invoke(app, list(args), env={
            "COALITION_NODE_URL": f"http://{org}", "COALITION_TOKEN": env.tokens[
                next(iter(env.tokens))], "COLUMNS": "250"})
        assert result.exit_code == 0, result.output
        return result.stdout

    assert "3 records" in cli("telco", "verify3", "publish", "kyc-cli", "--dataset",
                              "subscribers", "--phone-column", "msisdn", "--name-column",
                              "holder", "--id-number-column", "cert_no", "--phone-country", "86")
    assert "kyc-cli" in cli("telco", "verify3", "services")
    src = tmp_path / "triples.csv"
    pd.DataFrame([c[0] for c in CASES], columns=["phone", "name", "id_number"]).assign(
        ref=[f"r{i}" for i in range(len(CASES))]).to_csv(src, index=False)
    out = tmp_path / "flags.csv"
    text = cli("bank", "verify3", "query", "telco", "kyc-cli", "--file", str(src), "--out",
               str(out))
    assert "6 triples: 5 phones found" in text
    flags = pd.read_csv(out, dtype={"id_number": str})
    assert flags["ref"].tolist() == [f"r{i}" for i in range(len(CASES))]
    assert [tuple(bool(v) for v in row) for row in
            flags[["phone_found", "name_match", "id_match"]].values] == [c[1] for c in CASES]
    # the second query reuses the bank's copy of the tags (same epoch)
    again = json.loads(cli("bank", "verify3", "query", "telco", "kyc-cli", "--file", str(src),
                           "--json"))
    assert again["summary"]["epoch"] == json.loads(cli("telco", "verify3", "services",
                                                       "--json"))[1]["epoch"]
    assert "served" in cli("telco", "verify3", "batches", "--side", "served")


def test_quota_refuses_on_both_sides_and_a_rebuild_starts_a_new_epoch(pair: Pair) -> None:
    first = _publish(pair, "kyc-small", 60)
    body = {"partner": "telco", "service": "kyc-small", "triples": [list(CASES[0][0])]}
    bank_api, telco_api = pair.bank.client, pair.telco.client
    assert bank_api.post("/api/v1/verify3/query", headers=pair.bank.auth(),
                         json=body).status_code == 200  # 16 padded triples: 48 evaluations
    refused = bank_api.post("/api/v1/verify3/query", headers=pair.bank.auth(), json=body)
    assert refused.status_code == 429, refused.text
    assert refused.json()["code"] == "pir.quota_exceeded"
    audit = telco_api.get("/api/v1/audit/events?limit=1000", headers=pair.telco.auth()).text
    assert "verify3.refused" in audit
    served = [b for b in telco_api.get("/api/v1/verify3/batches?side=served",
                                       headers=pair.telco.auth()).json()
              if b["service"] == "kyc-small"]
    assert [b["elements"] for b in served] == [48]  # the refusal charged nothing
    rebuilt = telco_api.post("/api/v1/verify3/services/kyc-small/rebuild",
                             headers=pair.telco.auth()).json()
    assert rebuilt["epoch"] != first["epoch"]
    again = bank_api.post("/api/v1/verify3/query", headers=pair.bank.auth(), json=body)
    assert again.status_code == 200 and again.json()["results"][0]["name_match"] is True
    metrics = telco_api.get("/metrics", headers=pair.telco.auth()).text
    assert 'coalition_verify3_batches_total{side="served",outcome="refused"} 1' in metrics
    assert 'coalition_verify3_evaluations_total{side="served"}' in metrics


def test_a_file_of_triples_is_verified_in_row_order(pair: Pair) -> None:
    _publish(pair, "kyc-file", None)
    lines = ["id_number,name,phone"] + [f"{c[0][2]},{c[0][1]},{c[0][0]}" for c in CASES]
    r = pair.bank.client.post(
        "/api/v1/verify3/query/file", params={"partner": "telco", "service": "kyc-file"},
        content="\n".join(lines).encode(), headers={**pair.bank.auth(),
                                                    "Content-Type": "text/csv"})
    assert r.status_code == 200, r.text
    got = [(f["phone_found"], f["name_match"], f["id_match"]) for f in r.json()["results"]]
    assert got == [c[1] for c in CASES]
    bad = pair.bank.client.post(
        "/api/v1/verify3/query/file", params={"partner": "telco", "service": "kyc-file"},
        content=b"msisdn,holder\n1,2\n", headers={**pair.bank.auth(),
                                                   "Content-Type": "text/csv"})
    assert bad.status_code == 422 and "phone" in bad.text


def test_a_withdrawn_service_refuses_the_partner_and_keeps_its_records(pair: Pair) -> None:
    _publish(pair, "kyc-gone", None)
    body = {"partner": "telco", "service": "kyc-gone", "triples": [list(CASES[0][0])]}
    bank_api, telco_api = pair.bank.client, pair.telco.client
    assert bank_api.post("/api/v1/verify3/query", headers=pair.bank.auth(),
                         json=body).status_code == 200
    r = telco_api.delete("/api/v1/verify3/services/kyc-gone", headers=pair.telco.auth())
    assert r.status_code == 200 and r.json()["name"] == "kyc-gone"
    assert not (pair.telco.home / "verify3" / "kyc-gone").exists()  # tags and key deleted
    refused = bank_api.post("/api/v1/verify3/query", headers=pair.bank.auth(), json=body)
    assert refused.status_code >= 400 and refused.status_code != 500, refused.text
    served = [b for b in telco_api.get("/api/v1/verify3/batches?side=served",
                                       headers=pair.telco.auth()).json()
              if b["service"] == "kyc-gone"]
    assert len(served) == 1  # the record of the batch answered before stays
    audit = telco_api.get("/api/v1/audit/events?kind=verify3.withdrawn",
                          headers=pair.telco.auth()).json()
    assert [e["subject"] for e in audit] == ["verify3:kyc-gone"]


def test_a_federation_on_the_sm_suite_verifies_with_sm2(tmp_path: Path) -> None:
    made = _make_pair(tmp_path, crypto_suite="sm")
    try:
        assert _publish(made, "kyc", None)["suite"] == "sm"
        r = made.bank.client.post("/api/v1/verify3/query", headers=made.bank.auth(), json={
            "partner": "telco", "service": "kyc", "triples": [list(c[0]) for c in CASES]})
        assert r.status_code == 200, r.text
        got = [(f["phone_found"], f["name_match"], f["id_match"]) for f in r.json()["results"]]
        assert got == [c[1] for c in CASES]
    finally:
        made.close()
