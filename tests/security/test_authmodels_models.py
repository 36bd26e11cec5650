"""Issue 16 finding 13: the model library's peer methods attacked by a registered partner.

``bank`` is a hostile partner of ``telco`` (the host). Through the real peer endpoint (gRPC,
mutual TLS) it calls ``ModelPartPublish`` / ``ModelPartDelete`` with names, versions, flags
and sources of its choosing, trying to overwrite or shadow the host's own model, to store a
part without tamper protection, and to have the host publish (and later serve for it) a part
file that was never produced for it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "node"))
from nodekit import make_env
from servingkit import Peer, connect, record_job, write_part

from coalition.components import ModelPart
from coalition.core.errors import CoalitionError
from coalition.core.ids import Role
from coalition.node.peer import PeerEndpoint
from coalition.protocols.linear import LinearModelPart, Standardizer

JOB = "00c0ffee00c0ffee"


def _part(role: Role, weights: list[float]) -> ModelPart:
    w = np.asarray(weights)
    model = LinearModelPart(role.value, "logistic", "ss", [f"x{i}" for i in range(len(w))], w,
                            Standardizer(np.zeros(len(w)), np.ones(len(w))), 0.0)
    return ModelPart("hetero_lr", role, model.to_artifact())


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[Peer, Peer]]:
    peers = []
    for org in ("bank", "telco"):
        (tmp_path / org / "data").mkdir(parents=True)
        env = make_env(tmp_path / org, org, data_dirs=[tmp_path / org / "data"])
        peers.append(Peer(env, PeerEndpoint(env.rt).start()))
    connect(*peers)
    # A finished job: bank ran the guest, telco the host; telco keeps its host part.
    record_job(peers[1].env.rt, JOB, parts={"host:telco": _part(Role.HOST, [0.5, 0.25])})
    yield peers[0], peers[1]
    for p in peers:
        p.endpoint.stop(0)
        p.env.close()


def _attack(bank: Peer, method: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Call a peer method on telco as bank, with a payload of bank's choosing."""
    return bank.env.rt.peers.call_raw("telco", method, payload)


def _publish_payload(name: str, version: int, source: dict[str, Any],
                     protected: bool = True) -> dict[str, Any]:
    return {"name": name, "version": version, "source": source, "protected": protected,
            "meta": {"job_id": JOB, "task": "lr"},
            "guest_part": {"org": "bank", "role": "guest", "sha256": "00" * 32}}


def _host_own_model(telco: Peer, tmp_path: Path) -> dict[str, Any]:
    part_file = write_part(_part(Role.GUEST, [9.0]), tmp_path / "telco" / "data" / "own.msgpack")
    r = telco.api("POST", "/models", json={"name": "credit", "source": {"artifact": str(part_file)}})
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_partner_cannot_overwrite_or_shadow_the_hosts_model(pair: tuple[Peer, Peer],
                                                            tmp_path: Path) -> None:
    bank, telco = pair
    own = _host_own_model(telco, tmp_path)
    source = {"job_id": JOB, "task": "lr"}
    # Same name, next version: on the old code this became the host's newest "credit".
    reply = _attack(bank, "ModelPartPublish", _publish_payload("credit", 2, source))
    assert reply["role"] == "host"
    newest = telco.api("GET", "/models/credit/versions/1").json()
    assert newest["sha256"] == own["sha256"] and newest["guest"] == "telco"
    mine = telco.api("GET", "/models?name=credit").json()
    assert [(m["name"], m["version"], m["guest"]) for m in mine] == [("credit", 1, "telco")]
    theirs = telco.api("GET", "/models?name=bank:credit").json()
    assert [(m["name"], m["version"], m["guest"]) for m in theirs] == [("bank:credit", 2, "bank")]
    # Deleting "credit" 1 deletes only within bank's own namespace: the host's model stays.
    with pytest.raises(CoalitionError):
        _attack(bank, "ModelPartDelete", {"name": "credit", "version": 1})
    assert telco.api("GET", "/models/credit/versions/1").status_code == 200
    assert _attack(bank, "ModelPartDelete", {"name": "credit", "version": 2}) == {"deleted": True}
    assert telco.api("GET", "/models?name=bank:credit").json() == []


