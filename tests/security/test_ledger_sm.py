"""The federation log of an ``sm`` federation: an RFC 9162 tree over SM3 (log
``coalition.ledger/<org>/sm3``), its signed head naming the hash and signed with SM2, witnessed
over real peer endpoints (gRPC + mTLS); inclusion and consistency proofs, ``ledger verify`` and
tamper detection as under ``standard``. A head of the SHA-256 log shown to an ``sm`` witness is
refused, and a node that switched from ``standard`` keeps verifying its old SHA-256 log."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jobskit import Node, connect, start_node
from nodekit import app_client, make_env
from sqlalchemy import update
from typer.testing import CliRunner

from coalition.cli import common
from coalition.cli.app import app
from coalition.client import NodeClient
from coalition.core.errors import InputError
from coalition.crypto import merkle
from coalition.crypto.checkpoint import Checkpoint
from coalition.node.auth.permissions import UserRole
from coalition.node.ledger import service, store
from coalition.node.ledger.peer_methods import CosignRequest
from coalition.node.ledger.tables import LedgerEntryRow
from coalition.node.runtime import NodeRuntime
from coalition.node.settings import NodeSettings
from coalition.node.signing import signing_key

ORIGIN = "coalition.ledger/bank/sm3"


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Node]]:
    root = tmp_path_factory.mktemp("ledger-sm")
    made = {name: start_node(root / name, name, crypto_suite="sm") for name in ("bank", "telco")}
    connect(made["bank"], made["telco"])
    connect(made["telco"], made["bank"])
    yield made
    for node in made.values():
        node.close()


def _job_entry(bank: Node, tag: str) -> None:
    service.record(bank.rt, "bank", "job.dag", {
        "job": tag, "dag_sha256": "0" * 64, "orgs": ["bank", "telco"]}, job_id=None)


def test_sm_log_is_an_sm3_tree_with_an_sm2_signed_head(nodes: dict[str, Node],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    bank, telco = nodes["bank"], nodes["telco"]
    service.record(telco.rt, "bank", "consent.decision",
                   {"job": "j1", "org": "telco", "status": "accepted"})
    _job_entry(bank, "j1")
    head = service.sync(bank.rt)
    assert head["origin"] == ORIGIN and head["final"] and head["cosigners"] == ["telco"], head
    with bank.rt.db.session() as db:
        entries = [store.entry_of(r) for r in store.entries(db, ORIGIN)]
    assert len(entries) == head["size"] and {e.producer for e in entries} == {"bank", "telco"}
    root = bytes.fromhex(head["root"])
    assert merkle.root_hash([e.leaf("sm3") for e in entries], "sm3") == root
    assert merkle.root_hash([e.leaf() for e in entries]) != root
    body = Checkpoint(ORIGIN, head["size"], root, "sm3").body()
    assert body.endswith(b"hash sm3\n")
    key = signing_key(bank.rt.settings).verify_key
    assert key.suite.value == "sm"
    key.verify(body, base64.b64decode(head["signature"]), suite="sm")
    # the next head extends it: the witness checks an SM3 consistency proof from its own head
    _job_entry(bank, "j2")
    second = service.sync(bank.rt)
    assert second["final"] and second["size"] == head["size"] + 1, second
    for node in (bank, telco):
        report = service.verify(node.rt)
        assert report["verified"], report["logs"]
        assert {x["origin"]: x["alg"] for x in report["logs"]}[ORIGIN] == "sm3"
    shown = telco.env.client.get("/api/v1/ledger/entries/1/proof", params={"origin": ORIGIN},
                                 headers=telco.env.auth())
    assert shown.status_code == 200 and shown.json()["verified"], shown.text
    proof = shown.json()
    merkle.verify_inclusion(bytes.fromhex(proof["leaf"]), 1, proof["size"],
                            [bytes.fromhex(p) for p in proof["proof"]],
                            bytes.fromhex(proof["root"]), alg="sm3")

    def connect_in_process(node: str, token: str) -> NodeClient:
        return app_client(nodes[node.removeprefix("http://")].rt, token)

    monkeypatch.setattr(common, "connect", connect_in_process)

    def cli(*args: str) -> Any:
        result = CliRunner().invoke(app, ["ledger", *args, "--node", "http://telco", "--token",
                                          telco.env.tokens[UserRole.ADMIN], "--json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    assert cli("verify")["verified"]
    assert cli("prove", "0", "--origin", ORIGIN)["alg"] == "sm3"


def test_a_standard_head_is_refused_by_an_sm_witness(nodes: dict[str, Node]) -> None:
    """The hostile operator shows its SHA-256 log (origin without ``/sm3``) to an ``sm``
    witness: refused before any signature or entry is looked at."""
    bank, telco = nodes["bank"], nodes["telco"]
    tree = merkle.MerkleTree([merkle.leaf_hash(b"x")])
    cp = Checkpoint("coalition.ledger/bank", 1, tree.root())
    request = CosignRequest(origin=cp.origin, size=1, root=cp.root.hex(),
                            signature=store.b64(cp.sign(signing_key(bank.rt.settings))),
                            operator_key=store.b64(signing_key(bank.rt.settings)
                                                   .verify_key.to_bytes()),
                            from_size=0, proof=[], entries=[])
    with pytest.raises(InputError):
        service.cosign(telco.rt, "bank", request)


def test_a_rewritten_sm3_entry_is_detected(nodes: dict[str, Node]) -> None:
    bank, telco = nodes["bank"], nodes["telco"]
    with bank.rt.db.session() as db:
        db.execute(update(LedgerEntryRow).where(LedgerEntryRow.origin == ORIGIN,
                                                LedgerEntryRow.seq == 0)
                   .values(body={"job": "j1", "org": "telco", "status": "rejected"}))
    own = {x["origin"]: x for x in service.verify(bank.rt)["logs"]}[ORIGIN]
    assert not own["verified"] and own["error"] == "crypto.failed", own
    _job_entry(bank, "j3")
    head = service.sync(bank.rt)
    assert not head["final"] and "ledger." in head["problems"]["telco"], head
    assert service.verify(telco.rt)["verified"]  # the witness's own copy is intact


def test_a_node_switched_to_sm_keeps_verifying_its_sha256_log(tmp_path: Path) -> None:
    env = make_env(tmp_path / "bank", "bank")
    try:
        service.record(env.rt, "bank", "job.dag", {"job": "old", "dag_sha256": "0" * 64,
                                                   "orgs": ["bank"]})
        old = service.sync(env.rt)
        assert old["origin"] == "coalition.ledger/bank" and old["size"] >= 1
    finally:
        env.close()
    rt = NodeRuntime.open(NodeSettings.load(tmp_path / "bank").model_copy(
        update={"crypto_suite": "sm"}))
    try:
        service.record(rt, "bank", "job.dag", {"job": "new", "dag_sha256": "0" * 64,
                                               "orgs": ["bank"]})
        new = service.sync(rt)
        assert new["origin"] == ORIGIN and new["size"] >= 1
        with rt.db.session() as db:  # signed with its former Ed25519 key, not its SM2 key
            keys = {r.producer_key for r in store.entries(db, "coalition.ledger/bank")}
        assert store.b64(signing_key(rt.settings).verify_key.to_bytes()) not in keys
        report = service.verify(rt)
        logs = {x["origin"]: x for x in report["logs"]}
        assert report["verified"], report["logs"]
        assert logs["coalition.ledger/bank"]["alg"] == "sha256"
        assert logs["coalition.ledger/bank"]["checkpoint_size"] == old["size"]
        assert logs[ORIGIN]["alg"] == "sm3"
    finally:
        rt.close()
