"""Partners over the real peer endpoint (gRPC, mutual TLS) in one process: registration,
health checks, refusal of unregistered certificates, shared datasets, grants and approvals."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from nodekit import NodeEnv, make_env

from coalition.core.errors import AuthError
from coalition.node.auth.permissions import UserRole
from coalition.node.partners import grants
from coalition.node.peer import PeerEndpoint

P = "/api/v1/partners"


@dataclass
class Peer:
    env: NodeEnv
    endpoint: PeerEndpoint

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.endpoint.port}"

    def bundle(self) -> str:
        r = self.env.client.get("/api/v1/node/identity", headers=self.env.auth())
        return json.dumps(r.json())


def _peer(home: Path, name: str) -> Peer:
    env = make_env(home, name)
    return Peer(env, PeerEndpoint(env.rt).start())


@pytest.fixture
def trio(tmp_path: Path) -> Iterator[tuple[Peer, Peer, Peer]]:
    peers = tuple(_peer(tmp_path / n, n) for n in ("bank", "telco", "carmaker"))
    yield peers  # type: ignore[misc]
    for p in peers:
        p.endpoint.stop(0)
        p.env.close()


def _import(a: Peer, b: Peer) -> None:
    r = a.env.client.post(f"{P}/import", headers=a.env.auth(UserRole.OPERATOR),
                          json={"bundle": b.bundle(), "address": b.address})
    assert r.status_code == 201, r.text


def _health(a: Peer, name: str) -> dict:  # type: ignore[type-arg]
    r = a.env.client.post(f"{P}/{name}/health", headers=a.env.auth(UserRole.OPERATOR))
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_health_over_mutual_tls_and_unregistered_refused(trio: tuple[Peer, Peer, Peer]) -> None:
    bank, telco, carmaker = trio
    _import(bank, telco)
    _import(telco, bank)
    h = _health(bank, "telco")
    assert h["ok"] and h["remote_name"] == "telco" and h["seen_as"] == "bank"
    assert _health(telco, "bank")["seen_as"] == "telco"
    # carmaker trusts bank, but bank never registered carmaker: refused at the handshake.
    _import(carmaker, bank)
    h = _health(carmaker, "bank")
    assert not h["ok"] and "refused" in h["error"]
    # Once telco forgets bank, bank's calls are refused too.
    assert telco.env.client.delete(f"{P}/bank", headers=telco.env.auth()).status_code == 200
    assert not _health(bank, "telco")["ok"]
    listed = bank.env.client.get(P, headers=bank.env.auth(UserRole.AUDITOR)).json()
    assert listed[0]["last_health_ok"] is False


def test_register_by_fingerprint_fetches_and_pins(trio: tuple[Peer, Peer, Peer]) -> None:
    bank, telco, _ = trio
    fingerprint = telco.env.rt.identity.fingerprint
    wrong = "0" * 64
    r = bank.env.client.post(P, headers=bank.env.auth(), json={
        "name": "telco", "address": telco.address, "fingerprint": wrong})
    assert r.status_code == 422
    assert "does not match" in r.json()["detail"]
    colons = ":".join(fingerprint[i:i + 2] for i in range(0, 64, 2)).upper()
    r = bank.env.client.post(P, headers=bank.env.auth(), json={
        "name": "telco", "address": telco.address, "fingerprint": colons})
    assert r.status_code == 201, r.text
    assert r.json()["fingerprint"] == fingerprint
    _import(telco, bank)
    assert _health(bank, "telco")["ok"]


def _grant_setup(bank: Peer, telco: Peer, path: Path) -> None:
    _import(bank, telco)
    _import(telco, bank)
    path.write_text("id,x\n1,0.5\n2,0.7\n3,0.1\n")
    r = telco.env.client.post("/api/v1/datasets", headers=telco.env.auth(UserRole.DATA_SCIENTIST), json={
        "name": "usage", "kind": "csv", "id_column": "id", "location": str(path)})
    assert r.status_code == 201, r.text


def _ask(bank: Peer, days: int = 30, kinds: list[str] | None = None):  # type: ignore[no-untyped-def]
    until = (dt.datetime.now(dt.UTC) + dt.timedelta(days=days)).isoformat()
    return bank.env.client.post(f"{P}/telco/grant-requests", headers=bank.env.auth(UserRole.DATA_SCIENTIST),
                                json={"dataset": "usage", "purpose": "credit model",
                                      "component_kinds": kinds or ["psi", "linear"], "valid_until": until})


def test_visibility_grant_request_and_approval(trio: tuple[Peer, Peer, Peer]) -> None:
    bank, telco, _ = trio
    _grant_setup(bank, telco, telco.env.home / "data" / "usage.csv")
    ds_headers = bank.env.auth(UserRole.DATA_SCIENTIST)
    # Not shared yet: invisible, and a request for it reads as "no such dataset".
    assert bank.env.client.get(f"{P}/telco/datasets", headers=ds_headers).json() == []
    assert _ask(bank).status_code == 404
    r = telco.env.client.put("/api/v1/datasets/usage/partners/bank", headers=telco.env.auth(UserRole.DATA_SCIENTIST))
    assert r.status_code == 200
    seen = bank.env.client.get(f"{P}/telco/datasets", headers=ds_headers).json()
    assert seen == [{"name": "usage", "row_count": 3, "id_column": "id", "label_column": None,
                     "columns": [{"name": "id", "type": "string"}, {"name": "x", "type": "float"}]}]
    r = _ask(bank)
    assert r.status_code == 201, r.text
    grant = r.json()
    assert grant["status"] == "pending" and "decided_by" not in grant
    todo = telco.env.client.get("/api/v1/approvals", headers=telco.env.auth(UserRole.OPERATOR)).json()
    assert [g["id"] for g in todo] == [grant["id"]] and todo[0]["partner"] == "bank"
    with telco.env.rt.db.session() as db, pytest.raises(AuthError):
        grants.check_grant(db, "bank", "usage", "psi")
    r = telco.env.client.post(f"/api/v1/grants/{grant['id']}/approve", headers=telco.env.auth(UserRole.OPERATOR), json={})
    assert r.json()["status"] == "approved" and r.json()["decided_by"] == "user:operator"
    remote = bank.env.client.get(f"{P}/telco/grant-requests/{grant['id']}", headers=ds_headers).json()
    assert remote["status"] == "approved"
    with telco.env.rt.db.session() as db:
        assert grants.check_grant(db, "bank", "usage", "psi").id == grant["id"]
        with pytest.raises(AuthError):
            grants.check_grant(db, "bank", "usage", "secureboost")
    assert telco.env.client.get("/api/v1/approvals", headers=telco.env.auth()).json() == []
    # Revocation ends it; both sides' audit trails tell the story.
    r = telco.env.client.post(f"/api/v1/grants/{grant['id']}/revoke", headers=telco.env.auth(), json={})
    assert r.status_code == 422
    r = telco.env.client.post(f"/api/v1/grants/{grant['id']}/revoke", headers=telco.env.auth(),
                              json={"reason": "contract ended"})
    assert r.json()["status"] == "revoked"
    telco_kinds = [e["kind"] for e in telco.env.client.get(
        "/api/v1/audit/events?limit=1000", headers=telco.env.auth(UserRole.AUDITOR)).json()]
    for kind in ("partner.registered", "dataset.registered", "dataset.shared", "grant.requested",
                 "grant.approved", "grant.revoked"):
        assert kind in telco_kinds
    bank_events = bank.env.client.get("/api/v1/audit/events?kind=grant.asked",
                                      headers=bank.env.auth(UserRole.AUDITOR)).json()
    assert bank_events[0]["details"]["grant"] == grant["id"]


def test_reject_needs_reason_and_policy_auto_approves(trio: tuple[Peer, Peer, Peer]) -> None:
    bank, telco, _ = trio
    _grant_setup(bank, telco, telco.env.home / "data" / "usage.csv")
    telco.env.client.put("/api/v1/datasets/usage/partners/bank", headers=telco.env.auth())
    grant = _ask(bank).json()
    op = telco.env.auth(UserRole.OPERATOR)
    assert telco.env.client.post(f"/api/v1/grants/{grant['id']}/reject", headers=op, json={}).status_code == 422
    r = telco.env.client.post(f"/api/v1/grants/{grant['id']}/reject", headers=op, json={"reason": "no purpose fit"})
    assert r.json()["status"] == "rejected" and r.json()["reason"] == "no purpose fit"
    assert telco.env.client.post(f"/api/v1/grants/{grant['id']}/approve", headers=op, json={}).status_code == 409
    r = telco.env.client.post("/api/v1/policies", headers=telco.env.auth(), json={
        "dataset": "usage", "partner": "bank", "component_kinds": ["psi"], "max_days": 90})
    assert r.status_code == 201, r.text
    assert _ask(bank, days=30, kinds=["psi"]).json()["status"] == "approved"
    assert _ask(bank, days=200, kinds=["psi"]).json()["status"] == "pending"  # too long
    assert _ask(bank, days=30, kinds=["psi", "linear"]).json()["status"] == "pending"  # too broad
    assert _ask(bank, days=400).status_code == 422
    policy_grants = telco.env.client.get("/api/v1/grants?status=approved", headers=op).json()
    assert policy_grants[0]["decided_by"].startswith("policy:")