def test_host_decides_tamper_protection(pair: tuple[Peer, Peer]) -> None:
    bank, telco = pair
    _attack(bank, "ModelPartPublish",
            _publish_payload("credit", 1, {"job_id": JOB, "task": "lr"}, protected=False))
    stored = [m for m in telco.api("GET", "/models").json() if m["guest"] == "bank"]
    assert len(stored) == 1
    assert stored[0]["protected"] is True and stored[0]["signer"]


def test_partner_cannot_publish_a_file_it_picks_on_the_host(pair: tuple[Peer, Peer],
                                                            tmp_path: Path) -> None:
    bank, telco = pair
    # A host part on telco's disk that was never produced for bank (say, another partner's).
    secret = write_part(_part(Role.HOST, [3.0, 1.0, 4.0]),
                        tmp_path / "telco" / "data" / "other-partner.msgpack")
    for artifact in (str(secret), "../../data/other-partner.msgpack",
                     str(tmp_path / "telco" / "data" / "missing.msgpack")):
        with pytest.raises(CoalitionError) as caught:
            _attack(bank, "ModelPartPublish",
                    _publish_payload("stolen", 1, {"artifact": artifact}))
        assert caught.value.code.startswith("auth"), caught.value.code
        assert "other-partner" not in caught.value.message
    assert telco.api("GET", "/models").json() == []
    # What telco's operators put in bank's drop folder may be published by name.
    drop = telco.env.home / "partner-parts" / "bank"
    drop.mkdir(parents=True)
    write_part(_part(Role.HOST, [1.0]), drop / "agreed.msgpack")
    reply = _attack(bank, "ModelPartPublish",
                    _publish_payload("agreed", 1, {"artifact": "agreed.msgpack"}))
    assert reply["role"] == "host"


def _record_job_of_others(rt: Any, job_id: str, part: ModelPart) -> None:
    """A finished job on telco in which carmaker ran the guest and bank only a host."""
    import yaml
    from servingkit import CREDIT_DAG

    from coalition.core.ids import Party
    from coalition.node.jobs import repository as repo
    from coalition.node.jobs.local import store_for

    sites = {"guest:carmaker": "carmaker", "host:bank": "bank", "host:telco": "telco"}
    dag = yaml.safe_load(CREDIT_DAG.read_text())
    with rt.db.session() as db:
        repo.create_job(db, job_id=job_id, name="credit_risk", initiator="carmaker", dag=dag,
                        sites=sites, selection={}, timeout_s=600, created_by="partner:carmaker",
                        rerun_of=None, task_names=list(dag["tasks"]),
                        orgs={org: [p] for p, org in sites.items()})
        task = repo.get_task(db, job_id, "lr")
        task.state = "succeeded"
        task.keys = {p: f"{job_id}-{p.replace(':', '-')}" for p in sites}
    store_for(rt, Party.parse("host:telco")).save("lr", f"{job_id}-host-telco", {"model": part})


def test_partner_cannot_publish_the_output_of_a_job_it_did_not_lead(
        pair: tuple[Peer, Peer]) -> None:
    bank, telco = pair
    other = "0ddba11000000001"
    _record_job_of_others(telco.env.rt, other, _part(Role.HOST, [2.0, 7.0]))
    for job in (other, "0ddba11000000404"):  # a job of others, a job unknown here: one answer
        with pytest.raises(CoalitionError) as caught:
            _attack(bank, "ModelPartPublish",
                    _publish_payload("taken", 1, {"job_id": job, "task": "lr"}))
        assert caught.value.code.startswith("auth"), caught.value.code
    assert telco.api("GET", "/models").json() == []
