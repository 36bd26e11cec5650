"""A hostile log operator against witnesses on real nodes (gRPC + mTLS peer endpoints).

The operator (``bank``) owns its database and signing key: it can rewrite or delete entries it
already showed its witnesses and sign any tree head. Each witness (``telco``, ``shop``) checks
every new head from its *own* records — the head it kept (which survives a restart) and its
copy of the entries — so the rewrite is an alert on the witness, and the witness refuses new
jobs with the operator until its admin acknowledges the alert.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from jobskit import Node, call, connect, dag, proposal, start_node
from nodekit import app_client
from sqlalchemy import delete, select, update
from typer.testing import CliRunner

from coalition.cli import common
from coalition.cli.app import app
from coalition.client import NodeClient
from coalition.components.artifacts import ModelPart, Report
from coalition.core.errors import CoalitionError
from coalition.core.ids import Party, Role
from coalition.crypto import merkle
from coalition.crypto.checkpoint import Checkpoint
from coalition.engine.store import ArtifactStore
from coalition.node.audit.events import Event, EventKind, emit
from coalition.node.auth.permissions import UserRole
from coalition.node.jobs.local import store_for
from coalition.node.jobs.tables import JobRow, JobTaskRow
from coalition.node.jobs.update_log import on_task_done
from coalition.node.ledger import service, store
from coalition.node.ledger.peer_methods import LEDGER_COSIGN, CosignRequest
from coalition.node.ledger.tables import LedgerEntryRow
from coalition.node.peer import PeerEndpoint
from coalition.node.runtime import NodeRuntime
from coalition.node.settings import NodeSettings
from coalition.node.signing import signing_key
from coalition.protocols.horizontal import GlobalModel, RoundRecord
from coalition.protocols.horizontal.contribution import ContributionLog, groups_of
from coalition.protocols.horizontal.spec import ContributionConfig


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Node]]:
    root = tmp_path_factory.mktemp("ledger-nodes")
    made = {name: start_node(root / name, name) for name in ("bank", "telco", "shop")}
    for a in made.values():
        for b in made.values():
            if a is not b:
                connect(a, b)
    yield made
    for node in made.values():
        node.close()


def _job_entry(bank: Node, tag: str) -> None:
    service.record(bank.rt, "bank", "job.dag", {
        "job": tag, "dag_sha256": "0" * 64, "orgs": ["bank", "shop", "telco"]}, job_id=None)


def _open_alerts(node: Node) -> list[dict[str, Any]]:
    r = node.env.client.get("/api/v1/ledger/alerts?open=true", headers=node.env.auth())
    assert r.status_code == 200, r.text
    return list(r.json())


def test_honest_operator_reaches_a_final_head_and_every_node_verifies(
        nodes: dict[str, Node]) -> None:
    bank, telco, shop = nodes["bank"], nodes["telco"], nodes["shop"]
    # a partner's entry travels through its outbox to the operator's log
    service.record(telco.rt, "bank", "consent.decision",
                   {"job": "j-honest", "org": "telco", "status": "accepted"})
    _job_entry(bank, "j-honest")
    head = service.sync(bank.rt)
    assert head["final"] and head["cosigners"] == ["shop", "telco"], head
    # the two job records, and the bank's node.admin entries (users and partners set up)
    kinds = [e["kind"] for e in service.show(bank.rt)["entries"]]
    assert sorted(k for k in kinds if k != "node.admin") == ["consent.decision", "job.dag"]
    assert "node.admin" in kinds and head["size"] == len(kinds) and not head["problems"]
    for node in (bank, telco, shop):
        report = service.verify(node.rt)
        assert report["verified"], [(x.get("error"), x.get("message")) for x in report["logs"]]
        held = {x["origin"]: x for x in report["logs"]}
        assert held["coalition.ledger/bank"]["checkpoint_size"] == head["size"]
    # an inclusion proof from the witness's own copy checks against the co-signed root
    shown = telco.env.client.get("/api/v1/ledger/entries/1/proof",
                                 params={"origin": "coalition.ledger/bank"},
                                 headers=telco.env.auth())
    assert shown.status_code == 200 and shown.json()["verified"], shown.text
    assert not _open_alerts(telco) and not _open_alerts(shop)


def test_cli_shows_verifies_and_proves(nodes: dict[str, Node],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    telco = nodes["telco"]

    def connect_in_process(node: str, token: str) -> NodeClient:
        return app_client(nodes[node.removeprefix("http://")].rt, token)

    monkeypatch.setattr(common, "connect", connect_in_process)

    def cli(*args: str) -> Any:
        result = CliRunner().invoke(app, ["ledger", *args, "--node", "http://telco",
                                          "--token", telco.env.tokens[UserRole.ADMIN], "--json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    shown = cli("show", "--origin", "coalition.ledger/bank")
    kinds = [e["kind"] for e in shown["entries"]]
    assert sorted(k for k in kinds if k != "node.admin") == ["consent.decision", "job.dag"]
    assert cli("verify")["verified"]
    proof = cli("prove", "0", "--origin", "coalition.ledger/bank")
    assert proof["verified"] and proof["size"] == len(kinds)
    heads = cli("checkpoints")
    assert heads[0]["role"] == "witness" and heads[0]["size"] == len(kinds)


def test_admin_changes_batches_and_model_updates_are_logged_and_witnessed(
        nodes: dict[str, Node], tmp_path: Path) -> None:
    bank, telco, shop = nodes["bank"], nodes["telco"], nodes["shop"]
    # an admin change through the bank's API, and a PIR batch record (counts only)
    made = bank.env.client.post("/api/v1/users", headers=bank.env.auth(), json={
        "username": "carol", "role": "data_scientist", "password": "a-long-password-1"})
    assert made.status_code == 201, made.text
    with bank.rt.db.session() as db:
        emit(db, Event(EventKind.PIR_BATCH, "partner:telco", "pir_batch:7", {
            "side": "server", "service": "crm", "partner": "telco", "api_key": "",
            "mode": "keyword", "state": "ok", "queries": 64, "padded": 64, "found": 9}))
    # a horizontal task's model (per-round digests) and a SecureBoost host part (per tree),
    # stored by the worker, then recorded by the telco's node for the bank's log
    artifacts = ArtifactStore(tmp_path / "artifacts")
    rounds = [RoundRecord(r, ["host:t"], ["host:t"], True, {}, None, f"{r:064x}")
              for r in range(3)]
    horizontal = GlobalModel({"kind": "logistic", "config": {}}, {}, rounds).to_artifact()
    tree_part = {"kind": "host", "splits": [[0, 0, 1, 0.5, True], [1, 0, 2, 0.25, False]]}
    artifacts.save("fit", "k1", {"model": ModelPart("homo_lr", Role.HOST, horizontal),
                                 "tree": ModelPart("hetero_secureboost", Role.HOST, tree_part)})
    job = JobRow(id="j-updates", initiator="bank")
    on_task_done(telco.rt, job, "fit", Party.host("telco"), store=artifacts, key="k1")
    head = service.sync(bank.rt)
    assert head["final"] and not head["problems"], head
    entries = service.show(bank.rt)["entries"]
    admin = [e for e in entries if e["kind"] == "node.admin"]
    assert {e["producer"] for e in admin} == {"bank"}
    assert "user.created" in {e["body"]["event"] for e in admin}
    assert all(set(e["body"]) == {"event", "audit_seq", "audit_sha256"} for e in admin)
    assert "carol" not in json.dumps(admin)  # the audit hash commits to the names
    (pir,) = [e for e in entries if e["kind"] == "pir.run"]
    assert pir["body"]["counts"] == {"queries": 64, "padded": 64, "found": 9}
    assert "crm" not in json.dumps(pir["body"]) and "telco" not in json.dumps(pir["body"])
    updates = [e["body"] for e in entries if e["kind"] == "model.update"]
    assert {e["producer"] for e in entries if e["kind"] == "model.update"} == {"telco"}
    assert [u["round"] for u in updates if "round" in u] == [0, 1, 2]
    assert [u["tree"] for u in updates if "tree" in u] == [0, 1]
    for node in (bank, telco, shop):  # signed by their producers, witnessed, verified
        report = service.verify(node.rt)
        assert report["verified"], [(x.get("error"), x.get("message")) for x in report["logs"]]
    again = service.sync(bank.rt)  # nothing is mirrored twice
    assert again["size"] == head["size"]


def _arbiter_job(node: Node, job_id: str) -> None:
    """The job as each party's node recorded it: bank initiates, shop is the arbiter and
    the DAG has the arbiter operate the federation log."""
    now = dt.datetime.now(dt.UTC)
    with node.rt.db.session() as db:
        db.add(JobRow(id=job_id, name="arb", initiator="bank", dag={
            "version": 1, "name": "arb", "ledger_operator": "arbiter",
            "parties": {"guest": ["bank"], "host": ["telco"], "arbiter": ["shop"]},
            "tasks": {}}, sites={"guest:bank": "bank", "host:telco": "telco",
                                 "arbiter:shop": "shop"},
            selection={}, endpoints={}, timeout_s=60.0, state="succeeded", error="",
            rerun_of=None, created_by="user:admin", created_at=now, updated_at=now,
            finished_at=now))


def test_arbiter_operates_a_job_log_and_a_non_configured_operator_is_refused(
        nodes: dict[str, Node]) -> None:
    bank, telco, shop = nodes["bank"], nodes["telco"], nodes["shop"]
    for node in (bank, telco, shop):
        _arbiter_job(node, "j-arb")
    # the initiator and the host record into the arbiter's log (their outboxes)
    service.record(bank.rt, "shop", "job.dag", {
        "job": "j-arb", "dag_sha256": "1" * 64, "orgs": ["bank", "shop", "telco"],
        "operator": "shop"}, job_id="j-arb")
    service.record(telco.rt, "shop", "consent.decision",
                   {"job": "j-arb", "org": "telco", "status": "accepted"}, job_id="j-arb")
    head = service.sync(shop.rt, ["bank", "telco"])
    assert head["final"] and head["cosigners"] == ["bank", "telco"], head
    kinds = {e["kind"] for e in service.show(shop.rt)["entries"] if e["job_id"] == "j-arb"}
    assert kinds == {"job.dag", "consent.decision"}
    for node in (bank, telco):  # each witness holds and verifies the arbiter's log
        held = {x["origin"]: x for x in service.verify(node.rt)["logs"]}
        assert held["coalition.ledger/shop"]["verified"], held
    # the host, not configured as the job's operator, shows the job's metrics in its own log
    service.record(telco.rt, "telco", "job.metrics", {"job": "j-arb", "metrics": {}},
                   job_id="j-arb")
    refused = service.sync(telco.rt, ["bank", "shop"])
    assert not refused["final"] and set(refused["problems"]) == {"bank", "shop"}, refused
    assert all("ledger.tampered" in p for p in refused["problems"].values())
    for node in (bank, shop):  # an alert on each witness, about the telco; then reviewed
        alerts = [a for a in _open_alerts(node) if a["operator"] == "telco"]
        assert [a["kind"] for a in alerts] == ["tampered"], alerts
        ack = node.env.client.post(f"/api/v1/ledger/alerts/{alerts[0]['id']}/acknowledge",
                                   headers=node.env.auth(), json={"reason": "test"})
        assert ack.status_code == 200, ack.text


def test_horizontal_contributions_are_reported_and_logged_by_the_aggregators_node(
        nodes: dict[str, Node], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(common, "connect", lambda node, token: app_client(
        nodes[node.removeprefix("http://")].rt, token))
    bank, shop = nodes["bank"], nodes["shop"]
    now = dt.datetime.now(dt.UTC)
    sites = {"guest:bank": "bank", "host:telco": "telco", "arbiter:shop": "shop"}
    with shop.rt.db.session() as db:
        db.add(JobRow(id="a1b2c3d4e5f60718", name="hfl", initiator="bank", dag={
            "version": 1, "name": "hfl", "parties": {"guest": ["bank"], "host": ["telco"],
                                                     "arbiter": ["shop"]},
            "tasks": {"fit": {"component": "homo_lr"}}}, sites=sites, selection={},
            endpoints={}, timeout_s=60.0, state="succeeded", error="", rerun_of=None,
            created_by="user:admin", created_at=now, updated_at=now, finished_at=now))
        db.add(JobTaskRow(job_id="a1b2c3d4e5f60718", task="fit", position=0, state="succeeded", error="",
                          keys={"arbiter:shop": "k-fit"}))
    # the aggregator's measurement as the homo_lr arbiter stores it (two clients, two rounds)
    measured = ContributionLog(ContributionConfig(), groups_of(["guest:bank", "host:telco"], 1, 0))
    target = np.array([1.0, -1.0])
    before = np.zeros(2)
    for _ in range(2):
        measured.add(before, {"guest:bank": ((target - before) / 2, 100.0),
                              "host:telco": (np.array([0.01, 0.0]), 100.0)})
        before = before + (target - before) / 4
    content = measured.scores(lambda w: -float(np.sum((w - target) ** 2)))
    store_for(shop.rt, Party.arbiter("shop")).save(
        "fit", "k-fit", {"contributions": Report(content)})
    reply = shop.env.client.post("/api/v1/jobs/a1b2c3d4e5f60718/contributions", headers=shop.env.auth())
    assert reply.status_code == 200, reply.text
    result = reply.json()
    assert result["method"] == "horizontal.gtg_shapley" and result["aggregator"] == "arbiter:shop"
    assert set(result["scores"]) == {"bank", "telco"}
    assert result["scores"]["bank"] > 0.1 > result["scores"]["telco"]  # its update hurts
    assert len(result["inputs"]["rounds"]) == 2
    cli = CliRunner().invoke(app, [
        "job", "contributions", "a1b2c3d4e5f60718", "--node", "http://shop", "--token",
        shop.env.tokens[UserRole.ADMIN]], catch_exceptions=False)
    assert cli.exit_code == 0 and "horizontal.gtg_shapley" in cli.output, cli.output
    assert "bank" in cli.output and "telco" in cli.output
    # the aggregator's node signed the scores for the job's log (the initiator's), witnessed
    head = service.sync(bank.rt)
    assert head["final"], head
    logged = [e for e in service.show(bank.rt, job="a1b2c3d4e5f60718")["entries"]
              if e["kind"] == "contribution.scores"]
    assert [e["producer"] for e in logged] == ["shop"]
    assert logged[0]["body"]["scores"] == result["scores"]


def test_forked_head_is_refused_and_stops_jobs_until_acknowledged(
        nodes: dict[str, Node]) -> None:
    bank, telco = nodes["bank"], nodes["telco"]
    origin = store.origin_of("bank")
    with telco.rt.db.session() as db:
        kept = store.head(db, origin, "witness")
        assert kept is not None
        kept_size = kept.size
    # The operator signs a second history of the same length plus one, and a proof made
    # from it: consistent with itself, not with what the witness co-signed.
    other = [merkle.leaf_hash(b"rewritten-%d" % i) for i in range(kept_size + 1)]
    tree = merkle.MerkleTree(other)
    cp = Checkpoint(origin, tree.size, tree.root())
    key = signing_key(bank.rt.settings)
    request = CosignRequest(
        origin=origin, size=cp.size, root=cp.root.hex(), signature=store.b64(cp.sign(key)),
        operator_key=store.b64(key.verify_key.to_bytes()), from_size=kept_size,
        proof=[p.hex() for p in tree.consistency_proof(kept_size)], entries=[])
    with pytest.raises(CoalitionError) as caught:
        bank.rt.peers.call("telco", LEDGER_COSIGN, request)
    assert caught.value.code == "ledger.fork"
    alerts = _open_alerts(telco)
    assert [a["kind"] for a in alerts] == ["fork"]
    with telco.rt.db.session() as db:  # the witness kept its old head as evidence
        still = store.head(db, origin, "witness")
        assert still is not None and still.size == kept_size
    # the witness now refuses a new job from the operator, through the real propose
    job_id = secrets.token_hex(8)
    with pytest.raises(CoalitionError) as refused:
        call(bank, telco, "JobPropose", proposal(job_id, "bank", "telco"))
    assert refused.value.code == "ledger.alert_open"
    # nor does it start one of its own that sites a party at the operator
    submitted = telco.env.client.post("/api/v1/jobs", headers=telco.env.auth(), json={
        "dag": dag("telco", "bank")})
    assert submitted.status_code == 409 and submitted.json()["code"] == "ledger.alert_open", \
        submitted.text
    # an admin's acknowledgement (with a reason) lifts the stop
    ack = telco.env.client.post(f"/api/v1/ledger/alerts/{alerts[0]['id']}/acknowledge",
                                headers=telco.env.auth(), json={"reason": "reviewed"})
    assert ack.status_code == 200, ack.text
    denied = telco.env.client.post(f"/api/v1/ledger/alerts/{alerts[0]['id']}/acknowledge",
                                   headers=telco.env.auth(UserRole.DATA_SCIENTIST),
                                   json={"reason": "me too"})
    assert denied.status_code == 403
    assert not _open_alerts(telco)
    answer = call(bank, telco, "JobPropose", proposal(secrets.token_hex(8), "bank", "telco"))
    assert answer["status"] in {"accepted", "waiting_approval", "rejected"}


def test_modified_leaf_is_detected_by_operator_verify_and_by_witness(
        nodes: dict[str, Node], monkeypatch: pytest.MonkeyPatch) -> None:
    bank, shop = nodes["bank"], nodes["shop"]
    origin = store.origin_of("bank")
    with bank.rt.db.session() as db:  # the operator rewrites a record it already showed
        db.execute(update(LedgerEntryRow).where(LedgerEntryRow.origin == origin,
                                                LedgerEntryRow.seq == 0)
                   .values(body={"job": "j-honest", "org": "telco", "status": "rejected"}))
    report = service.verify(bank.rt)
    own = {x["origin"]: x for x in report["logs"]}[origin]
    assert not own["verified"] and own["error"] == "crypto.failed", own
    monkeypatch.setattr(common, "connect", lambda node, token: app_client(bank.rt, token))
    failed = CliRunner().invoke(app, ["ledger", "verify", "--node", "http://bank", "--token",
                                      bank.env.tokens[UserRole.AUDITOR]])
    assert failed.exit_code == 1 and "FAILED" in failed.output, failed.output
    _job_entry(bank, "j-after-rewrite")
    head = service.sync(bank.rt)
    assert not head["final"]
    assert "ledger.fork" in head["problems"]["shop"] or \
        "ledger.tampered" in head["problems"]["shop"], head["problems"]
    assert {a["kind"] for a in _open_alerts(shop)} & {"fork", "tampered"}
    assert service.verify(shop.rt)["verified"]  # the witness's own copy is intact


def test_deleted_leaf_is_detected(nodes: dict[str, Node]) -> None:
    bank = nodes["bank"]
    origin = store.origin_of("bank")
    with bank.rt.db.session() as db:
        db.execute(delete(LedgerEntryRow).where(LedgerEntryRow.origin == origin,
                                                LedgerEntryRow.seq == 1))
    own = {x["origin"]: x for x in service.verify(bank.rt)["logs"]}[origin]
    assert not own["verified"] and own["error"] == "ledger.tampered", own


def test_witness_head_survives_restart(tmp_path: Path) -> None:
    bank, telco = start_node(tmp_path / "bank", "bank"), start_node(tmp_path / "telco", "telco")
    try:
        connect(bank, telco)
        connect(telco, bank)
        _job_entry(bank, "j1")
        first = service.sync(bank.rt, ["telco"])
        assert first["cosigners"] == ["telco"]
        port = telco.endpoint.port
        telco.endpoint.stop(0)
        telco.env.rt.close()
        settings = NodeSettings.load(telco.home).model_copy(update={"peer_port": port})
        rt = NodeRuntime.open(settings)
        from coalition.node.composition import install
        install(rt)
        telco.env.rt = rt
        telco.endpoint = PeerEndpoint(rt).start()
        with rt.db.session() as db:
            kept = store.head(db, store.origin_of("bank"), "witness")
            assert kept is not None and kept.size == first["size"]
            assert db.scalars(select(LedgerEntryRow)).first() is not None
        # after the restart the kept head still catches a rewrite of entry 0
        with bank.rt.db.session() as db:
            db.execute(update(LedgerEntryRow).values(body={"job": "forged"}))
        _job_entry(bank, "j2")
        problems = service.sync(bank.rt)["problems"]
        assert "telco" in problems and "ledger." in problems["telco"]
        assert service.verify(rt)["verified"]
    finally:
        bank.close()
        telco.close()
