"""PIR services (issue 20) played by a hostile consumer through the real peer endpoint.

``telco`` publishes ``risk`` (columns ``risk`` and ``tag`` of a dataset that also holds
``secret``; modes ``download`` and ``bucketed``; 64 padded queries per partner and epoch).
``bank`` is a registered partner that drives telco's PIR peer methods with its own node
certificate: without a ``pir`` grant it gets nothing; with one it cannot ask for an
unpublished column or mode, send more blinded elements than it declared, or talk its way past
its quota; every refusal is recorded on telco from telco's own records, never with an ID.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from jobskit import Node, connect, start_node

from coalition.core import codec
from coalition.core.errors import CoalitionError
from coalition.node.auth.permissions import UserRole
from coalition.node.pir_services.tables import PirUsageRow
from coalition.protocols.pir.spec import PIR_BLINDED, PIR_HELLO

IDS = [f"1380000{i:04d}" for i in range(200)]
ROWS = "id,risk,tag,secret\n" + "".join(f"{x},{i % 5},t{i % 3},s{i}\n" for i, x in enumerate(IDS))
PREFIX = "pir-service/pir/"


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Node, Node]]:
    root = tmp_path_factory.mktemp("pir-attack")
    bank, telco = start_node(root / "bank", "bank"), start_node(root / "telco", "telco")
    connect(bank, telco)
    connect(telco, bank)
    path = telco.home / "data" / "subscribers.csv"
    path.write_text(ROWS, encoding="utf-8")
    ds = telco.env.auth(UserRole.DATA_SCIENTIST)
    r = telco.env.client.post("/api/v1/datasets", headers=ds, json={
        "name": "subscribers", "kind": "csv", "id_column": "id", "location": str(path)})
    assert r.status_code == 201, r.text
    assert telco.env.client.put("/api/v1/datasets/subscribers/partners/bank",
                                headers=ds).status_code == 200
    r = telco.env.client.post("/api/v1/pir/services", headers=ds, json={
        "name": "risk", "dataset": "subscribers", "id_column": "id",
        "columns": ["risk", "tag"], "modes": ["download", "bucketed"],
        "quota_per_partner": 64})
    assert r.status_code == 201, r.text
    yield bank, telco
    bank.close()
    telco.close()


def _grant(bank: Node, telco: Node, terms: dict[str, Any] | None = None) -> None:
    until = (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).isoformat()
    r = bank.env.client.post("/api/v1/partners/telco/grant-requests",
                             headers=bank.env.auth(UserRole.DATA_SCIENTIST),
                             json={"dataset": "subscribers", "purpose": "risk lookups",
                                   "component_kinds": ["pir"], "valid_until": until,
                                   **({"terms": terms} if terms else {})})
    assert r.status_code == 201, r.text
    r = telco.env.client.post(f"/api/v1/grants/{r.json()['id']}/approve",
                              headers=telco.env.auth(UserRole.OPERATOR), json={})
    assert r.json()["status"] == "approved", r.text


def _telco_batches(telco: Node) -> list[dict[str, Any]]:
    r = telco.env.client.get("/api/v1/pir/batches", headers=telco.env.auth(),
                             params={"side": "provider"})
    return list(r.json())


def _used(telco: Node) -> int:
    with telco.rt.db.session() as db:
        return sum(u.used for u in db.query(PirUsageRow).all())


def _frame(key: str, value: Any) -> dict[str, Any]:
    data = base64.b64encode(codec.encode(value)).decode()
    return {"key": PREFIX + key, "part": 0, "last": True, "data": data}


def _hello(mode: str, n: int) -> dict[str, Any]:
    return _frame(PIR_HELLO.name, {"mode": mode, "n": n, "batch_rows": 65_536, "decoys": 0,
                                   "cached": None})


def test_partner_without_grant_learns_nothing(pair: tuple[Node, Node]) -> None:
    bank, telco = pair
    api, ds = bank.env.client, bank.env.auth(UserRole.DATA_SCIENTIST)
    r = api.post("/api/v1/pir/query", headers=ds,
                 json={"partner": "telco", "service": "risk", "ids": IDS[:3]})
    assert r.status_code == 403, r.text
    assert "no approved grant" in r.text and IDS[0] not in r.text
    # The raw exchange is refused the same way before any session or charge.
    with pytest.raises(CoalitionError) as refused:
        bank.rt.peers.call_raw("telco", "PirExchange", {
            "service": "risk", "mode": "download", "frames": [_hello("download", 16)]})
    assert refused.value.code == "auth.denied"
    assert _used(telco) == 0
    seen = _telco_batches(telco)
    assert seen and {b["state"] for b in seen} == {"refused"}
    assert {b["code"] for b in seen} == {"auth.denied"} and {b["partner"] for b in seen} == {"bank"}
    _grant(bank, telco)


def test_unpublished_columns_and_modes_are_refused(pair: tuple[Node, Node]) -> None:
    bank, telco = pair
    before = len(_telco_batches(telco))
    with pytest.raises(CoalitionError) as columns:
        bank.rt.peers.call_raw("telco", "PirExchange", {
            "service": "risk", "mode": "download", "columns": ["secret"],
            "frames": [_hello("download", 16)]})
    assert columns.value.code == "input.invalid" and "secret" not in columns.value.message
    with pytest.raises(CoalitionError) as mode:
        bank.rt.peers.call_raw("telco", "PirExchange", {
            "service": "risk", "mode": "ot_decoys", "frames": [_hello("ot_decoys", 16)]})
    assert mode.value.code == "pir.mode_refused"
    # Declaring a published mode on the opening call and another in the hello: the protocol's
    # own check refuses it before any quota is charged.
    answer = _refusal(bank.rt.peers.call_raw("telco", "PirExchange", {
        "service": "risk", "mode": "download", "frames": [_hello("ot_decoys", 16)]}))
    assert answer["code"] == "pir.mode_refused"
    assert _used(telco) == 0
    codes = [b["code"] for b in _telco_batches(telco)[: len(_telco_batches(telco)) - before]]
    assert sorted(codes) == ["input.invalid", "pir.mode_refused", "pir.mode_refused"]
    # Through bank's own API the columns are checked against what telco publishes.
    r = bank.env.client.post("/api/v1/pir/query", headers=bank.env.auth(UserRole.DATA_SCIENTIST),
                             json={"partner": "telco", "service": "risk", "ids": IDS[:2],
                                   "columns": ["secret"]})
    assert r.status_code == 422 and "publish" in r.text


def test_answers_hold_only_published_columns(pair: tuple[Node, Node]) -> None:
    bank, _ = pair
    r = bank.env.client.post("/api/v1/pir/query", headers=bank.env.auth(UserRole.DATA_SCIENTIST),
                             json={"partner": "telco", "service": "risk",
                                   "ids": [IDS[7], "13999999999", IDS[3]]})
    assert r.status_code == 200, r.text
    rows = r.json()["rows"]
    assert [row["id"] for row in rows] == [IDS[7], "13999999999", IDS[3]]
    assert [row["found"] for row in rows] == [True, False, True]
    assert rows[0] == {"id": IDS[7], "found": True, "risk": "2", "tag": "t1"}
    assert all(set(row) == {"id", "found", "risk", "tag"} for row in rows)


def _refusal(reply: dict[str, Any]) -> dict[str, Any]:
    assert reply["done"] is True and len(reply["frames"]) == 1
    answer: dict[str, Any] = codec.decode(base64.b64decode(reply["frames"][0]["data"]))
    assert answer["status"] == "refused"
    return answer


def test_consumer_sending_more_than_it_declared_is_refused(pair: tuple[Node, Node]) -> None:
    bank, telco = pair
    used = _used(telco)
    reply = bank.rt.peers.call_raw("telco", "PirExchange", {
        "service": "risk", "mode": "download", "frames": [_hello("download", 16)]})
    assert reply["done"] is False and reply["frames"]  # manifest and table; waits for blinded
    # 16 declared (and charged), 48 blinded elements sent: refused before any is evaluated.
    too_many = np.frombuffer(np.random.default_rng(1).bytes(48 * 32), np.uint8).reshape(48, 32)
    with pytest.raises(CoalitionError) as refused:
        bank.rt.peers.call_raw("telco", "PirExchange", {
            "service": "risk", "session": reply["session"],
            "frames": [_frame(f"blinded/0/{PIR_BLINDED.name}", too_many)]})
    assert refused.value.details.get("remote_code") == "protocol.violation"
    assert _used(telco) == used + 16
    last = _telco_batches(telco)[0]
    assert (last["state"], last["code"], last["padded"]) == ("failed", "protocol.violation", None)
    # The session is gone: another call on it is refused.
    with pytest.raises(CoalitionError):
        bank.rt.peers.call_raw("telco", "PirExchange", {
            "service": "risk", "session": reply["session"], "frames": []})


def test_quota_is_the_providers_and_cannot_be_talked_around(pair: tuple[Node, Node]) -> None:
    bank, telco = pair
    api, ds = bank.env.client, bank.env.auth(UserRole.DATA_SCIENTIST)
    used = _used(telco)
    assert 0 < used < 64
    # 64 padded queries: over what is left. Claiming a quota of its own, a fresh epoch or an
    # API key label changes nothing on telco.
    answer = _refusal(bank.rt.peers.call_raw("telco", "PirExchange", {
        "service": "risk", "mode": "download", "api_key": "key-of-my-own", "quota": 10**9,
        "used": 0, "epoch": "fresh", "frames": [_hello("download", 64)]}))
    assert answer["code"] == "pir.quota_exceeded"
    assert answer["details"] == {"limit": 64, "used": used, "requested": 64}
    r = api.post("/api/v1/pir/query", headers=ds,
                 json={"partner": "telco", "service": "risk", "ids": IDS[:40]})
    assert r.status_code == 429 and "pir.quota_exceeded" in r.text
    assert _used(telco) == used
    mine = bank.env.client.get("/api/v1/pir/batches", headers=bank.env.auth(),
                               params={"side": "consumer", "state": "refused"}).json()
    assert mine[0]["code"] == "pir.quota_exceeded" and mine[0]["queries"] == 40
    theirs = [b for b in _telco_batches(telco) if b["code"] == "pir.quota_exceeded"]
    assert len(theirs) == 2 and all(b["queries"] is None for b in theirs)
    usage = telco.env.client.get("/api/v1/pir/services/risk/usage",
                                 headers=telco.env.auth()).json()
    assert sorted((u["partner"], u["api_key"], u["used"]) for u in usage) == [
        ("bank", "*", used)]
    # A single ID still fits (pads to 16 of what is left) when that much remains.
    if used + 16 <= 64:
        r = api.post("/api/v1/pir/query", headers=ds,
                     json={"partner": "telco", "service": "risk", "ids": [IDS[1]]})
        assert r.status_code == 200 and r.json()["rows"][0]["found"] is True
