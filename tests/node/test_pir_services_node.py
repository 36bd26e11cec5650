"""PIR services on one node: publishing checks its fields, the cron schedule rebuilds under a
new epoch once per due time, and the quota is charged per partner and per API key per epoch
from the node's own rows (the two-node flows are in ``test_pir_services_cluster.py``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from nodekit import NodeEnv, make_env

from coalition.core.errors import NotFoundError
from coalition.node.auth.permissions import UserRole
from coalition.node.pir_services import provider, schedules, services
from coalition.node.pir_services.tables import PirQuotaRow, PirUsageRow
from coalition.protocols.pir import QuotaExceededError

ROWS = "id,risk,tag\n" + "".join(f"{i:05d},{i % 4},t{i % 2}\n" for i in range(60))
SERVICE = {"name": "risk", "dataset": "subscribers", "id_column": "id", "columns": ["risk"],
           "modes": ["bucketed", "download"], "quota_per_partner": 100, "cron": "0 3 * * *"}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeEnv]:
    made = make_env(tmp_path_factory.mktemp("pir-node"), "telco")
    path = made.home / "data" / "subscribers.csv"
    path.write_text(ROWS, encoding="utf-8")
    r = made.client.post("/api/v1/datasets", headers=made.auth(UserRole.DATA_SCIENTIST), json={
        "name": "subscribers", "kind": "csv", "id_column": "id", "location": str(path)})
    assert r.status_code == 201, r.text
    r = made.client.post("/api/v1/pir/services", headers=made.auth(UserRole.DATA_SCIENTIST),
                         json=SERVICE)
    assert r.status_code == 201, r.text
    yield made
    made.close()


def test_publish_checks_its_fields_and_permissions(env: NodeEnv) -> None:
    listed = env.client.get("/api/v1/pir/services", headers=env.auth(UserRole.AUDITOR)).json()
    assert [(s["name"], s["rows"], s["modes"], s["version"]) for s in listed] == [
        ("risk", 60, ["bucketed", "download"], 1)]
    for bad, status in (({"columns": ["nope"]}, 422), ({"columns": ["id"]}, 422),
                        ({"modes": ["plain"]}, 422), ({"cron": "every minute"}, 422),
                        ({"dataset": "missing"}, 404), ({"name": "../x"}, 422),
                        ({}, 409)):
        r = env.client.post("/api/v1/pir/services", headers=env.auth(),
                            json={**SERVICE, "name": "risk2", **bad} if bad else SERVICE)
        assert r.status_code == status, (bad, r.text)
    r = env.client.post("/api/v1/pir/services", headers=env.auth(UserRole.AUDITOR),
                        json={**SERVICE, "name": "risk3"})
    assert r.status_code == 403
    assert env.client.post("/api/v1/pir/query", json={}).status_code == 401
    assert {s["name"] for s in services.list_services(env.rt)} == {"risk"}


def test_schedule_rebuilds_under_a_new_epoch_once_per_due_time(env: NodeEnv) -> None:
    before = services.list_services(env.rt)[0]
    due = before["next_rebuild_at"]
    assert due is not None and due.hour == 3
    assert schedules.rebuild_due(env.rt, due - dt.timedelta(seconds=1)) == []
    assert schedules.rebuild_due(env.rt, due) == [before["id"]]
    after = services.list_services(env.rt)[0]
    assert after["epoch"] != before["epoch"] and after["next_rebuild_at"] > due
    assert schedules.rebuild_due(env.rt, due) == []  # claimed: no second rebuild
    events = env.client.get("/api/v1/audit/events", headers=env.auth(UserRole.AUDITOR),
                            params={"kind": "pir.service_rebuilt"}).json()
    assert [e["details"]["rotated"] for e in events] == [True]
    assert events[0]["actor"] == "schedule"
    r = env.client.put("/api/v1/pir/services/risk/schedule", headers=env.auth(),
                       json={"cron": None})
    assert r.status_code == 200 and r.json()["next_rebuild_at"] is None
    assert schedules.rebuild_due(env.rt, due + dt.timedelta(days=30)) == []
    r = env.client.put("/api/v1/pir/services/risk/schedule", headers=env.auth(),
                       json={"cron": "30 2 * * *"})
    assert r.status_code == 200 and r.json()["cron"] == "30 2 * * *"
    assert env.client.put("/api/v1/pir/services/risk/schedule", headers=env.auth(),
                          json={"cron": "never ever"}).status_code == 422


def test_quota_per_partner_and_api_key_per_epoch(env: NodeEnv) -> None:
    service_id = services.list_services(env.rt)[0]["id"]
    with env.rt.db.session() as db:
        db.add(PirQuotaRow(service_id=service_id, partner="bank", api_key="k1", max_queries=32))
        db.commit()

    def charge(key: str, count: int, epoch: str = "e1") -> None:
        with env.rt.db.session() as db:
            provider.charge(db, service_id, partner="bank", api_key=key, epoch=epoch,
                            count=count)
            db.commit()

    charge("k1", 16)
    with pytest.raises(QuotaExceededError) as key_spent:
        charge("k1", 32)  # the key's 32
    assert "API key k1" in str(key_spent.value) and key_spent.value.details["used"] == 16
    charge("k2", 64)  # no quota of its own: only the partner's 100
    with pytest.raises(QuotaExceededError) as partner_spent:
        charge("k2", 32)
    assert "partner bank" in str(partner_spent.value)
    assert partner_spent.value.details == {"limit": 100, "used": 80, "requested": 32}
    charge("k2", 32, epoch="e2")  # a new epoch counts afresh
    with env.rt.db.session() as db:
        rows = sorted((u.api_key, u.epoch, u.used) for u in db.query(PirUsageRow).all())
    assert rows == [("k1", "e1", 16), ("k2", "e1", 64), ("k2", "e2", 32)]


def test_withdraw_deletes_the_table_and_quotas_keeps_records(env: NodeEnv) -> None:
    r = env.client.post("/api/v1/pir/services", headers=env.auth(UserRole.DATA_SCIENTIST),
                        json={**SERVICE, "name": "old", "cron": None})
    assert r.status_code == 201, r.text
    made = r.json()
    table_dir = services.folder(env.rt, made["id"])
    assert table_dir.is_dir()
    assert env.client.delete("/api/v1/pir/services/old",
                             headers=env.auth(UserRole.AUDITOR)).status_code == 403
    r = env.client.delete("/api/v1/pir/services/old", headers=env.auth(UserRole.DATA_SCIENTIST))
    assert r.status_code == 200 and r.json()["id"] == made["id"]
    assert not table_dir.exists()  # the table and its keys are gone
    assert "old" not in {s["name"] for s in services.list_services(env.rt)}
    with env.rt.db.session() as db:
        assert db.query(PirQuotaRow).filter_by(service_id=made["id"]).count() == 0
        with pytest.raises(NotFoundError):  # what a partner's query meets from now on
            services.get_service(db, "old")
    assert env.client.delete("/api/v1/pir/services/old",
                             headers=env.auth(UserRole.DATA_SCIENTIST)).status_code == 404
    events = env.client.get("/api/v1/audit/events", headers=env.auth(UserRole.AUDITOR),
                            params={"kind": "pir.service_withdrawn"}).json()
    assert [e["details"]["name"] for e in events] == ["old"]
