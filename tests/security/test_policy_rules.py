"""Finding 5: the privacy policy each participant checks before it accepts a partner's job.

The hostile initiator ``bank`` proposes, over telco's real peer endpoint, jobs whose topology
or parameters void a protocol's guarantees for telco's data; before the fix telco accepted
every one of them once a grant named the component kind. Each test also shows the allowed
form of the same job being accepted, so the refusal is the rule, not a broken proposal.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from policy_nodes import Pair, dag, make_env, open_pair
from pydantic import ValidationError

from coalition.node.auth.permissions import UserRole
from coalition.node.settings import NodeSettings

KINDS = ["reader", "hetero_lr", "hetero_secureboost", "homo_lr"]
# telco runs the host (its 3 features) or the guest (its labels); the arbiter is "carmaker"
TELCO_HOST = {"guest:bank": "bank", "host:telco": "telco", "arbiter:c": "carmaker"}
TELCO_GUEST = {"guest:telco": "telco", "host:bank": "bank", "arbiter:c": "carmaker"}


def _pair(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **settings: Any) -> Pair:
    made = open_pair(tmp_path, monkeypatch, **settings)
    made.dataset("usage", ["x1", "x2", "x3"])
    made.dataset("labels", ["y", "x1"], label="y")
    return made


@pytest.fixture
def pair(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pair]:
    made = _pair(tmp_path, monkeypatch)
    yield made
    made.bank.close()
    made.telco.close()


def _job(sites: dict[str, str], component: str, params: dict[str, Any]) -> dict[str, Any]:
    parties: dict[str, list[str]] = {}
    for party in sites:
        role, _, name = party.partition(":")
        parties.setdefault(role, []).append(name)
    reads = {p: ("labels" if o == "telco" and p.startswith("guest") else
                 "usage" if o == "telco" else "mine")
             for p, o in sites.items() if not p.startswith("arbiter")}
    return dag(parties, reads, {"component": component, "parameters": params},
               labels={p: "y" for p in reads if p.startswith("guest") and sites[p] == "telco"})


def _answer(pair: Pair, sites: dict[str, str], component: str, params: dict[str, Any]
            ) -> dict[str, Any]:
    job_id, reply = pair.propose(_job(sites, component, params), sites)
    if reply["status"] == "rejected":
        assert pair.job_state(job_id) == "failed" and reply["endpoints"] == {}
    return reply


def _refused(reply: dict[str, Any], rule: str) -> None:
    assert reply["status"] == "rejected", reply
    assert rule in reply["reason"]


HE = {"protocol": "he-arbiter", "batch_size": 240}


def test_arbiter_cosited_with_a_data_party_is_refused(pair: Pair) -> None:
    pair.grant("usage", KINDS)
    cosited = {**TELCO_HOST, "arbiter:c": "bank"}  # bank would hold the key and the host data
    _refused(_answer(pair, cosited, "hetero_lr", HE), "policy.coordinator_cosited")
    _refused(_answer(pair, cosited, "homo_lr", {}), "policy.coordinator_cosited")
    assert _answer(pair, TELCO_HOST, "hetero_lr", HE)["status"] == "accepted"
    assert pair.launched == []


def test_ss_without_arbiter_needs_the_hosts_allowance(pair: Pair) -> None:
    pair.grant("usage", KINDS)
    two = {"guest:bank": "bank", "host:telco": "telco"}  # the guest would deal the triples
    _refused(_answer(pair, two, "hetero_lr", {"protocol": "ss"}), "policy.ss_guest_dealer")
    assert _answer(pair, TELCO_HOST, "hetero_lr", {"protocol": "ss"})["status"] == "accepted"


def test_ss_guest_dealer_with_the_allowance_is_accepted(pair: Pair) -> None:
    grant = pair.grant("usage", KINDS, terms={"allow_guest_dealer": True})
    assert grant["terms"] == {"allow_guest_dealer": True}
    two = {"guest:bank": "bank", "host:telco": "telco"}
    assert _answer(pair, two, "hetero_lr", {"protocol": "ss"})["status"] == "accepted"


def test_goss_needs_the_label_owners_opt_in(pair: Pair) -> None:
    pair.grant("labels", KINDS)
    goss = {"sampling": "goss"}
    _refused(_answer(pair, TELCO_GUEST, "hetero_secureboost", goss), "policy.label_sampling")
    assert _answer(pair, TELCO_GUEST, "hetero_secureboost", {})["status"] == "accepted"


def test_goss_with_the_opt_in_is_accepted(pair: Pair) -> None:
    pair.grant("labels", KINDS, terms={"allow_label_sampling": True})
    reply = _answer(pair, TELCO_GUEST, "hetero_secureboost", {"sampling": "goss"})
    assert reply["status"] == "accepted"


def test_he_batch_below_the_floor_is_refused(pair: Pair) -> None:
    pair.grant("labels", KINDS)
    pair.grant("usage", KINDS)
    # telco's labels: the host (bank) would read every residual from its gradient
    _refused(_answer(pair, TELCO_GUEST, "hetero_lr", {**HE, "batch_size": 1}),
             "policy.he_batch_size")
    # telco's 3 features as the he-guest observer's victim: the floor is 10 x 3
    he_guest = {"guest:bank": "bank", "host:telco": "telco"}
    _refused(_answer(pair, he_guest, "hetero_lr", {"protocol": "he-guest", "batch_size": 29}),
             "policy.he_batch_size")
    reply = _answer(pair, he_guest, "hetero_lr", {"protocol": "he-guest", "batch_size": 30})
    assert reply["status"] == "accepted"


def test_a_node_raises_the_floors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    made = _pair(tmp_path, monkeypatch, policy_min_he_batch_factor=20, policy_min_client_orgs=3)
    try:
        made.grant("usage", KINDS)
        he_guest = {"guest:bank": "bank", "host:telco": "telco"}
        _refused(_answer(made, he_guest, "hetero_lr", {"protocol": "he-guest", "batch_size": 30}),
                 "policy.he_batch_size")
        _refused(_answer(made, TELCO_HOST, "homo_lr", {}), "policy.too_few_clients")
    finally:
        made.bank.close()
        made.telco.close()


def test_floors_cannot_be_lowered(tmp_path: Path) -> None:
    raised = NodeSettings(home=tmp_path, name="n", policy_min_he_batch_factor=12)
    assert raised.policy_min_he_batch_factor == 12 and raised.policy_min_client_orgs == 2
    with pytest.raises(ValidationError):
        NodeSettings(home=tmp_path, name="n", policy_min_he_batch_factor=9)
    with pytest.raises(ValidationError):
        NodeSettings(home=tmp_path, name="n", policy_min_client_orgs=1)


def test_horizontal_without_secagg_is_refused(pair: Pair) -> None:
    pair.grant("usage", KINDS)
    _refused(_answer(pair, TELCO_HOST, "homo_lr", {"secure_aggregation": False}),
             "policy.secagg_required")
    _refused(_answer(pair, TELCO_HOST, "homo_lr", {"clients_per_round": 1}),
             "policy.too_few_clients")
    assert _answer(pair, TELCO_HOST, "homo_lr", {})["status"] == "accepted"


def test_grant_terms_restrict_variants_and_coordinators(pair: Pair) -> None:
    pair.grant("usage", KINDS, terms={"variants": ["reader", "hetero_lr:he-arbiter"],
                                      "coordinators": ["carmaker"], "min_batch_size": 300})
    _refused(_answer(pair, TELCO_HOST, "hetero_lr", {"protocol": "ss"}),
             "policy.variant_not_granted")
    _refused(_answer(pair, TELCO_HOST, "hetero_lr", HE), "policy.batch_below_grant")
    elsewhere = {**TELCO_HOST, "arbiter:c": "othercorp"}
    _refused(_answer(pair, elsewhere, "hetero_lr", {**HE, "batch_size": 300}),
             "policy.coordinator_not_granted")
    reply = _answer(pair, TELCO_HOST, "hetero_lr", {**HE, "batch_size": 300})
    assert reply["status"] == "accepted"


def test_initiator_fails_fast_with_every_violation(tmp_path: Path) -> None:
    env = make_env(tmp_path / "bank", "bank")
    try:
        sites = {"guest:bank": "bank", "host:h": "bank", "arbiter:c": "bank"}
        doc = _job(sites, "hetero_lr", {**HE, "batch_size": 1})
        doc["tasks"]["fl"] = {"component": "homo_lr", "inputs": {"train_data": "read.data"},
                              "parameters": {"secure_aggregation": False}}
        r = env.client.post("/api/v1/jobs", headers=env.auth(UserRole.DATA_SCIENTIST),
                            json={"dag": doc, "sites": sites})
        assert r.status_code == 400, r.text
        body = r.json()
        assert body["code"] == "policy.violation"
        assert {(e["rule"], e["task"]) for e in body["errors"]} == {
            ("policy.coordinator_cosited", "train"), ("policy.he_batch_size", "train"),
            ("policy.coordinator_cosited", "fl"), ("policy.secagg_required", "fl"),
            ("policy.too_few_clients", "fl")}
        assert env.client.get("/api/v1/jobs", headers=env.auth()).json() == []
    finally:
        env.close()
